"""gener annotate next to Prodigal on genomes without a curated annotation: pyrodigal's own
test genomes (the ``pyrodigal-testdata`` dataset, from its sdist) and genomes of phyla the
annotator never saw (H. pylori, Campylobacterota; S. aureus, Bacillota; from the ``ragout-*``
pre-training datasets).

    python benchmarks/annotate_agreement.py [--model NAME] [--genomes PATH ...] [--threads 2]

There is no truth here, only agreement: for each genome, Prodigal's genes (pyrodigal,
single mode from 20 kbp of input, else meta, as ``gener annotate -p auto`` chooses; with
``-m``: runs of N are gaps, as gener always treats them) and
gener's (the default annotator, defaults), and how many of Prodigal's genes gener calls
with the same stop (strand and 3' end) and with both ends. Where gener and Prodigal
disagree, either can be wrong; the validation genomes (annotate_quality.py) say which is
right more often.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gener.io import read_sequences
from gener.tasks.annotate.prodigal import prodigal_annotate
from gener.tasks.annotate.selftrain import choose_mode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from annotate_quality import load_annotator  # noqa: E402

DEFAULT_GENOMES = (
    ("pyrodigal-testdata", "GCF_001457455.1_NCTC11397_genomic.fna.gz"),
    ("pyrodigal-testdata", "MIIJ01000039.fna.gz"),
    ("pyrodigal-testdata", "KK037166.fna.gz"),
    ("pyrodigal-testdata", "SRR492066.fna.gz"),
    ("ragout-hpylori", "G27.fasta.gz"),
    ("ragout-saureus", None),  # the first strain of the dataset
)


def default_genomes() -> list[Path]:
    from gener.data.fetch import dataset_path

    paths = []
    for dataset, name in DEFAULT_GENOMES:
        root = Path(dataset_path(dataset))
        paths.append(root / name if name else sorted(p for p in root.iterdir() if ".fa" in p.name)[0])
    return paths


def gene_keys(items) -> tuple[set, set]:
    """(stops, exact) key sets from (record id, start, end, strand) tuples."""
    stops = {(rid, end if strand == 1 else start, strand) for rid, start, end, strand in items}
    exact = {(rid, start, end, strand) for rid, start, end, strand in items}
    return stops, exact


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="gener-annotator-tiny")
    ap.add_argument("--genomes", nargs="*", type=Path, help="FASTA files (default: see the module doc)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    annotator, why = load_annotator(args.model, args.threads)
    if annotator is None:
        print(f"gener annotator: not available ({why})", file=sys.stderr)
        return 1
    print("| genome | Mbp | records | mode | Prodigal genes | gener genes | same stop | same gene |")
    print("|---|---|---|---|---|---|---|---|")
    for path in args.genomes or default_genomes():
        records = list(read_sequences(path))
        sequences = [r.sequence for r in records]
        mode = choose_mode("auto", sequences)
        prodigal = prodigal_annotate(records, mode=mode, mask=True)
        theirs = [(r.id, f.start, f.end, f.strand) for r in prodigal for f in r.features]
        ours = [(rid, g.start, g.end, g.strand) for rid, _, genes in annotator.annotate_records(records)
                for g in genes]
        (p_stops, p_exact), (g_stops, g_exact) = gene_keys(theirs), gene_keys(ours)
        n = max(len(p_exact), 1)
        print(f"| {path.name} | {sum(map(len, sequences)) / 1e6:.2f} | {len(records)} | {mode} | {len(theirs)} "
              f"| {len(ours)} | {len(p_stops & g_stops) / n:.3f} | {len(p_exact & g_exact) / n:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
