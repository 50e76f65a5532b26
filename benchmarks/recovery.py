"""Sequence recovery of a model against order-k Markov baselines, in the same run, same samples.

    python benchmarks/recovery.py --model gener-generator-tiny --train TRAIN... --data HELD_OUT \
        [--context-bp 6144] [--predict-bp 30] [--orders 0-10] [--max-samples 2000] [--cut first]
        [--per-base] [--json OUT.json] [--threads N]

- ``--train``: the sequences the Markov models are fitted on (FASTA, GenBank, parquet such as a
  ``gener data regions`` table, CSV/TSV with a ``sequence`` column; several files allowed) —
  give it the model's own training data so both saw the same bases.
- ``--data``: held-out sequences; samples are cut as ``gener recover`` does
  (gener.tasks.recovery.cut_samples), the same samples for every predictor.
- Predictors: the model (greedy 6-mers, the published protocol; ``--per-base`` adds per-base
  decoding), Markov models of every order in ``--orders`` fitted on ``--train`` (one fit
  gives all orders), and Markov models of orders 1-3 fitted on each sample's own context
  (the cheapest baseline there is). The best Markov order is chosen on the evaluation
  samples themselves, which flatters the baseline, not the model.
- Output: accuracy per predictor overall and per type, the best Markov baseline, the model's
  margin over it, and (``--json``) everything as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def parse_orders(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return sorted(set(out))


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="gener-generator-tiny")
    ap.add_argument("--train", nargs="+", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--context-bp", type=int, default=6144)
    ap.add_argument("--predict-bp", type=int, default=30)
    ap.add_argument("--orders", default="0-10")
    ap.add_argument("--max-samples", type=int, default=2000)
    ap.add_argument("--cut", default="first", choices=["first", "random"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-base", action="store_true", help="also evaluate per-base decoding")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    import torch

    import gener
    from gener.tasks.markov import MarkovModel
    from gener.tasks.recovery import accuracy_report, cut_samples, read_table_records, recover

    if args.threads:
        torch.set_num_threads(args.threads)
    records = read_table_records(args.data)
    samples, skipped = cut_samples(records, args.context_bp, args.predict_bp, cut=args.cut, seed=args.seed)
    if len(samples) > args.max_samples:  # a seeded subset, the same for every predictor
        pick = np.random.default_rng(args.seed).choice(len(samples), args.max_samples, replace=False)
        samples = [samples[i] for i in sorted(pick)]
    print(f"{len(samples):,} samples from {args.data} ({skipped:,} sequences skipped); "
          f"context <= {args.context_bp:,} bp, predict {args.predict_bp} bp, cut={args.cut}", flush=True)

    results: dict[str, dict] = {}
    orders = parse_orders(args.orders)
    started = time.perf_counter()
    markov = MarkovModel(max(orders))
    train_bp = 0
    for path in args.train:
        seqs = [s for _, _, s in read_table_records(path)]
        train_bp += sum(len(s) for s in seqs)
        markov.fit(seqs)
    print(f"Markov counts (orders 0-{max(orders)}) from {train_bp:,} bp in {time.perf_counter() - started:.1f} s", flush=True)
    contexts = [s.context for s in samples]
    for k in orders:
        preds = markov.predict(contexts, args.predict_bp, order=k)
        results[f"markov-{k}"] = accuracy_report(samples, preds, skipped).to_dict()
    for k in (1, 2, 3):  # fitted on each sample's own context
        preds = [MarkovModel(k).fit([c]).predict([c], args.predict_bp)[0] for c in contexts]
        results[f"markov-context-{k}"] = accuracy_report(samples, preds, skipped).to_dict()

    model, tokenizer = gener.load(args.model)
    variants = [False, True] if args.per_base else [False]
    for per_base in variants:
        t = time.perf_counter()
        preds = recover(model, tokenizer, samples, args.predict_bp, per_base=per_base, batch_size=args.batch_size)
        name = "model-per-base" if per_base else "model"
        results[name] = accuracy_report(samples, preds, skipped).to_dict()
        results[name]["seconds"] = round(time.perf_counter() - t, 1)

    markov_names = [n for n in results if n.startswith("markov")]
    best = max(markov_names, key=lambda n: results[n]["accuracy"])
    model_names = [n for n in results if n.startswith("model")]
    types = sorted({t for r in results.values() for t in r["per_type"]})
    width = max(len(n) for n in results) + 2
    print(f"\n{'predictor':<{width}}{'all':>8}" + "".join(f"{t[:14]:>16}" for t in types))
    for name, r in results.items():
        cells = "".join(f"{r['per_type'].get(t, {}).get('accuracy', float('nan')):>16.4f}" for t in types)
        mark = "  <- best Markov" if name == best else ""
        print(f"{name:<{width}}{r['accuracy']:>8.4f}{cells}{mark}")
    print(f"{'samples':<{width}}{len(samples):>8}" + "".join(f"{results[best]['per_type'].get(t, {}).get('samples', 0):>16}" for t in types))
    for name in model_names:
        margin = results[name]["accuracy"] - results[best]["accuracy"]
        verdict = "beats" if margin > 0 else "does NOT beat"
        print(f"{name} ({args.model}) {verdict} the best Markov baseline {best}: {margin:+.4f}")
    print("(chance 0.25; machine shared with other jobs: times are indicative only)")
    summary = {"model": args.model, "train": args.train, "data": args.data, "samples": len(samples),
               "skipped": skipped, "context_bp": args.context_bp, "predict_bp": args.predict_bp, "cut": args.cut,
               "train_bp": train_bp, "best_markov": best, "results": results}
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


if __name__ == "__main__":
    sys.exit(main() and 0)
