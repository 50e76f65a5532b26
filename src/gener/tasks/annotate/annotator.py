"""CDS annotation of whole genomes: model probabilities (inference.py) -> ORF-constrained
genes (decode.py); output.py writes them as Prodigal does (GFF3, GenBank, SCO, FASTA).

    from gener.tasks.annotate.annotator import Annotator
    from gener.tasks.annotate.output import write_gff3, write_proteins
    annotator = Annotator()                       # the embedded gener-annotator-tiny
    results = list(annotator.annotate_file("genome.fna.gz"))   # (record id, sequence, genes)
    write_gff3("genes.gff3", results)
    write_proteins("proteins.faa", results)

Outputs follow Prodigal's conventions so existing pipelines read them: gene ``ID=seqid_N``
(N counts genes along each sequence from 1), ``partial=00/10/01/11`` (left / right end in
genome coordinates runs off an edge or into a gap), ``start_type=ATG/GTG/TTG/Edge``,
``gc_cont``, ``conf``, ``score``, ``cscore``, ``sscore`` (see decode.py for their meaning;
no RBS fields: the model has no RBS motif model). Protein FASTA headers are Prodigal's
``>ID # start # end # strand # ID=...;partial=...;start_type=...;gc_cont=...;conf=...;score=...``
(1-based inclusive coordinates, strand 1 / -1) and proteins end with ``*`` where the gene
has its stop codon, as Prodigal writes them.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gener.errors import GenerInputError
from gener.io import Feature
from gener.sequence import gc_content, normalize, reverse_complement
from gener.tasks.annotate import decode as _decode
from gener.tasks.annotate import inference, selftrain
from gener.tasks.annotate.tuning import entry_name, read_decoder_json

DEFAULT_MODEL = "gener-annotator-tiny"
SOURCE = "gener"
SUPPORTED_LABELS = (2, 4, 5)
MAX_DEFAULT_WINDOW = 8192
GROUP_BP = 1_000_000  # short records are batched together up to this many bases

Result = tuple[str, str, list["Gene"]]  # (record id, sequence, genes)
# Which evidence the decoder weighs: the model and the genome's own statistics (the default),
# or one of them alone (the ablation of the model card).
EVIDENCE_SOURCES = ("both", "model", "genome")
# Defaults for a checkpoint without decoder.json (the published annotator, a fine-tune without
# --valid genomes). For both sources, a prior: the embedded annotator's tuned weights on the
# model's evidence (its per-base log-odds summed over a gene are hundreds of times the genome's
# scores, and at weight 1 they swamp them), with Prodigal's gene spacing. The model card
# measures them against tuned weights.
DEFAULT_WEIGHTS = {"both": {"model": 0.01, "model_start": 0.5, "coding": 1.0, "start": 1.0, "spacing": 1.0},
                   "model": {"model": 1.0},
                   "genome": {"model": 0.0, "coding": 1.0, "start": 1.0, "spacing": 1.0}}
_DECODE_OPTIONS = {"min_edge_gene_length", "max_overlap_same", "max_overlap_opposite", "min_score", "min_gap",
                   "length_bias"}


@dataclass(slots=True)
class Gene:
    """One predicted CDS. Coordinates are 0-based, end exclusive, genome orientation; a gene
    crossing the origin of a circular sequence has two ``parts`` (5'->3') and the envelope
    ``start=0, end=len(sequence)``, as :class:`gener.io.Feature` has it."""

    seqid: str
    index: int  # 1-based rank along the sequence
    start: int
    end: int
    strand: int
    partial_start: bool  # genome left end open (Prodigal partial=1x)
    partial_end: bool  # genome right end open (partial=x1)
    start_type: str  # ATG / GTG / TTG / Edge
    score: float  # log-likelihood ratio, nats: cscore + sscore
    cscore: float
    sscore: float
    confidence: float  # 0..100: Prodigal's, the logistic of the score
    nucleotides: str  # 5'->3', stop codon included when present
    table: int = 11
    parts: list[tuple[int, int]] = field(default_factory=list)
    evidence: dict[str, float] = field(default_factory=dict)  # decode.EVIDENCE, unweighted

    def __post_init__(self):
        if not self.parts:
            self.parts = [(self.start, self.end)]

    @property
    def id(self) -> str:
        return f"{self.seqid}_{self.index}"

    @property
    def partial(self) -> str:
        return f"{int(self.partial_start)}{int(self.partial_end)}"

    @property
    def five_prime_partial(self) -> bool:
        return self.partial_end if self.strand == -1 else self.partial_start

    @property
    def three_prime_partial(self) -> bool:
        return self.partial_start if self.strand == -1 else self.partial_end

    @property
    def gc(self) -> float:
        return gc_content(self.nucleotides)

    def __len__(self) -> int:
        return len(self.nucleotides)

    def translate(self, *, stop_symbol: bool = False) -> str:
        """The protein, in the gene's translation table. A gene with its start codon begins
        with M (GTG/TTG starts are read as Met); a 5'-partial gene is translated in frame
        from its first complete codon; the stop ``*`` is kept only with ``stop_symbol``."""
        from Bio.Seq import Seq

        protein = str(Seq(self.nucleotides).translate(table=self.table))
        if not self.five_prime_partial and protein:
            protein = "M" + protein[1:]
        if protein.endswith("*") and not self.three_prime_partial and not stop_symbol:
            protein = protein[:-1]
        return protein

    def attributes(self) -> dict[str, str]:
        """Prodigal's GFF3 attributes, in Prodigal's order."""
        return {
            "ID": self.id,
            "partial": self.partial,
            "start_type": self.start_type,
            "gc_cont": f"{self.gc:.3f}",
            "conf": f"{min(self.confidence, 99.99):.2f}",
            "score": f"{self.score:.2f}",
            "cscore": f"{self.cscore:.2f}",
            "sscore": f"{self.sscore:.2f}",
            **{k: f"{self.evidence[k]:.2f}" for k in _decode.EVIDENCE if k in self.evidence},
        }

    def to_feature(self) -> Feature:
        return Feature(
            type="CDS", start=self.start, end=self.end, strand=self.strand, parts=list(self.parts),
            qualifiers={k: [v] for k, v in self.attributes().items()},
            partial_start=self.partial_start, partial_end=self.partial_end, transl_table=self.table,
            score=round(self.score, 2), source=SOURCE,
        )

    def fasta_header(self) -> str:
        """Prodigal's header fields after the id: `` # start # end # strand # attributes``."""
        first, last = (self.parts[0], self.parts[-1]) if self.strand == 1 else (self.parts[-1], self.parts[0])
        a = self.attributes()
        keys = ("ID", "partial", "start_type", "gc_cont", "conf", "score")
        return f"# {first[0] + 1} # {last[1]} # {self.strand} # " + ";".join(f"{k}={a[k]}" for k in keys)


def genes_from_probabilities(seqid: str, sequence: str, probs: np.ndarray, *, table: int = 11,
                             circular: bool = False, **decode_options) -> list[Gene]:
    """Decode genes from ``(2, L, C)`` probabilities (a model's, or an oracle's in tests)."""
    calls = _decode.decode(sequence, probs, table=table, circular=circular, **decode_options)
    genes = []
    for index, call in enumerate(calls, start=1):  # sorted along the sequence
        if call.strand == 1:
            nts = "".join(sequence[s:e] for s, e in call.parts)
        else:
            nts = "".join(reverse_complement(sequence[s:e]) for s, e in call.parts)
        genes.append(Gene(
            seqid=seqid, index=index, start=call.start, end=call.end, strand=call.strand,
            partial_start=call.partial_start, partial_end=call.partial_end, start_type=call.start_type,
            score=call.score, cscore=call.cscore, sscore=call.sscore, confidence=call.confidence,
            nucleotides=nts, table=table, parts=list(call.parts), evidence=call.evidence,
        ))
    return genes


class Annotator:
    """Annotate CDS with a GENERanno token-classification model.

    ``model``: a checkpoint directory, an embedded name, a hub id, or an already loaded
    model (then pass ``tokenizer`` too, or the built-in single-nucleotide one is used);
    None is the embedded ``gener-annotator-tiny``. ``window`` defaults to the window the
    model was trained on (its config's ``annotation_window``, or ``training.json`` next to
    it) or its context (at most 8192 bp); ``overlap`` to half a window, at most 512 bp;
    ``batch_size`` to 32k tokens' worth of windows. The model's ``num_labels`` picks the
    scoring (decode.py): 2 frame-agnostic, 4 frame-aware, 5 frame-aware with start-site
    evidence.
    """

    def __init__(self, model=None, *, tokenizer=None, device=None, table: int = 11, window: int | None = None,
                 overlap: int | None = None, batch_size: int | None = None, min_gene_length: int = 90,
                 weighting: str = "uniform", closed: bool = False, start_codons=None, mode: str = "auto",
                 evidence: str = "both", precision: str = "auto", **decode_options):
        _decode.codon_sets(table, start_codons)  # fail early on a bad table
        selftrain.choose_mode(mode, [])  # validates
        if evidence not in EVIDENCE_SOURCES:
            raise GenerInputError(f"evidence must be one of {', '.join(EVIDENCE_SOURCES)}, got {evidence!r}")
        if precision not in inference.PRECISIONS:
            raise GenerInputError(f"precision must be one of {', '.join(inference.PRECISIONS)}, got {precision!r}")
        self.mode, self.evidence = mode, evidence
        unknown = set(decode_options) - _DECODE_OPTIONS
        if unknown:
            raise TypeError(f"unknown decoding options: {', '.join(sorted(unknown))}")
        if min_gene_length < 6:
            raise GenerInputError(f"minimum gene length must be at least 6 bp, got {min_gene_length}")
        self.table = int(table)
        directory = None
        if model is None or isinstance(model, (str, os.PathLike)):
            name = DEFAULT_MODEL if model is None else str(model)
            self.model, self.tokenizer, directory = _load(name, device)
        else:
            self.model, self.tokenizer = model, tokenizer
            if device is not None:
                self.model.to(device)
        if self.tokenizer is None:
            from gener.tokenization import NucleotideTokenizer

            self.tokenizer = NucleotideTokenizer()
        self.num_labels = inference.model_labels(self.model)
        if self.num_labels not in SUPPORTED_LABELS:
            raise GenerInputError(
                f"the model predicts {self.num_labels} classes per strand; gener decodes 2 (CDS / non-coding), "
                "4 (non-coding + codon positions) or 5 (+ start codon)"
            )
        # Decoder settings tuned for this model on training genomes travel with it (decoder.json).
        self._tuned = _tuned_decoding(directory)
        self.window = int(window) if window is not None else _default_window(self.model, directory)
        if overlap is None:  # the model's own choice (decoder.json "inference"), else the published rule
            overlap = self._tuned.get("inference", {}).get("overlap", inference.default_overlap(self.window))
        self.overlap = int(overlap)
        inference.window_starts(self.window + 1, self.window, self.overlap)  # validates
        if weighting not in inference.WEIGHTINGS:
            raise GenerInputError(f"unknown weighting {weighting!r}; choose one of {', '.join(inference.WEIGHTINGS)}")
        if batch_size is not None and batch_size < 1:
            raise GenerInputError(f"batch size must be at least 1, got {batch_size}")
        self.batch_size = batch_size
        self.weighting = weighting
        self.precision = precision
        self._runner_key = self._runner_model = None  # see runner()
        self._user_options = decode_options
        self.decode_options = dict(min_gene_length=min_gene_length, closed=closed, start_codons=start_codons)

    @property
    def has_tuned_weights(self) -> bool:
        """Whether this model's decoder.json holds weights for the evidence in use (the genome's
        statistics alone need none)."""
        if self.evidence == "genome":
            return True
        return any("weights" in self._tuned.get(entry_name(self.evidence, mode), {}) for mode in ("single", "meta"))

    def decoding(self, mode: str) -> dict:
        """Decoder options for a resolved ``mode`` ("single" / "meta") and this annotator's
        evidence: the tuned entry of decoder.json, then the caller's explicit options."""
        tuned = dict(self._tuned.get(entry_name(self.evidence, mode), {}))
        weights = tuned.pop("weights", None)
        if weights is None:
            weights = DEFAULT_WEIGHTS[self.evidence]
        options = {**self.decode_options, **tuned, **self._user_options}
        return {**options, "weights": _decode.Weights(**weights) if isinstance(weights, dict) else weights}

    # --- one sequence ---------------------------------------------------------------
    def probabilities(self, sequence: str, *, circular: bool = False) -> np.ndarray:
        return self.probabilities_many([sequence], [circular])[0]

    def annotate(self, sequence: str, id: str = "seq", *, circular: bool = False) -> list[Gene]:
        """Genes of one sequence (any case; IUPAC codes allowed)."""
        sequence = normalize(sequence, name=id)
        if not sequence:
            return []
        return next(self._annotate_group([(id, sequence, circular)], self.genome_statistics([sequence]), None))[2]

    # --- many sequences -------------------------------------------------------------
    def annotate_records(self, records: Iterable, *, progress: Callable[[str, int], None] | None = None,
                         on_warning: Callable[[str], None] | None = None) -> Iterator[Result]:
        """``(record id, sequence, genes)`` per record, in input order. ``records`` yields
        FastaRecord-like objects (``id``, ``sequence``, optional ``circular``) or
        ``(id, sequence[, circular])`` tuples. Short records are batched together.
        Empty records are skipped with a warning. ``progress(record_id, bases)`` reports
        bases as their windows complete."""
        warn = on_warning or (lambda message: warnings.warn(message, stacklevel=3))
        items = []
        for rec in records:
            rid, seq, circ = _unpack(rec)
            if not seq:
                warn(f"record {rid!r} has no sequence; skipped")
                continue
            items.append((rid, seq, circ))
        # Single mode trains on every record of the input together, so all are read first.
        statistics = self.genome_statistics([seq for _, seq, _ in items])
        group: list[tuple[str, str, bool]] = []
        size = 0
        for item in items:
            group.append(item)
            size += len(item[1])
            if size >= GROUP_BP:
                yield from self._annotate_group(group, statistics, progress)
                group, size = [], 0
        if group:
            yield from self._annotate_group(group, statistics, progress)

    def annotate_file(self, path, *, topology: str = "auto", progress=None, on_warning=None) -> Iterator[Result]:
        """Annotate every record of a FASTA / GenBank / GFF3+FASTA file (plain or compressed).

        ``topology``: "linear", "circular", or "auto" (GenBank LOCUS topology; FASTA headers
        saying ``circular=true`` or ``topology=circular`` as assemblers and NCBI write them).
        """
        return self.annotate_records(read_records(path, topology=topology), progress=progress, on_warning=on_warning)

    def probabilities_many(self, sequences: list[str], circular: list[bool], progress=None) -> list[np.ndarray]:
        """``(2, L, num_labels)`` per-base probabilities of each sequence, at this annotator's
        window, overlap and precision (``progress(index, bases)`` as in
        inference.predict_proba_many)."""
        return inference.predict_proba_many(
            self.runner(), sequences, tokenizer=self.tokenizer, window=self.window, overlap=self.overlap,
            batch_size=self.batch_size, weighting=self.weighting, circular=circular, progress=progress,
            precision=self.precision,
        )

    # --- internals ------------------------------------------------------------------
    def runner(self):
        """The model that runs: ``model`` at this annotator's precision (inference.model_for),
        made once rather than once per group of records, since a bf16 copy of a large model is
        not free."""
        key = (self.model, self.precision)
        if self._runner_key != key:
            self._runner_key, self._runner_model = key, inference.model_for(self.model, self.precision)
        return self._runner_model

    def genome_statistics(self, sequences: list[str]):
        """The genome's own statistics (selftrain.py) for the records of one input, or None
        for model-only evidence."""
        if self.evidence == "model":
            return None
        return selftrain.GenomeStatistics(sequences, mode=self.mode, table=self.table,
                                          closed=self.decode_options["closed"],
                                          min_gene=self.decode_options["min_gene_length"],
                                          min_edge_gene=self._user_options.get("min_edge_gene_length", 60))

    def _annotate_group(self, group, statistics, progress):
        if self.evidence == "genome":  # the model is not consulted: no forward pass at all
            probs = None
            if progress is not None:
                for rid, seq, _ in group:
                    progress(rid, len(seq))
        else:
            report = None
            if progress is not None:
                def report(index, bases):
                    progress(group[index][0], bases)

            probs = self.probabilities_many([g[1] for g in group], [g[2] for g in group], report)
        yield from self.decode_group(group, probs, statistics)

    def decode_group(self, group, probs, statistics) -> Iterator[Result]:
        """``(record id, sequence, genes)`` of ``(id, sequence, circular)`` records from their
        model probabilities (None with ``evidence="genome"``: no model evidence) and the
        input's ``genome_statistics``, with this annotator's decoding settings."""
        if probs is None:
            probs = [np.zeros((2, len(seq), self.num_labels), dtype=np.float32) for _, seq, _ in group]
        options = self.decoding(statistics.mode if statistics is not None else "single")
        for (rid, seq, circ), p in zip(group, probs):
            yield rid, seq, genes_from_probabilities(rid, seq, p, table=self.table, circular=circ,
                                                     statistics=statistics, **options)


def _unpack(rec) -> tuple[str, str, bool]:
    if isinstance(rec, tuple):
        rid, seq = rec[0], rec[1]
        circ = bool(rec[2]) if len(rec) > 2 else False
    else:
        rid, seq, circ = rec.id, rec.sequence, bool(getattr(rec, "circular", False))
    return rid, normalize(seq, name=rid), circ


def _load(name: str, device):
    from gener.modeling.loading import EMBEDDED_MODELS, check_device, load_directory, read_config, resolve

    if name in EMBEDDED_MODELS and not EMBEDDED_MODELS[name].available():
        raise GenerInputError(
            f"the embedded annotator {name!r} is not built yet in this installation; "
            "train one with `gener finetune annotator` and pass it with --model DIR"
        )
    if device is not None:
        device = check_device(device, label="device")
    directory = resolve(name)
    archs = read_config(directory).get("architectures") or []
    if not any(a.endswith("ForTokenClassification") for a in archs):
        raise GenerInputError(
            f"{name} is not a CDS annotator (architectures: {', '.join(archs) or 'none'}); "
            "it needs a token-classification model with two strand heads"
        )
    model, tokenizer = load_directory(directory, task="token-classification", device=device)
    return model, tokenizer, directory


def _tuned_decoding(directory) -> dict:
    """The decoder.json entries of the model in ``directory`` (tuning.py writes them, from
    genomes the model was not trained on), with only the options the Annotator takes."""
    out = {}
    for key, options in read_decoder_json(directory).items():
        allowed = {"overlap"} if key == "inference" else _DECODE_OPTIONS | {"weights"}
        out[key] = {k: v for k, v in options.items() if k in allowed}
    return out


def _default_window(model, directory) -> int:
    recorded = getattr(model.config, "annotation_window", None)  # written by gener finetune annotator
    if recorded:
        return int(recorded)
    if directory is not None:
        record = Path(directory) / "training.json"
        try:
            window = json.loads(record.read_text()).get("window")
            if window:
                return int(window)
        except (OSError, ValueError, AttributeError):
            pass
    return int(min(getattr(model.config, "max_position_embeddings", MAX_DEFAULT_WINDOW), MAX_DEFAULT_WINDOW))


# --- reading ------------------------------------------------------------------------

_LOCUS = re.compile(rb"^LOCUS\s.*$", re.M)
_FASTA_CIRCULAR = re.compile(r"(?:^|[\s\[;])(?:circular\s*=\s*(?:true|yes|1)|topology\s*=\s*circular)\b", re.I)


@dataclass(slots=True)
class SequenceRecord:
    id: str
    description: str
    sequence: str
    circular: bool = False


def read_records(path, *, topology: str = "auto") -> Iterator[SequenceRecord]:
    """Sequences of a FASTA / GenBank / GFF3 file with their topology (see annotate_file)."""
    from gener.io import detect_format, read_sequences
    from gener.io._files import open_binary

    if topology not in ("auto", "linear", "circular"):
        raise GenerInputError(f"topology must be auto, linear or circular, got {topology!r}")
    fmt = detect_format(path)
    flags: Iterator[bool] | None = None
    if topology == "auto" and fmt == "genbank":
        with open_binary(os.fspath(path)) as fh:
            flags = iter([b"circular" in m.group(0).lower() for m in _LOCUS.finditer(fh.read())])
    for rec in read_sequences(path):
        if topology != "auto":
            circ = topology == "circular"
        elif flags is not None:
            circ = next(flags, False)
        else:
            circ = bool(_FASTA_CIRCULAR.search(rec.description or ""))
        yield SequenceRecord(rec.id, rec.description, rec.sequence, circ)


__all__ = [
    "Annotator",
    "DEFAULT_MODEL",
    "Gene",
    "SequenceRecord",
    "genes_from_probabilities",
    "read_records",
]
