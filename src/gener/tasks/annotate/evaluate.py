"""Score a CDS annotation against a reference: the GENERanno paper's six metrics plus the
usual gene-finder ones, per record and pooled over a genome.

What is compared
----------------
- **Reference** = the *validated* CDS of each reference record
  (:func:`gener.tasks.annotate.labels.classify_cds`): pseudo and hypothetical CDS count as
  non-coding, the GENERanno paper's convention.
- **Prediction** = every ``CDS`` feature of the prediction, except those the predictor itself
  flags ``pseudo`` (a predictor saying "not a working gene"). Nothing else is filtered: a
  predictor's "hypothetical protein" product is a functional guess, not a coding claim.
- Features with strand 0 (unstranded) are skipped on both sides.
- Partial ends: an end flagged partial (``<``/``>``, Prodigal ``partial=``) that lies
  within 2 bp of its record's edge is taken to *be* at the edge, on either side. Prodigal
  stops an edge gene at the last whole codon while GenBank writes ``<1``; both mean "runs
  off the sequence" and must match.
- Records are matched by id; the prediction may lack reference records (nothing predicted
  there), but a predicted record that the reference does not have is an error, as is a
  predicted feature beyond the reference record's end.

Paper metrics (mask level, GENERanno)
-------------------------------------
Definitions follow the published evaluation code, GenerTeam/GENERanno
``src/tasks/downstream/cds_annotation.py`` (``calc_acc``): reference and prediction are
painted onto two boolean tracks per record, one per strand (track + and track -, genome
coordinates; a feature paints all its parts), so genes on opposite strands may overlap and
are scored independently. A base coding on both strands is two cells.

- ``bp_precision`` = cells coding in both / cells coding in the prediction;
  ``bp_sensitivity`` = cells coding in both / cells coding in the reference. A cell is
  (base, strand): a base is a true positive when the prediction codes it *on the same strand*
  as the reference; a base predicted on the wrong strand is one false positive and one false
  negative.
- A *run* is a maximal stretch of coding cells on one track (adjacent or overlapping
  same-strand genes merge into one run, as in the paper's masks). Run edges are in genome
  coordinates: the "start" of a run is its left end (the start codon of a + gene, the stop
  codon of a - gene), the "end" its right end — exactly as upstream computes them.
- ``start_accuracy`` / ``end_accuracy`` = fraction of reference runs whose left / right
  edge is also a left / right edge of a predicted run on the same track.
- ``boundary_accuracy`` = fraction of reference runs with both edges right (each edge may
  come from a different predicted run: a prediction with a hole inside the gene still gets
  the boundary, not the exact match).
- ``exact_match`` = fraction of reference runs that the prediction has exactly: both edges
  and every base between (upstream's ``exact_match``; equal to upstream's boundary recall).

These reproduce upstream's numbers to the last digit (bp precision/recall, start/end
recall and precision, interval recall/precision, exact match; checked on C. burnetii with
pyrodigal's genes). Upstream's interval "boundary" is the exact match again; ours is the
"both ends right" of the paper's wording, which differs when a prediction has a hole or a
break inside a gene. Note what the masks imply: a predicted gene adjacent to or overlapping
a reference gene on the same strand (for instance one of the hypothetical genes the reference
does not count) merges with it into one run and costs the run its exact match; the gene-level
metrics below are free of that.

The paper reports each as one "accuracy"; upstream computes precision, recall and F1 for
starts, ends and intervals and a recall for the exact match. We take the reference-side
rate (recall) as the accuracy, so all four read "fraction of the reference recovered", and
give the prediction-side rates as ``*_precision`` in the full report.

Gene level (biological orientation)
-----------------------------------
Each CDS has a 5' end (start codon side) and a 3' end (stop codon side), taken from its
first and last part in biological order: a frameshifted or intron-containing CDS counts by
its envelope, and one that crosses the origin of a circular record by its true ends.

- ``stop_recall`` / ``stop_precision``: a predicted and a reference gene match when they are
  on the same record and strand and share the 3' end (the stop codon), the usual
  gene-finder criterion. Recall = matched reference genes / reference genes; precision =
  matched predicted genes / predicted genes.
- ``gene_start_recall`` / ``gene_start_precision``: the same for the 5' end.
- ``gene_exact_recall`` / ``gene_exact_precision``: both ends and the strand.
- ``start_given_stop`` = gene-exact reference genes / stop-matched reference genes: how
  often the start is right once the gene is found.

Pooled scores add the counts of all records (micro average), as upstream concatenates the
records of a genome. A rate whose denominator is 0 is ``None``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields

import numpy as np

from gener.errors import GenerInputError
from gener.io.records import AnnotatedRecord, Feature
from gener.tasks.annotate.labels import classify_cds

PARTIAL_SLACK = 2  # bp: a partial end this close to the record edge is at the edge

PAPER_METRICS = (
    "bp_precision",
    "bp_sensitivity",
    "start_accuracy",
    "end_accuracy",
    "boundary_accuracy",
    "exact_match",
)
GENE_METRICS = (
    "stop_recall",
    "stop_precision",
    "gene_start_recall",
    "gene_start_precision",
    "gene_exact_recall",
    "gene_exact_precision",
    "start_given_stop",
)
EXTRA_METRICS = ("start_precision", "end_precision", "boundary_precision", "exact_precision")
METRICS = PAPER_METRICS + GENE_METRICS + EXTRA_METRICS

LABELS = {
    "bp_precision": "bp precision",
    "bp_sensitivity": "bp sensitivity",
    "start_accuracy": "start accuracy",
    "end_accuracy": "end accuracy",
    "boundary_accuracy": "boundary accuracy",
    "exact_match": "exact match",
    "stop_recall": "stop recall",
    "stop_precision": "stop precision",
    "gene_start_recall": "gene start recall",
    "gene_start_precision": "gene start precision",
    "gene_exact_recall": "gene exact recall",
    "gene_exact_precision": "gene exact precision",
    "start_given_stop": "start right | stop right",
    "start_precision": "start precision (runs)",
    "end_precision": "end precision (runs)",
    "boundary_precision": "boundary precision (runs)",
    "exact_precision": "exact precision (runs)",
}


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


@dataclass
class Scores:
    """Counts for one record (or summed over records) and the rates derived from them."""

    records: int = 0
    bases: int = 0  # record lengths
    # mask level: cells are (base, strand)
    ref_cells: int = 0
    pred_cells: int = 0
    tp_cells: int = 0
    ref_runs: int = 0
    pred_runs: int = 0
    start_tp: int = 0  # run left edges shared (same track)
    end_tp: int = 0
    boundary_ref_tp: int = 0  # reference runs with both edges among the predicted edges
    boundary_pred_tp: int = 0  # predicted runs with both edges among the reference edges
    exact_tp: int = 0  # identical runs
    # gene level
    ref_genes: int = 0
    pred_genes: int = 0
    stop_ref_tp: int = 0
    stop_pred_tp: int = 0
    five_ref_tp: int = 0
    five_pred_tp: int = 0
    exact_ref_tp: int = 0
    exact_pred_tp: int = 0

    def __add__(self, other: Scores) -> Scores:
        return Scores(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    # --- paper metrics
    @property
    def bp_precision(self):
        return _rate(self.tp_cells, self.pred_cells)

    @property
    def bp_sensitivity(self):
        return _rate(self.tp_cells, self.ref_cells)

    @property
    def start_accuracy(self):
        return _rate(self.start_tp, self.ref_runs)

    @property
    def end_accuracy(self):
        return _rate(self.end_tp, self.ref_runs)

    @property
    def boundary_accuracy(self):
        return _rate(self.boundary_ref_tp, self.ref_runs)

    @property
    def exact_match(self):
        return _rate(self.exact_tp, self.ref_runs)

    @property
    def start_precision(self):
        return _rate(self.start_tp, self.pred_runs)

    @property
    def end_precision(self):
        return _rate(self.end_tp, self.pred_runs)

    @property
    def boundary_precision(self):
        return _rate(self.boundary_pred_tp, self.pred_runs)

    @property
    def exact_precision(self):
        return _rate(self.exact_tp, self.pred_runs)

    # --- gene level
    @property
    def stop_recall(self):
        return _rate(self.stop_ref_tp, self.ref_genes)

    @property
    def stop_precision(self):
        return _rate(self.stop_pred_tp, self.pred_genes)

    @property
    def gene_start_recall(self):
        return _rate(self.five_ref_tp, self.ref_genes)

    @property
    def gene_start_precision(self):
        return _rate(self.five_pred_tp, self.pred_genes)

    @property
    def gene_exact_recall(self):
        return _rate(self.exact_ref_tp, self.ref_genes)

    @property
    def gene_exact_precision(self):
        return _rate(self.exact_pred_tp, self.pred_genes)

    @property
    def start_given_stop(self):
        return _rate(self.exact_ref_tp, self.stop_ref_tp)

    def metrics(self) -> dict[str, float | None]:
        return {name: getattr(self, name) for name in METRICS}

    def counts(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def to_dict(self) -> dict:
        return {"metrics": self.metrics(), "counts": self.counts()}


@dataclass
class EvaluationReport:
    """Per-record scores (reference order) and their pooled sum."""

    records: dict[str, Scores] = field(default_factory=dict)

    @property
    def pooled(self) -> Scores:
        total = Scores()
        for scores in self.records.values():
            total = total + scores
        return total

    def to_dict(self, per_record: bool = True) -> dict:
        out = {"pooled": self.pooled.to_dict()}
        if per_record:
            out["records"] = {rid: s.to_dict() for rid, s in self.records.items()}
        return out


# --- feature handling ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Gene:
    strand: int
    five: int  # 5' end in genome coordinates (start of a + gene, end of a - gene)
    three: int
    parts: tuple[tuple[int, int], ...]


def _gene(f: Feature, length: int) -> _Gene:
    """Ends from the first / last part in biological order, partial edge ends snapped."""
    parts = [tuple(p) for p in f.parts]
    # snap a partial end that is (nearly) at the record edge onto the edge
    if f.partial_start:
        i = min(range(len(parts)), key=lambda k: parts[k][0])
        if parts[i][0] <= PARTIAL_SLACK:
            parts[i] = (0, parts[i][1])
    if f.partial_end:
        i = max(range(len(parts)), key=lambda k: parts[k][1])
        if parts[i][1] >= length - PARTIAL_SLACK:
            parts[i] = (parts[i][0], length)
    if f.strand == 1:
        five, three = parts[0][0], parts[-1][1]
    else:
        five, three = parts[0][1], parts[-1][0]
    return _Gene(f.strand, five, three, tuple(parts))


def _paint(genes: list[_Gene], length: int) -> np.ndarray:
    tracks = np.zeros((2, length), dtype=bool)
    for g in genes:
        row = tracks[0 if g.strand == 1 else 1]
        for s, e in g.parts:
            row[s:e] = True
    return tracks


def _runs(track: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(left edges, right edges, end-exclusive) of the True runs of a 1-D boolean array."""
    d = np.diff(np.concatenate(([0], track.view(np.int8), [0])))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def _score_record(ref: list[Feature], pred: list[Feature], length: int) -> Scores:
    ref_genes = [_gene(f, length) for f in ref if f.strand in (1, -1)]
    pred_genes = [_gene(f, length) for f in pred if f.strand in (1, -1)]
    s = Scores(records=1, bases=length, ref_genes=len(ref_genes), pred_genes=len(pred_genes))

    # mask level
    rt, pt = _paint(ref_genes, length), _paint(pred_genes, length)
    s.ref_cells = int(rt.sum())
    s.pred_cells = int(pt.sum())
    s.tp_cells = int(np.logical_and(rt, pt).sum())
    for k in range(2):
        rs, re = _runs(rt[k])
        ps, pe = _runs(pt[k])
        s.ref_runs += len(rs)
        s.pred_runs += len(ps)
        s.start_tp += len(np.intersect1d(rs, ps, assume_unique=True))
        s.end_tp += len(np.intersect1d(re, pe, assume_unique=True))
        r_start_ok, r_end_ok = np.isin(rs, ps), np.isin(re, pe)
        p_start_ok, p_end_ok = np.isin(ps, rs), np.isin(pe, re)
        s.boundary_ref_tp += int(np.sum(r_start_ok & r_end_ok))
        s.boundary_pred_tp += int(np.sum(p_start_ok & p_end_ok))
        ref_pairs = set(zip(rs.tolist(), re.tolist()))
        s.exact_tp += sum(1 for pair in zip(ps.tolist(), pe.tolist()) if pair in ref_pairs)

    # gene level
    for key, ref_field, pred_field in (
        (lambda g: (g.strand, g.three), "stop_ref_tp", "stop_pred_tp"),
        (lambda g: (g.strand, g.five), "five_ref_tp", "five_pred_tp"),
        (lambda g: (g.strand, g.five, g.three), "exact_ref_tp", "exact_pred_tp"),
    ):
        ref_keys, pred_keys = {key(g) for g in ref_genes}, {key(g) for g in pred_genes}
        setattr(s, ref_field, sum(key(g) in pred_keys for g in ref_genes))
        setattr(s, pred_field, sum(key(g) in ref_keys for g in pred_genes))
    return s


def reference_cds(record: AnnotatedRecord) -> list[Feature]:
    """The CDS a record is scored against: its validated CDS (``classify_cds``)."""
    return classify_cds(record)[0]


def predicted_cds(features: Iterable[Feature]) -> list[Feature]:
    """The CDS a prediction claims: CDS features not flagged pseudo."""
    return [f for f in features if f.type == "CDS" and not f.pseudo]


def _record_length(record: AnnotatedRecord) -> int | None:
    if record.sequence:
        return len(record.sequence)
    return record.length


def evaluate(
    predictions: Iterable[AnnotatedRecord] | Mapping[str, Iterable[Feature]] | Iterable[Feature],
    references: Iterable[AnnotatedRecord],
    *,
    pred_path: str | os.PathLike | None = None,
) -> EvaluationReport:
    """Score ``predictions`` (records, a mapping record id -> features, or bare features
    when the reference has one record) against the validated CDS of ``references``; see
    the module docstring for every definition.

    Reference records without predictions score as "nothing predicted". A predicted record id
    absent from the reference, or a predicted CDS beyond the reference record's end, is a
    :class:`GenerInputError` (``pred_path`` names the file in the message).
    """
    refs: dict[str, AnnotatedRecord] = {}
    for rec in references:
        if rec.id in refs:
            raise GenerInputError(f"reference has two records named {rec.id!r}", record=rec.id)
        refs[rec.id] = rec

    if isinstance(predictions, Mapping):
        pred_items = [(rid, list(feats)) for rid, feats in predictions.items()]
    else:
        predictions = list(predictions)
        if predictions and all(isinstance(p, Feature) for p in predictions):
            if len(refs) != 1:
                raise GenerInputError(
                    f"bare features name no record, but the reference has {len(refs)} records: "
                    "give records or a mapping record id -> features", path=pred_path,
                )
            pred_items = [(next(iter(refs)), predictions)]
        else:
            pred_items = [(rec.id, rec.features) for rec in predictions]
    pred_by_id: dict[str, list[Feature]] = {}
    for rid, feats in pred_items:
        if rid not in refs:
            known = ", ".join(repr(r) for r in list(refs)[:5]) + (", ..." if len(refs) > 5 else "")
            raise GenerInputError(
                f"predicted record {rid!r} is not in the reference (reference records: {known})",
                path=pred_path, record=rid,
            )
        pred_by_id.setdefault(rid, []).extend(predicted_cds(feats))

    report = EvaluationReport()
    for rid, rec in refs.items():
        ref = reference_cds(rec)
        pred = pred_by_id.get(rid, [])
        length = _record_length(rec)
        if not length:  # a GFF3 reference without sequence or ##sequence-region
            length = max((f.end for f in (*ref, *pred)), default=0)
        for f in pred:
            if f.end > length:
                raise GenerInputError(
                    f"predicted CDS {f.start + 1}..{f.end} lies outside the reference record ({length} bp)",
                    path=pred_path, record=rid,
                )
        report.records[rid] = _score_record(ref, pred, length)
    return report


# --- files --------------------------------------------------------------------------


def read_annotation(path, fasta=None) -> list[AnnotatedRecord]:
    """Records with features from GenBank or GFF3 (gener's, Prodigal's ``-f gff``, NCBI's);
    ``fasta`` supplies sequences for a GFF3 without ##FASTA."""
    from gener.io import detect_format, read_genbank, read_gff3

    fmt = detect_format(path)
    if fmt == "genbank":
        if fasta is not None:
            raise GenerInputError("a FASTA file goes with a GFF3 reference, not a GenBank one", path=fasta)
        return list(read_genbank(path))
    if fmt == "gff3":
        return list(read_gff3(path, fasta=fasta))
    raise GenerInputError("expected an annotation (GenBank or GFF3), found FASTA", path=path)


def evaluate_files(pred, ref, *, ref_fasta=None) -> EvaluationReport:
    """:func:`evaluate` on files: ``pred`` GFF3 (or GenBank), ``ref`` GenBank or GFF3."""
    references = read_annotation(ref, fasta=ref_fasta)
    predictions = read_annotation(pred)
    return evaluate(predictions, references, pred_path=os.fspath(pred))


def format_rate(value: float | None, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}f}"
