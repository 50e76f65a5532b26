"""Tokenizer throughput on a real genome, one CPU core.

Compares gener's numpy bulk path (6-mer and single nucleotide) and its HF ``__call__`` with
the generic slow path of a transformers tokenizer: a ``PreTrainedTokenizer`` that splits the
text with the upstream-style regex (a special token, else ``[A-Z]{6}``, else ``[A-Z]+``)
one token at a time. The slow paths run on a subset (``--slow-mbp``) to keep this quick.

    python benchmarks/tokenizer.py [--genome FASTA|GBK[.gz]] [--slow-mbp 1] [--repeats 5]

Default genome: the cached E. coli K-12 of ``gener.data.fetch``, else the cct-examples copy,
else the 60 kb test fixture.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy / torch load their thread pools

import argparse  # noqa: E402
import gzip  # noqa: E402
import itertools  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import PreTrainedTokenizer  # noqa: E402

from gener.tokenization import GENERATOR_SPECIALS, KmerTokenizer, NucleotideTokenizer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CCT_ECOLI = Path("/tmp/raw/cct/usr/share/doc/cct/examples/sample_projects/sample_project_3/"
                 "comparison_genomes/NC_000913.gbk.gz")
FIXTURE = ROOT / "tests" / "data" / "ecoli_k12_60kb.fa"
GENBANK_SUFFIXES = (".gbk", ".gb", ".gbff", ".genbank")


class UpstreamStyleKmerTokenizer(PreTrainedTokenizer):
    """The baseline: a plain slow transformers tokenizer with the upstream regex split."""

    def __init__(self, k: int = 6, **kwargs):
        tokens = list(GENERATOR_SPECIALS) + ["".join(p) for p in itertools.product("ATCG", repeat=k)]
        self.vocab = {t: i for i, t in enumerate(tokens)}
        self.ids = {i: t for t, i in self.vocab.items()}
        self.special_re = re.compile("|".join(map(re.escape, GENERATOR_SPECIALS)))
        self.dna_re = re.compile(f"[A-Z]{{{k}}}|[A-Z]+")
        super().__init__(unk_token="<oov>", bos_token="<s>", eos_token="</s>", pad_token="<pad>", **kwargs)

    @property
    def vocab_size(self):
        return len(self.vocab)

    def get_vocab(self):
        return dict(self.vocab)

    def _tokenize(self, text, **kwargs):
        tokens, pos = [], 0
        while pos < len(text):  # token by token, as upstream does
            match = self.special_re.match(text, pos) or self.dna_re.match(text, pos)
            tokens.append(match.group() if match else text[pos])
            pos = match.end() if match else pos + 1
        return tokens

    def _convert_token_to_id(self, token):
        return self.vocab.get(token, 0)

    def _convert_id_to_token(self, index):
        return self.ids.get(index, "<oov>")


def find_default_genome() -> Path:
    try:  # the cached copy only (dataset_path never downloads; it raises when absent)
        from gener.data.fetch import dataset_path

        found = Path(dataset_path("ecoli-k12"))
        if found.is_dir():
            found = next(p for p in sorted(found.rglob("*")) if p.is_file() and _is_sequence_file(p))
        if found.is_file():
            return found
    except Exception:
        pass
    return CCT_ECOLI if CCT_ECOLI.exists() else FIXTURE


def _is_sequence_file(path: Path) -> bool:
    name = path.name.lower().removesuffix(".gz")
    return name.endswith(GENBANK_SUFFIXES + (".fa", ".fasta", ".fna"))


def read_genome(path: Path) -> tuple[str, int]:
    from Bio import SeqIO

    fmt = "genbank" if path.name.lower().removesuffix(".gz").endswith(GENBANK_SUFFIXES) else "fasta"
    with (gzip.open(path, "rt") if path.suffix == ".gz" else open(path)) as fh:
        records = [str(r.seq) for r in SeqIO.parse(fh, fmt)]
    if not records:
        sys.exit(f"no sequence records in {path}")
    return "".join(records), len(records)


def best_time(fn, repeats: int) -> float:
    fn()  # warm-up: lookup tables, caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--genome", type=Path, help="FASTA or GenBank file, optionally .gz")
    parser.add_argument("--slow-mbp", type=float, default=1.0, help="subset for the slow paths (Mbp)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    torch.set_num_threads(1)
    pinned = ""
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        pinned = f", pinned to CPU {cpu}"

    path = args.genome or find_default_genome()
    genome, n_records = read_genome(path)
    subset = genome[: int(args.slow_mbp * 1e6)]
    subset_upper = subset.upper()  # the upstream regex only knows upper case: give it a fair input
    kmer, nuc, upstream = KmerTokenizer(), NucleotideTokenizer(), UpstreamStyleKmerTokenizer()
    window = 6 * 16384  # one full GENERator context per row
    windows = [genome[i:i + window] for i in range(0, len(genome), window)]

    # the fast paths must give what the slow HF path gives, on this genome
    check = genome[: 200_000]
    assert kmer.encode_bulk(check).tolist() == [1] + kmer.convert_tokens_to_ids(kmer.tokenize(check))
    hf_ids = kmer(check, add_special_tokens=False, verbose=False)["input_ids"]
    assert kmer.encode_bulk(check, add_bos=False).tolist() == hf_ids

    rows = [  # (label, bases, seconds); the slow baseline goes first for the ratio
        ("upstream-style regex PreTrainedTokenizer (slow)", len(subset),
         best_time(lambda: upstream(subset_upper)["input_ids"], 1)),
        ("gener KmerTokenizer HF path: tokenize + ids", len(subset),
         best_time(lambda: kmer.convert_tokens_to_ids(kmer.tokenize(subset)), 1)),
        ("gener KmerTokenizer __call__ (bulk inside)", len(genome),
         best_time(lambda: kmer(genome, verbose=False)["input_ids"], args.repeats)),
        ("gener KmerTokenizer.encode_bulk  6-mer", len(genome),
         best_time(lambda: kmer.encode_bulk(genome), args.repeats)),
        (f"gener KmerTokenizer.encode_bulk_batch {len(windows)} x 98 kb", len(genome),
         best_time(lambda: kmer.encode_bulk_batch(windows), args.repeats)),
        ("gener NucleotideTokenizer.encode_bulk  1-mer", len(genome),
         best_time(lambda: nuc.encode_bulk(genome), args.repeats)),
    ]

    print(f"genome: {path} ({len(genome):,} bp, {n_records} record(s)); slow paths on the first "
          f"{len(subset):,} bp (one timed run); others best of {args.repeats}; numpy {np.__version__}, torch threads "
          f"{torch.get_num_threads()}{pinned}")
    slow = rows[0][1] / rows[0][2]
    print(f"{'path':<52} {'bp':>11} {'seconds':>9} {'Mbp/s':>9} {'x slow':>8}")
    for label, bases, seconds in rows:
        rate = bases / seconds
        print(f"{label:<52} {bases:>11,} {seconds:>9.4f} {rate / 1e6:>9.1f} {rate / slow:>8.0f}")
    six, one = rows[3][1] / rows[3][2] / 1e6, rows[5][1] / rows[5][2] / 1e6
    print(f"targets: 6-mer bulk >= 150 Mbp/s: {'yes' if six >= 150 else 'NO'} ({six:.0f}); "
          f">= 50x slow: {'yes' if six * 1e6 / slow >= 50 else 'NO'} ({six * 1e6 / slow:.0f}x); "
          f"1-mer bulk {one:.0f} Mbp/s")


if __name__ == "__main__":
    main()
