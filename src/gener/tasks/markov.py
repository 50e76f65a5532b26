"""Order-k Markov models of DNA: the baseline a sequence-recovery figure must beat.

One fit keeps the counts of every order 0..k (``counts[j]``: ``4**j`` contexts x 4 next
bases, base order A,C,G,T), so models of all orders up to k come from one pass and the
benchmark can report the best order. Counting is vectorised numpy: the context index of
every position is the sum of its preceding bases' codes times powers of 4, and contexts
containing a non-ACGT base are skipped (a run-length mask), never guessed.

Prediction backs off: the longest context (up to the requested order) seen at least once
in training decides. Probabilities are add-alpha smoothed:
``p(b | ctx) = (n(ctx, b) + alpha) / (n(ctx) + 4 alpha)``; greedy prediction takes the
argmax, which smoothing does not change except to break ties (towards A, C, G, T order).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

BASES = "ACGT"
_CODE = np.full(256, 4, np.uint8)
for _i, _b in enumerate(BASES):
    _CODE[ord(_b)] = _CODE[ord(_b.lower())] = _i
MAX_ORDER = 12
_BLOCK = 4_000_000  # bases per counting pass


def encode(seq: str) -> np.ndarray:
    """ACGT -> 0..3, anything else -> 4."""
    return _CODE[np.frombuffer(seq.encode("ascii", "replace"), np.uint8)]


class MarkovModel:
    def __init__(self, order: int, alpha: float = 1.0):
        if not 0 <= order <= MAX_ORDER:
            raise ValueError(f"order must be in 0..{MAX_ORDER}")
        self.order, self.alpha = order, alpha
        self.counts = [np.zeros((4 ** j, 4), np.int32) for j in range(order + 1)]  # order 12: 268 MB

    # --- fitting -----------------------------------------------------------------------
    def fit(self, sequences: Iterable[str]) -> "MarkovModel":
        """Add the counts of ``sequences``. Sequences are joined with an N between them into
        blocks of a few Mbp (no context crosses an N), so short genes cost no more per base
        than a chromosome."""
        block, size = [], 0
        for seq in sequences:
            block.append(seq)
            size += len(seq) + 1
            if size >= _BLOCK:
                self._count("N".join(block))
                block, size = [], 0
        if block:
            self._count("N".join(block))
        return self

    def _count(self, text: str) -> None:
        codes = encode(text)
        ctx, run = _contexts(codes, self.order)
        target_ok = codes < 4
        for j in range(self.order + 1):
            use = target_ok & (run >= j)
            index = (ctx[use] % (4 ** j)) * 4 + codes[use]
            self.counts[j] += np.bincount(index, minlength=4 ** (j + 1)).reshape(-1, 4).astype(self.counts[j].dtype)

    @property
    def bases_seen(self) -> int:
        return int(self.counts[0].sum())

    # --- probabilities -----------------------------------------------------------------
    def _rows(self, ctx: np.ndarray, run: np.ndarray, order: int) -> np.ndarray:
        """Counts rows of the longest seen context (backoff) for each (ctx, run) pair."""
        rows = np.zeros((len(ctx), 4), np.int64)
        done = np.zeros(len(ctx), bool)
        for j in range(order, -1, -1):
            take = ~done & (run >= j)
            if not take.any():
                continue
            r = self.counts[j][ctx[take] % (4 ** j)]
            seen = r.sum(1) > 0
            idx = np.flatnonzero(take)[seen]
            rows[idx] = r[seen]
            done[idx] = True
        return rows

    def probs(self, ctx: np.ndarray, run: np.ndarray, order: int | None = None) -> np.ndarray:
        rows = self._rows(ctx, run, self.order if order is None else order).astype(np.float64)
        return (rows + self.alpha) / (rows.sum(1, keepdims=True) + 4 * self.alpha)

    def log_likelihood(self, seq: str, order: int | None = None) -> tuple[float, int]:
        """(natural-log likelihood of the ACGT positions, number of them)."""
        codes = encode(seq)
        ctx, run = _contexts(codes, self.order)
        ok = codes < 4
        p = self.probs(ctx[ok], run[ok], order)
        return float(np.log(p[np.arange(ok.sum()), codes[ok]]).sum()), int(ok.sum())

    # --- greedy prediction -------------------------------------------------------------
    def predict(self, contexts: Sequence[str], n: int, order: int | None = None) -> list[str]:
        """Greedy continuation of ``n`` bases for each context."""
        order = self.order if order is None else order
        m = len(contexts)
        ctx = np.zeros(m, np.int64)
        run = np.zeros(m, np.int64)
        for i, c in enumerate(contexts):  # the last `order` bases, and how many are valid
            codes = encode(c[-order:]) if order else np.zeros(0, np.uint8)
            valid = 0
            for code in codes:
                if code < 4:
                    ctx[i] = ctx[i] * 4 + code
                    valid += 1
                else:
                    ctx[i], valid = 0, 0
            run[i] = valid
        out = np.zeros((m, n), np.uint8)
        mod = 4 ** max(order, 1)
        for step in range(n):
            best = np.argmax(self.probs(ctx, run, order), axis=1)
            out[:, step] = best
            ctx = (ctx * 4 + best) % mod
            run = np.minimum(run + 1, order)
        table = np.frombuffer(BASES.encode(), np.uint8)
        return [table[row].tobytes().decode() for row in out]


def _contexts(codes: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """For each position i: the index of bases i-order..i-1 (base 4 digits, nearest base least
    significant) and how many of the bases just before i are valid in a row (capped at order)."""
    n = len(codes)
    bad = codes >= 4
    clean = np.where(bad, 0, codes).astype(np.int64)
    ctx = np.zeros(n, np.int64)
    for d in range(1, order + 1):
        ctx[d:] += clean[:-d] * (4 ** (d - 1))
    last_bad = np.where(bad, np.arange(n), -1)
    last_bad = np.maximum.accumulate(last_bad)
    before = np.concatenate([[-1], last_bad[:-1]])  # last invalid position strictly before i
    run = np.minimum(np.arange(n) - before - 1, order)
    return ctx, run
