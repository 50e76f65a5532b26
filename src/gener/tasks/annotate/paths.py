"""The choice of genes among scored candidates (decode.py builds and scores them): the
best-total path of Prodigal's dynamic programming, with its gene-spacing term, or a greedy
choice by score, both under Prodigal's overlap rules (see decode.py's module doc, rule 6)."""

from __future__ import annotations

import bisect
import heapq
from dataclasses import dataclass

import numpy as np

OPERON_DIST = 60  # Prodigal's OPER_DIST: same-strand genes this close look like one operon


@dataclass
class Spacing:
    """Prodigal's gene-spacing term (its ``intergenic_mod``), added for each pair of
    consecutive genes of a path: ``-weight`` for genes on opposite strands or more than
    3 x OPERON_DIST bp apart; up to ``+2 weight`` for genes of one strand closer than
    OPERON_DIST bp (not overlapping) or 15 bp (overlapping), falling with the distance; and
    where the later gene's start codon overlaps the earlier gene's stop by 1 or 4 bp
    (ATGA), its negative RBS and upstream scores are forgiven (``forgive``, per candidate).
    ``weight`` is 0.15 x Prodigal's start weight: on the scale of the genome's start scores."""

    weight: float
    forgive: np.ndarray

    def term(self, prev: int, prev_end: int, nxt: int, next_start: int, same_strand: bool, plus: bool) -> float:
        """For genes ``prev`` then ``nxt`` (candidate rows, genome order): ``prev`` ends at
        ``prev_end``, ``nxt`` begins at ``next_start`` (genome coordinates)."""
        if not same_strand:
            return -self.weight
        value = 0.0
        if next_start in (prev_end - 1, prev_end - 4):  # the downstream gene's start codon on the stop
            value += self.forgive[nxt if plus else prev]
        distance = abs(prev_end - 3 - next_start)  # stop codon to start codon, as Prodigal counts
        if distance > 3 * OPERON_DIST:
            return value - self.weight
        if (distance <= OPERON_DIST and prev_end <= next_start) or distance < OPERON_DIST / 4:
            value += (2.0 - distance / OPERON_DIST) * self.weight
        return value


def best_path(score, min_score, strand_index, begin, end, length, max_same, max_opp,
               spacing: Spacing | None = None) -> tuple[list[int], dict[int, float]]:
    """The genes (candidate rows) with the highest total score, by dynamic programming over
    the candidates above ``min_score`` sorted by right end, as Prodigal's: each gene links to
    the best-scoring chain that ends before it, or that ends inside it where the rules allow
    (another gene of its strand by at most ``max_same`` bp; a + gene ending inside a - gene's
    3' end by at most ``max_opp`` bp, tail to tail), plus ``spacing``'s term for the pair.
    Like Prodigal's, only consecutive genes are checked against each other. Also returns
    each chosen gene's share of the spacing terms (Prodigal adds a pair's term to the start
    score of the gene downstream of the other's stop)."""
    cand = np.flatnonzero(np.isfinite(score) & (score > min_score))
    plus = strand_index[cand] == 0
    gs = np.where(plus, begin[cand], length - end[cand])
    ge = np.where(plus, end[cand], length - begin[cand])
    o = np.lexsort((gs, ge))
    cand, gs, ge, plus = cand[o], gs[o], ge[o], plus[o]
    spacing = spacing or Spacing(0.0, np.zeros(len(score)))
    flat = spacing.weight == 0 and not spacing.forgive.any()
    far = 3 * OPERON_DIST - 3  # a same-strand gene ending more than this before a start is "far"
    best = np.zeros(len(cand))
    back = np.full(len(cand), -1, dtype=np.int64)
    link_term = np.zeros(len(cand))
    done = [Chains(), Chains()]  # genes processed, of the + and the - strand
    for i in range(len(cand)):
        s_i, e_i, si = int(gs[i]), int(ge[i]), 0 if plus[i] else 1
        mine, other = done[si], done[1 - si]
        same_by = min(s_i + max_same, e_i - 1)
        if flat:  # no spacing terms: the best chain of each kind, without looking at pairs
            options = [(v, j) for v, j in (other.best_ending_by(s_i), mine.best_ending_by(same_by)) if j >= 0]
        else:
            options = [other.best_ending_by(s_i), mine.best_ending_by(s_i - far - 1)]
            options = [(v - spacing.weight, j) for v, j in options if j >= 0]
            for j in mine.ending_between(s_i - far - 1, same_by):
                term = spacing.term(int(cand[j]), int(ge[j]), int(cand[i]), s_i, True, bool(plus[i]))
                options.append((best[j] + term, j))
        if si == 1:  # a + gene whose 3' end reaches into this - gene's 3' end
            for j in other.ending_between(s_i, min(s_i + max_opp, e_i - 1)):
                if gs[j] < s_i:
                    options.append((best[j] - spacing.weight, j))
        value, link = max(options, default=(0.0, -1))
        if value <= 0:
            value, link = 0.0, -1
        best[i] = score[cand[i]] + value
        back[i] = link
        if link >= 0:
            link_term[i] = value - best[link]
        mine.add(e_i, best[i], i)
    out, terms = [], {}
    i = int(np.argmax(best)) if len(cand) else -1
    while i >= 0:
        out.append(int(cand[i]))
        j = int(back[i])
        if j >= 0:  # Prodigal's bookkeeping: a - strand pair's term goes to the left gene
            owner = j if (not plus[i] and not plus[j]) else i
            terms[int(cand[owner])] = terms.get(int(cand[owner]), 0.0) + float(link_term[i])
        i = j
    return out, terms


def greedy_path(score, min_score, order, first_of_group, group_end, pos_to_group, strand_index, begin, genome,
                 max_same, max_opp) -> list[int]:
    """The genes (candidate rows) chosen greedily, highest score first, each kept when it fits
    the overlap rules with those already kept; a rejected gene retries the next-best shorter
    start of its stop (the conflict is often only at the 5' end). For the model's evidence
    alone: its frame-agnostic (2-class) or frame-aware log-odds reward the bases of any
    coding frame, so a best-total path would stack overlapping genes to count bases twice."""
    best = order[first_of_group]
    positive = score[best] > min_score
    heap = [(-score[b], int(i)) for i, b in zip(first_of_group[positive], best[positive])]
    heapq.heapify(heap)
    chosen = (Strand(), Strand())
    out = []
    while heap:
        _, i = heapq.heappop(heap)
        c = order[i]
        si = int(strand_index[c])
        gs, ge = genome(c)
        if fits(chosen, si, gs, ge, max_same, max_opp):
            chosen[si].add(gs, ge)
            out.append(int(c))
            continue
        for j in range(i + 1, group_end[pos_to_group[i]]):
            cj = order[j]
            if score[cj] <= min_score:
                break
            if begin[cj] > begin[c]:
                heapq.heappush(heap, (-score[cj], int(j)))
                break
    return out


class Chains:
    """Chains processed so far, by end (appended in order): the best chain score among those
    ending by any position, and the chains ending in a range."""

    def __init__(self):
        self.ends: list[int] = []
        self.rows: list[int] = []  # the chain ending at each end
        self.best: list[float] = []  # running maximum of the chain scores
        self.row: list[int] = []  # where that maximum is

    def add(self, end: int, value: float, row: int) -> None:
        self.ends.append(end)
        self.rows.append(row)
        if self.best and self.best[-1] >= value:
            self.best.append(self.best[-1])
            self.row.append(self.row[-1])
        else:
            self.best.append(value)
            self.row.append(row)

    def best_ending_by(self, position: int) -> tuple[float, int]:
        k = bisect.bisect_right(self.ends, position) - 1
        return (self.best[k], self.row[k]) if k >= 0 else (0.0, -1)

    def ending_between(self, after: int, upto: int) -> list[int]:
        """Rows of the chains ending in ``(after, upto]``."""
        return self.rows[bisect.bisect_right(self.ends, after) : bisect.bisect_right(self.ends, upto)]


class Strand:
    """Chosen intervals of one strand, sorted by start, for exact pairwise overlap checks."""

    def __init__(self):
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.longest = 0

    def max_overlap(self, s: int, e: int, limit: int, head_left: bool | None = None) -> int:
        """Largest overlap with one chosen interval (stops early once above ``limit``);
        a gene inside another, or around it, counts as infinite overlap, and so does any
        head-to-head overlap of genes on opposite strands (their 5' ends; Prodigal allows
        none): ``head_left`` says on which side of ``s`` an overlapping interval of the
        other strand starts when the overlap is head-to-head (True for a + strand gene,
        False for a - strand one; None for genes of this strand)."""
        best = 0
        j = bisect.bisect_left(self.starts, e) - 1
        while j >= 0 and self.starts[j] > s - self.longest:
            ov = min(e, self.ends[j]) - max(s, self.starts[j])
            if ov > 0 and (s <= self.starts[j] and self.ends[j] <= e or self.starts[j] <= s and e <= self.ends[j]):
                return 1 << 62
            if ov > 0 and head_left is not None and (self.starts[j] < s) == head_left:
                return 1 << 62
            if ov > best:
                best = ov
                if best > limit:
                    return best
            j -= 1
        return best

    def add(self, s: int, e: int) -> None:
        j = bisect.bisect_left(self.starts, s)
        self.starts.insert(j, s)
        self.ends.insert(j, e)
        self.longest = max(self.longest, e - s)

    def remove(self, s: int, e: int) -> None:
        j = bisect.bisect_left(self.starts, s)
        while self.ends[j] != e:
            j += 1
        del self.starts[j], self.ends[j]


def fits(chosen, si, gs, ge, max_same, max_opp) -> bool:
    if chosen[si].max_overlap(gs, ge, max_same) > max_same:
        return False
    return chosen[1 - si].max_overlap(gs, ge, max_opp, head_left=si == 0) <= max_opp
