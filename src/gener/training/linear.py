"""Linear heads on fixed features: the k-mer baseline of every fine-tune report, and the
frozen-embedding probe (``--freeze``).

Both fit the same thing (scikit-learn): features standardised on the training part, then a
logistic regression (single-label), one logistic regression per label (multi-label) or a
ridge regression (regression), its strength chosen on the validation part by the task's
metric - the same data a fine-tuned model uses to pick its epoch - and scored on the test
split.

The k-mer features are the frequencies of every 1..``kmax``-mer (overlapping, on the given
strand only: strand is informative, e.g. for gene type), each k normalised separately;
windows with a base other than ACGT are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gener import metrics as M

STRENGTHS = (0.01, 0.1, 1.0)  # logistic C (inverse strength); ridge alpha is 1 / C
KMER_MAX = 4
BASELINE_NAME = f"k-mer LR (1..{KMER_MAX}-mer frequencies, logistic regression)"


def kmer_features(sequences: list[str], kmax: int = KMER_MAX) -> np.ndarray:
    lut = np.full(256, -1, np.int64)
    for i, b in enumerate(b"ACGT"):
        lut[b] = i
    blocks = []
    for k in range(1, kmax + 1):
        feats = np.zeros((len(sequences), 4 ** k), np.float32)
        weights = 4 ** np.arange(k - 1, -1, -1)
        for r, s in enumerate(sequences):
            x = lut[np.frombuffer(s.encode(), np.uint8)]
            if len(x) < k:
                continue
            windows = np.lib.stride_tricks.sliding_window_view(x, k)
            codes = windows[(windows >= 0).all(1)] @ weights
            counts = np.bincount(codes, minlength=4 ** k)
            feats[r] = counts / max(1, counts.sum())
        blocks.append(feats)
    return np.concatenate(blocks, 1)


@dataclass
class LinearHead:
    """A fitted standardise + linear model that returns logits in gener.metrics' layout."""

    task: str
    num_labels: int
    pipeline: object
    strength: float

    def logits(self, x: np.ndarray) -> np.ndarray:
        if self.task == "regression":
            out = self.pipeline.predict(x)
            return out[:, None] if out.ndim == 1 else out
        if self.task == "multilabel":
            return self.pipeline.decision_function(x)
        probs = self.pipeline.predict_proba(x)
        out = np.full((len(x), self.num_labels), -1e9)  # a class absent from the training part is never predicted
        out[:, self.pipeline[-1].classes_] = np.log(np.clip(probs, 1e-12, 1))
        return out


def _pipeline(task: str, c: float):
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if task == "regression":
        head = Ridge(alpha=1.0 / c)
    elif task == "multilabel":
        head = OneVsRestClassifier(LogisticRegression(C=c, max_iter=2000))
    else:
        head = LogisticRegression(C=c, max_iter=2000)
    return make_pipeline(StandardScaler(), head)


def fit_linear(task: str, num_labels: int, metric: str, x_fit, y_fit, x_valid, y_valid) -> tuple[LinearHead, float]:
    """The strength with the best validation ``metric``; returns the head and that value."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    best = None
    for c in STRENGTHS:
        with warnings.catch_warnings():
            # a label constant in a small training part, a slow lbfgs: neither changes the choice
            warnings.simplefilter("ignore", (ConvergenceWarning, UserWarning))
            head = LinearHead(task, num_labels, _pipeline(task, c).fit(x_fit, y_fit), c)
        score = M.compute_metrics(task, y_valid, head.logits(x_valid)).get(metric, float("nan"))
        if best is None or M.better(metric, score, best[1]):
            best = (head, score)
    return best


def fit_per_fold(task: str, num_labels: int, metric: str, x_pool: np.ndarray, y_pool: np.ndarray, runs_data,
                 x_test: np.ndarray | None = None, y_test: np.ndarray | None = None) -> list[dict]:
    """A head per ``(fit indices, validation indices)`` fold; its validation metrics, and its
    test metrics and logits when a test split is given."""
    out = []
    for fit, val in runs_data:
        head, _ = fit_linear(task, num_labels, metric, x_pool[fit], y_pool[fit], x_pool[val], y_pool[val])
        run = {"valid": M.compute_metrics(task, y_pool[val], head.logits(x_pool[val])), "strength": head.strength}
        if x_test is not None:
            run["logits"] = head.logits(x_test)
            run["test"] = M.compute_metrics(task, y_test, run["logits"])
        out.append(run)
    return out
