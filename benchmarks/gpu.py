"""The published checkpoints' shapes on one GPU, in at most 9 minutes: annotation,
generation, scoring, embedding, one full-context forward, pre-training, bf16 vs fp32.

    python benchmarks/gpu.py [--genome NC_000913.gbk.gz] [--out results/gpu] [--budget 540]
    python benchmarks/gpu.py --smoke --out /tmp/gpu-smoke     # every part at toy size, on the CPU

Random weights throughout (no download; speed does not depend on the values, except the
decoder's share of annotation, which depends on the probabilities it reads): GENERanno-0.5B
with the published annotator head (two strand heads, 2 labels) and GENERator-1.2B, built
directly on the device. ``--genome`` is E. coli K-12 (default: ``ecoli-k12`` from the gener
data cache); ``--smoke`` uses the committed 60 kb E. coli fixture and the tiny presets.

Parts, in this order, each with its own time limit (``PARTS``) and all within ``--budget``:
- ``agreement``: bf16 vs fp32 of both models on one window of the genome (fp32 without TF32):
  max / mean absolute logit difference, argmax agreement, mean KL(fp32 || bf16);
- ``annotate``: ``Annotator(model=..., window=8192)`` on the whole genome, end to end (reading
  the probabilities off the model, then decoding on the CPU), after a warm-up on 50 kb;
- ``forward_16k``: one forward pass of 16,384 tokens (98,304 bp) with logits: time, peak memory;
- ``generate``: HF ``generate`` with the KV cache, batch 1 and 64, exactly 1,000 new 6-mers
  after a 600 bp prompt (specials banned, so every sample has the same length): tokens/s;
- ``score_embed``: ``score_sequences`` (token mode, full-context windows) on 1 Mbp and
  ``embed_sequences`` (last-token pooling) on 6 kbp records: kbp/s;
- ``pretrain``: ``gener.training.pretrain.pretrain`` on generator-1.2b, 16,384-token windows,
  batch 1, with ``configs/fsdp.yaml``, in a ``torchrun --nproc_per_node 1`` process: tokens/s
  after warm-up steps, MFU, peak memory, and a profile of one step (where the GPU time goes,
  and how much of the step the GPU is idle) -- what limits it. The run is cut after the
  measured steps; nothing is saved.

MFU = tokens/s x (6 N + 12 L d T) / peak, with N the parameters without the input embedding
(a lookup), L layers, d hidden size, T = 16,384 (PaLM's convention: causal attention counted in
full). Peak: dense bf16 of the GPU (``PEAK_TFLOPS``, or ``--peak-tflops``).

OUT/gpu.json is rewritten after every part, so a part that fails or runs out of time is
recorded as such and the results before it survive; OUT/gpu.md is the table.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import json
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "data" / "ecoli_k12_60kb.fa"
FSDP_CONFIG = ROOT / "configs" / "fsdp.yaml"
PARTS = {"agreement": 45, "annotate": 110, "forward_16k": 30, "generate": 100, "score_embed": 60, "pretrain": 170}
PEAK_TFLOPS = {"H200": 989.4, "H100": 989.4, "A100": 312.0, "L40S": 362.1, "RTX 4090": 165.2}  # dense bf16

FULL = dict(generator="generator-1.2b", annotator="generanno-0.5b", window=8192, annotate_batch=8, warm_bp=50_000,
            agreement_tokens=2048, forward_tokens=16384, new_tokens=1000, batches=(1, 64), score_bp=1_000_000,
            embed_bp=1_000_000, embed_record=6000, seq_len=16384, warmup_steps=3, measure_steps=20)
SMOKE = dict(generator="generator-tiny", annotator="generanno-tiny", window=512, annotate_batch=8, warm_bp=1000,
             agreement_tokens=128, forward_tokens=512, new_tokens=16, batches=(1, 4), score_bp=6000,
             embed_bp=6000, embed_record=2000, seq_len=128, warmup_steps=1, measure_steps=2)


class PartTimeout(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise PartTimeout in this (main) thread after ``seconds``, at the next Python bytecode."""
    def expire(signum, frame):
        raise PartTimeout(f"time limit of {seconds:.0f} s reached")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def sync(device):
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device):
    sync(device)
    started = time.perf_counter()
    out = fn()
    sync(device)
    return out, time.perf_counter() - started


class Models:
    """The two benchmark models, built once on the device with seeded random weights; a
    model asked for in another dtype is converted in place (fp32 first, then bf16)."""

    def __init__(self, cfg, device):
        self.cfg, self.device, self.cache = cfg, device, {}

    def get(self, which: str, dtype):
        import torch

        from gener.modeling.presets import build_model

        if which not in self.cache:
            torch.manual_seed(0)
            with torch.device(self.device):
                model = (build_model(self.cfg["generator"]) if which == "generator" else
                         build_model(self.cfg["annotator"], "token-classification", num_labels=2))
            self.cache[which] = model.eval()
        model = self.cache[which]
        for param in model.parameters():  # parameters only: RoPE's inv_freq stays fp32, as gener.load keeps it
            param.data = param.data.to(dtype)
        return model

    def free(self):
        import torch

        self.cache.clear()
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()


def part_agreement(cfg, models, genome, device):
    import torch

    from gener.tokenization import KmerTokenizer, NucleotideTokenizer

    out = {}
    for which, tok in (("generator", KmerTokenizer()), ("annotator", NucleotideTokenizer())):
        n = cfg["agreement_tokens"]
        ids = tok.encode_bulk(genome[: n * tok.k], add_bos=False, add_eos=False)[:n]
        x = torch.as_tensor(ids[None], dtype=torch.long, device=device)
        tf32 = torch.backends.cuda.matmul.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = False  # a true fp32 reference
        model = models.get(which, torch.float32)
        with torch.inference_mode():
            ref = model(input_ids=x).logits.float()
        torch.backends.cuda.matmul.allow_tf32 = tf32
        model = models.get(which, torch.bfloat16)  # (converted outside inference mode: weights stay normal tensors)
        with torch.inference_mode():
            low = model(input_ids=x).logits.float()
        diff = (ref - low).abs()
        kl = torch.nn.functional.kl_div(low.log_softmax(-1), ref.log_softmax(-1), log_target=True, reduction="none")
        out[which] = {"tokens": n, "max_abs_diff": round(diff.max().item(), 5), "mean_abs_diff": round(diff.mean().item(), 6),
                      "logit_std": round(ref.std().item(), 5),
                      "argmax_agreement": round((ref.argmax(-1) == low.argmax(-1)).float().mean().item(), 5),
                      "mean_kl": float(f"{kl.sum(-1).mean().item():.3g}")}
    return out


def part_annotate(cfg, models, records, device):
    import torch

    from gener.tasks.annotate.annotator import Annotator
    from gener.tokenization import NucleotideTokenizer

    model = models.get("annotator", torch.bfloat16 if device.type == "cuda" else torch.float32)
    annotator = Annotator(model=model, tokenizer=NucleotideTokenizer(), window=cfg["window"],
                          batch_size=cfg["annotate_batch"])
    annotator.annotate(records[0].sequence[: cfg["warm_bp"]], "warm-up")
    total = sum(len(r.sequence) for r in records)
    in_model = [0.0]  # seconds inside the model's forward passes (hooks; the batch's .cpu() syncs anyway)

    def enter(module, inputs):
        sync(device)
        in_model.append(time.perf_counter())

    def leave(module, inputs, output):
        sync(device)
        in_model[0] += time.perf_counter() - in_model.pop()

    net = annotator.runner()  # on a CPU with bf16 units, a bf16 copy of ``model``
    hooks = [net.register_forward_pre_hook(enter), net.register_forward_hook(leave)]
    try:
        results, seconds = timed(lambda: list(annotator.annotate_records(records)), device)
    finally:
        for hook in hooks:
            hook.remove()
    return {"bp": total, "records": len(records), "window": cfg["window"], "batch_windows": cfg["annotate_batch"],
            "dtype": str(next(model.parameters()).dtype).replace("torch.", ""), "seconds": round(seconds, 2),
            "kbp_per_s": round(total / seconds / 1e3, 1), "model_seconds": round(in_model[0], 2),
            "other_seconds": round(seconds - in_model[0], 2),  # genome statistics, stitching, decoding (CPU)
            "genes": sum(len(g) for _, _, g in results), "goal_seconds": 15, "published_rtx4090_seconds": 80}


def part_forward(cfg, models, genome, device):
    import torch

    from gener.tokenization import KmerTokenizer

    model = models.get("generator", torch.bfloat16 if device.type == "cuda" else torch.float32)
    tok = KmerTokenizer()
    n = cfg["forward_tokens"]
    ids = tok.encode_bulk(genome[: (n - 1) * 6], add_bos=True, add_eos=False)
    x = torch.as_tensor(ids[None], dtype=torch.long, device=device)
    with torch.inference_mode():
        model(input_ids=x[:, :256])  # warm-up
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device) if device.type == "cuda" else 0
        out, seconds = timed(lambda: model(input_ids=x).logits, device)
    result = {"tokens": x.shape[1], "bp": (x.shape[1] - 1) * 6, "seconds": round(seconds, 3),
              "tokens_per_s": round(x.shape[1] / seconds), "logits_dtype": str(out.dtype).replace("torch.", "")}
    if device.type == "cuda":
        result.update(peak_gib=round(torch.cuda.max_memory_allocated(device) / 2**30, 2),
                      activations_gib=round((torch.cuda.max_memory_allocated(device) - before) / 2**30, 2),
                      weights_gib=round(before / 2**30, 2))
    return result


def part_generate(cfg, models, genome, device):
    import torch
    from transformers import GenerationConfig

    from gener.tasks.generate import DnaOnly
    from gener.tokenization import KmerTokenizer

    model = models.get("generator", torch.bfloat16 if device.type == "cuda" else torch.float32)
    tok = KmerTokenizer()
    processor = DnaOnly(tok, model.get_output_embeddings().weight.shape[0], allow_eos=False)

    def run(batch, new):
        rows = [[tok.bos_token_id] + tok.encode_bulk(genome[i * 7000: i * 7000 + 600], add_bos=False).tolist()
                for i in range(batch)]
        ids = torch.tensor(rows, device=device)
        config = GenerationConfig(max_new_tokens=new, min_new_tokens=new, do_sample=False, use_cache=True,
                                  eos_token_id=None, pad_token_id=tok.pad_token_id)
        with torch.inference_mode():
            return model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=config,
                                  logits_processor=[processor])

    run(1, 8)  # warm-up
    out = {"prompt_bp": 600, "new_tokens": cfg["new_tokens"], "cache": "dynamic (HF default)"}
    for batch in cfg["batches"]:
        tokens, seconds = timed(lambda: run(batch, cfg["new_tokens"]), device)
        assert tokens.shape == (batch, 101 + cfg["new_tokens"])
        out[f"batch_{batch}"] = {"seconds": round(seconds, 2), "tokens_per_s": round(batch * cfg["new_tokens"] / seconds, 1),
                                 "kbp_per_s": round(batch * cfg["new_tokens"] * 6 / seconds / 1e3, 2)}
    return out


def part_score_embed(cfg, models, genome, device):
    import torch

    from gener.tasks.embed import embed_sequences
    from gener.tasks.score import score_sequences
    from gener.tokenization import KmerTokenizer

    model = models.get("generator", torch.bfloat16 if device.type == "cuda" else torch.float32)
    tok = KmerTokenizer()
    list(score_sequences(model, tok, [("warm-up", genome[:12_000])]))
    seq = genome[: cfg["score_bp"]]
    scores, seconds = timed(lambda: list(score_sequences(model, tok, [("genome", seq)])), device)
    out = {"score": {"bp": len(seq), "window_tokens": model.config.max_position_embeddings, "seconds": round(seconds, 2),
                     "kbp_per_s": round(len(seq) / seconds / 1e3, 1), "nats_per_bp": round(scores[0].per_bp, 4)}}
    size = cfg["embed_record"]
    records = [(f"r{i}", genome[i:i + size]) for i in range(0, cfg["embed_bp"], size)]
    rows, seconds = timed(lambda: list(embed_sequences(model, tok, records, pool="last", window=1024, batch_size=32)),
                          device)
    bp = sum(len(s) for _, s in records)
    out["embed"] = {"records": len(rows), "record_bp": size, "seconds": round(seconds, 2),
                    "kbp_per_s": round(bp / seconds / 1e3, 1)}
    return out


def part_pretrain(args, genome_path, limit):
    """``torchrun --nproc_per_node 1`` of this script's pretrain job, killed at ``limit``."""
    import socket

    work = args.out / "pretrain"
    work.mkdir(parents=True, exist_ok=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "1", "--master_addr", "127.0.0.1",
           "--master_port", str(port), __file__, "--job", "pretrain", "--genome", str(genome_path),
           "--out", str(work), "--seconds", str(max(limit - 75, 10))] + (["--smoke"] if args.smoke else []) + (
           ["--peak-tflops", str(args.peak_tflops)] if args.peak_tflops else [])
    with open(work / "log.txt", "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            code = "killed at the time limit"
    result, log = work / "result.json", (work / "log.txt").read_text()
    if result.exists():
        said = [line.split(":", 1)[1].strip() for line in log.splitlines() if line.startswith("parallelism:")]
        return {**json.loads(result.read_text()), "parallelism": said[0] if said else None}
    tail = log[-1500:]
    raise RuntimeError(f"pretrain job ended ({code}) without results; log tail:\n{tail}")


def pretrain_job(args) -> None:
    """Runs under torchrun: pre-train generator-1.2b (or -tiny) for a few timed steps."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import torch
    from transformers import TrainerCallback

    from gener.data.shards import write_shards
    from gener.modeling.presets import build_config, count_parameters
    from gener.tasks.annotate.annotator import read_records
    from gener.training.pretrain import StepClock, pretrain, seconds_per_step

    cfg = SMOKE if args.smoke else FULL
    seq_len, preset = cfg["seq_len"], cfg["generator"]
    out = args.out
    genome = "".join(r.sequence for r in read_records(args.genome))
    chunks = [genome[i:i + 200_000] for i in range(0, len(genome), 200_000)]
    pq.write_table(pa.table({"sequence": chunks}), out / "regions.parquet")
    write_shards(out / "regions.parquet", out / "shards", tokenizer="kmer", force=True)
    config = build_config(preset)
    layers, hidden = config.num_hidden_layers, config.hidden_size
    params = count_parameters(preset) - config.vocab_size * hidden  # the input embedding is a lookup
    flops_per_token = 6 * params + 12 * layers * hidden * seq_len
    clock = StepClock()
    warm, measure = cfg["warmup_steps"], cfg["measure_steps"]
    cuda = torch.cuda.is_available()

    class Measure(TrainerCallback):
        """After warm-up, time steps until ``--seconds`` or ``measure`` steps, profile one more
        step, write the results and end the process (no checkpoint, no final save)."""

        def __init__(self):
            self.began, self.profiler = None, None

        def on_step_begin(self, args_, state, control, **kwargs):
            if state.global_step == warm:
                self.began = time.time()
            if self.profiler is None and self.done():
                from torch.profiler import ProfilerActivity, profile

                activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
                self.profiler = profile(activities=activities)
                self.profiler.__enter__()
                self.profiled_from = time.time()

        def done(self):
            steps = len(clock.times) - warm
            return self.began is not None and steps >= 2 and (steps >= measure or time.time() - self.began > args.seconds)

        def on_step_end(self, args_, state, control, **kwargs):
            if self.profiler is None:
                return
            if cuda:
                torch.cuda.synchronize()
            self.profiler.__exit__(None, None, None)
            wall = time.time() - self.profiled_from
            times = clock.times[:-1]  # the profiled step is not timed
            step_s = seconds_per_step(times, skip=warm - 1)
            tokens_per_s = seq_len / step_s
            peak = args.peak_tflops or peak_tflops()
            record = {"preset": preset, "seq_len": seq_len, "batch": 1, "processes": 1, "config": FSDP_CONFIG.name,
                      "parameters": count_parameters(preset), "steps_timed": len(times) - warm,
                      "seconds_per_step": round(step_s, 3), "tokens_per_s": round(tokens_per_s),
                      "model_tflops_per_token": flops_per_token / 1e12,
                      "achieved_tflops": round(tokens_per_s * flops_per_token / 1e12, 1),
                      "peak_tflops": peak, "mfu": round(tokens_per_s * flops_per_token / 1e12 / peak, 3) if peak else None,
                      "peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 1) if cuda else None,
                      "activation_checkpointing": False, "profile": profile_summary(self.profiler, wall, cuda)}
            (out / "result.json").write_text(json.dumps(record, indent=1))
            print(json.dumps(record), flush=True)
            sys.stdout.flush()
            os._exit(0)  # the measurement is the product; a 1.2B checkpoint would cost half a minute

    pretrain(preset, out / "shards", out / "run", seq_len=seq_len, tokens_per_step=seq_len, batch_size=1,
             learning_rate=1e-4, warmup_steps=warm, steps=10_000, save_steps=10**9, logging_steps=10**6,
             config=FSDP_CONFIG, callbacks=[clock, Measure()])
    raise SystemExit("pretrain ended before the measured steps")


def profile_summary(profiler, wall: float, cuda: bool) -> dict:
    """Where one step's time goes: device (kernel) time by kind, and the device's idle share."""
    kinds = {"attention": ("flash", "fmha", "attention", "sdpa", "efficient"),  # before matmul: cutlass-based too
             "matmul": ("gemm", "matmul", "cutlass", "xmma", "nvjet", "aten::mm", "aten::addmm", "aten::bmm",
                        "aten::linear"),
             "communication": ("nccl", "allgather", "reduce_scatter", "all_gather"),
             "optimizer": ("adam", "foreach", "multi_tensor")}
    totals, top = {k: 0.0 for k in (*kinds, "other")}, []
    for event in profiler.key_averages():
        if cuda and str(getattr(event, "device_type", "")).split(".")[-1] != "CUDA":
            continue
        us = event.self_device_time_total if cuda else event.self_cpu_time_total
        if us <= 0 or (not cuda and not event.key.startswith("aten::")):
            continue
        name = event.key.lower()
        kind = next((k for k, words in kinds.items() if any(w in name for w in words)), "other")
        totals[kind] += us / 1e6
        top.append((us / 1e6, event.key[:80]))
    busy = sum(totals.values())
    return {"step_wall_s": round(wall, 3), "device_busy_s": round(busy, 3),
            "device_idle_share": round(max(0.0, 1 - busy / wall), 3) if cuda else None,
            "share_by_kind": {k: round(v / busy, 3) for k, v in totals.items()} if busy else {},
            "top": [{"seconds": round(s, 4), "name": n} for s, n in sorted(top, reverse=True)[:8]]}


def peak_tflops() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name()
    return next((v for k, v in PEAK_TFLOPS.items() if k in name), None)


def environment(device) -> dict:
    import torch
    import transformers

    info = {"date": datetime.date.today().isoformat(), "torch": torch.__version__,
            "transformers": transformers.__version__, "device": str(device)}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(gpu=props.name, gpu_memory_gib=round(props.total_memory / 2**30, 1), peak_tflops_bf16=peak_tflops())
    else:
        info.update(gpu=None, cpu_threads=torch.get_num_threads())
    return info


def markdown(results: dict) -> str:
    env = results["environment"]
    lines = [f"GPU benchmark, {env['date']}: {env.get('gpu') or 'CPU (smoke, toy sizes)'}, torch {env['torch']}, "
             f"transformers {env['transformers']}", "", "| part | measured |", "|---|---|"]
    for name, part in results["parts"].items():
        if part.get("status") != "ok":
            lines.append(f"| {name} | {part.get('status')}: {part.get('error', '')[:120]} |")
            continue
        lines.append(f"| {name} | {describe(name, part)} |")
    return "\n".join(lines) + "\n"


def describe(name: str, p: dict) -> str:
    if name == "agreement":
        return "; ".join(f"{m}: max abs diff {v['max_abs_diff']} (logit std {v['logit_std']}), argmax agreement "
                         f"{v['argmax_agreement']:.2%}, KL {v['mean_kl']}" for m, v in p.items() if isinstance(v, dict))
    if name == "annotate":
        return (f"{p['bp']:,} bp in {p['seconds']} s ({p['kbp_per_s']} kbp/s, {p['dtype']}, {p['window']}-bp windows x "
                f"{p['batch_windows']}): {p['model_seconds']} s in the model, {p['other_seconds']} s on the CPU (genome "
                f"statistics, stitching, decoding); {p['genes']:,} genes; "
                f"goal <= {p['goal_seconds']} s, published pipeline ~{p['published_rtx4090_seconds']} s on an RTX 4090")
    if name == "forward_16k":
        memory = f", peak {p['peak_gib']} GiB ({p['activations_gib']} GiB over the weights)" if "peak_gib" in p else ""
        return f"{p['tokens']:,} tokens ({p['bp']:,} bp) in {p['seconds']} s{memory}"
    if name == "generate":
        runs = [f"batch {k.split('_')[1]}: {v['tokens_per_s']:,} tokens/s ({v['kbp_per_s']} kbp/s)"
                for k, v in p.items() if k.startswith("batch_")]
        return f"{p['new_tokens']:,} new tokens, KV cache: " + "; ".join(runs)
    if name == "score_embed":
        s, e = p["score"], p["embed"]
        return (f"score {s['bp']:,} bp: {s['kbp_per_s']} kbp/s ({s['window_tokens']:,}-token windows); "
                f"embed {e['records']} x {e['record_bp']:,} bp: {e['kbp_per_s']} kbp/s")
    if name == "pretrain":
        prof = p["profile"]
        kinds = ", ".join(f"{k} {v:.0%}" for k, v in sorted(prof["share_by_kind"].items(), key=lambda kv: -kv[1]) if v)
        mfu = f"MFU {p['mfu']:.1%} of {p['peak_tflops']} TFLOPS" if p.get("mfu") is not None else "MFU n/a (no GPU)"
        idle = f", device idle {prof['device_idle_share']:.0%} of the step" if prof.get("device_idle_share") is not None else ""
        memory = f", peak {p['peak_memory_gib']} GiB" if p.get("peak_memory_gib") else ""
        return (f"{p['preset']}, {p['seq_len']:,} tokens x 1, {p['config']}: {p['tokens_per_s']:,} tokens/s "
                f"({p['seconds_per_step']} s/step), {mfu}{memory}; device time: {kinds}{idle}")
    return json.dumps(p)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genome", type=Path, help="E. coli K-12 (FASTA / GenBank); default: ecoli-k12 of the data cache")
    ap.add_argument("--out", type=Path, default=Path("gpu-benchmark"))
    ap.add_argument("--budget", type=float, default=540, help="seconds for all parts together")
    ap.add_argument("--parts", default=",".join(PARTS), help="comma-separated subset of: " + ", ".join(PARTS))
    ap.add_argument("--smoke", action="store_true", help="toy sizes on the CPU (what CI runs)")
    ap.add_argument("--peak-tflops", type=float, help="the device's dense bf16 peak, if not in PEAK_TFLOPS")
    ap.add_argument("--job", choices=["pretrain"], help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, default=60, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    started = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.genome is None:
        from gener.data.fetch import dataset_path

        args.genome = FIXTURE if args.smoke else dataset_path("ecoli-k12")
    if args.job == "pretrain":
        pretrain_job(args)
        return 0

    import torch

    from gener.tasks.annotate.annotator import read_records

    cfg = SMOKE if args.smoke else FULL
    device = torch.device("cpu" if args.smoke or not torch.cuda.is_available() else "cuda")
    records = list(read_records(args.genome))
    genome = records[0].sequence
    if args.smoke:
        records = [type(records[0])(records[0].id, "", genome[:6000], False)]
    models = Models(cfg, device)
    results = {"environment": environment(device), "genome": str(args.genome), "smoke": args.smoke, "parts": {}}
    chosen = [p for p in args.parts.split(",") if p]
    unknown = set(chosen) - set(PARTS)
    if unknown:
        ap.error(f"unknown parts: {', '.join(sorted(unknown))}")
    runs = {"agreement": lambda: part_agreement(cfg, models, genome, device),
            "annotate": lambda: part_annotate(cfg, models, records, device),
            "forward_16k": lambda: part_forward(cfg, models, genome, device),
            "generate": lambda: part_generate(cfg, models, genome, device),
            "score_embed": lambda: part_score_embed(cfg, models, genome, device)}
    for name in (p for p in PARTS if p in chosen):
        limit = min(PARTS[name], args.budget - (time.time() - started))
        if limit < 10:
            results["parts"][name] = {"status": "skipped", "error": "no time left in --budget"}
            continue
        print(f"[{time.time() - started:5.0f} s] {name} (limit {limit:.0f} s)", flush=True)
        part_started = time.time()
        try:
            if name == "pretrain":
                models.free()  # the training process needs the GPU's memory
                value = part_pretrain(args, args.genome, limit)
            else:
                with time_limit(limit):
                    value = runs[name]()
            results["parts"][name] = {"status": "ok", **value}
        except PartTimeout as exc:
            results["parts"][name] = {"status": "timeout", "error": str(exc)}
        except Exception as exc:  # a part's failure is a result; the other parts still run
            traceback.print_exc()
            results["parts"][name] = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
        results["parts"][name]["wall_s"] = round(time.time() - part_started, 1)
        print(f"        -> {json.dumps(results['parts'][name])[:400]}", flush=True)
        results["total_s"] = round(time.time() - started, 1)
        (args.out / "gpu.json").write_text(json.dumps(results, indent=1) + "\n")
        (args.out / "gpu.md").write_text(markdown(results))
    print(markdown(results))
    return 0 if all(p["status"] == "ok" for p in results["parts"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
