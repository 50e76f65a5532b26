"""Sequence understanding on the real tasks built here: what `gener finetune classify` does
with its defaults, per task, next to the k-mer baseline that every report carries.

    python benchmarks/understanding.py [--tasks gene-type,taxonomy,promoter,oct4-mafk,pum2]
        [--models auto,gener-annotator-tiny,...] [--probes gener-annotator-tiny,...] [--train 300]
        [--test 200] [--max-bp 256] [--folds 5] [--threads 2] [--tasks-dir DIR]
        [--out benchmarks/results/understanding] [--lr X --epochs N --batch N (off: defaults)]

The defaults are the CPU setting: each task subsampled (``--train`` sequences, stratified by
class, groups kept; ``--test`` test sequences) and every sequence cropped to its first
``--max-bp`` bases - for every method alike. Tasks come from ``gener.data.task_builders``
(``gener data task NAME``; needs ``gener data fetch``), or ``--tasks-dir DIR/NAME``.

Per task, all on the same folds (``gener.training.crossval``: grouped by genome / region
where the task has groups) and the same test split:

- ``kmer-lr``: the baseline of every report (``gener.training.linear``);
- each of ``--models`` run as ``gener finetune classify --model NAME`` runs it: fine-tuned with
  the defaults of its scale (``gener.training.scale``; nothing is set unless ``--lr`` /
  ``--epochs`` / ``--batch`` are given), then its linear probe (frozen embeddings and k-mer
  frequencies), the probe kept unless the fine-tune is ahead on validation by a standard error
  (``gener.training.crossval.select_mode``). ``auto`` (the default) is the CLI's default
  model choice, so its row is what a user gets with no options; an embedded model's name or a
  preset name (a from-scratch control) adds that model;
- each of ``--probes`` as a linear probe alone (``--freeze``), with its cost;
- ``auto``: which model ``--model auto`` (the CLI default) picks, from the validation folds
  only, and whether that was the better fine-tune on test.

Writes ``OUT/understanding.md`` (the table, with each method's margin over the baseline in
standard errors of the paired per-fold differences), ``OUT/understanding.json`` and
``OUT/confusion-TASK-METHOD.png``. Timings are wall-clock on whatever else the machine runs.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from gener.data.task_builders import build_task
from gener.data.tasks import LabelledSet, TaskData, load_task
from gener.training.crossval import stratified_sample
from gener.training.report import plot_confusion

MAIN = {"gene-type": "mcc", "taxonomy": "f1_max", "promoter": "mcc", "oct4-mafk": "mcc", "pum2": "mcc"}


def subsample(data: TaskData, n_train: int, n_test: int, max_bp: int, seed: int) -> TaskData:
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        part = data.splits[split]
        if split == "train" and "validation" in data.splits:  # the folds are cut from train + validation
            v = data.splits["validation"]
            groups = None if part.groups is None or v.groups is None else np.concatenate([part.groups, v.groups])
            part = LabelledSet(part.sequences + v.sequences, np.concatenate([part.labels, v.labels]), groups)
        part = stratified_sample(part, data.task, n, seed)
        out[split] = LabelledSet([s[:max_bp] for s in part.sequences], part.labels, part.groups)
    return TaskData(data.name, data.task, data.label_names, out)


def run(model: str, data: TaskData, args, *, freeze: bool = False) -> dict:
    from gener.training.classify import FinetuneSettings
    from gener.training.crossval import cross_validate

    settings = FinetuneSettings(learning_rate=args.lr, batch_size=args.batch, epochs=args.epochs, seed=args.seed,
                                metric=MAIN.get(data.name))
    started = time.time()
    report, _ = cross_validate(model, data, folds=args.folds, settings=settings, freeze=freeze,
                               log=lambda t: print("   ", t, flush=True), warn=lambda t: print("    warning:", t),
                               progress=(lambda t: print("     ", t, flush=True)) if args.verbose else None)
    report["wall_seconds"] = round(time.time() - started, 1)
    return report


def row(task: str, method: str, report: dict, part: str = "best") -> dict:
    metric = report["metric"]
    entry = report[part]
    out = {"task": task, "method": method, "metric": metric, "value": entry["test"][metric]["mean"],
           "se": entry["test"][metric]["se"], "valid": entry["valid"][metric]["mean"],
           "all": {k: v["mean"] for k, v in entry["test"].items()}, "confusion": entry.get("confusion"),
           "seconds": report["wall_seconds"] if part == "best" else report["baseline"]["seconds"]}
    if part == "best":
        c = report["comparison"]
        out.update(advantage=c["advantage"]["mean"], z=c["standard_errors"], verdict=c["verdict"],
                   note="; ".join(filter(None, [report["model"], report["mode"] + " kept", report.get("defaults")])))
    return out


def write_tables(rows, picks, args, started) -> str:
    lines = ["| task | method | test metric (± SE over folds) | vs k-mer LR: difference (SE) | validation | seconds | note |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        value = f"{r['metric']} {r['value']:.3f}" + (f" ± {r['se']:.3f}" if r["se"] else "")
        vs = "" if "advantage" not in r else f"{r['advantage']:+.3f} ({r['z']:+.1f} SE): {r['verdict']}" \
            if r["z"] is not None else f"{r['advantage']:+.3f}: {r['verdict']}"
        lines.append(f"| {r['task']} | {r['method']} | {value} | {vs} | {r['valid']:.3f} | {r['seconds']:.0f} | "
                     f"{r.get('note', '')} |")
    summary = []
    methods = dict.fromkeys(r["method"] for r in rows if "verdict" in r)
    for m in methods:
        mine = [r for r in rows if r["method"] == m]
        summary.append(f"- {m}: better than the baseline (>= 2 SE) on {sum(r['verdict'] == 'better' for r in mine)} "
                       f"of {len(mine)} tasks, worse on {sum(r['verdict'] == 'worse' for r in mine)}")
    for task, p in picks.items():
        summary.append(f"- {task}: `--model auto` picks {p['chosen']} (probe validation "
                       + ", ".join(f"{k} {v:.3f}" for k, v in p["validation"].items()) + ")"
                       + (f"; fine-tuned test: {p['outcome']}" if p.get("outcome") else ""))
    import torch

    where = (f"fine-tuning on {torch.cuda.get_device_name()}" if torch.cuda.is_available() else
             f"{args.threads} torch thread(s) on {platform.processor() or platform.machine()}, shared with other jobs")
    set_ = ", ".join(f"{k} {getattr(args, k)}" for k in ("lr", "epochs", "batch") if getattr(args, k) is not None)
    header = (f"Settings: train {args.train}, test {args.test}, first {args.max_bp} bp, {args.folds} folds, seed "
              f"{args.seed}; {'set: ' + set_ if set_ else 'fine-tuning defaults by model scale (nothing set)'}; {where}. "
              f"Total {time.time() - started:.0f} s.")
    text = "\n".join(["# Sequence understanding: gener finetune classify defaults vs the k-mer baseline", "",
                      header, "", *lines, "", *summary]) + "\n"
    (args.out / "understanding.md").write_text(text)
    (args.out / "understanding.json").write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                                             "rows": rows, "auto": picks}, indent=1) + "\n")
    return text


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", default="gene-type,promoter,oct4-mafk,pum2,taxonomy")
    p.add_argument("--models", default="auto")
    p.add_argument("--probes", default="")
    p.add_argument("--train", type=int, default=300)
    p.add_argument("--test", type=int, default=200)
    p.add_argument("--max-bp", type=int, default=256)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--verbose", action="store_true", help="Print the per-epoch lines.")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/understanding"))
    p.add_argument("--tasks-dir", type=Path, default=None,
                   help="Read DIR/NAME written by `gener data task NAME -o DIR/NAME` instead of building from the cache.")
    args = p.parse_args(argv)

    import torch

    from gener import metrics as M
    from gener.modeling.loading import EMBEDDED_MODELS
    from gener.training.crossval import plan_folds
    from gener.training.probe import choose_encoder

    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)

    def installed(names):
        keep = [n for n in filter(None, names.split(",")) if n not in EMBEDDED_MODELS or EMBEDDED_MODELS[n].available()]
        for n in set(filter(None, names.split(","))) - set(keep):
            print(f"skipping {n}: not installed in this checkout")
        return keep

    models, probes = installed(args.models), installed(args.probes)
    rows, picks, started = [], {}, time.time()
    for task_name in filter(None, args.tasks.split(",")):
        t0 = time.time()
        full = load_task(args.tasks_dir / task_name) if args.tasks_dir else build_task(task_name)
        data = subsample(full, args.train, args.test, args.max_bp, args.seed)
        print(f"{data.describe()} (built and subsampled in {time.time() - t0:.0f} s)", flush=True)
        metric = MAIN.get(task_name) or M.DEFAULT_METRIC[data.task]
        reports = {}
        for name in models:
            print(f"  {name}:", flush=True)
            reports[name] = run(name, data, args)
        for name in probes:
            print(f"  {name} --freeze:", flush=True)
            reports[f"{name} --freeze"] = run(name, data, args, freeze=True)
        if not reports:
            continue
        first = next(iter(reports.values()))
        rows.append(row(task_name, "kmer-lr", first, "baseline"))
        rows.extend(row(task_name, method, rep) for method, rep in reports.items())
        # what --model auto would pick: the same folds, the same rule, validation only
        pool, runs_data, test, _ = plan_folds(data, args.folds, args.seed, None, lambda t: None)
        chosen, scores, _ = choose_encoder(data.task, data.num_labels, metric, pool.sequences, pool.labels, runs_data)
        picks[task_name] = {"chosen": chosen, "validation": scores}
        fine = {n: reports[n]["best"]["test"][metric]["mean"] for n in models if n in scores}
        if chosen in fine and len(fine) > 1:
            best = max(fine, key=lambda n: fine[n] if M.METRIC_GOALS.get(metric, "max") == "max" else -fine[n])
            picks[task_name]["outcome"] = "the better one" if best == chosen else f"{best} was better"
        for r in rows:
            if r["task"] == task_name and data.task == "classification" and r["confusion"] is not None:
                plot_confusion(r["confusion"], data.label_names, args.out / f"confusion-{task_name}-{r['method'].replace(' --', '-')}.png",
                               f"{task_name}: {r['method']} (test {len(data.splits['test'])}, summed over folds)")
        write_tables(rows, picks, args, started)  # a run cut short still leaves the finished tasks
    print(write_tables(rows, picks, args, started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
