"""K-fold cross-validation and a learning-rate x batch-size grid, the papers' protocol.

For every setting of the grid, the training data (train + validation splits, merged) is cut
into ``folds`` folds - stratified by class for single-label classification, shuffled
otherwise - and each fold in turn is the validation set of one run (early stopping and epoch
choice) while the others train. The setting with the best mean *validation* metric wins;
the test split is only ever used to report, as mean and standard error over that setting's
folds (each fold's model scores the whole test set). Without a test split, a stratified
1/10 of the data is held out first (with a warning). ``folds=1`` uses the validation split
as given (or holds out 1/10 of train). Every seed derives from ``seed`` and the fold number.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from gener import metrics as M
from gener.data.tasks import LabelledSet, TaskData
from gener.errors import GenerInputError
from gener.training.classify import FinetuneSettings, run_finetune

GRID_KEYS = {"lr": "learning_rate", "learning_rate": "learning_rate", "batch": "batch_size", "batch_size": "batch_size"}


def parse_grid(items: list[str] | None) -> list[dict]:
    """``["lr=1e-5,2e-5", "batch=64,128"]`` -> every combination as settings overrides."""
    axes = {}
    for item in items or []:
        for part in item.split():
            key, sep, values = part.partition("=")
            if not sep or key not in GRID_KEYS:
                raise GenerInputError(f"--grid {part!r}: expected lr=V1,V2,... or batch=N1,N2,...")
            cast = float if GRID_KEYS[key] == "learning_rate" else int
            try:
                axes[GRID_KEYS[key]] = [cast(v) for v in values.split(",") if v]
            except ValueError:
                raise GenerInputError(f"--grid {part!r}: {values!r} are not numbers") from None
    keys = list(axes)
    return [dict(zip(keys, combo)) for combo in itertools.product(*axes.values())] or [{}]


def fold_indices(labels: np.ndarray, task: str, folds: int, seed: int) -> list[np.ndarray]:
    """Validation indices of each fold; stratified (classes dealt round-robin) for classification."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    if folds < 2 or folds > n:
        raise GenerInputError(f"cannot make {folds} folds of {n} sequences")
    assignment = np.empty(n, int)
    if task == "classification":
        offset = 0
        for c in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == c))
            assignment[members] = (np.arange(len(members)) + offset) % folds
            offset += len(members)  # the next class continues where this one stopped: equal fold sizes
    else:
        assignment[rng.permutation(n)] = np.arange(n) % folds
    return [np.flatnonzero(assignment == f) for f in range(folds)]


def holdout(part: LabelledSet, task: str, fraction: float, seed: int) -> tuple[LabelledSet, LabelledSet]:
    k = max(2, round(1 / fraction))
    held = fold_indices(part.labels, task, k, seed)[0]
    keep = np.setdiff1d(np.arange(len(part)), held)
    return part.subset(keep), part.subset(held)


def _merge(a: LabelledSet, b: LabelledSet | None) -> LabelledSet:
    if b is None:
        return a
    groups = None if a.groups is None or b.groups is None else np.concatenate([a.groups, b.groups])
    return LabelledSet(a.sequences + b.sequences, np.concatenate([a.labels, b.labels]), groups)


def summarize(values: list[float]) -> dict:
    arr = np.asarray(values, np.float64)
    se = float(arr.std(ddof=1) / math.sqrt(len(arr))) if len(arr) > 1 else 0.0
    return {"mean": float(arr.mean()), "se": se, "values": [float(v) for v in arr]}


def cross_validate(model: str, data: TaskData, *, folds: int = 10, grid: list[dict] | None = None,
                   settings: FinetuneSettings | None = None, log=print, warn=print, keep_best_model: bool = False):
    """Run the grid x folds; return ``(report dict, best model or None)``."""
    settings = settings or FinetuneSettings()
    metric = M.check_metric(data.task, settings.metric or M.DEFAULT_METRIC[data.task], data.num_labels)
    train, valid, test = (data.splits.get(k) for k in ("train", "validation", "test"))
    if test is None:
        warn(f"{data.name}: no test split; holding out a stratified 1/10 of the data as test (seed {settings.seed})")
        train, test = holdout(_merge(train, valid), data.task, 0.1, settings.seed)
        valid = None
    if folds > 1:
        pool = _merge(train, valid)
        runs_data = [(pool.subset(np.setdiff1d(np.arange(len(pool)), idx)), pool.subset(idx))
                     for idx in fold_indices(pool.labels, data.task, folds, settings.seed)]
    else:
        runs_data = [(train, valid) if valid is not None else holdout(train, data.task, 0.1, settings.seed)]
    grid = grid or [{}]
    started = time.time()
    results, best, best_model, best_valid = [], None, None, float("nan")
    for g, overrides in enumerate(grid):
        setting = replace(settings, **overrides)
        runs = []
        for f, (fit, val) in enumerate(runs_data):
            run = run_finetune(model, data.task, data.label_names, fit, val, test,
                               replace(setting, seed=settings.seed + f), keep_model=keep_best_model, warn=warn)
            if keep_best_model and M.better(metric, run.valid.get(metric, float("nan")), best_valid):
                best_valid, best_model = run.valid[metric], run.model
            run.model = None
            runs.append(run)
            log(f"lr={setting.learning_rate:g} batch={setting.batch_size} fold {f + 1}/{len(runs_data)}: "
                f"valid {metric} {run.valid.get(metric, float('nan')):.4f}, test {metric} {run.test[metric]:.4f} "
                f"(best epoch {run.best_epoch}/{run.epochs_run}, {run.seconds:.0f} s)")
        entry = {
            "learning_rate": setting.learning_rate, "batch_size": setting.batch_size,
            "valid": {k: summarize([r.valid.get(k, float("nan")) for r in runs]) for k in runs[0].valid},
            "test": {k: summarize([r.test[k] for r in runs]) for k in runs[0].test},
            "best_epochs": [r.best_epoch for r in runs],
            "confusion": _confusion(data, test, runs),
        }
        results.append(entry)
        if best is None or M.better(metric, entry["valid"][metric]["mean"], best["valid"][metric]["mean"]):
            best = entry
    report = {
        "model": model, "data": data.name, "task": data.task, "metric": metric, "labels": data.label_names,
        "folds": folds, "sizes": {"train+validation": len(runs_data[0][0]) + len(runs_data[0][1]), "test": len(test)},
        "settings": {k: v for k, v in asdict(settings).items() if k not in ("learning_rate", "batch_size")},
        "grid": results, "best": {k: best[k] for k in ("learning_rate", "batch_size", "valid", "test", "confusion")},
        "seconds": round(time.time() - started, 1),
    }
    return report, best_model


def _confusion(data: TaskData, test: LabelledSet, runs) -> list[list[int]] | None:
    if data.task != "classification":
        return None
    total = np.zeros((data.num_labels, data.num_labels), np.int64)
    for r in runs:
        total += M.confusion(test.labels, r.test_logits.argmax(-1), data.num_labels)
    return total.tolist()


def _fmt(s: dict) -> str:
    return f"{s['mean']:.4f} ± {s['se']:.4f}" if s["se"] else f"{s['mean']:.4f}"


def report_markdown(report: dict) -> str:
    best = report["best"]
    lines = [f"# {report['data']} with {report['model']}", "",
             f"{report['task']}, {len(report['labels'])} label(s); {report['folds']}-fold cross-validation on "
             f"{report['sizes']['train+validation']:,} sequences, test {report['sizes']['test']:,}; "
             f"selected on validation {report['metric']}: lr {best['learning_rate']:g}, batch {best['batch_size']}.", "",
             "| metric | test (mean ± SE over folds) | validation |", "|---|---|---|"]
    for k, s in best["test"].items():
        lines.append(f"| {k} | {_fmt(s)} | {_fmt(best['valid'][k]) if k in best['valid'] else ''} |")
    if len(report["grid"]) > 1:
        lines += ["", f"Grid (validation {report['metric']}):", "", "| lr | batch | validation | test |", "|---|---|---|---|"]
        for e in report["grid"]:
            m = report["metric"]
            lines.append(f"| {e['learning_rate']:g} | {e['batch_size']} | {_fmt(e['valid'][m])} | {_fmt(e['test'][m])} |")
    return "\n".join(lines) + "\n"


def plot_confusion(matrix, names: list[str], path: Path, title: str) -> Path:
    """A row-normalised confusion matrix with counts (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = np.asarray(matrix, np.float64)
    share = m / np.maximum(m.sum(1, keepdims=True), 1)
    size = 2.5 + 0.5 * len(names)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f"{int(m[i, j])}", ha="center", va="center", color="white" if share[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    from gener.io import atomic_write

    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, dpi=110, format="png")
    plt.close(fig)
    return path


def write_report(report: dict, out: Path) -> list[Path]:
    from gener.io import atomic_write

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with atomic_write(out / "results.json") as fh:
        fh.write(json.dumps(report, indent=1) + "\n")
    written.append(out / "results.json")
    with atomic_write(out / "results.md") as fh:
        fh.write(report_markdown(report))
    written.append(out / "results.md")
    if report["best"]["confusion"] is not None:
        written.append(plot_confusion(report["best"]["confusion"], report["labels"], out / "confusion.png",
                                      f"{report['data']}: {report['model']} (test, summed over folds)"))
    return written
