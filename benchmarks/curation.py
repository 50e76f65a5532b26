"""Curation and tokenization throughput on a real genome, with Bio.SeqIO parsing as baseline.

    python benchmarks/curation.py [--genome PATH] [--repeat N]

Default genome: E. coli K-12 (NC_000913, GenBank .gz) from gener's data cache
(`gener data fetch --only ecoli-k12`). Figures are Mbp/s of the input genome (curation) or
of the regions (tokenization), best of N, on whatever else the machine is doing.

It also measures the shard-format decision (gener/data/shards.py): nucleotides (1 byte/bp,
6-mers cut per window at read time) against six pre-tokenised uint16 offset variants
(2 bytes/bp, read by slicing): write speed, bytes per bp, and time per 16,384-token window.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from Bio import SeqIO

from gener.data.regions import curate_regions
from gener.data.shards import ShardDataset, write_shards
from gener.tokenization import KmerTokenizer

WINDOW = 16_384  # GENERator's context in tokens


def default_genome() -> Path:
    from gener.data.fetch import dataset_path

    return Path(dataset_path("ecoli-k12"))


def best_of(repeat: int, fn):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def bio_parse(path: Path) -> int:
    with (gzip.open(path, "rt") if path.suffix == ".gz" else open(path)) as fh:
        return sum(len(rec.seq) for rec in SeqIO.parse(fh, "genbank"))


def six_variants(sequences: list[str], out: Path) -> int:
    """The alternative format: uint16 6-mer ids for each start offset 0..5, concatenated."""
    tok = KmerTokenizer()
    written = 0
    with open(out, "wb") as fh:
        for seq in sequences:
            for o in range(6):
                ids = tok.encode_bulk(seq[o:], add_bos=False, add_eos=False, remainder="trim_right")
                fh.write(ids.astype(np.uint16).tobytes())
                written += len(ids)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--genome", type=Path, default=None, help="GenBank file, plain or .gz")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    genome = args.genome or default_genome()
    if not genome.is_file():
        sys.exit(f"{genome} not found: `gener data fetch --only ecoli-k12` or pass --genome")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        regions = tmp / "regions.parquet"
        t_bio, bases = best_of(args.repeat, lambda: bio_parse(genome))
        t_cur, summary = best_of(args.repeat, lambda: curate_regions([str(genome)], regions))
        sequences = pq.read_table(regions, columns=["sequence"]).column("sequence").to_pylist()
        region_bp = sum(map(len, sequences))

        def tokenize():
            for p in (tmp / "shards").glob("*"):
                p.unlink()
            return write_shards(regions, tmp / "shards", tokenizer="kmer")

        t_tok, shards = best_of(args.repeat, tokenize)
        t_six, six_tokens = best_of(args.repeat, lambda: six_variants(sequences, tmp / "six.bin"))

        ds = ShardDataset(tmp / "shards", seq_len=WINDOW, seed=0)
        t_read, _ = best_of(args.repeat, lambda: [ds.window(i) for i in range(len(ds))])
        six = np.memmap(tmp / "six.bin", np.uint16, mode="r")
        t_slice, _ = best_of(args.repeat, lambda: [np.array(six[i * WINDOW:(i + 1) * WINDOW], np.int64)
                                                    for i in range(len(ds))])
        shard_bytes = sum(p.stat().st_size for p in (tmp / "shards").glob("shard-*"))

    mbps = lambda n, t: n / t / 1e6  # noqa: E731
    print(f"genome: {genome.name}, {bases:,} bp; {summary.regions:,} gene regions, {region_bp:,} bp")
    print(f"{'step':<44}{'seconds':>9}{'Mbp/s':>9}{'vs Bio':>8}")
    print(f"{'Bio.SeqIO.parse (baseline, parse only)':<44}{t_bio:>9.3f}{mbps(bases, t_bio):>9.1f}{1.0:>8.2f}")
    print(f"{'gener data regions (parse+extract+parquet)':<44}{t_cur:>9.3f}{mbps(bases, t_cur):>9.1f}"
          f"{t_bio / t_cur:>8.2f}")
    print(f"{'gener data tokenize --tokenizer kmer':<44}{t_tok:>9.3f}{mbps(region_bp, t_tok):>9.1f}"
          f"{'':>8}  {shards.tokens / t_tok / 1e6:.1f} M tokens/s")
    print("\nshard format (6-mers with a random start offset 0..5 at training time):")
    print(f"  nucleotides (chosen): write {mbps(region_bp, t_tok):7.1f} Mbp/s, "
          f"{shard_bytes / region_bp:.2f} bytes/bp, {t_read / len(ds) * 1e3:.2f} ms per {WINDOW:,}-token window "
          "(cut + encode)")
    print(f"  six uint16 variants : write {mbps(region_bp, t_six):7.1f} Mbp/s, "
          f"{six_tokens * 2 / region_bp:.2f} bytes/bp, {t_slice / len(ds) * 1e3:.2f} ms per window (slice)")


if __name__ == "__main__":
    main()
