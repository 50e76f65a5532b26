"""Sequence understanding on the real tasks built here: fine-tuned embedded models vs a
k-mer-frequency logistic regression, same data, same metrics (gener.metrics).

    python benchmarks/understanding.py [--tasks gene-type,taxonomy,promoter,oct4-mafk,pum2]
        [--models gener-annotator-tiny,gener-generator-tiny] [--train 600] [--test 400]
        [--max-bp 512] [--epochs 6] [--lr 1e-3] [--batch 32] [--folds 1] [--threads 1]
        [--out benchmarks/results/understanding] [--tasks-dir DIR]

Tasks come from ``gener.data.task_builders`` (what ``gener data task NAME`` writes; needs
``gener data fetch``). To stay CPU-feasible the defaults subsample each task (``--train``
sequences, stratified by label for classification, ``--test`` test sequences) and crop every
sequence to its first ``--max-bp`` bases - for every method alike, so the baseline sees
exactly what the models see. Models:

- ``gener-annotator-tiny``: the embedded GENERanno annotator's encoder with a new
  first-token head, fine-tuned (``gener.training.crossval.cross_validate``: AdamW 0.9/0.95,
  wd 0.1, reduce-on-plateau, early stopping on the validation metric, 1/10 of train held out
  for validation with ``--folds 1``, else k-fold);
- ``gener-generator-tiny``: the embedded GENERator, last-token head (skipped with a message
  when it is not installed);
- a preset name (``generanno-tiny``, ``generator-tiny``): the same architecture from random
  initialisation, the control that says what pre-training contributed;
- ``kmer-lr``: frequencies of all 1..``--kmer``-mers (default 4; both strands pooled is not
  done on purpose: strand is informative for gene-type), standardised, logistic regression
  (one-vs-rest for multi-label), C chosen on the same validation hold-out.

Writes ``OUT/understanding.md`` (one row per task x method; the task's main metric and the
others; ratio to the baseline), ``OUT/understanding.json`` and ``OUT/confusion-TASK-METHOD.png``
for the classification tasks. Say in any report that the machine was shared (timings).
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import time
from pathlib import Path

import numpy as np

from gener import metrics as M
from gener.data.task_builders import BUILDERS, build_task
from gener.data.tasks import LabelledSet, TaskData, load_task
from gener.training.crossval import holdout, plot_confusion

MAIN = {"gene-type": "mcc", "taxonomy": "f1_max", "promoter": "mcc", "oct4-mafk": "mcc", "pum2": "mcc"}


def subsample(data: TaskData, n_train: int, n_test: int, max_bp: int, seed: int) -> TaskData:
    rng = np.random.default_rng(seed)
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        part = data.splits[split]
        if split == "train" and "validation" in data.splits:  # the models hold out their own validation
            v = data.splits["validation"]
            part = LabelledSet(part.sequences + v.sequences, np.concatenate([part.labels, v.labels]))
        if len(part) > n:
            if data.task == "classification":  # stratified, every class kept when possible
                idx = []
                for c in np.unique(part.labels):
                    members = np.flatnonzero(part.labels == c)
                    take = max(1, round(n * len(members) / len(part)))
                    idx.extend(rng.choice(members, min(take, len(members)), replace=False))
                idx = np.sort(np.asarray(idx))
            else:
                idx = np.sort(rng.choice(len(part), n, replace=False))
            part = part.subset(idx)
        out[split] = LabelledSet([s[:max_bp] for s in part.sequences], part.labels, None)
    return TaskData(data.name, data.task, data.label_names, out)


def kmer_features(seqs: list[str], kmax: int) -> np.ndarray:
    lut = np.full(256, -1, np.int64)
    for i, b in enumerate(b"ACGT"):
        lut[b] = i
    blocks = []
    for k in range(1, kmax + 1):
        feats = np.zeros((len(seqs), 4 ** k), np.float32)
        for r, s in enumerate(seqs):
            x = lut[np.frombuffer(s.encode(), np.uint8)]
            if len(x) < k:
                continue
            windows = np.lib.stride_tricks.sliding_window_view(x, k)
            ok = (windows >= 0).all(1)
            codes = (windows[ok] * (4 ** np.arange(k - 1, -1, -1))).sum(1)
            counts = np.bincount(codes, minlength=4 ** k)
            feats[r] = counts / max(1, counts.sum())
        blocks.append(feats)
    return np.concatenate(blocks, 1)


def kmer_baseline(data: TaskData, kmax: int, seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    started = time.time()
    fit, val = holdout(data.splits["train"], data.task, 0.1, seed)
    test = data.splits["test"]
    xf, xv, xt = (kmer_features(p.sequences, kmax) for p in (fit, val, test))
    metric = MAIN.get(data.name) or M.DEFAULT_METRIC[data.task]

    def model(c):
        lr = LogisticRegression(C=c, max_iter=3000)
        return make_pipeline(StandardScaler(), OneVsRestClassifier(lr) if data.task == "multilabel" else lr)

    def logits(m, x):
        return m.decision_function(x) if data.task == "multilabel" else np.log(np.clip(m.predict_proba(x), 1e-12, 1))

    best = None
    for c in (0.01, 0.1, 1.0):
        m = model(c).fit(xf, fit.labels)
        score = M.compute_metrics(data.task, val.labels, logits(m, xv))[metric]
        if best is None or M.better(metric, score, best[0]):
            best = (score, c, m)
    _, c, m = best
    out = logits(m, xt)
    if data.task == "classification" and out.shape[1] < data.num_labels:  # a class absent from fit
        full = np.full((len(out), data.num_labels), -1e9)
        full[:, m[-1].classes_] = out
        out = full
    return {"test": M.compute_metrics(data.task, test.labels, out), "logits": out, "seconds": time.time() - started,
            "note": f"C={c}"}


def finetuned(model: str, data: TaskData, args):
    from gener.training.classify import FinetuneSettings
    from gener.training.crossval import cross_validate

    settings = FinetuneSettings(learning_rate=args.lr, batch_size=args.batch, epochs=args.epochs,
                                patience=args.patience, plateau_patience=args.plateau_patience, seed=args.seed,
                                metric=MAIN.get(data.name))
    captured = {}
    report, _ = cross_validate(model, data, folds=args.folds, settings=settings,
                               log=lambda t: print("   ", t, flush=True), warn=lambda t: print("    warning:", t))
    best = report["best"]
    captured["test"] = {k: v["mean"] for k, v in best["test"].items()}
    captured["se"] = {k: v["se"] for k, v in best["test"].items()}
    captured["confusion"] = best["confusion"]
    captured["seconds"] = report["seconds"]
    captured["note"] = f"lr={best['learning_rate']:g}, batch {best['batch_size']}, best epochs {report['grid'][0]['best_epochs']}"
    return captured


def write_tables(rows, args, started) -> str:
    lines = ["| task | method | main metric | test value (± SE over folds) | vs k-mer LR | other metrics | train/test | seconds | note |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        others = ", ".join(f"{k} {v:.3f}" for k, v in r["all"].items() if k != r["metric"] and not re.search(r"_\d+$", k))
        value = f"{r['value']:.4f}" + (f" ± {r['se']:.4f}" if r["se"] else "")
        lines.append(f"| {r['task']} | {r['method']} | {r['metric']} | {value} | {r['ratio']:.2f}x | {others} | "
                     f"{r['train']}/{r['test']} | {r['seconds']:.0f} | {r['note']} |")
    wins = {}
    for r in rows:
        if r["method"] != "kmer-lr":
            wins.setdefault(r["method"], []).append(r["ratio"] > 1.0)
    summary = [f"{m}: beats the k-mer baseline on {sum(w)} of {len(w)} tasks" for m, w in wins.items()]
    import torch

    where = (f"fine-tuning on {torch.cuda.get_device_name()} (bf16), k-mer LR on its CPU" if torch.cuda.is_available() else
             f"{args.threads} torch thread(s) on {platform.processor() or platform.machine()}, a machine shared with "
             "other jobs (timings are indicative)")
    header = (f"Settings: train {args.train}, test {args.test}, first {args.max_bp} bp, epochs {args.epochs} (patience "
              f"{args.patience}), lr {args.lr:g}, batch {args.batch}, folds {args.folds}, k-mers 1..{args.kmer}, seed "
              f"{args.seed}; {where}. Total {time.time() - started:.0f} s.")
    text = "\n".join(["# Sequence understanding: fine-tuned embedded models vs k-mer logistic regression", "",
                      header, "", *lines, "", *summary]) + "\n"
    (args.out / "understanding.md").write_text(text)
    (args.out / "understanding.json").write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                                             "rows": rows}, indent=1) + "\n")
    return text


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", default="oct4-mafk,pum2,promoter,taxonomy,gene-type")
    p.add_argument("--models", default="gener-annotator-tiny,gener-generator-tiny")
    p.add_argument("--train", type=int, default=600)
    p.add_argument("--test", type=int, default=400)
    p.add_argument("--max-bp", type=int, default=512)
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--patience", type=int, default=5)
    p.add_argument("--plateau-patience", type=int, default=2)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--folds", type=int, default=1)
    p.add_argument("--kmer", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/understanding"))
    p.add_argument("--tasks-dir", type=Path, default=None,
                   help="Read DIR/NAME written by `gener data task NAME -o DIR/NAME` instead of building from the cache.")
    args = p.parse_args(argv)

    import torch

    from gener.modeling.loading import EMBEDDED_MODELS

    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    models = []
    for name in filter(None, args.models.split(",")):
        if name in EMBEDDED_MODELS and not EMBEDDED_MODELS[name].available():
            print(f"skipping {name}: not installed in this checkout ({EMBEDDED_MODELS[name].directory} is missing)")
            continue
        models.append(name)
    rows, started = [], time.time()
    for task_name in filter(None, args.tasks.split(",")):
        t0 = time.time()
        full = load_task(args.tasks_dir / task_name) if args.tasks_dir else build_task(task_name)
        data = subsample(full, args.train, args.test, args.max_bp, args.seed)
        print(f"{data.describe()} (built and subsampled in {time.time() - t0:.0f} s)", flush=True)
        metric = MAIN.get(task_name) or M.DEFAULT_METRIC[data.task]
        results = {"kmer-lr": kmer_baseline(data, args.kmer, args.seed)}
        print(f"  kmer-lr: {metric} {results['kmer-lr']['test'][metric]:.4f} ({results['kmer-lr']['seconds']:.0f} s)", flush=True)
        for name in models:
            print(f"  {name}:", flush=True)
            results[name] = finetuned(name, data, args)
        base = results["kmer-lr"]["test"][metric]
        for method, r in results.items():
            conf = r.get("confusion")
            if data.task == "classification":
                if conf is None:
                    conf = M.confusion(data.splits["test"].labels, r["logits"].argmax(1), data.num_labels).tolist()
                plot_confusion(conf, data.label_names, args.out / f"confusion-{task_name}-{method}.png",
                               f"{task_name}: {method} (test {len(data.splits['test'])})")
            rows.append({"task": task_name, "method": method, "metric": metric, "value": r["test"][metric],
                         "se": r.get("se", {}).get(metric, 0.0), "ratio": r["test"][metric] / base if base else float("nan"),
                         "all": r["test"], "seconds": round(r["seconds"], 1), "note": r.get("note", ""),
                         "train": len(data.splits["train"]), "test": len(data.splits["test"])})
        write_tables(rows, args, started)  # a run cut short still leaves the finished tasks

    text = write_tables(rows, args, started)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
