"""Pre-training throughput (tokens/s) and peak memory per tiny preset on this CPU.

    python benchmarks/pretrain.py [--presets generator-tiny generanno-tiny] [--seq-len 1024]
                                  [--batch-size 2] [--steps 4] [--threads N]

Each preset runs `gener.training.pretrain.pretrain` (the full HF Trainer path: shards,
collator, AdamW, schedule, logging) in a fresh process, on shards built from the committed
fixtures (tests/data: E. coli and C. burnetii slices; speed does not depend on the bases).
Tokens/s counts optimizer steps after the first (warm-up) step, tokens = batch x seq_len x
accumulation (accumulation 1 here). Peak memory is the process's maximum resident set size,
printed next to the resident size before the model was built (Python + torch + transformers),
so the difference is what training added. Figures vary with whatever else the machine runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

FIXTURES = [Path(__file__).parent.parent / "tests" / "data" / name
            for name in ("ecoli_k12_slices.gbk", "coxiella_burnetii_slices.gbk", "coxiella_endosymbiont_pseudo.gbk")]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(preset: str, data: Path, seq_len: int, batch: int, steps: int, threads: int | None) -> dict:
    import torch

    from gener.modeling import presets
    from gener.training.pretrain import StepClock, pretrain, seconds_per_step

    if threads:
        torch.set_num_threads(threads)
    before = rss_mb()
    clock = StepClock()
    with tempfile.TemporaryDirectory() as run:
        result = pretrain(preset, data, Path(run) / "run", seq_len=seq_len, tokens_per_step=batch * seq_len,
                          batch_size=batch, warmup_steps=1, steps=steps, save_steps=10**9, logging_steps=1,
                          callbacks=[clock], log=lambda *a: None)
    step_s = seconds_per_step(clock.times)  # from the end of the first (warm-up) step
    return {"preset": preset, "parameters": presets.count_parameters(preset), "seq_len": seq_len, "batch": batch,
            "threads": torch.get_num_threads(), "steps_timed": len(clock.times) - 1,
            "tokens_per_s": result.plan.tokens_per_step / step_s, "s_per_step": step_s,
            "rss_before_mb": before, "peak_rss_mb": rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["generator-tiny", "generanno-tiny"])
    parser.add_argument("--seq-len", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--child", nargs=2, metavar=("PRESET", "SHARDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]), args.seq_len, args.batch_size, args.steps,
                               args.threads)))
        return

    from gener.data.regions import curate_regions
    from gener.data.shards import write_shards
    from gener.modeling.presets import get_preset

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        curate_regions([str(p) for p in FIXTURES], tmp / "r.parquet", flank=100)
        shards = {}
        for name in ("kmer", "nucleotide"):
            write_shards(tmp / "r.parquet", tmp / name, tokenizer=name)
            shards[name] = tmp / name
        rows = []
        for preset in args.presets:
            kind = "kmer" if get_preset(preset).family == "generator" else "nucleotide"
            cmd = [sys.executable, __file__, "--child", preset, str(shards[kind]), "--seq-len", str(args.seq_len),
                   "--batch-size", str(args.batch_size), "--steps", str(args.steps)]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print("| preset | params | window x batch | threads | tokens/s | s/step | RSS before | peak RSS |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['preset']} | {r['parameters'] / 1e6:.2f}M | {r['seq_len']} x {r['batch']} | {r['threads']} | "
              f"{r['tokens_per_s']:,.0f} | {r['s_per_step']:.2f} | {r['rss_before_mb']:,.0f} MB | "
              f"{r['peak_rss_mb']:,.0f} MB |")


if __name__ == "__main__":
    main()
