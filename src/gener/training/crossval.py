"""K-fold cross-validation, a learning-rate x batch-size grid and the k-mer baseline: the
papers' protocol, with what a user needs to trust the result next to it.

The training data (train + validation splits, merged; at most ``max_train`` sequences, a
seeded subsample stratified by class) is cut into ``folds`` folds; each fold in turn is the
validation set of one run (early stopping and epoch choice) while the others train. Folds
are **grouped** when the sequences carry groups (a genome, a chromosome region: the
``group`` column), so no group is on both sides - with fewer groups than folds, one fold per
group; otherwise stratified by class for single-label classification, shuffled for the
rest. The grid setting with the best mean *validation* metric wins; the test split is only
used to report, as mean and standard error over that setting's folds (each fold's model
scores the whole test set). Without a test split, a stratified 1/10 of the data is held out
first (with a warning). ``folds=1`` uses the validation split as given (or holds out 1/10 of
train). Every seed derives from ``seed`` and the fold number.

On the same folds and test split, a k-mer-frequency logistic regression
(:mod:`gener.training.linear`) is fitted and scored; the report compares the two fold by
fold (paired differences, their mean and standard error). A linear probe on frozen
embeddings next to the baseline's k-mer frequencies (:mod:`gener.training.probe`: one
forward pass over the data, then a linear head per fold) runs on the same folds after the
fine-tune, and the reported model is the probe unless the fine-tune is clearly better on the
validation folds (:func:`select_mode`; ``keep_best_model``, i.e. ``--save-model``, keeps the
fine-tune: the saved model must be the one reported); ``freeze=True`` runs the probe alone.
``model="auto"`` picks the embedded model by that probe's validation metric before anything
is trained.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import asdict, replace

import numpy as np

from gener import metrics as M
from gener.data.tasks import LabelledSet, TaskData
from gener.errors import GenerInputError
from gener.training.classify import FinetuneSettings, run_finetune, with_scale_defaults
from gener.training.linear import BASELINE_NAME, fit_per_fold, kmer_features
from gener.training.report import FINE_TUNE, PROBE

GRID_KEYS = {"lr": "learning_rate", "learning_rate": "learning_rate", "batch": "batch_size", "batch_size": "batch_size"}
BASELINES = ("kmer", "none")
AUTO = "auto"
FINE_TUNE_MARGIN_SE = 1.0  # see select_mode
AUTO_RULE = ("each embedded model embeds the data once (frozen); the one whose linear probe scores best on the "
             "validation folds is used")


def parse_grid(items: list[str] | None) -> list[dict] | str:
    """``["lr=1e-5,2e-5", "batch=64,128"]`` -> every combination as settings overrides;
    ``["auto"]`` -> ``"auto"`` (a small range around the model's scale default)."""
    if items and [i.strip() for i in items] == ["auto"]:
        return "auto"
    axes = {}
    for item in items or []:
        for part in item.split():
            key, sep, values = part.partition("=")
            if not sep or key not in GRID_KEYS:
                raise GenerInputError(f"--grid {part!r}: expected auto, or lr=V1,V2,... and/or batch=N1,N2,...")
            cast = float if GRID_KEYS[key] == "learning_rate" else int
            try:
                axes[GRID_KEYS[key]] = [cast(v) for v in values.split(",") if v]
            except ValueError:
                raise GenerInputError(f"--grid {part!r}: {values!r} are not numbers") from None
    keys = list(axes)
    return [dict(zip(keys, combo)) for combo in itertools.product(*axes.values())] or [{}]


def fold_indices(labels: np.ndarray, task: str, folds: int, seed: int, groups: np.ndarray | None = None) -> list[np.ndarray]:
    """Validation indices of each fold: whole groups when ``groups`` is given (largest first,
    each into the smallest fold so far), else stratified (classes dealt round-robin) for
    classification, else shuffled."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    if folds < 2 or folds > n:
        raise GenerInputError(f"cannot make {folds} folds of {n} sequences")
    assignment = np.empty(n, int)
    if groups is not None:
        names, inverse, sizes = np.unique(groups, return_inverse=True, return_counts=True)
        if len(names) < folds:
            raise GenerInputError(f"cannot make {folds} grouped folds of {len(names)} groups")
        load = np.zeros(folds, int)
        for g in sorted(rng.permutation(len(names)), key=lambda g: -sizes[g]):  # ties in a seeded order
            f = int(np.argmin(load))
            assignment[inverse == g] = f
            load[f] += sizes[g]
    elif task == "classification":
        offset = 0
        for c in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == c))
            assignment[members] = (np.arange(len(members)) + offset) % folds
            offset += len(members)  # the next class continues where this one stopped: equal fold sizes
    else:
        assignment[rng.permutation(n)] = np.arange(n) % folds
    return [np.flatnonzero(assignment == f) for f in range(folds)]


def stratified_sample(part: LabelledSet, task: str, n: int, seed: int) -> LabelledSet:
    """At most ``n`` sequences, classes in their proportions (each kept at least once)."""
    if len(part) <= n:
        return part
    rng = np.random.default_rng(seed)
    if task != "classification":
        return part.subset(np.sort(rng.choice(len(part), n, replace=False)))
    classes, counts = np.unique(part.labels, return_counts=True)
    take = np.maximum(1, np.floor(n * counts / len(part)).astype(int))
    for c in np.argsort(-(n * counts / len(part) - take))[: max(0, n - take.sum())]:
        take[c] += 1  # largest remainders first, so the total is exactly n
    keep = [rng.choice(np.flatnonzero(part.labels == c), min(t, k), replace=False)
            for c, t, k in zip(classes, take, counts)]
    return part.subset(np.sort(np.concatenate(keep)))


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


def plan_folds(data: TaskData, folds: int, seed: int, max_train: int | None, warn):
    """``(pool, [(fit indices, validation indices)], test, how the folds were cut)``."""
    if max_train is not None and max_train < 2 * max(folds, 2):
        raise GenerInputError(f"--max-train {max_train}: too few sequences for {folds} fold(s)")
    train, valid, test = (data.splits.get(k) for k in ("train", "validation", "test"))
    if test is None:
        warn(f"{data.name}: no test split; holding out a stratified 1/10 of the data as test (seed {seed})")
        train, test = holdout(_merge(train, valid), data.task, 0.1, seed)
        valid = None
    if max_train and folds == 1 and valid is not None:  # a given validation split stays whole
        train = stratified_sample(train, data.task, max_train, seed)
    pool = _merge(train, valid)
    if max_train and not (folds == 1 and valid is not None):
        pool = stratified_sample(pool, data.task, max_train, seed)
    everything = np.arange(len(pool))
    if folds == 1:
        if valid is not None:
            val = np.arange(len(train), len(pool))
        else:
            val = fold_indices(pool.labels, data.task, 10, seed)[0]
        return pool, [(np.setdiff1d(everything, val), val)], test, "the validation split as given" if valid else \
            "1/10 of train held out for validation"
    groups = pool.groups
    n_groups = 0 if groups is None else len(np.unique(groups))
    if n_groups >= 2 and n_groups < folds:
        warn(f"{data.name}: {n_groups} groups, fewer than --folds {folds}: one fold per group")
        folds = n_groups
    how = f"grouped: no group on both sides ({n_groups} groups)" if n_groups >= 2 else \
        "stratified by class" if data.task == "classification" else "shuffled"
    split = fold_indices(pool.labels, data.task, folds, seed, groups if n_groups >= 2 else None)
    return pool, [(np.setdiff1d(everything, idx), idx) for idx in split], test, how


def _linear_runs(data: TaskData, metric: str, features: np.ndarray, pool: LabelledSet, runs_data, test: LabelledSet):
    """A linear head per fold on fixed features (rows: the pool, then the test split)."""
    return fit_per_fold(data.task, data.num_labels, metric, features[: len(pool)], pool.labels, runs_data,
                        features[len(pool):], test.labels)


def compare(metric: str, model_values: list[float], baseline_values: list[float]) -> dict:
    """Paired per-fold advantage of the model over the baseline (positive = model better);
    ``better`` / ``worse`` at two standard errors or more, else ``tie`` (one fold: the sign)."""
    goal = M.METRIC_GOALS.get(metric) or M.METRIC_GOALS.get(metric.rsplit("_", 1)[0], "max")
    sign = 1.0 if goal == "max" else -1.0
    diff = summarize([sign * (m - b) for m, b in zip(model_values, baseline_values)])
    z = diff["mean"] / diff["se"] if diff["se"] > 0 else None
    if z is None:  # one fold, or the same difference on every fold
        verdict = "better" if diff["mean"] > 0 else "worse" if diff["mean"] < 0 else "tie"
    else:
        verdict = "better" if z >= 2 else "worse" if z <= -2 else "tie"
    return {"metric": metric, "advantage": diff, "standard_errors": z, "verdict": verdict}


def _probe(model, data, pool, runs_data, test, settings, metric, features, kmers, log, warn):
    from gener.training.probe import probe_features

    started = time.time()
    if features is None:
        features = probe_features(model, pool.sequences + test.sequences, kmers, max_length=settings.max_length,
                                  overrides=settings.model_overrides, warn=warn)
    embedded = time.time() - started
    entry = _entry(data, test, {"learning_rate": None, "batch_size": None},
                   _linear_runs(data, metric, features, pool, runs_data, test), metric)
    entry["embed_seconds"] = round(embedded, 1)
    log(f"linear probe on frozen embeddings + k-mer frequencies ({features.shape[1]:,} features, embedded in "
        f"{embedded:.0f} s): valid {metric} {entry['valid'][metric]['mean']:.4f}, test {metric} "
        f"{entry['test'][metric]['mean']:.4f}")
    return [entry], entry


def _fine_tune(model, data, pool, runs_data, test, settings, metric, grid, keep_best_model, log, warn, progress):
    """Every grid setting on every fold; the setting with the best mean validation metric wins."""
    results, best, best_model, best_valid = [], None, None, float("nan")
    for overrides in grid or [{}]:
        setting = replace(settings, **overrides)
        runs = []
        for f, (fit, val) in enumerate(runs_data):
            prefix = f"lr={setting.learning_rate:g} batch={setting.batch_size} fold {f + 1}/{len(runs_data)} "
            run = run_finetune(model, data.task, data.label_names, pool.subset(fit), pool.subset(val), test,
                               replace(setting, seed=settings.seed + f), keep_model=keep_best_model, warn=warn,
                               progress=progress, prefix=prefix)
            if keep_best_model and M.better(metric, run.valid.get(metric, float("nan")), best_valid):
                best_valid, best_model = run.valid[metric], run.model
            runs.append({"valid": run.valid, "test": run.test, "logits": run.test_logits,
                         "best_epoch": run.best_epoch, "epochs_run": run.epochs_run})
            log(f"{prefix.rstrip()}: valid {metric} {run.valid.get(metric, float('nan')):.4f}, test {metric} "
                f"{run.test[metric]:.4f} (best epoch {run.best_epoch}/{run.epochs_run}, {run.seconds:.0f} s)")
        entry = _entry(data, test, {"learning_rate": setting.learning_rate, "batch_size": setting.batch_size},
                       runs, metric)
        results.append(entry)
        if best is None or M.better(metric, entry["valid"][metric]["mean"], best["valid"][metric]["mean"]):
            best = entry
    return results, best, best_model


def cross_validate(model: str, data: TaskData, *, folds: int = 5, grid: list[dict] | str | None = None,
                   settings: FinetuneSettings | None = None, baseline: str = "kmer", freeze: bool = False,
                   max_train: int | None = None, log=print, warn=print, progress=None, keep_best_model: bool = False):
    """Run the grid x folds (or the frozen probe) and the baseline; return ``(report, best model or None)``."""
    if baseline not in BASELINES:
        raise GenerInputError(f"--baseline {baseline!r}: choose one of {', '.join(BASELINES)}")
    settings = settings or FinetuneSettings()
    metric = M.check_metric(data.task, settings.metric or M.DEFAULT_METRIC[data.task], data.num_labels)
    settings = replace(settings, metric=metric)
    if freeze and (keep_best_model or (grid and grid != [{}])):
        raise GenerInputError("--freeze fits a linear head on frozen embeddings: no --grid, no --save-model")
    pool, runs_data, test, how = plan_folds(data, folds, settings.seed, max_train, warn)
    started = time.time()
    why, choice, features, best_model = None, None, None, None
    kmers = kmer_features(pool.sequences + test.sequences)  # the baseline's features, and part of the probe's
    kmer_seconds = time.time() - started
    if model == AUTO:
        from gener.training.probe import CANDIDATES, choose_encoder

        log(f"--model auto: embedding {len(pool) + len(test):,} sequences with each of {', '.join(CANDIDATES)}")
        model, scores, features = choose_encoder(data.task, data.num_labels, metric, pool.sequences + test.sequences,
                                                 pool.labels, runs_data, kmers=kmers, warn=warn)
        choice = {"rule": AUTO_RULE, "validation": scores, "chosen": model}
        log(f"--model auto: {model} (validation {metric} of a linear probe on frozen embeddings: "
            + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()) + ")")
    mode, selection = PROBE if freeze else FINE_TUNE, None
    if freeze:
        results, best = _probe(model, data, pool, runs_data, test, settings, metric, features, kmers, log, warn)
    else:
        if grid == "auto":
            from gener.training.scale import scale_defaults

            grid = [dict(g) for g in scale_defaults(model, settings.model_overrides).grid]
        settings, why = with_scale_defaults(model, settings, given={k for g in grid or [] for k in g})
        if why:
            log(f"defaults for {model}: {why}")
        results, best, best_model = _fine_tune(model, data, pool, runs_data, test, settings, metric, grid,
                                               keep_best_model, log, warn, progress)
        if not keep_best_model:  # a saved model must be the one reported, so --save-model keeps the fine-tune
            _, probe = _probe(model, data, pool, runs_data, test, settings, metric, features, kmers, log, warn)
            selection = select_mode(metric, best, probe)
            if selection["kept"] == PROBE:
                best, mode = probe, PROBE
            z = selection["fine_tune_margin_se"]
            log(f"kept the {mode}: validation {metric} {selection[FINE_TUNE]:.4f} fine-tuned, "
                f"{selection[PROBE]:.4f} probed" + (f" (fine-tune ahead by {z:+.1f} SE of the paired fold "
                                                    f"differences; it needs {FINE_TUNE_MARGIN_SE:g})" if z is not None else ""))
    report = {
        "model": model, "data": data.name, "task": data.task, "metric": metric, "labels": data.label_names,
        "mode": mode, "selection": selection,
        "folds": len(runs_data), "fold_split": how,
        "sizes": {"train+validation": len(pool), "test": len(test)},
        "settings": {k: v for k, v in asdict(settings).items() if k not in ("learning_rate", "batch_size")},
        "defaults": why, "model_choice": choice,
        "grid": results, "best": {k: best[k] for k in ("learning_rate", "batch_size", "valid", "test", "confusion")},
        "seconds": round(time.time() - started, 1),
    }
    collapsed = _collapse(report)
    if collapsed:
        warn(collapsed + ("" if settings.balanced or mode == PROBE else "; try --balanced (a class-weighted loss)"))
    if baseline == "kmer":
        t0 = time.time() - kmer_seconds  # the baseline's cost includes its features
        base = _linear_runs(data, metric, kmers, pool, runs_data, test)
        report["baseline"] = {**_entry(data, test, {}, base, metric), "method": BASELINE_NAME,
                              "strengths": [r["strength"] for r in base], "seconds": round(time.time() - t0, 1)}
        report["comparison"] = compare(metric, best["test"][metric]["values"], report["baseline"]["test"][metric]["values"])
    return report, best_model


def select_mode(metric: str, fine_tune: dict, probe: dict) -> dict:
    """Which of the two the run reports, by validation only. The one-standard-error rule: the
    fine-tune, the costlier and less stable of the two (a small model's folds can end far
    apart), is kept only when it beats the probe on the validation folds by at least
    ``FINE_TUNE_MARGIN_SE`` standard errors of the paired per-fold difference (with one fold,
    or the same difference on every fold: when it is ahead at all)."""
    tuned, probed = fine_tune["valid"][metric], probe["valid"][metric]
    margin = compare(metric, tuned["values"], probed["values"])
    z = margin["standard_errors"]
    ahead = margin["advantage"]["mean"] > 0 if z is None else z >= FINE_TUNE_MARGIN_SE
    return {FINE_TUNE: tuned["mean"], PROBE: probed["mean"], "fine_tune_margin_se": z,
            "fine_tune_needs_se": FINE_TUNE_MARGIN_SE, "kept": FINE_TUNE if ahead else PROBE}


def _collapse(report: dict) -> str | None:
    """A line when the selected model predicts one class for >= 95% of the test sequences
    although that class is at most 90% of them (what a small model on imbalanced data does)."""
    matrix = report["best"]["confusion"]
    if matrix is None:
        return None
    m = np.asarray(matrix, np.float64)
    predicted, true = m.sum(0) / m.sum(), m.sum(1) / m.sum()
    c = int(predicted.argmax())
    if predicted[c] >= 0.95 and true[c] <= 0.9:
        return (f"the model predicts {report['labels'][c]!r} for {predicted[c]:.0%} of the test sequences (true share "
                f"{true[c]:.0%}): it has settled on one class")
    return None


def _entry(data: TaskData, test: LabelledSet, setting: dict, runs: list[dict], metric: str) -> dict:
    entry = {**setting,
             "valid": {k: summarize([r["valid"].get(k, float("nan")) for r in runs]) for k in runs[0]["valid"]
                       if k not in ("runtime", "samples_per_second", "steps_per_second", "epoch")},
             "test": {k: summarize([r["test"][k] for r in runs]) for k in runs[0]["test"]},
             "confusion": None}
    if "best_epoch" in runs[0]:
        entry["best_epochs"] = [r["best_epoch"] for r in runs]
        entry["epochs_run"] = [r["epochs_run"] for r in runs]
    if data.task == "classification":
        total = np.zeros((data.num_labels, data.num_labels), np.int64)
        for r in runs:
            total += M.confusion(test.labels, r["logits"].argmax(-1), data.num_labels)
        entry["confusion"] = total.tolist()
    return entry
