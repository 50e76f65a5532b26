"""Check that the Prodigal comparison harness reproduces Prodigal itself.

    python benchmarks/prodigal_reproduction.py

pyrodigal's test data (dataset "pyrodigal-testdata", fetched by ``gener data fetch``) holds
genomes together with Prodigal 2.6.3's own outputs: the gene FASTA of ``prodigal`` (single
mode), ``prodigal -p meta`` and ``prodigal -p meta -m`` (mask), and one ``-f gff``. For every
genome x mode that has an output, the harness runs pyrodigal the way the benchmarks do
(:func:`gener.tasks.annotate.prodigal.prodigal_annotate`), writes GFF3 with gener's writer
and reads it back, then checks

1. same genes as Prodigal: coordinates, strand, partial flags, start type, RBS motif and
   spacer (from the headers of Prodigal's gene FASTA, and from its GFF where there is one);
2. evaluating the harness's GFF3 against Prodigal's genes gives 1.0 for every metric;
3. evaluating Prodigal's own output against itself gives 1.0 for every metric.

Exit status 1 when any check fails. tests/test_evaluate.py runs the same on a committed
slice (SRR492066, meta and single).
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from pathlib import Path

from gener.data.fetch import dataset_path
from gener.io import AnnotatedRecord, read_fasta, read_gff3, write_gff3
from gener.tasks.annotate.evaluate import METRICS, evaluate
from gener.tasks.annotate.prodigal import gene_key, prodigal_annotate, read_gene_fasta_headers

GENOMES = ("KK037166", "MIIJ01000039", "SRR492066")
VARIANTS = {"single": dict(mode="single"), "meta": dict(mode="meta"), "meta+mask": dict(mode="meta", mask=True)}


def keys(records) -> list:
    return sorted((r.id, gene_key(f)) for r in records for f in r.features if f.type == "CDS")


def all_one(report) -> bool:
    pooled = report.pooled
    return all(getattr(pooled, m) == 1.0 for m in METRICS)


def main() -> int:
    data = Path(dataset_path("pyrodigal-testdata"))
    failures = 0
    print("| genome | Prodigal output | genes | same genes | harness vs Prodigal = 1.0 "
          "| Prodigal vs itself = 1.0 | s |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for genome in GENOMES:
            sequences = list(read_fasta(data / f"{genome}.fna.gz"))
            by_id = {r.id: r.sequence for r in sequences}
            for variant, kwargs in VARIANTS.items():
                output = data / f"{genome}.{variant}.fna.gz"
                if not output.exists():
                    continue
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # short genomes: pyrodigal's training-size warning
                    ours = prodigal_annotate(sequences, **kwargs)
                seconds = time.perf_counter() - start
                gff = Path(tmp) / f"{genome}.{variant}.gff3"
                write_gff3(gff, ours)
                ours_back = list(read_gff3(gff))
                theirs = [AnnotatedRecord(sid, "", by_id[sid], feats)
                          for sid, feats in read_gene_fasta_headers(output).items()]
                outputs = [(output.name, theirs)]
                prodigal_gff = data / f"{genome}.{variant}.gff"
                if prodigal_gff.exists():
                    outputs.append((prodigal_gff.name, list(read_gff3(prodigal_gff, fasta=data / f"{genome}.fna.gz"))))
                for name, reference in outputs:
                    same = keys(ours_back) == keys(reference)
                    harness = all_one(evaluate(ours_back, reference))
                    itself = all_one(evaluate(reference, reference))
                    ok = same and harness and itself
                    failures += not ok
                    genes = len(keys(reference))
                    print(f"| {genome} | {name} | {genes} | {same} | {harness} | {itself} | {seconds:.1f} |")
    print("\nall checks passed" if not failures else f"\n{failures} check(s) FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
