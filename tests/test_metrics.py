"""gener.metrics against scikit-learn, on scores computed from real sequences.

Scores are GC content and a CpG count of the PUM2 eCLIP fixture (tests/data/pum2_slice.csv),
labels the real binding labels, so ties, imbalance and weak signal are all real.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

sk = pytest.importorskip("sklearn.metrics")

from gener import metrics  # noqa: E402

DATA = Path(__file__).parent / "data"


def _pum2():
    with open(DATA / "pum2_slice.csv") as fh:
        rows = list(csv.DictReader(fh))
    seqs = [r["seq"] for r in rows]
    y = np.array([r["binding_site"] == "TRUE" for r in rows], int)
    gc = np.array([(s.count("G") + s.count("C")) / len(s) for s in seqs])
    tt = np.array([s.count("TGTA") for s in seqs], float)  # PUM2 motif UGUA(N)AUA: many ties
    return seqs, y, gc, tt


def test_binary_classification_matches_sklearn():
    _, y, gc, tt = _pum2()
    logits = np.stack([np.zeros_like(tt), tt - 1.0], 1)
    pred = logits.argmax(1)
    got = metrics.classification_metrics(y, logits)
    assert got["accuracy"] == pytest.approx(sk.accuracy_score(y, pred))
    assert got["mcc"] == pytest.approx(sk.matthews_corrcoef(y, pred))
    assert got["f1"] == pytest.approx(sk.f1_score(y, pred, average="weighted"))
    assert got["auroc"] == pytest.approx(sk.roc_auc_score(y, tt))  # ties in the motif count
    assert metrics.binary_auroc(y, gc) == pytest.approx(sk.roc_auc_score(y, gc))
    assert 0.5 < got["auroc"] < 1.0  # the motif carries real signal


def test_multiclass_classification_matches_sklearn():
    _, y, gc, tt = _pum2()
    y3 = np.digitize(gc, np.quantile(gc, [0.33, 0.66]))  # three real GC classes
    rng = np.random.default_rng(0)
    logits = np.stack([-gc * 5, tt, gc * 5], 1) + rng.normal(0, 0.5, (len(gc), 3))
    pred = logits.argmax(1)
    got = metrics.classification_metrics(y3, logits)
    assert got["accuracy"] == pytest.approx(sk.accuracy_score(y3, pred))
    assert got["mcc"] == pytest.approx(sk.matthews_corrcoef(y3, pred))
    assert got["f1"] == pytest.approx(sk.f1_score(y3, pred, average="weighted"))
    probs = metrics.softmax(logits)
    assert got["auroc"] == pytest.approx(sk.roc_auc_score(y3, probs, multi_class="ovr", average="macro"))
    # A constant prediction has MCC 0, as scikit-learn says.
    assert metrics.mcc(y3, np.zeros_like(y3)) == pytest.approx(sk.matthews_corrcoef(y3, np.zeros_like(y3))) == 0.0


def test_multilabel_f1_max_and_auprc_match_sklearn():
    seqs, y, gc, tt = _pum2()
    labels = np.stack([y, gc > np.median(gc), np.array(["AAAA" in s for s in seqs])], 1).astype(int)
    rng = np.random.default_rng(1)
    logits = np.stack([tt - 1, (gc - 0.45) * 20, rng.normal(size=len(gc))], 1)
    got = metrics.multilabel_metrics(labels, logits)
    probs = metrics.sigmoid(logits)
    thresholds = np.linspace(0, 1, 101)
    expected = max(sk.f1_score(labels, probs >= t, average="macro", zero_division=0) for t in thresholds)
    assert got["f1_max"] == pytest.approx(expected)
    assert got["auprc"] == pytest.approx(sk.average_precision_score(labels, probs, average="micro"))
    assert metrics.average_precision(y, tt) == pytest.approx(sk.average_precision_score(y, tt))


def test_regression_matches_sklearn_and_scipy_definition():
    _, _, gc, tt = _pum2()
    pred = 0.3 + 0.4 * gc + 0.01 * tt
    got = metrics.regression_metrics(gc, pred)
    assert got["mse"] == pytest.approx(sk.mean_squared_error(gc, pred))
    assert got["mae"] == pytest.approx(sk.mean_absolute_error(gc, pred))
    assert got["r2"] == pytest.approx(sk.r2_score(gc, pred))
    assert got["pearson"] == pytest.approx(np.corrcoef(gc, pred)[0, 1])
    two = metrics.regression_metrics(np.stack([gc, tt], 1), np.stack([pred, tt * 0.5], 1))
    assert two["pearson_1"] == pytest.approx(1.0)
    assert two["r2"] == pytest.approx(sk.r2_score(np.stack([gc, tt], 1), np.stack([pred, tt * 0.5], 1)))


def test_better_follows_the_metric_direction():
    assert metrics.better("mcc", 0.5, 0.4) and not metrics.better("mse", 0.5, 0.4)
    assert metrics.better("pearson_1", 0.9, 0.1) and metrics.better("mae", 0.1, float("nan"))
    assert not metrics.better("auroc", float("nan"), 0.1)
