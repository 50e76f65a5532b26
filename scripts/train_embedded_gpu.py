"""Train the embedded models and the gene-region ablation on one GPU, within a fixed budget.

    python scripts/train_embedded_gpu.py --corpus CORPUS/ --genomes GENOMES/ --out OUT/ --budget 390

Written for a lent H200 (one call, all jobs at once on the one GPU); so far it has only been
run on the CPU at toy size (`--seq-len 64 --batch 2 --budget 10`): the session that wrote it
lost its device time before the run. Inputs: the corpus from `scripts/generator_corpus.py`,
the annotator's training genomes (the train role of docs/data.md, gzipped GenBank)
and its two monitored validation genomes.

Jobs (each the ordinary gener training API, so each equals a `gener pretrain` /
`gener finetune annotator` command; the exact arguments are written to OUT/jobs.json):
- gen-small / gen-mid: embedded-generator candidates (5.1M and 12.6M parameters) on
  eukaryotic gene regions, validated on held-out gene regions;
- ablation-genes / ablation-whole: two 2M-parameter GENERators on the same token budget,
  gene regions vs whole sequences of the same genomes (issue: the papers' data finding);
- annotator / annotator-2l: gener-annotator-tiny's recipe with more tokens, at 4 and at 2
  layers (half the compute per base: the annotation speed goal).

A fixed number of steps is what makes a cosine schedule end where it should, and the steps
that fit the budget depend on the machine, so each job is first timed for a few steps with
all jobs running together (the same contention as the real run); each job's steps are then
set to fill ``--budget`` seconds. A wall-time limit stops any job that runs over.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

SEQ_LEN, BATCH = 1024, 32
GENERATOR_JOBS = {
    # name: (shards, preset overrides, peak LR)
    "gen-small": ("train_genes", {}, 1e-3),
    "gen-mid": ("train_genes", {"hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 6,
                                "num_key_value_heads": 2, "intermediate_size": 1024}, 1e-3),
    "ablation-genes": ("train_genes", {"hidden_size": 128, "intermediate_size": 352}, 2e-3),
    "ablation-whole": ("train_whole", {"hidden_size": 128, "intermediate_size": 352}, 2e-3),
}
ANNOTATOR_TRAIN = ["ecoli-k12", "bjaponicum", "rdenitrificans", "macetivorans", "mthermautotrophicus",
                   "llongbeachae", "coxiella-endosymbiont", "amarina-plasmids",
                   "Acinetobacter_baumannii_OC_locus_primary_reference.gbk",
                   "Acinetobacter_baumannii_k_locus_primary_reference.gbk", "Klebsiella_k_locus_primary_reference.gbk",
                   "Klebsiella_k_locus_variant_reference.gbk", "Klebsiella_o_locus_primary_reference.gbk"]
ANNOTATOR_VALID = ["cburnetii", "mmaripaludis"]
ANNOTATOR_JOBS = {"annotator": {}, "annotator-2l": {"num_hidden_layers": 2}}  # name: generanno-tiny overrides


def run_job(name: str, args) -> None:
    """One job in this process (the parent starts one process per job)."""
    import torch

    from gener.training.pretrain import StepClock, TimeLimitCallback

    torch.backends.cuda.matmul.allow_tf32 = True
    out = Path(args.out) / name
    clock = StepClock(Path(args.out) / f"{name}.clock.json")
    if name.startswith("annotator"):
        from gener.training.annotator import finetune_annotator

        genomes = Path(args.genomes)
        def path(n):
            return str(next(genomes.glob(n + "*")))
        valid = [] if args.calibrating else [path(n) for n in ANNOTATOR_VALID]
        finetune_annotator("generanno-tiny", [path(n) for n in ANNOTATOR_TRAIN], valid,
                           out, window=512, batch_size=64, steps=args.steps, learning_rate=2e-3,
                           warmup_steps=min(200, args.steps // 10), eval_steps=max(args.steps // 5, 1),
                           callbacks=[clock, TimeLimitCallback(args.minutes)], model_overrides=ANNOTATOR_JOBS[name])
        return
    from gener.training.pretrain import pretrain

    shards, overrides, lr = GENERATOR_JOBS[name]
    pretrain("generator-tiny", Path(args.shards) / shards, out, seq_len=args.seq_len,
             tokens_per_step=args.seq_len * args.batch, batch_size=args.batch, learning_rate=lr,
             warmup_steps=max(args.steps // 20, 1), steps=args.steps, save_steps=max(args.steps // 4, 1),
             save_total_limit=4, eval_data=None if args.calibrating else Path(args.shards) / "heldout_genes",
             eval_steps=max(args.steps // 20, 1), eval_windows=args.eval_windows, num_workers=2,
             model_overrides=overrides, callbacks=[clock], max_minutes=args.minutes)


def launch(names, steps: dict, out: Path, args, minutes: float, calibrating: bool = False) -> dict:
    procs = {}
    for name in names:
        cmd = [sys.executable, __file__, "--job", name, "--steps", str(steps[name]), "--minutes", str(minutes),
               "--seq-len", str(args.seq_len), "--batch", str(args.batch), "--eval-windows", str(args.eval_windows),
               "--out", str(out), "--shards", str(args.shards), "--genomes", str(args.genomes)]
        if calibrating:
            cmd.append("--calibrating")
        procs[name] = subprocess.Popen(cmd, stdout=open(out / f"{name}.log", "w"), stderr=subprocess.STDOUT)
    return {name: p.wait() for name, p in procs.items()}


def best_model(run: Path) -> Path | None:
    """``final/``, or the saved checkpoint with a lower validation loss (multi-epoch training
    on a small corpus can overfit; the checkpoints every quarter of the run are the options)."""
    from gener.training.pretrain import read_loss_log

    final = run / "final"
    if not final.is_dir():
        return None
    if not (run / "eval.csv").exists():
        return final
    loss = {r["step"]: r["eval_loss"] for r in read_loss_log(run / "eval.csv")}
    options = {int(p.name.split("-")[1]): p for p in run.glob("checkpoint-*")}
    last = max(options, default=0)
    options = {s: p for s, p in options.items() if s in loss and s != last}
    best = min(options, key=loss.get, default=None)
    if best is not None and loss[best] < loss.get(last, float("inf")):
        print(f"{run.name}: checkpoint-{best} (validation loss {loss[best]:.4f}) beats the last step "
              f"({loss.get(last, float('nan')):.4f})", flush=True)
        return options[best]
    return final


def pack(out: Path, names, dest: Path, part_bytes: int = 15 << 20) -> None:
    """Each job's final model (generators re-saved in bf16: half the bytes to bring back) and
    logs, in one tar cut into parts small enough for the way back."""
    import shutil
    import tarfile

    import torch

    staging = out / "pack"
    for name in names:
        final, target = best_model(out / name), staging / name
        if final is None:
            continue
        shutil.copytree(final, target, ignore=shutil.ignore_patterns("training_args.bin", "optimizer.pt", "rng_state*",
                                                                     "scheduler.pt"), dirs_exist_ok=True)
        if name in GENERATOR_JOBS:
            from transformers import LlamaForCausalLM

            LlamaForCausalLM.from_pretrained(final, dtype=torch.bfloat16).save_pretrained(target)
        for kept in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "training.json"):
            if (out / name / "final" / kept).exists():  # a checkpoint-N has the weights only
                shutil.copy(out / name / "final" / kept, target / kept)
        (target / "selected.txt").write_text(final.name + "\n")
        for log in ("loss.csv", "eval.csv", "loss.png", "pretrain.json"):
            if (out / name / log).exists():
                shutil.copy(out / name / log, target / log)
        shutil.copy(out / f"{name}.log", target / "stdout.log")
    shutil.copy(out / "jobs.json", staging / "jobs.json")
    dest.mkdir(parents=True, exist_ok=True)
    archive = out / "results.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(staging, arcname="results")
    data = archive.read_bytes()
    for i in range(0, len(data), part_bytes):
        (dest / f"results.tar.{i // part_bytes:02d}").write_bytes(data[i:i + part_bytes])
    print(f"packed {len(data) / 2**20:.1f} MiB into {dest}", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path)
    ap.add_argument("--genomes", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--shards", type=Path, default=None)
    ap.add_argument("--budget", type=float, default=390, help="seconds of training per job")
    ap.add_argument("--calibrate", type=int, default=40, help="steps timed before the real run")
    ap.add_argument("--jobs", default=",".join([*GENERATOR_JOBS, *ANNOTATOR_JOBS]))
    ap.add_argument("--seq-len", type=int, default=SEQ_LEN)
    ap.add_argument("--eval-windows", type=int, default=256)
    ap.add_argument("--batch", type=int, default=BATCH)
    ap.add_argument("--pack", type=Path, help="after training: bf16 generator weights + logs, tarred in 15 MiB parts here")
    ap.add_argument("--job")
    ap.add_argument("--calibrating", action="store_true", help="(job) time steps only: no validation")
    ap.add_argument("--steps", type=int)
    ap.add_argument("--minutes", type=float)
    args = ap.parse_args(argv)
    if args.job:
        run_job(args.job, args)
        return 0

    from gener.data.shards import write_shards

    args.out.mkdir(parents=True, exist_ok=True)
    args.shards = args.shards or args.out / "shards"
    for name in ("train_genes", "train_whole", "heldout_genes"):
        if not (args.shards / name / "index.json").exists():
            summary = write_shards(args.corpus / f"{name}.parquet", args.shards / name, tokenizer="kmer")
            print(f"shards {name}: {summary}", flush=True)
    names = args.jobs.split(",")

    started = time.time()
    calib = args.out / "calibration"
    calib.mkdir(exist_ok=True)
    codes = launch(names, {n: args.calibrate for n in names}, calib, args, minutes=3, calibrating=True)
    from gener.training.pretrain import seconds_per_step

    rates = {n: seconds_per_step(json.loads((calib / f"{n}.clock.json").read_text()), skip=args.calibrate // 4)
             for n in names}
    print(f"calibration ({time.time() - started:.0f} s): exit codes {codes}; seconds/step "
          + ", ".join(f"{n} {r:.3f}" for n, r in rates.items()), flush=True)

    # Jobs share the GPU: a job that finishes early frees time for the others, so the
    # estimate from the crowded calibration is conservative. 0.9 leaves room for evaluation.
    # Steps a multiple of 20, so the checkpoints (every quarter) fall on validation steps (every 20th).
    steps = {n: max(int(args.budget / rates[n] * 0.9) // 20 * 20, 20) for n in names}
    print(f"steps: {steps}", flush=True)
    (args.out / "jobs.json").write_text(json.dumps({"budget_s": args.budget, "seconds_per_step": rates,
                                                     "steps": steps, "seq_len": args.seq_len, "batch": args.batch,
                                                     "generator_jobs": GENERATOR_JOBS}, indent=1))
    started = time.time()
    codes = launch(names, steps, args.out, args, minutes=args.budget / 60 + 0.75)
    print(f"training ({time.time() - started:.0f} s): exit codes {codes}", flush=True)
    if args.pack:
        pack(args.out, names, args.pack)
    return 0 if all(c == 0 for c in codes.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
