"""Choosing an annotator's decoder weights (its ``decoder.json``) on annotated genomes.

The decoder (decode.py) scores a candidate gene as

    model * (the model's log-odds of the gene's labels) + model_start * (the model's start term)
    + coding * (the genome's coding score) + start * (the genome's start-site score)
    + length_bias * length

plus, between consecutive genes, ``spacing`` times Prodigal's gene-spacing term, and keeps
genes above ``min_score``. How much a model's log-odds should count depends on the model:
the embedded annotator's tuned model weight is 0.01, and at weight 1 it scored 0.448 exact
match instead of 0.673, pooled over its three tuning genomes. A checkpoint without
decoder.json is decoded with a prior (the Annotator's ``DEFAULT_WEIGHTS``: the embedded
annotator's weights); every annotator still wants its own, chosen here:

- ``coding`` stays 1, so scores stay on Prodigal's scale, and the genome's terms keep
  Prodigal's own parameters (start weight 1, no length bias, genes above score 0): Prodigal
  chose them on many genomes, and re-fitting them on a few moved them in a direction that
  cost 1-2 points on most genomes held out of the fit;
- for "both" the model's two weights are chosen, with the gene-spacing term at 0, 0.5 and 1
  (the model's start evidence and the spacing term speak to the same start sites); for the
  model alone its length bias and threshold, which its log-odds need;
- by coordinate ascent, two rounds over small grids, on the exact match pooled over the
  genomes, with calling more than 10% more genes than Prodigal counted against it
  (:func:`objective`; not the reference's count: references list only validated genes).

The genomes must be ones the model was not trained on: on its own training genomes a model
looks better than it is, and its weights come out too high.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gener.errors import GenerInputError
from gener.tasks.annotate.decode import Weights
from gener.tasks.annotate.evaluate import evaluate, reference_cds
from gener.tasks.annotate.prodigal import prodigal_annotate
from gener.tasks.annotate.selftrain import MIN_SINGLE_GENOME, GenomeStatistics

# Below this many validated genes one gene moves the exact match by a fifth of a point or more,
# and the weights chosen are mostly noise (the embedded annotator's came from 4,771).
MIN_TUNING_GENES = 500
SOURCES = ("both", "model", "genome")
MODES = ("single", "meta")
WEIGHTS = ("model", "model_start", "coding", "start", "spacing")
GRIDS = {
    "model": [0.0, 0.01, 0.02, 0.03, 0.05, 0.1],
    "model_start": [0.0, 0.1, 0.2, 0.5, 1.0, 2.0],
    "length_bias": [0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5],
    "min_score": [-10.0, 0.0, 5.0, 10.0, 20.0],
}
SPACINGS = {"both": [0.0, 0.5, 1.0], "model": [0.0], "genome": [1.0]}
FREE = {"both": ("model", "model_start"), "model": ("length_bias", "min_score"), "genome": ()}
START = {"both": {"model": 0.0, "model_start": 0.0, "coding": 1.0, "start": 1.0, "length_bias": 0.0,
                  "min_score": 0.0},
         "model": {"model": 1.0, "model_start": 1.0, "coding": 0.0, "start": 0.0, "length_bias": 2.5,
                   "min_score": 0.0},
         "genome": {"model": 0.0, "model_start": 0.0, "coding": 1.0, "start": 1.0, "length_bias": 0.0,
                    "min_score": 0.0}}


class CachedStatistics:
    """A GenomeStatistics whose start scores are computed once per sequence (every trial of
    the ascent decodes the same sequences)."""

    def __init__(self, statistics: GenomeStatistics):
        self.inner, self.mode, self.memo = statistics, statistics.mode, {}

    def start_scores(self, sequence):
        key = hash(sequence)
        if key not in self.memo:
            self.memo[key] = self.inner.start_scores(sequence)
        return self.memo[key]


@dataclass
class TuningGenome:
    """One annotated genome with what every trial needs: the model's probabilities per record,
    the genome's statistics per mode (single only for >= 20 kbp, as the annotator decides),
    and the number of genes Prodigal calls on it (the over-calling reference, in single mode
    where the genome allows it, for both modes)."""

    name: str
    records: list  # gener.io.AnnotatedRecord with the reference CDS
    probs: list[np.ndarray]
    statistics: dict[str, CachedStatistics]
    prodigal_genes: int


def prepare(name: str, records: list, probs: list[np.ndarray]) -> TuningGenome:
    """A :class:`TuningGenome` of ``records`` (all of one genome, one translation table) and the
    model's ``probs`` for them."""
    table = records[0].transl_table
    sequences = [r.sequence for r in records]
    modes = MODES if sum(map(len, sequences)) >= MIN_SINGLE_GENOME else ("meta",)
    statistics = {mode: CachedStatistics(GenomeStatistics(sequences, mode=mode, table=table)) for mode in modes}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyrodigal's training-size warning
        called = prodigal_annotate(records, mode=modes[0], translation_table=table)
    return TuningGenome(name, records, probs, statistics, sum(len(r.features) for r in called))


def objective(exact_match: float, predicted: int, prodigal: int) -> float:
    """Exact match, scaled down once the genes called exceed Prodigal's by more than 10%:
    over-calling buys exact matches with false genes."""
    return exact_match * min(1.0, 1.1 * prodigal / max(predicted, 1))


def score(genomes: Sequence[TuningGenome], params: dict, mode: str) -> tuple[float, dict]:
    """(objective, figures) of one setting, pooled over the genomes (with the genome's
    statistics: those that have ``mode``)."""
    from gener.tasks.annotate.annotator import genes_from_probabilities
    from gener.tasks.annotate.output import to_record

    weights = Weights(**{k: params[k] for k in WEIGHTS})
    totals, prodigal = None, 0
    for genome in genomes:
        if weights.uses_genome and mode not in genome.statistics:
            continue
        prodigal += genome.prodigal_genes
        predicted = []
        for r, p in zip(genome.records, genome.probs):
            genes = genes_from_probabilities(
                r.id, r.sequence, p, table=r.transl_table, circular=r.circular, weights=weights,
                statistics=genome.statistics[mode] if weights.uses_genome else None,
                length_bias=params["length_bias"], min_score=params["min_score"])
            predicted.append(to_record(r.id, r.sequence, genes, with_sequence=False))
        pooled = evaluate(predicted, genome.records).pooled
        totals = pooled if totals is None else totals + pooled
    if totals is None:
        raise ValueError(f"no tuning genome is long enough for {mode} mode")
    # a rate without a denominator (no genes called, say) counts as 0
    r, p, exact = (value or 0.0 for value in (totals.gene_exact_recall, totals.gene_exact_precision,
                                               totals.exact_match))
    predicted_genes = totals.counts()["pred_genes"]
    return objective(exact, predicted_genes, prodigal), {
        "exact_f1": 2 * r * p / (r + p) if r + p else 0.0, "exact_match": exact,
        "start_accuracy": totals.start_accuracy or 0.0, "pred_genes": predicted_genes, "prodigal_genes": prodigal}


def tune(genomes, source: str, mode: str, *, rounds: int = 2,
         log: Callable[[str], None] | None = None) -> tuple[dict, dict]:
    """(parameters, figures) of the best setting for one evidence source and mode."""
    runs = [_ascend(genomes, {**START[source], "spacing": s}, source, mode, rounds) for s in SPACINGS[source]]
    _, params, info = max(runs, key=lambda run: run[0])
    if log is not None:
        chosen = ", ".join(f"{k} {params[k]:g}" for k in (*FREE[source], "spacing"))
        log(f"{entry_name(source, mode)}: {chosen} -> exact match {info['exact_match']:.4f}, "
            f"{info['pred_genes']} genes (Prodigal {info['prodigal_genes']})")
    return params, info


def entry_name(source: str, mode: str) -> str:
    """The decoder.json entry of an evidence source and mode (the model alone has one)."""
    return "model" if source == "model" else f"{source}-{mode}"


def _ascend(genomes, params, source, mode, rounds):
    best, info = score(genomes, params, mode)
    for _ in range(rounds if FREE[source] else 0):
        for name in FREE[source]:
            for value in GRIDS[name]:
                trial = {**params, name: value}
                result, trial_info = score(genomes, trial, mode)
                if result > best + 1e-6:
                    best, info, params = result, trial_info, trial
    return best, params, info


def tune_all(genomes: Sequence[TuningGenome], *, sources: Sequence[str] = SOURCES,
             modes: Sequence[str] = MODES, log: Callable[[str], None] | None = None) -> list[tuple[str, dict, dict]]:
    """``(decoder.json key, parameters, figures)`` for every source and mode that the genomes
    allow (single mode needs a genome of >= 20 kbp; the model alone has one entry)."""
    rows = []
    for source in sources:
        for mode in (["single"] if source == "model" else modes):
            if source != "model" and not any(mode in g.statistics for g in genomes):
                continue
            params, info = tune(genomes, source, mode, log=log)
            info["untuned_exact_match"] = score(genomes, untuned(source), mode)[1]["exact_match"]
            rows.append((entry_name(source, mode), params, info))
    return rows


def untuned(source: str) -> dict:
    """The settings an annotator without decoder.json decodes with (what tuning is measured
    against): the Annotator's default weights, no length bias, genes above score 0."""
    from gener.tasks.annotate.annotator import DEFAULT_WEIGHTS

    weights = Weights(**DEFAULT_WEIGHTS[source])
    return {**{k: getattr(weights, k) for k in WEIGHTS}, "model_start": weights.model_start_weight,
            "length_bias": 0.0, "min_score": 0.0}


def entry(params: dict) -> dict:
    """A decoder.json entry (what the Annotator reads) of tuned parameters."""
    return {"weights": {k: params[k] for k in WEIGHTS}, "length_bias": params["length_bias"],
            "min_score": params["min_score"]}


def read_decoder_json(directory) -> dict[str, dict]:
    """The entries of ``directory/decoder.json``: one per evidence and mode ("both-single",
    "both-meta", "model", "genome-single", "genome-meta"), each decoding options with
    ``weights``, and "inference" (the window overlap the model runs with); {} without one."""
    if directory is None:
        return {}
    try:
        entries = json.loads((Path(directory) / "decoder.json").read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in entries.items() if isinstance(v, dict)} if isinstance(entries, dict) else {}


def write_decoder_json(directory, entries: dict) -> Path:
    """Merge ``entries`` into ``directory/decoder.json`` (kept entries: those not given), written
    whole or not at all."""
    path = Path(directory) / "decoder.json"
    old = read_decoder_json(directory)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".decoder.", suffix=".json")
    try:
        with os.fdopen(handle, "w") as fh:
            fh.write(json.dumps({**old, **entries}, indent=2) + "\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def markdown(rows) -> str:
    """The tuned settings as a markdown table (the model card's), with the exact match of the
    untuned defaults on the same probabilities."""
    lines = ["| evidence | model | model start | coding | start | spacing | length bias | min score | exact F1 "
             "| exact match | start acc | genes | untuned exact match |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for key, p, i in rows:
        lines.append(
            f"| {key} | {p['model']:g} | {p['model_start']:g} | {p['coding']:g} | {p['start']:g} | "
            f"{p['spacing']:g} | {p['length_bias']:g} | {p['min_score']:g} | {i['exact_f1']:.3f} | "
            f"{i['exact_match']:.3f} | {i['start_accuracy']:.3f} | {i['pred_genes']} | "
            f"{i['untuned_exact_match']:.3f} |")
    return "\n".join(lines) + "\n"


def check_tuning_genomes(genomes: Sequence[tuple[Path, list]]) -> list[tuple[Path, list]]:
    """``genomes`` (dataset.read_genomes), refused where a file has nothing to tune on: no
    sequence, or no validated CDS."""
    for file, records in genomes:
        if not records:
            raise GenerInputError("no sequence to tune the decoder on (a GFF3 needs its ##FASTA)", path=file)
        if not any(reference_cds(r) for r in records):
            raise GenerInputError("no validated CDS to tune the decoder on", path=file)
    return list(genomes)


def tune_checkpoint(directory, genomes: Sequence[tuple[Path, list]], *, device=None,
                    log: Callable[[str], None] | None = None) -> list[tuple[str, dict, dict]]:
    """Tune the annotator in ``directory`` on ``genomes`` (:func:`check_tuning_genomes`; ones it
    was not trained on) and write the result into its decoder.json; ``log`` reports progress."""
    from gener.tasks.annotate.annotator import Annotator  # it reads decoder.json with this module

    annotator = Annotator(Path(directory), evidence="model", device=device)
    genes = sum(len(reference_cds(r)) for _, records in genomes for r in records)
    if genes < MIN_TUNING_GENES:
        warnings.warn(f"tuning the decoder on {genes} validated genes; with fewer than {MIN_TUNING_GENES} "
                      "the weights chosen may not carry over to other genomes", stacklevel=2)
    prepared = []
    for file, records in genomes:
        if log is not None:
            log(f"{file.name}: the model's probabilities of {sum(len(r.sequence) for r in records):,} bp")
        probs = annotator.probabilities_many([r.sequence for r in records], [r.circular for r in records])
        prepared.append(prepare(file.name, records, probs))
    rows = tune_all(prepared, log=log)
    write_decoder_json(directory, {key: entry(params) for key, params, _ in rows})
    return rows
