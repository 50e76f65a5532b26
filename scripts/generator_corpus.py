"""Build the eukaryotic corpus of the embedded generator and of the gene-region ablation.

    python scripts/generator_corpus.py -o corpus/        # needs `gener data fetch` first

Sources (docs/data.md, all in the gener data cache):
- U. maydis (fungus): 19.7 Mb genome + GFF3 of 6,787 mRNAs (`umaydis`);
- S. cerevisiae chromosomes I and II + SGD GFF3 (`yeast-sgd`);
- D. melanogaster chr2R (`dm-chr2R`) with the dm3 RefSeq gene spans (`dm3-refseq`). That
  BED has three columns only; a gene's strand is the one whose TSS table entry sits at its
  5' end (start for +, end for -); the few with a TSS at both or neither end are skipped. Isoforms and nested genes on one strand are merged into one locus, so no
  locus is counted twice.

Held out (never trained on, used for sequence recovery): U. maydis chromosomes 20-23, yeast
chromosome II and chr2R from 18 Mb on — whole chromosome stretches, so that no held-out gene has
a paralogue copy or an overlapping isoform in training by construction of the split.

Writes, each with `gener data regions` (flank 200 bp): `train_genes.parquet`,
`heldout_genes.parquet`, and `train_whole.parquet` (the same training sequence stretches in
`--whole` mode, 98,304 bp chunks: the ablation's "whole sequence" arm).
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gener.data.fetch import dataset_path
from gener.data.regions import curate_regions

FLANK = 200
HELD_OUT_UMAYDIS = {f"chr{i:02d}" for i in (20, 21, 22, 23)}
HELD_OUT_YEAST = {"chrII"}
FLY_SPLIT = 18_000_000  # chr2R bases from here on are held out


def fly_gff3(out: Path) -> Path:
    """dm3 RefSeq gene spans on chr2R -> GFF3 of merged same-strand loci."""
    refseq = dataset_path("dm3-refseq")
    tss = set()
    for line in gzip.open(refseq / "RefSeqTSS.dm3.txt.gz", "rt"):
        chrom, position, strand = line.split()[:3]
        tss.add((chrom, int(position), strand))
    spans, unknown = {"+": [], "-": []}, 0
    for line in gzip.open(refseq / "RefSeqGene.dm3.bed.gz", "rt"):
        chrom, start, end = line.split()[:3]
        start, end = int(start), int(end)
        if chrom != "chr2R":
            continue
        plus, minus = (chrom, start, "+") in tss, (chrom, end - 1, "-") in tss
        if plus == minus:  # no TSS on either end, or one on both: strand unknown
            unknown += 1
            continue
        spans["+" if plus else "-"].append((start, end))
    print(f"chr2R: {len(spans['+']) + len(spans['-']):,} RefSeq genes with a strand, {unknown} without (skipped)")
    lines = ["##gff-version 3"]
    for strand, items in spans.items():
        merged: list[list[int]] = []
        for start, end in sorted(items):
            if merged and start < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        for n, (start, end) in enumerate(merged):
            lines.append(f"chr2R\tdm3_refseq\tgene\t{start + 1}\t{end}\t.\t{strand}\t.\tID=chr2R_{strand}{n}")
    out.write_text("\n".join(lines) + "\n")
    return out


def held_out(table: pa.Table) -> pa.Array:
    """Rows in a held-out chromosome stretch (by record, and by position on chr2R)."""
    record = table["record"]
    whole_records = pc.is_in(record, value_set=pa.array(sorted(HELD_OUT_UMAYDIS | HELD_OUT_YEAST)))
    fly = pc.and_(pc.equal(record, "chr2R"), pc.greater(table["region_end"], FLY_SPLIT))
    return pc.or_(whole_records, fly)


def split(path: Path, train: Path, heldout: Path | None) -> None:
    table = pq.read_table(path)
    mask = held_out(table)
    pq.write_table(table.filter(pc.invert(mask)), train, compression="zstd")
    if heldout is not None:
        pq.write_table(table.filter(mask), heldout, compression="zstd")
    path.unlink()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--out", type=Path, required=True)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fly = fly_gff3(Path(tmp) / "dm3_chr2R_genes.gff3")
        chr2r = dataset_path("dm-chr2R")  # the FASTA file itself
        for name, whole in (("genes", False), ("whole", True)):
            every = Path(tmp) / f"{name}.parquet"
            parts = []
            # (input, taxonomic group, FASTA of a GFF3 without sequences): 2R's genes come from
            # the GFF3 written above; in whole mode 2R is the chromosome FASTA itself.
            fly_source = (str(chr2r), "invertebrate", None) if whole else (str(fly), "invertebrate", [chr2r])
            for spec, group, fasta in (("umaydis", "fungi", None), ("yeast-sgd", "fungi", None), fly_source):
                part = Path(tmp) / f"{name}-{len(parts)}.parquet"
                summary = curate_regions([spec], part, group=group, flank=0 if whole else FLANK, whole=whole,
                                         fasta=fasta)
                print(f"{name:6s} {spec:40s} {summary.regions:6,} regions {summary.bases / 1e6:6.2f} Mbp")
                parts.append(pq.read_table(part))
            pq.write_table(pa.concat_tables(parts), every)
            split(every, args.out / f"train_{name}.parquet", args.out / "heldout_genes.parquet" if not whole else None)
    for f in sorted(args.out.glob("*.parquet")):
        t = pq.read_table(f, columns=["length"])
        print(f"{f.name:24s} {t.num_rows:6,} rows {pc.sum(t['length']).as_py() / 1e6:7.2f} Mbp")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
