"""Every metric the GENERator / GENERanno papers report for sequence understanding, in one place.

Plain numpy, no scikit-learn at run time (tests check each one against scikit-learn):

- single-label classification: accuracy, MCC (multi-class Gorodkin form), weighted F1,
  AUROC (binary: positive-class score; multi-class: one-vs-rest, macro over classes);
- multi-label: F1-max (for each threshold, F1 per label then the macro mean; the maximum over
  thresholds) and AUPRC (average precision, micro over all label-sample pairs, as upstream's
  ``auprc_micro``);
- regression: MSE, MAE, R2, Pearson (several outputs: the mean over outputs, and each output
  as ``pearson_<i>`` etc., since DeepSTARR is reported per output).

``METRIC_GOALS`` says which way is better; the fine-tuning loop selects and stops on it.
"""

from __future__ import annotations

import numpy as np

METRIC_GOALS = {
    "accuracy": "max", "mcc": "max", "f1": "max", "auroc": "max",
    "f1_max": "max", "auprc": "max",
    "mse": "min", "mae": "min", "r2": "max", "pearson": "max", "loss": "min",
}
TASK_METRICS = {"classification": ("accuracy", "mcc", "f1", "auroc"), "multilabel": ("f1_max", "auprc"),
                "regression": ("mse", "mae", "r2", "pearson")}
DEFAULT_METRIC = {"classification": "mcc", "multilabel": "f1_max", "regression": "pearson"}


def check_metric(task: str, metric: str, outputs: int = 1) -> str:
    """``metric`` if the task reports it (``loss`` always; ``pearson_1`` etc. with several
    regression outputs), else a GenerInputError listing the choices."""
    from gener.errors import GenerInputError

    names = list(TASK_METRICS[task]) + ["loss"]
    if task == "regression" and outputs > 1:
        names += [f"{m}_{i}" for m in TASK_METRICS[task] for i in range(outputs)]
    if metric not in names:
        raise GenerInputError(f"metric {metric!r} is not reported for {task}; choose one of: {', '.join(names)}")
    return metric


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# --- single-label -------------------------------------------------------------------------
def confusion(y_true, y_pred, num_classes: int) -> np.ndarray:
    """Rows: true class, columns: predicted class."""
    m = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(m, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return m


def accuracy(y_true, y_pred) -> float:
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def mcc(y_true, y_pred) -> float:
    """Matthews correlation, multi-class (Gorodkin 2004); 0.0 when undefined (one class only)."""
    y_true, y_pred = np.asarray(y_true, int), np.asarray(y_pred, int)
    k = int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    c = confusion(y_true, y_pred, k).astype(np.float64)
    t, p, n, correct = c.sum(1), c.sum(0), c.sum(), np.trace(c)
    cov_tp = correct * n - t @ p
    denom = np.sqrt((n * n - p @ p) * (n * n - t @ t))
    return float(cov_tp / denom) if denom > 0 else 0.0


def f1_weighted(y_true, y_pred) -> float:
    """F1 per class present in either vector, averaged with the true class counts as weights."""
    y_true, y_pred = np.asarray(y_true, int), np.asarray(y_pred, int)
    classes = np.union1d(y_true, y_pred)
    scores, weights = [], []
    for c in classes:
        tp = np.sum((y_true == c) & (y_pred == c))
        denom = np.sum(y_true == c) + np.sum(y_pred == c)
        scores.append(2 * tp / denom if denom else 0.0)
        weights.append(np.sum(y_true == c))
    weights = np.asarray(weights, np.float64)
    return float(np.dot(scores, weights) / weights.sum()) if weights.sum() else 0.0


def _average_ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), np.float64)
    sorted_x = x[order]
    # Ties share the mean of their ranks (1-based), which makes AUROC exact under ties.
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_x)) + 1]
    ends = np.r_[starts[1:], len(x)]
    for s, e in zip(starts, ends):
        ranks[order[s:e]] = (s + e + 1) / 2.0
    return ranks


def binary_auroc(y_true, score) -> float:
    """Mann-Whitney AUROC; NaN when only one class is present."""
    y = np.asarray(y_true).astype(bool)
    score = np.asarray(score, np.float64)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = _average_ranks(score)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def auroc(y_true, probs: np.ndarray) -> float:
    """Binary: the positive-class column; multi-class: one-vs-rest macro over the classes present."""
    y = np.asarray(y_true, int)
    probs = np.asarray(probs, np.float64)
    if probs.ndim == 1 or probs.shape[1] == 1:
        return binary_auroc(y, probs.reshape(-1))
    if probs.shape[1] == 2:
        return binary_auroc(y == 1, probs[:, 1])
    per_class = [binary_auroc(y == c, probs[:, c]) for c in range(probs.shape[1]) if np.any(y == c)]
    per_class = [a for a in per_class if not np.isnan(a)]
    return float(np.mean(per_class)) if per_class else float("nan")


def classification_metrics(y_true, logits) -> dict[str, float]:
    """Accuracy, MCC, weighted F1 and AUROC from labels and logits ``(n, classes)``."""
    logits = np.asarray(logits, np.float64)
    probs = softmax(logits)
    pred = probs.argmax(-1)
    return {"accuracy": accuracy(y_true, pred), "mcc": mcc(y_true, pred),
            "f1": f1_weighted(y_true, pred), "auroc": auroc(y_true, probs)}


# --- multi-label --------------------------------------------------------------------------
def f1_max(y_true, probs, thresholds=None) -> float:
    """Max over thresholds of the macro-over-labels F1 (a label with no positives and no
    predictions scores 0, as scikit-learn's ``zero_division=0``)."""
    y = np.asarray(y_true).astype(bool)
    probs = np.asarray(probs, np.float64)
    if thresholds is None:
        thresholds = np.linspace(0.0, 1.0, 101)
    best = 0.0
    for t in thresholds:
        pred = probs >= t
        tp = np.sum(pred & y, axis=0)
        denom = pred.sum(0) + y.sum(0)
        f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
        best = max(best, float(f1.mean()))
    return best


def average_precision(y_true, score) -> float:
    """Area under the precision-recall curve, step-wise (scikit-learn's definition)."""
    y = np.asarray(y_true).astype(bool).reshape(-1)
    score = np.asarray(score, np.float64).reshape(-1)
    if not y.any():
        return float("nan")
    order = np.argsort(-score, kind="mergesort")
    y, score = y[order], score[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]
    tp = np.cumsum(y)[last_of_tie]
    fp = (last_of_tie + 1) - tp
    precision = tp / (tp + fp)
    recall = tp / y.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def multilabel_metrics(y_true, logits) -> dict[str, float]:
    """F1-max and micro AUPRC from multi-hot labels and logits ``(n, labels)``."""
    probs = sigmoid(np.asarray(logits, np.float64))
    return {"f1_max": f1_max(y_true, probs), "auprc": average_precision(y_true, probs)}


# --- regression ---------------------------------------------------------------------------
def pearson(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else 0.0


def regression_metrics(y_true, pred) -> dict[str, float]:
    """MSE, MAE, R2 and Pearson; for several outputs the mean over outputs plus each one."""
    y = np.asarray(y_true, np.float64)
    p = np.asarray(pred, np.float64).reshape(y.shape)
    y2, p2 = (y[:, None], p[:, None]) if y.ndim == 1 else (y, p)
    per = []
    for j in range(y2.shape[1]):
        yt, pt = y2[:, j], p2[:, j]
        ss_tot = np.sum((yt - yt.mean()) ** 2)
        per.append({
            "mse": float(np.mean((yt - pt) ** 2)),
            "mae": float(np.mean(np.abs(yt - pt))),
            "r2": float(1 - np.sum((yt - pt) ** 2) / ss_tot) if ss_tot > 0 else 0.0,
            "pearson": pearson(yt, pt),
        })
    out = {k: float(np.mean([m[k] for m in per])) for k in per[0]}
    if len(per) > 1:
        for j, m in enumerate(per):
            out.update({f"{k}_{j}": v for k, v in m.items()})
    return out


def compute_metrics(task: str, y_true, logits) -> dict[str, float]:
    """The papers' metrics for ``task`` (classification, multilabel or regression)."""
    if task == "classification":
        return classification_metrics(y_true, logits)
    if task == "multilabel":
        return multilabel_metrics(y_true, logits)
    if task == "regression":
        return regression_metrics(y_true, logits)
    raise ValueError(f"unknown task {task!r}")


def better(metric: str, a: float, b: float) -> bool:
    """Is ``a`` better than ``b`` for ``metric`` (NaN never wins)?"""
    if np.isnan(a):
        return False
    if np.isnan(b):
        return True
    goal = METRIC_GOALS.get(metric) or METRIC_GOALS.get(metric.rsplit("_", 1)[0], "max")
    return a > b if goal == "max" else a < b
