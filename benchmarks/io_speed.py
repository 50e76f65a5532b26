"""FASTA and GenBank read speed of gener.io against Bio.SeqIO, in the same run.

    python benchmarks/io_speed.py [--genome PATH] [--repeat N]

The genome is a GenBank file (plain or gz); by default the reference E. coli K-12 from
gener's data cache, else the unpacked cct-examples Debian package in /tmp/raw. It is
also written as FASTA (plain and gz) to a temp dir for the FASTA timings. Speeds are
Mbp/s, best of N. gener's readers normalise and validate every base; Bio.SeqIO does not,
so the FASTA baselines are Bio + gener's normalize (the same work) and Bio + upper().
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sys
import tempfile
import time
from pathlib import Path

from Bio import SeqIO
from Bio.SeqIO.FastaIO import SimpleFastaParser

try:
    import pyfastx  # not a dependency: compared against when present
except ImportError:
    pyfastx = None

from gener.io import read_fasta, read_genbank, read_sequences, write_fasta
from gener.sequence import normalize

RAW_ECOLI = Path(
    "/tmp/raw/cct/usr/share/doc/cct/examples/sample_projects/sample_project_3/comparison_genomes/NC_000913.gbk.gz"
)


def default_genome() -> Path:
    try:  # the project's reference-data cache, when its fetch step has run
        from gener.data.fetch import dataset_path

        path = Path(dataset_path("ecoli-k12"))
        if path.is_dir():
            path = next(iter(sorted(path.glob("*.gb*"))), path)
        if path.is_file():
            return path
    except Exception:  # not written yet, not fetched, offline: fall back
        pass
    return RAW_ECOLI


def best_of(repeat: int, fn) -> tuple[float, int]:
    best, bases = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        bases = fn()
        best = min(best, time.perf_counter() - start)
    return best, bases


def bio_open(path: Path):
    return gzip.open(path, "rt") if path.suffix == ".gz" else open(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--genome", type=Path, default=None, help="GenBank file, plain or .gz")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    genome = args.genome or default_genome()
    if not genome.exists():
        sys.exit(f"{genome} not found: fetch it (see tests/data/make_fixtures.py) or pass --genome")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        records = list(read_genbank(genome))
        total = sum(len(r.sequence) for r in records)
        plain_gb = tmp / "genome.gbk"
        with open(genome, "rb") as probe:
            packed = probe.read(2) == b"\x1f\x8b"
        with gzip.open(genome) if packed else open(genome, "rb") as src:
            with open(plain_gb, "wb") as dst:
                shutil.copyfileobj(src, dst)
        fa, fa_gz = tmp / "genome.fa", tmp / "genome.fa.gz"
        write_fasta(fa, records, width=80)
        write_fasta(fa_gz, records, width=80)
        print(f"genome: {genome} ({len(records)} record(s), {total / 1e6:.2f} Mbp)")

        def gener_fasta(path):
            return sum(len(r.sequence) for r in read_fasta(path))

        def bio_fasta_normalize(path):  # the same work as gener: parse, then the gener policy
            return sum(len(normalize(str(r.seq))) for r in SeqIO.parse(bio_open(path), "fasta"))

        def bio_fasta_upper(path):  # less work: no validation at all
            return sum(len(str(r.seq).upper()) for r in SeqIO.parse(bio_open(path), "fasta"))

        def simple_fasta_normalize(path):
            return sum(len(normalize(s)) for _, s in SimpleFastaParser(bio_open(path)))

        def gener_genbank(path):
            return sum(len(r.sequence) for r in read_genbank(path))

        def gener_sequences(path):
            return sum(len(r.sequence) for r in read_sequences(path))

        def bio_genbank(path):  # features parsed too; sequence not normalised
            return sum(len(r.seq) for r in SeqIO.parse(bio_open(path), "genbank"))

        def pyfastx_normalize(path):  # optional: only when pyfastx happens to be installed
            return sum(len(normalize(s)) for _, s in pyfastx.Fastx(str(path)))

        fasta_baselines = [bio_fasta_normalize, bio_fasta_upper, simple_fasta_normalize]
        if pyfastx is not None:
            fasta_baselines.append(pyfastx_normalize)
        cases = [
            ("FASTA", fa, read_fasta.__name__, gener_fasta, fasta_baselines),
            ("FASTA .gz", fa_gz, read_fasta.__name__, gener_fasta, fasta_baselines[:1] + fasta_baselines[3:]),
            ("GenBank", plain_gb, read_genbank.__name__, gener_genbank, [bio_genbank]),
            (f"GenBank {genome.suffix}", genome, read_genbank.__name__, gener_genbank, [bio_genbank]),
            (f"GenBank {genome.suffix}", genome, read_sequences.__name__, gener_sequences, [bio_genbank]),
        ]
        print(f"{'input':12s} {'gener':15s} {'Mbp/s':>7s}   {'baseline':24s} {'Mbp/s':>7s} {'ratio':>6s}")
        for label, path, name, ours, baselines in cases:
            seconds, bases = best_of(args.repeat, lambda: ours(path))
            assert bases == total, (label, bases, total)
            speed = total / seconds / 1e6
            for base in baselines:
                base_seconds, _ = best_of(args.repeat, lambda: base(path))
                base_speed = total / base_seconds / 1e6
                print(f"{label:12s} {name:15s} {speed:7.1f}   {base.__name__:24s} {base_speed:7.1f} "
                      f"{speed / base_speed:5.1f}x")


if __name__ == "__main__":
    main()
