"""Windows of real annotated genomes, with per-strand labels, for training the annotator.

Genomes are read once into compact arrays (token ids as uint8, labels as int8); a window is
cut on demand. Training windows are random (position, and reverse complement with
probability 1/2); item ``i`` always gives the same window for a given seed, so a resumed run
sees the same data in the same order. Validation windows tile the genomes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gener.errors import GenerInputError
from gener.tasks.annotate.labels import IGNORE, cds_labels
from gener.tokenization import NucleotideTokenizer

PAD_ID = 3


@dataclass
class LabelledRecord:
    name: str
    ids: np.ndarray  # (L,) uint8 GENERanno token ids
    labels: np.ndarray  # (2, L) int8, see labels.py


def resolve_genome(spec: str) -> Path:
    """A path, or the name of a cached reference dataset (``gener data list``)."""
    path = Path(spec).expanduser()
    if path.exists():
        return path
    from gener.data.fetch import dataset_path

    return dataset_path(spec)


def genome_files(path: Path) -> list[Path]:
    """The annotated files of a genome path: the file itself, or a directory's GenBank files."""
    if path.is_dir():  # multi-file datasets such as the kaptive loci
        files = sorted(p for p in path.iterdir() if p.suffix in {".gbk", ".gb", ".gbff", ".gz"})
        if not files:
            raise GenerInputError("no GenBank files in this directory", path=path)
        return files
    return [path]


def read_genomes(specs: list[str]) -> list[tuple[Path, list]]:
    """``(file, its records that have a sequence)`` per annotated file of ``specs``
    (GenBank / GFF3 paths or dataset names; a directory dataset gives one genome per file)."""
    from gener.tasks.annotate.evaluate import read_annotation

    genomes = [(file, [r for r in read_annotation(file) if r.sequence])
               for spec in specs for file in genome_files(resolve_genome(spec))]
    if not any(records for _, records in genomes):
        raise GenerInputError(f"no sequences with annotation in {', '.join(specs)}")
    return genomes


def label_genomes(genomes: list[tuple[Path, list]], tokenizer: NucleotideTokenizer | None = None) -> list[LabelledRecord]:
    """Token ids and training labels of :func:`read_genomes`' records."""
    tokenizer = tokenizer or NucleotideTokenizer()
    return [LabelledRecord(f"{file.name}:{record.id}",
                           tokenizer.encode_bulk(record.sequence, add_bos=False, add_eos=False).astype(np.uint8),
                           cds_labels(record, training=True).astype(np.int8))
            for file, records in genomes for record in records]


def load_labelled(specs: list[str], tokenizer: NucleotideTokenizer | None = None) -> list[LabelledRecord]:
    """Read GenBank / GFF3 files (or dataset names) into token ids and training labels."""
    return label_genomes(read_genomes(specs), tokenizer)


def _complement_table() -> np.ndarray:
    tok = NucleotideTokenizer()
    table = np.arange(256, dtype=np.uint8)
    pairs = {"A": "T", "C": "G", "G": "C", "T": "A", "K": "M", "M": "K", "R": "Y", "Y": "R", "N": "N", "S": "S", "W": "W"}
    vocab = tok.get_vocab()
    for a, b in pairs.items():
        table[vocab[a]] = vocab[b]
    return table


_COMPLEMENT = _complement_table()


def reverse_complement_window(ids: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same window read from the other strand: ids complemented and reversed, and the
    two label tracks swapped and reversed (codon positions are strand-relative already)."""
    return _COMPLEMENT[ids[::-1]], labels[::-1, ::-1]


class AnnotationWindows(torch.utils.data.Dataset):
    """``{"input_ids": (W,), "attention_mask": (W,), "labels": (W, 2)}`` windows."""

    def __init__(self, records: list[LabelledRecord], window: int, *, samples: int | None = None, seed: int = 0,
                 reverse_complement: bool = True):
        self.records, self.window, self.seed = records, window, seed
        self.reverse_complement = reverse_complement
        lengths = np.array([len(r.ids) for r in records], dtype=np.float64)
        self.weights = lengths / lengths.sum()
        if samples is None:  # tiling (validation): every window of every record, no RC
            self.tiles = [(i, s) for i, r in enumerate(records) for s in range(0, max(1, len(r.ids) - window + 1), window)]
            self.random = False
        else:
            self.tiles, self.random, self.samples = None, True, samples

    def __len__(self):
        return self.samples if self.random else len(self.tiles)

    def __getitem__(self, index):
        flip = False
        if self.random:
            rng = np.random.default_rng((self.seed, index))
            r = int(rng.choice(len(self.records), p=self.weights))
            length = len(self.records[r].ids)
            start = int(rng.integers(0, max(1, length - self.window + 1)))
            flip = self.reverse_complement and bool(rng.integers(2))
        else:
            r, start = self.tiles[index]
        record = self.records[r]
        ids = record.ids[start : start + self.window]
        labels = record.labels[:, start : start + self.window]
        if flip:
            ids, labels = reverse_complement_window(ids, labels)
        n = len(ids)
        out_ids = np.full(self.window, PAD_ID, dtype=np.int64)
        out_labels = np.full((self.window, 2), IGNORE, dtype=np.int64)
        mask = np.zeros(self.window, dtype=np.int64)
        out_ids[:n], out_labels[:n], mask[:n] = ids, labels.T, 1
        return {
            "input_ids": torch.from_numpy(out_ids),
            "attention_mask": torch.from_numpy(mask),
            "labels": torch.from_numpy(out_labels),
        }
