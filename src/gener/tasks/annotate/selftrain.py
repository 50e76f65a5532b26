"""Per-genome statistics for the decoder: what Prodigal learns from the genome it annotates.

Prodigal's strength is that it trains on its input, unsupervised: a GC-frame-plot first
pass gives confident ORFs, from which it learns in-frame dicodon log-odds against the
genome's own background (coding statistics), then, iterating over the best-scoring genes,
the start-site model (RBS motif and spacer or, for genomes without Shine-Dalgarno, the
upstream -20..-1 / +1..+3 composition, and start codon usage). pyrodigal exposes that
training (:class:`pyrodigal.TrainingInfo`) and the scores of every candidate start it
derives from it (:class:`pyrodigal.Nodes`), so gener uses them instead of re-implementing
them:

- ``mode="single"``: train on the genome itself (all records of the input together, as
  ``prodigal`` does with a multi-FASTA);
- ``mode="meta"``: no per-genome training; for each record, pyrodigal's pre-trained
  metagenomic bin that fits it best (Prodigal's ``-p meta``).

For every candidate start (start codon, or the open edge of a partial gene) this gives two
numbers in Prodigal's scale (log-likelihood ratios, roughly nats x 1): ``coding``, the
in-frame coding score of the ORF from that start to its stop (Prodigal's ``cscore``), and
``start``, the start-site score (``sscore`` = start codon type + RBS + upstream
composition). :mod:`.decode` adds them, weighted, to the model's per-base evidence.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

MODES = ("auto", "single", "meta")
MIN_SINGLE_GENOME = 20_000  # Prodigal's (and pyrodigal's) minimum for single-genome training
STRANDS = (1, -1)


FIELDS = ("coding", "start", "rbs", "upstream", "start_codon")  # Prodigal's cscore, sscore, rscore, uscore, tscore


@dataclass
class StartScores:
    """Candidate-start scores of one sequence, per strand (index 0: + strand, 1: - strand).

    ``positions[s]`` is sorted: the genome index of the first base of the start codon on its
    own strand (for the - strand, the highest coordinate of the codon), or of the first
    complete codon for an edge start. ``scores[s][name]`` is aligned with it, for the
    ``FIELDS``: ``start`` = ``rbs`` + ``upstream`` + ``start_codon``."""

    positions: tuple[np.ndarray, np.ndarray]
    scores: tuple[dict[str, np.ndarray], dict[str, np.ndarray]]
    model_name: str  # "single" or the metagenomic bin's description
    start_weight: float = 0.0  # Prodigal's st_wt of the training: the scale of its gene-spacing term (decode.py)

    def lookup(self, strand_index: int, where: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """({field: scores}, found) for candidate starts at genome positions ``where``
        (0 where a position has no scored start)."""
        pos = self.positions[strand_index]
        if len(pos) == 0:
            return {k: np.zeros(len(where)) for k in FIELDS}, np.zeros(len(where), dtype=bool)
        i = np.minimum(np.searchsorted(pos, where), len(pos) - 1)
        found = pos[i] == where
        return {k: np.where(found, v[i], 0.0) for k, v in self.scores[strand_index].items()}, found


def choose_mode(mode: str, sequences: list[str]) -> str:
    """``auto``: single when the input holds enough sequence to train on (>= 20 kbp,
    Prodigal's rule), else meta."""
    if mode not in MODES:
        from gener.errors import GenerInputError

        raise GenerInputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode != "auto":
        return mode
    return "single" if sum(len(s) for s in sequences) >= MIN_SINGLE_GENOME else "meta"


def _pyrodigal():
    try:
        import pyrodigal
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError("per-genome statistics need pyrodigal: pip install pyrodigal") from exc
    return pyrodigal


class GenomeStatistics:
    """Trained (single) or pre-trained (meta) statistics for the sequences of one input.

    ``sequences``: every record of the genome (single mode trains on all of them together).
    ``closed``: no partial genes (Prodigal's ``-c``); ``min_gene``/``min_edge_gene`` as the
    decoder's, so both enumerate the same candidates.
    """

    def __init__(self, sequences: list[str], *, mode: str = "auto", table: int = 11, closed: bool = False,
                 min_gene: int = 90, min_edge_gene: int = 60):
        pyrodigal = _pyrodigal()
        self.mode = choose_mode(mode, sequences)
        self.table = int(table)
        options = dict(closed=closed, min_gene=min_gene, min_edge_gene=min_edge_gene, mask=True)
        if self.mode == "single":
            self.finder = pyrodigal.GeneFinder(meta=False, **options)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pyrodigal warns below its ideal training size
                self.finder.train(*[s for s in sequences if s], translation_table=self.table)
        else:
            self.finder = pyrodigal.GeneFinder(meta=True, **options)

    @property
    def uses_shine_dalgarno(self) -> bool | None:
        info = self.finder.training_info
        return None if info is None else bool(info.uses_sd)

    def start_scores(self, sequence: str) -> StartScores:
        """Scores of every candidate start of ``sequence`` (see :class:`StartScores`)."""
        if self.mode == "single":
            name, nodes, info = "single", self._scored_nodes(sequence), self.finder.training_info
        else:  # pyrodigal names no bin when none fits (no genes at all)
            genes = self.finder.find_genes(sequence)
            fitted = genes.metagenomic_bin
            name = fitted.description if fitted is not None else "none"
            nodes, info = genes.nodes, (fitted.training_info if fitted is not None else None)
        rows: dict[int, list] = {1: [], -1: []}
        for node in nodes:
            if node.type != "Stop":
                upstream = node.sscore - node.rscore - node.tscore
                rows[node.strand].append((node.index, node.cscore, node.sscore, node.rscore, upstream, node.tscore))
        positions, scores = [], []
        for strand in STRANDS:
            data = np.array(rows[strand], dtype=np.float64).reshape(-1, 1 + len(FIELDS))
            data = data[np.argsort(data[:, 0], kind="stable")]
            positions.append(data[:, 0].astype(np.int64))
            scores.append({k: data[:, 1 + j] for j, k in enumerate(FIELDS)})
        return StartScores(positions=tuple(positions), scores=tuple(scores), model_name=name,
                           start_weight=float(info.start_weight) if info is not None else 0.0)

    def _scored_nodes(self, sequence: str):
        """Every candidate start and stop of ``sequence`` scored with the genome's training, as
        :meth:`pyrodigal.GeneFinder.find_genes` scores them before its gene-path search, without
        running that search: gener's decoder chooses the genes, and Prodigal's search would only
        add its own chosen path's operon-spacing bonus to the start scores."""
        pyrodigal, finder = _pyrodigal(), self.finder
        seq = pyrodigal.Sequence(sequence, mask=finder.mask, mask_size=finder.min_mask)
        nodes = pyrodigal.Nodes()
        nodes.extract(seq, translation_table=self.table, closed=finder.closed, min_gene=finder.min_gene,
                      min_edge_gene=finder.min_edge_gene)
        nodes.sort()
        nodes.score(seq, finder.training_info, closed=finder.closed, is_meta=False)
        return nodes
