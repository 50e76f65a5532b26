"""Per-nucleotide CDS labels from a reference annotation: what the annotator learns and is
scored against.

The paper's convention decides which genes count: a **validated CDS** is a CDS that is
neither pseudo (``/pseudo``, ``/pseudogene``, or inside a pseudo ``gene``) nor
hypothetical (``hypothetical`` in ``/product`` or ``/note``, as old RefSeq files mark them).
Evaluation counts only validated CDS as coding. Training ignores (label -100) the bases of
pseudo and hypothetical CDS rather than calling them non-coding: many are real genes, and
teaching the model either way would be teaching it the annotators' uncertainty.

Label scheme, one track per strand (track 0 = + strand, track 1 = - strand, both in genome
coordinates):
    0 non-coding, 1 / 2 / 3 = first / second / third base of a codon, counted from the
    CDS start in the direction of transcription, 4 = the first base of the start codon
    (instead of 1; only for CDS whose 5' end is in the record); -100 = no label.
It contains the published binary tracks (coding = label > 0), lets genes on opposite
strands (and in different frames) overlap, gives the decoder the reading frame, and
supervises start sites explicitly — the weak point of a model that only sees coding vs
non-coding (its coding probability rises gradually after the true start).
"""

from __future__ import annotations

import numpy as np

from gener.io.records import AnnotatedRecord, Feature

IGNORE = -100
NON_CODING = 0
START = 4
NUM_CLASSES = 5  # non-coding, three codon positions, start-codon first base


def _mentions_hypothetical(feature: Feature) -> bool:
    text = " ".join(feature.qualifiers.get("product", []) + feature.qualifiers.get("note", []))
    return "hypothetical" in text.lower()


def pseudo_loci(record: AnnotatedRecord) -> set[str]:
    """locus_tags / gene names of pseudo ``gene`` features (their CDS may lack /pseudo)."""
    keys = set()
    for f in record.features:
        if f.type == "gene" and f.pseudo:
            keys.update(k for k in (f.locus_tag, f.gene) if k)
    return keys


def classify_cds(record: AnnotatedRecord) -> tuple[list[Feature], list[Feature]]:
    """Split the record's CDS into (validated, unvalidated: pseudo or hypothetical)."""
    pseudo_keys = pseudo_loci(record)
    validated, other = [], []
    for f in record.features:
        if f.type != "CDS":
            continue
        pseudo = f.pseudo or bool({f.locus_tag, f.gene} & pseudo_keys - {None})
        (other if pseudo or _mentions_hypothetical(f) else validated).append(f)
    return validated, other


def _codon_phase_start(feature: Feature) -> int:
    """Codon position of the feature's first base (``/codon_start`` for 5'-partial CDS)."""
    try:
        return (int(feature.qualifiers.get("codon_start", ["1"])[0]) - 1) % 3
    except ValueError:
        return 0


def _paint(track: np.ndarray, feature: Feature, value_fn) -> None:
    """Write labels along the feature's parts in biological order."""
    offset = 0
    for start, end in feature.parts:
        n = end - start
        values = value_fn(offset, n)
        if feature.strand == -1:
            track[start:end] = values[::-1]
        else:
            track[start:end] = values
        offset += n


def cds_labels(record: AnnotatedRecord, *, training: bool = True) -> np.ndarray:
    """``(2, len(record))`` int16 labels; see the module docstring.

    With ``training=False`` unvalidated CDS are plain non-coding (the evaluation view)
    instead of ignored.
    """
    length = len(record.sequence)
    labels = np.zeros((2, length), dtype=np.int16)
    validated, unvalidated = classify_cds(record)
    if training:
        for f in unvalidated:
            _paint(labels[0 if f.strand != -1 else 1], f, lambda _o, n: np.full(n, IGNORE, np.int16))
    stranded = [f for f in validated if f.strand != 0]
    for f in stranded:
        phase0 = _codon_phase_start(f)
        _paint(labels[_track(f)], f, lambda o, n, p=phase0: (1 + (np.arange(o, o + n) - p) % 3).astype(np.int16))
    # Starts in a second pass: in ATGA-style overlaps the upstream gene's stop codon would
    # otherwise paint over the start, on one strand only (file order decides).
    for f in stranded:
        if _codon_phase_start(f) == 0 and not f.five_prime_partial:
            first_start, first_end = f.parts[0]
            labels[_track(f), first_start if f.strand == 1 else first_end - 1] = START
    return labels


def _track(feature: Feature) -> int:
    return 0 if feature.strand == 1 else 1


def strand_mask(labels: np.ndarray) -> np.ndarray:
    """The published +1 / -1 / 0 per-base view (+ wins where both strands code)."""
    plus, minus = labels[0] > NON_CODING, labels[1] > NON_CODING
    return np.where(plus, 1, np.where(minus, -1, 0)).astype(np.int8)
