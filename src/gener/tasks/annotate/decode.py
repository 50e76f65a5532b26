"""ORF-constrained gene calling from per-base class probabilities.

Input: the sequence and ``probs`` of shape ``(2, L, C)`` (track 0 = + strand, track 1 =
- strand, both in genome coordinates; see labels.py), as :mod:`.inference` produces them
or as an oracle builds them from reference labels. ``C`` picks the scoring mode:

- ``C == 2`` (the published annotator: non-coding / CDS): frame-agnostic; a base scores
  the log-odds of CDS, ``log P(CDS) - log P(non-coding)``, whatever the reading frame.
- ``C == 4`` (non-coding, codon position 1/2/3): frame-aware; a base scores the log-odds
  of its codon position in this ORF's frame, ``log P(y) - log(1 - P(y))``: coding in
  another frame counts against it like non-coding does (scoring against non-coding only
  would let an ORF run through a neighbouring gene of another frame for free).
- ``C == 5`` (adds 4 = first base of the start codon): as 4, and the start codon's first
  base is labelled 4 instead of 1, so start sites carry explicit evidence: the term
  ``logit P(4) - logit P(1)`` at the start.

The **model's evidence** for a gene is the sum of these log-odds over its bases (the body)
plus the start-site term (0 without class 4 or for a gene without a start). The **genome's
evidence** (``statistics``, selftrain.py) is what Prodigal learns from the genome itself: the
in-frame coding score of the ORF and the start-site score (RBS motif / spacer or upstream
composition, start codon usage), looked up per candidate start. A gene's **score** combines
them with :class:`Weights` (one weight each for the model's body and start terms and the
genome's coding and start scores) plus ``length_bias`` per bp (chosen on training genomes
the model did not learn from, benchmarks/tune_decoder.py): ``cscore`` = the coding parts,
``sscore`` = the start parts, score = cscore + sscore. With the genome's coding weight at 1
the score is on Prodigal's scale, and **confidence** is Prodigal's, the logistic of the
score (in %). Each call also carries the unweighted parts (``EVIDENCE``). A candidate start
the genome statistics did not score (Prodigal skips a few ORFs) cannot be weighed and is
dropped when they are in use.

Rules (what a reported gene is):

1. An ORF starts at a start codon and ends with the first in-frame stop (included). Start
   codons: ATG, GTG and TTG, each only where the translation table allows it (Prodigal's
   choice; Biopython's tables also list rare starts such as CTG/ATT that Prodigal
   ignores; ``start_codons="table"`` takes them all, or pass a list). Stops: the table's
   (table 4: TAA, TAG; TGA codes Trp).
2. Minimum length 90 bp including the stop (Prodigal's MIN_GENE); 60 bp for a gene that
   runs off an edge (MIN_EDGE_GENE).
3. Edges: an ORF with no in-frame stop before the end of the sequence ends at its last
   complete codon (``partial`` at that end); an ORF with no in-frame stop upstream may begin
   at the first complete codon of the sequence without a start codon (``start_type=Edge``,
   partial at that end). Both compete with the ORF's start codons on score. ``partial``
   flags are genome-coordinate left/right, Prodigal's ``partial=10/01/11``.
4. Ambiguous bases (N and other IUPAC codes): a codon containing one is neither a start
   nor a stop, so an isolated N inside a gene does not split it (its protein gets an X).
   A run of ``min_gap`` (50, Prodigal's mask size) or more ambiguous bases is a gap: no
   ORF crosses it, and ORFs reaching it are partial exactly as at a contig edge (Prodigal's
   definition of partial: "runs off the edge of a sequence or into a gap").
5. At most one start per stop.
6. With the genome's statistics, the genes called are the set with the highest total score
   (only genes above ``min_score``), found by dynamic programming over the candidates
   sorted by right end, as Prodigal does (``paths.best_path``), so a stop may keep a shorter
   start when that lets a neighbour in; consecutive genes add Prodigal's gene-spacing term
   (``paths.Spacing``, scaled by ``Weights.spacing``). With the model's evidence alone they
   are chosen greedily by score (``paths.greedy_path``: that evidence rewards any coding
   frame, and a best-total path would stack overlapping genes). Consecutive genes may overlap on the
   same strand by at most ``max_overlap_same`` bp (60, Prodigal's MAX_SAM_OVLP), and on
   opposite strands only at their 3' ends (tail to tail) by at most
   ``max_overlap_opposite`` bp (200, Prodigal's MAX_OPP_OVLP); never at their 5' ends
   (head to head), and never one inside another. Genes in different frames of one strand
   may thus overlap a little, and genes on opposite strands more at their 3' ends, each
   reported separately.
7. Start refinement for same-strand overlaps: one label track per strand cannot say
   "coding in two frames", so where two chosen genes of a strand overlap (operon ATGA-style
   overlaps: one gene in seven in E. coli) the bases shared with the other gene are scored
   against non-coding only, and the gene takes the best start of its stop under that
   score (see ``_refine_starts``). Without it, the oracle exact-match rate on E. coli drops
   from 0.982 to 0.974.
8. ``circular=True``: genes may cross the origin. The sequence is decoded linearly first;
   if a gene runs off an end, it is decoded again rotated to start in the middle of the
   longest stretch without genes (ends closed), and genes crossing the origin come back
   with two parts (envelope ``0..L``, as :class:`gener.io.Feature` has it).
   ``closed=True`` forbids partial genes altogether (Prodigal's ``-c``).

All per-base work is numpy: cumulative sums of the per-base log-odds per frame and strand,
searchsorted for the next in-frame stop, a lexsort to pick each stop's best start. Only the
gene selection loops in Python, over the candidates with a positive score (a 4.6 Mbp
genome decodes in about 1.5 s on one core).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gener.errors import GenerInputError
from gener.tasks.annotate.selftrain import FIELDS as GENOME_FIELDS
from gener.tasks.annotate.paths import Spacing, Strand, best_path, fits, greedy_path

PRODIGAL_STARTS = ("ATG", "GTG", "TTG")
EPS = 1e-7  # probability floor before the log: a hard 0 must not make a score -inf
_CODE = np.full(256, 4, dtype=np.uint8)
for _i, _b in enumerate(b"ACGT"):
    _CODE[_b] = _i
    _CODE[ord(chr(_b).lower())] = _i
_COMPLEMENT_CODE = np.array([3, 2, 1, 0, 4], dtype=np.uint8)  # A<->T, C<->G, ambiguous stays


@dataclass(slots=True)
class Call:
    """One decoded gene, genome coordinates (0-based, end exclusive)."""

    start: int
    end: int
    strand: int
    partial_start: bool  # genome left end open (no start for +, no stop for -)
    partial_end: bool  # genome right end open
    start_type: str  # ATG / GTG / TTG, or "Edge" without a start codon
    score: float  # cscore + sscore
    cscore: float  # weighted coding evidence (model body + genome coding statistics + length bias)
    sscore: float  # weighted start evidence (model start term + genome start-site score)
    confidence: float  # 0..100, Prodigal's: the logistic of the score
    parts: list[tuple[int, int]] = field(default_factory=list)  # biological order; 2 across the origin
    evidence: dict[str, float] = field(default_factory=dict)  # unweighted parts, see EVIDENCE

    def __post_init__(self):
        if not self.parts:
            self.parts = [(self.start, self.end)]

    def __len__(self) -> int:
        return sum(e - s for s, e in self.parts)


@dataclass(frozen=True)
class Weights:
    """How the decoder combines its evidence into a gene's score (see the module doc):
    ``model`` multiplies the model's per-base log-odds over the gene, ``model_start`` its
    start-site term (``None``: the same as ``model``), ``coding`` and ``start`` the genome's
    own statistics (selftrain.py), ``spacing`` Prodigal's gene-spacing term between
    consecutive genes (``paths.Spacing``; 1 = Prodigal's, used only with the genome's
    statistics). The defaults are the model alone."""

    model: float = 1.0
    coding: float = 0.0
    start: float = 0.0
    model_start: float | None = None
    spacing: float = 0.0

    @property
    def model_start_weight(self) -> float:
        return self.model if self.model_start is None else self.model_start

    @property
    def uses_genome(self) -> bool:
        return bool(self.coding or self.start)


# Per-gene evidence a Call carries, unweighted (nats for the model, Prodigal's scale for the genome).
EVIDENCE = ("model_coding", "model_start", "genome_coding", "genome_start", "rbs", "upstream", "start_codon")


def prodigal_confidence(score: float) -> float:
    """Prodigal's confidence: 100 * logistic(score), at most 99.99."""
    if score > 40:
        return 99.99
    odds = np.exp(score)
    return float(min(99.99, 100.0 * odds / (1.0 + odds)))


def codon_sets(table: int, start_codons=None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(starts, stops) for an NCBI translation table (see rule 1)."""
    from Bio.Data import CodonTable

    try:
        code = CodonTable.unambiguous_dna_by_id[int(table)]
    except (KeyError, ValueError, TypeError):
        known = ", ".join(str(t) for t in sorted(CodonTable.unambiguous_dna_by_id))
        raise GenerInputError(f"unknown translation table {table!r}; NCBI tables are {known}") from None
    if start_codons is None:
        starts = tuple(c for c in PRODIGAL_STARTS if c == "ATG" or c in code.start_codons)
    elif isinstance(start_codons, str) and start_codons == "table":
        starts = tuple(code.start_codons)
    else:
        starts = tuple(str(c).strip().upper() for c in start_codons)
        bad = [c for c in starts if len(c) != 3 or set(c) - set("ACGT")]
        if bad:
            raise GenerInputError(f"start codons must be three of A/C/G/T, got {bad}")
    return starts, tuple(code.stop_codons)


def _codon_lut(codons) -> np.ndarray:
    lut = np.zeros(65, dtype=bool)  # index 64 = a codon with an ambiguous base
    for c in codons:
        b = [int(_CODE[ord(x)]) for x in c]
        lut[16 * b[0] + 4 * b[1] + b[2]] = True
    return lut


def encode(sequence: str | bytes | np.ndarray) -> np.ndarray:
    """Bases as uint8 codes A=0 C=1 G=2 T=3, anything else 4 (case ignored)."""
    if isinstance(sequence, np.ndarray):
        return sequence.astype(np.uint8, copy=False)
    raw = sequence.encode("ascii", "replace") if isinstance(sequence, str) else bytes(sequence)
    return _CODE[np.frombuffer(raw, dtype=np.uint8)]


def _codon_ids(codes: np.ndarray) -> np.ndarray:
    """Codon id (0..63, or 64 if ambiguous) of the codon starting at each position."""
    n = len(codes) - 2
    if n <= 0:
        return np.zeros(0, dtype=np.int16)
    a, b, c = codes[:n].astype(np.int16), codes[1 : n + 1].astype(np.int16), codes[2:].astype(np.int16)
    ids = 16 * a + 4 * b + c
    ids[(a == 4) | (b == 4) | (c == 4)] = 64
    return ids


def _segments(codes: np.ndarray, min_gap: int) -> list[tuple[int, int]]:
    """Maximal stretches without a gap (a run of >= min_gap ambiguous bases)."""
    length = len(codes)
    if length == 0:
        return []
    amb = codes == 4
    if not amb.any() or min_gap <= 0:
        return [(0, length)]
    edges = np.flatnonzero(np.diff(np.concatenate(([0], amb.view(np.int8), [0]))))
    runs = edges.reshape(-1, 2)
    gaps = runs[(runs[:, 1] - runs[:, 0]) >= min_gap]
    segments, pos = [], 0
    for s, e in gaps:
        if s > pos:
            segments.append((pos, int(s)))
        pos = int(e)
    if pos < length:
        segments.append((pos, length))
    return segments


def _logit(prob: np.ndarray) -> np.ndarray:
    """log(P / (1 - P)), with P floored at EPS and capped at 1 - EPS so it stays finite."""
    prob = np.clip(prob, EPS, 1.0 - EPS, dtype=np.float32) if prob.dtype == np.float32 else np.clip(prob, EPS, 1.0 - EPS)
    return np.log(prob / (1.0 - prob))


def _start_odds(track: np.ndarray) -> np.ndarray:
    """Start-site term per base (rows of a track): the log-odds of class 4 (start) minus that of class 1,
    the label the base would have inside a gene."""
    return _logit(track[:, 4].astype(np.float64)) - _logit(track[:, 1].astype(np.float64))


@dataclass
class _Params:
    start_lut: np.ndarray
    stop_lut: np.ndarray
    start_names: dict
    min_len: int
    min_edge_len: int
    min_gap: int
    open_ends: bool
    open_gaps: bool


def _frame_cumsums(track: np.ndarray) -> list[np.ndarray]:
    """C_g[i] = sum over [0, i) of the per-base log-odds ``log P(y) - log(1 - P(y))``, where
    y is the base's label in a gene whose codons begin at positions = g (mod 3)."""
    length, classes = track.shape
    if classes == 2:
        c = np.zeros(length + 1)
        np.cumsum(_logit(track[:, 1]), out=c[1:])
        return [c, c, c]
    odds = _logit(track[:, 1:4])  # (L, 3): codon position 1/2/3 vs anything else
    picked = np.empty(length, dtype=odds.dtype)
    out = []
    for g in range(3):
        for j in range(3):  # bases j, j+3, ... sit at codon position (j - g) % 3
            picked[j::3] = odds[j::3, (j - g) % 3]
        c = np.zeros(length + 1)
        np.cumsum(picked, out=c[1:])
        out.append(c)
    return out


def _strand_candidates(codes: np.ndarray, track: np.ndarray, p: _Params):
    """Candidates of one strand in its own 5'->3' coordinates.

    Returns arrays (begin, end, edge5, open3, group, score, sscore), one row per
    candidate start; ``group`` identifies the stop (or open 3' end) shared by competing
    starts.
    """
    length = len(codes)
    codon = _codon_ids(codes)
    is_start = p.start_lut[codon]
    is_stop = p.stop_lut[codon]
    cums = _frame_cumsums(track)
    has_start_class = track.shape[1] >= 5
    rows = {k: [] for k in ("begin", "end", "edge5", "open3", "group", "body", "sscore")}
    group_base = 0
    for u, v in _segments(codes, p.min_gap):
        left_open = p.open_gaps if u > 0 else p.open_ends
        right_open = p.open_gaps if v < length else p.open_ends
        for f in range(3):
            first = u + f
            ncod = (v - first) // 3
            if ncod <= 0:
                continue
            sl = slice(first, first + 3 * ncod, 3)
            stops_k = np.flatnonzero(is_stop[sl])
            starts_k = np.flatnonzero(is_start[sl])
            # group index: position in stops_k, or len(stops_k) for the open 3' end
            grp = np.searchsorted(stops_k, starts_k)
            cand_k = starts_k
            edge = np.zeros(len(starts_k), dtype=bool)
            if left_open:  # an edge start at codon 0 for the first stop (or the open end)
                cand_k = np.concatenate((cand_k, [0]))
                grp = np.concatenate((grp, [0]))
                edge = np.concatenate((edge, [True]))
            open3 = grp == len(stops_k)
            if not right_open:
                keep = ~open3
                cand_k, grp, edge, open3 = cand_k[keep], grp[keep], edge[keep], open3[keep]
            if len(stops_k):
                end_k = np.where(open3, ncod, stops_k[np.minimum(grp, len(stops_k) - 1)] + 1)
            else:
                end_k = np.full(len(cand_k), ncod)
            nbp = 3 * (end_k - cand_k)
            min_len = np.where(edge | open3, p.min_edge_len, p.min_len)
            keep = (nbp >= min_len) & (end_k > cand_k)
            if not keep.any():
                continue
            cand_k, grp, edge, open3, end_k = cand_k[keep], grp[keep], edge[keep], open3[keep], end_k[keep]
            begin = first + 3 * cand_k
            end = first + 3 * end_k
            cum = cums[first % 3]
            body = cum[end] - cum[begin]
            if has_start_class:
                sscore = np.where(edge, 0.0, _start_odds(track[begin])).astype(np.float64)
            else:
                sscore = np.zeros(len(begin))
            rows["begin"].append(begin)
            rows["end"].append(end)
            rows["edge5"].append(edge)
            rows["open3"].append(open3)
            rows["group"].append(group_base + grp)
            rows["body"].append(body)
            rows["sscore"].append(sscore)
            group_base += len(stops_k) + 1
    if not rows["begin"]:
        empty_i = np.zeros(0, dtype=np.int64)
        return empty_i, empty_i, np.zeros(0, bool), np.zeros(0, bool), empty_i, np.zeros(0), np.zeros(0)
    cat = {k: np.concatenate(v) for k, v in rows.items()}
    return cat["begin"], cat["end"], cat["edge5"], cat["open3"], cat["group"], cat["body"], cat["sscore"]


def _decode_linear(codes, probs, p: _Params, *, min_score, max_same, max_opp, length_bias, weights,
                   start_scores) -> list[Call]:
    length = len(codes)
    tracks = (probs[0], probs[1][::-1])  # - strand read 5'->3' on its own strand
    strand_codes = (codes, _COMPLEMENT_CODE[codes[::-1]])
    fields = [_strand_candidates(strand_codes[si], tracks[si], p) for si in range(2)]
    # Pool both strands (si = 0: + strand, 1: - strand; coordinates stay per strand).
    strand_index = np.concatenate([np.full(len(f[0]), si, dtype=np.int8) for si, f in enumerate(fields)])
    begin, end, edge5, open3 = (np.concatenate([f[k] for f in fields]) for k in range(4))
    offset = (fields[0][4].max() + 1) if len(fields[0][4]) else 0
    group = np.concatenate([fields[0][4], fields[1][4] + offset])
    if len(begin) == 0:
        return []
    model_start = np.concatenate([f[6] for f in fields])
    model_coding = np.concatenate([f[5] for f in fields])
    stats, known = _genome_evidence(start_scores, strand_index, begin, length)
    cscore = weights.model * model_coding + weights.coding * stats["coding"] + length_bias * (end - begin)
    sscore = weights.model_start_weight * model_start + weights.start * stats["start"]
    score = cscore + sscore
    if weights.uses_genome:
        score[~known] = -np.inf  # a start the genome statistics do not know cannot be weighed against the rest
    # Candidates sorted by (stop, score desc, complete before edge, longer first).
    order = np.lexsort((begin, edge5, -score, group))
    g_sorted = group[order]
    first_of_group = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    group_end = np.r_[first_of_group[1:], len(order)]
    pos_to_group = np.repeat(np.arange(len(first_of_group)), group_end - first_of_group)

    def genome(c, b=None):
        b = int(begin[c]) if b is None else b
        e = int(end[c])
        return (b, e) if strand_index[c] == 0 else (length - e, length - b)

    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    chosen = (Strand(), Strand())
    selected: dict[int, int] = {}  # group -> candidate (row of the pooled arrays)
    terms: dict[int, float] = {}
    if weights.uses_genome:
        scale = weights.start * weights.spacing
        forgive = -(np.minimum(stats["rbs"], 0) + np.minimum(stats["upstream"], 0)) * scale
        spacing = Spacing(0.15 * start_scores.start_weight * scale, forgive)
        genes, terms = best_path(score, min_score, strand_index, begin, end, length, max_same, max_opp, spacing)
    else:
        genes = greedy_path(score, min_score, order, first_of_group, group_end, pos_to_group, strand_index, begin,
                            genome, max_same, max_opp)
    for c in genes:
        chosen[int(strand_index[c])].add(*genome(c))
        selected[int(pos_to_group[rank[c]])] = int(c)

    adjusted = {c: float(score[c]) for c in selected.values()}
    if tracks[0].shape[1] >= 4 and selected and weights.model > 0:
        _refine_starts(selected, adjusted, order, first_of_group, group_end, strand_index, begin, end, edge5,
                       score, tracks, chosen, length, max_same, max_opp, genome, weights.model)

    calls: list[Call] = []
    for c in selected.values():
        si = int(strand_index[c])
        strand = 1 if si == 0 else -1
        b = int(begin[c])
        gs, ge = genome(c)
        start_type = "Edge" if edge5[c] else p.start_names[_codon_key(strand_codes[si], b)]
        five, three = bool(edge5[c]), bool(open3[c])
        spacing_term = terms.get(c, 0.0)
        total, start_total = adjusted[c] + spacing_term, float(sscore[c]) + spacing_term
        evidence = {}
        if weights.model or weights.model_start_weight:
            evidence = {"model_coding": float(model_coding[c]), "model_start": float(model_start[c])}
        if start_scores is not None:
            evidence.update({f"genome_{k}" if k in ("coding", "start") else k: float(stats[k][c])
                             for k in GENOME_FIELDS})
        calls.append(Call(
            start=gs, end=ge, strand=strand,
            partial_start=five if strand == 1 else three,
            partial_end=three if strand == 1 else five,
            start_type=start_type, score=total, cscore=total - start_total,
            sscore=start_total, confidence=prodigal_confidence(total), evidence=evidence,
        ))
    calls.sort(key=lambda k: (k.start, k.end, -k.strand))
    return calls


def _genome_evidence(start_scores, strand_index, begin, length):
    """Genome-statistics terms of every candidate (zeros without statistics) and whether the
    statistics scored its start; a - strand start sits at genome index ``length - 1 - begin``."""
    out = {k: np.zeros(len(begin)) for k in GENOME_FIELDS}
    if start_scores is None:
        return out, np.ones(len(begin), dtype=bool)
    known = np.zeros(len(begin), dtype=bool)
    for si in range(2):
        rows = np.flatnonzero(strand_index == si)
        where = begin[rows] if si == 0 else length - 1 - begin[rows]
        scores, found = start_scores.lookup(si, where)
        for k in GENOME_FIELDS:
            out[k][rows] = scores[k]
        known[rows] = found
    return out, known


def _refine_starts(selected, adjusted, order, first_of_group, group_end, strand_index, begin, end, edge5,
                   score, tracks, chosen, length, max_same, max_opp, genome, model_weight) -> None:
    """Second look at the start of each chosen gene that shares bases with another chosen
    gene of its strand.

    One label track per strand cannot say "coding in two frames": where two genes of a
    strand overlap (ATGA-style operon overlaps, about one gene in seven in E. coli) the
    labels, and so the model, follow one of them, and the other gene's bases there look
    like the wrong frame. Bases covered by another chosen gene of the same strand are
    therefore scored as "this frame vs non-coding" (other-frame coding is not held against
    them), minus a hair per base so that the smaller overlap wins a tie, and each such gene
    takes the best start of its stop under that score that still fits the overlap limits.
    """
    forgive_tax = 1e-3
    for si in range(2):
        mine = [(g, c) for g, c in selected.items() if strand_index[c] == si]
        if len(mine) < 2:
            continue
        track = tracks[si]
        cover = np.zeros(length + 1, dtype=np.int32)
        for _, c in mine:
            cover[begin[c]] += 1
            cover[end[c]] -= 1
        cover = np.cumsum(cover)
        for g, c in mine:
            rows = order[first_of_group[g] : group_end[g]]
            b0, e = int(begin[c]), int(end[c])
            lo = int(begin[rows].min())
            own = (np.arange(lo, e) >= b0).astype(np.int32)
            others = cover[lo:e] - own > 0
            if not others.any():
                continue
            cls = 1 + (np.arange(lo, e) - b0) % 3
            block = track[lo:e]
            p_pos = np.clip(block[np.arange(e - lo), cls].astype(np.float64), EPS, 1 - EPS)
            p_nc = np.clip(block[:, 0].astype(np.float64), EPS, 1 - EPS)
            bonus = np.where(others, model_weight * (np.log1p(-p_pos) - np.log(p_nc)) - forgive_tax, 0.0)
            cum = np.concatenate(([0.0], np.cumsum(bonus)))
            adj = score[rows] + cum[e - lo] - cum[begin[rows] - lo]
            # best adjusted; ties to the shorter gene (larger begin)
            pick = np.lexsort((-begin[rows], -adj))[0]
            new = int(rows[pick])
            if new == c:
                adjusted[c] = float(adj[pick])
                continue
            old_gs, old_ge = genome(c)
            chosen[si].remove(old_gs, old_ge)
            gs, ge = genome(new)
            if fits(chosen, si, gs, ge, max_same, max_opp):
                chosen[si].add(gs, ge)
                selected[g] = new
                adjusted.pop(c, None)
                adjusted[new] = float(adj[pick])
                cover[begin[new] : b0] += 1
                cover[b0 : begin[new]] -= 1
            else:
                chosen[si].add(old_gs, old_ge)
                adjusted[c] = float(adj[rows == c][0])


def _codon_key(codes: np.ndarray, pos: int) -> int:
    a, b, c = (int(x) for x in codes[pos : pos + 3])
    return 16 * a + 4 * b + c


def decode(
    sequence: str,
    probs: np.ndarray,
    *,
    table: int = 11,
    min_gene_length: int = 90,
    min_edge_gene_length: int = 60,
    max_overlap_same: int = 60,
    max_overlap_opposite: int = 200,
    min_score: float = 0.0,
    min_gap: int = 50,
    closed: bool = False,
    circular: bool = False,
    start_codons=None,
    length_bias: float = 0.0,
    weights: Weights = Weights(),
    statistics=None,
) -> list[Call]:
    """Genes of one sequence from per-base probabilities ``(2, L, C)``; see the module doc."""
    codes = encode(sequence)
    probs = np.asarray(probs)
    length = len(codes)
    if probs.ndim != 3 or probs.shape[0] != 2 or probs.shape[1] != length:
        raise ValueError(f"probabilities must have shape (2, {length}, C), got {probs.shape}")
    if probs.shape[2] not in (2, 4, 5):
        raise ValueError(f"cannot decode {probs.shape[2]} classes per strand: expected 2, 4 or 5")
    starts, stops = codon_sets(table, start_codons)
    names = {}
    for c in starts:
        b = [int(_CODE[ord(x)]) for x in c]
        names[16 * b[0] + 4 * b[1] + b[2]] = c
    params = _Params(_codon_lut(starts), _codon_lut(stops), names, int(min_gene_length), int(min_edge_gene_length),
                     int(min_gap), open_ends=not closed, open_gaps=not closed)
    if weights.uses_genome and statistics is None:
        raise ValueError("genome-statistics weights need statistics (a selftrain.GenomeStatistics)")
    kw = dict(min_score=min_score, max_same=max_overlap_same, max_opp=max_overlap_opposite, length_bias=length_bias,
              weights=weights)
    scores = statistics.start_scores(sequence) if statistics is not None else None
    calls = _decode_linear(codes, probs, params, start_scores=scores, **kw)
    if not circular or length == 0:
        return calls
    at_edge = any((c.partial_start and c.start == 0) or (c.partial_end and c.end == length) for c in calls)
    if not at_edge:
        return calls
    shift = _rotation_point(calls, length)
    rotated = np.concatenate((codes[shift:], codes[:shift]))
    rprobs = np.concatenate((probs[:, shift:], probs[:, :shift]), axis=1)
    params.open_ends = False
    if statistics is not None:
        scores = statistics.start_scores(sequence[shift:] + sequence[:shift])
    calls = [_unrotate(c, shift, length) for c in _decode_linear(rotated, rprobs, params, start_scores=scores, **kw)]
    calls.sort(key=lambda k: (k.start, k.end, -k.strand))
    return calls


def _rotation_point(calls: list[Call], length: int) -> int:
    """The middle of the longest stretch covered by no gene (either strand)."""
    cover = sorted((c.start, c.end) for c in calls)
    best, best_len, pos = 0, -1, 0
    for s, e in cover:
        if s - pos > best_len:
            best, best_len = (pos + s) // 2, s - pos
        pos = max(pos, e)
    if length - pos > best_len:
        best = (pos + length) // 2
    return best % length if length else 0


def _unrotate(call: Call, shift: int, length: int) -> Call:
    s, e = call.start + shift, call.end + shift
    if e <= length or s >= length:
        s, e = (s - length, e - length) if s >= length else (s, e)
        call.start, call.end, call.parts = s, e, [(s, e)]
        return call
    pieces = [(s, length), (0, e - length)]  # 5'->3' for the + strand
    call.parts = pieces if call.strand == 1 else pieces[::-1]
    call.start, call.end = 0, length
    return call
