"""A coding-vs-intergenic task from genomes that no gener task or embedded model uses, to check
`gener finetune classify` defaults away from the built tasks.

    python benchmarks/outside_task.py -o DIR [--train ragout-hpylori,ragout-saureus,ragout-vcholerae]
        [--test kpneumoniae] [--length 200] [--per-class 80] [--test-per-class 100] [--seed 0]
    gener finetune classify --data DIR -o RUN          # the one-command run, defaults only

The genomes (H. pylori, S. aureus, V. cholerae from ragout's examples; K. pneumoniae from
kleborate's) ship without annotation, so the CDS labels are Prodigal's calls (pyrodigal,
single mode, trained on each genome) - predictor output, not a reference annotation, but
Prodigal finds >99% of reference CDS in bacteria. Per genome (its longest record, of the
first strain in the cache): ``--per-class`` windows of ``--length`` bp inside called genes,
in the gene's orientation, at a random offset; and as many from the gaps between genes of at
least ``--length`` bp (+ strand). Train genomes carry their name as ``group`` (folds keep a
genome whole); the test genome is another species. Needs `gener data fetch` and pyrodigal.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from gener.data.fetch import dataset_path
from gener.data.tasks import LabelledSet, TaskData, save_task
from gener.io import read_sequences
from gener.sequence import reverse_complement

NAMES = ["CDS", "intergenic"]


def genome(name: str) -> str:
    path = dataset_path(name)
    first = sorted(p for p in path.iterdir() if p.is_file())[0] if path.is_dir() else path
    return max((r.sequence for r in read_sequences(first)), key=len).upper()


def windows(seq: str, length: int, per_class: int, rng) -> list[tuple[str, str]]:
    import pyrodigal

    finder = pyrodigal.GeneFinder()
    finder.train(seq)
    genes = sorted((g.begin - 1, g.end, g.strand) for g in finder.find_genes(seq))
    coding = []
    for start, end, strand in genes:
        if end - start >= length:
            at = start + int(rng.integers(0, end - start - length + 1))
            w = seq[at:at + length]
            coding.append(reverse_complement(w) if strand == -1 else w)
    gaps, reach = [], 0
    for start, end, _ in genes:
        if start - reach >= length:
            at = reach + int(rng.integers(0, start - reach - length + 1))
            gaps.append(seq[at:at + length])
        reach = max(reach, end)
    ok = lambda w: set(w) <= set("ACGT")  # noqa: E731
    out = []
    for label, pool in (("CDS", [w for w in coding if ok(w)]), ("intergenic", [w for w in gaps if ok(w)])):
        pick = rng.choice(len(pool), min(per_class, len(pool)), replace=False)
        out.extend((pool[i], label) for i in sorted(pick))
    return out


def build(train: list[str], test: list[str], length: int, per_class: int, test_per_class: int, seed: int) -> TaskData:
    rng = np.random.default_rng(seed)
    splits = {}
    for split, names, n in (("train", train, per_class), ("test", test, test_per_class)):
        rows = [(w, label, name) for name in names for w, label in windows(genome(name), length, n, rng)]
        splits[split] = LabelledSet([w for w, _, _ in rows], np.asarray([NAMES.index(l) for _, l, _ in rows]),
                                    np.asarray([g for _, _, g in rows]))
    return TaskData("outside-coding", "classification", NAMES, splits)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-o", "--out", type=Path, required=True)
    p.add_argument("--train", default="ragout-hpylori,ragout-saureus,ragout-vcholerae")
    p.add_argument("--test", default="kpneumoniae")
    p.add_argument("--length", type=int, default=200)
    p.add_argument("--per-class", type=int, default=80)
    p.add_argument("--test-per-class", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    data = build(args.train.split(","), args.test.split(","), args.length, args.per_class, args.test_per_class, args.seed)
    save_task(data, args.out, extra={"builder": "benchmarks/outside_task.py", "options": vars(args) | {"out": str(args.out)}})
    print(data.describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
