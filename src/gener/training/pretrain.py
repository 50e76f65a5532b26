"""Pre-train GENERator (causal 6-mer LM) or GENERanno (masked single-nucleotide LM) from shards.

The paper's recipe (docs/pretraining.md) on the HF Trainer, so that ``torchrun`` with DDP
or FSDP (``--config configs/fsdp.yaml``) runs the same command unchanged:

- data: packed windows of :class:`gener.data.shards.ShardDataset`; for 6-mer models a fresh
  start offset 0..5 per window per epoch (the epoch reaches the dataset through
  :class:`SetEpochCallback`, as accelerate does not forward it to a map-style dataset);
- objective by family: causal LM for ``generator-*``; for ``generanno-*`` masked LM with
  :class:`MaskedNucleotideCollator` (15% of A/C/G/T positions; 80% ``<mask>`` / 10% another
  base / 10% unchanged; N, other IUPAC codes and specials never chosen);
- tokens per step: a target that gradient accumulation reaches,
  ``accum = ceil(target / (batch * seq_len * world_size))`` (paper: 2M = 128 x 16,384);
- AdamW (0.9, 0.95), weight decay 0.1, linear warm-up then cosine to 10% of peak, gradient
  clipping 1.0; bf16 where the GPU supports it (fp32 on CPU), SDPA attention;
- checkpoints every ``save_steps`` and exact resume: window ``i`` of epoch ``e`` is a pure
  function of (seed, e, i), masking too (seeded per window, not from a global RNG), the
  sampler order comes from accelerate's seedable sampler, so a resumed run logs the same
  losses as an uninterrupted one; ``RUN/loss.csv`` (truncated to the checkpoint on resume)
  and ``RUN/loss.png``.
"""

from __future__ import annotations

import csv
import functools
import inspect
import json
import math
import os
import re
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_model
from transformers import Trainer, TrainerCallback, TrainerState, TrainingArguments

from gener.data.shards import ShardDataset
from gener.errors import GenerInputError
from gener.modeling import presets
from gener.modeling.factorised import factorise, materialise
from gener.progress import replace_trainer_output
from gener.training.recipe import recipe_arguments, use_bf16

PAPER_TOKENS_PER_STEP = 128 * 16384  # 2,097,152
IGNORE = -100
LOSS_COLUMNS = ("step", "epoch", "loss", "learning_rate", "grad_norm", "tokens")
EVAL_COLUMNS = ("step", "tokens", "eval_loss")


class KeyedWindows(torch.utils.data.Dataset):
    """A :class:`ShardDataset` whose items also carry ``sample_key`` = (seed, epoch, index), so
    the collator can draw each window's masking from its own seeded generator: the same
    masks after a resume, in any DataLoader worker and on any number of processes."""

    def __init__(self, windows: ShardDataset):
        self.windows = windows

    def __len__(self) -> int:
        return len(self.windows)

    def set_epoch(self, epoch: int) -> None:
        self.windows.set_epoch(epoch)

    @property
    def epoch(self) -> int:
        return self.windows.epoch

    def __getitem__(self, index: int) -> dict:
        w = self.windows
        return {"input_ids": w[index]["input_ids"],
                "sample_key": torch.tensor([w.seed, w.epoch, int(index)], dtype=torch.long)}


def _stack(features) -> tuple[torch.Tensor, list]:
    ids = torch.stack([torch.as_tensor(f["input_ids"]) for f in features]).long()
    keys = [tuple(int(x) for x in f["sample_key"]) if "sample_key" in f else None for f in features]
    return ids, keys


class CausalCollator:
    """Packed windows as they are: ``labels = input_ids`` (the model shifts them)."""

    def __call__(self, features) -> dict:
        ids, _ = _stack(features)
        return {"input_ids": ids, "labels": ids.clone()}


class MaskedNucleotideCollator:
    """BERT-style masking for GENERanno over single-nucleotide ids.

    Of the A/C/G/T positions, each is chosen with ``probability`` (15%); a chosen one becomes
    ``<mask>`` (80%), another base drawn uniformly from the three others (10%), or stays
    (10%); ``labels`` hold the original id there and -100 everywhere else. N, the other IUPAC
    codes and every special token (``<s>``, ``</s>``, ``<pad>``, ...) are never chosen, so
    the model is never asked to predict them. Each window's draws come from a generator
    seeded by its ``sample_key`` when it has one (exact resume), else from ``seed`` and a
    call counter.
    """

    def __init__(self, tokenizer, probability: float = 0.15, mask_rate: float = 0.8, random_rate: float = 0.1,
                 seed: int = 0):
        if not 0 <= probability <= 1 or mask_rate < 0 or random_rate < 0 or mask_rate + random_rate > 1:
            raise ValueError("need 0 <= probability <= 1 and mask_rate + random_rate <= 1")
        self.bases = np.array([tokenizer.convert_tokens_to_ids(b) for b in "ACGT"], dtype=np.int64)
        self.mask_id = int(tokenizer.mask_token_id)
        self.probability, self.mask_rate, self.random_rate = probability, mask_rate, random_rate
        self.seed, self._calls = int(seed), 0
        self._base_index = np.full(int(max(self.bases.max(), self.mask_id)) + 1, -1, dtype=np.int64)
        self._base_index[self.bases] = np.arange(4)

    def __call__(self, features) -> dict:
        ids, keys = _stack(features)
        inputs, labels = ids.numpy().copy(), np.full(ids.shape, IGNORE, dtype=np.int64)
        self._calls += 1
        for row, key in enumerate(keys):
            rng = np.random.default_rng(key if key is not None else (self.seed, 1 << 40, self._calls, row))
            self._mask_row(inputs[row], labels[row], rng)
        return {"input_ids": torch.from_numpy(inputs), "labels": torch.from_numpy(labels)}

    def _mask_row(self, x: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> None:
        n = len(x)
        chosen_u, kind_u, shift = rng.random(n), rng.random(n), rng.integers(1, 4, n)
        base = np.where(x < len(self._base_index), self._base_index[np.minimum(x, len(self._base_index) - 1)], -1)
        chosen = (base >= 0) & (chosen_u < self.probability)
        labels[chosen] = x[chosen]
        to_mask = chosen & (kind_u < self.mask_rate)
        to_random = chosen & (kind_u >= self.mask_rate) & (kind_u < self.mask_rate + self.random_rate)
        x[to_random] = self.bases[(base[to_random] + shift[to_random]) % 4]  # never the original base
        x[to_mask] = self.mask_id


def _masked_lm_loss(outputs, labels, num_items_in_batch=None):
    """Sum of the chosen positions' cross-entropy over the number of chosen positions in the
    whole optimizer step (all micro-batches, all processes): a token-level mean that gradient
    accumulation does not distort."""
    logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
    total = torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.size(-1)), labels.reshape(-1).to(logits.device),
                                              ignore_index=IGNORE, reduction="sum")
    if num_items_in_batch is None:
        num_items_in_batch = labels.ne(IGNORE).sum()
    if torch.is_tensor(num_items_in_batch):
        num_items_in_batch = num_items_in_batch.to(total.device).clamp(min=1)
    else:
        num_items_in_batch = max(int(num_items_in_batch), 1)
    return total / num_items_in_batch


class SetEpochCallback(TrainerCallback):
    """Tells the dataset the epoch at each epoch start (fresh 6-mer offsets, fresh masks)."""

    def __init__(self, dataset):
        self.dataset = dataset

    def on_epoch_begin(self, args, state, control, **kwargs):
        # state.epoch is the float epoch reached so far: whole at an epoch boundary, and on a
        # mid-epoch resume e.g. 2.5 while the loop re-enters epoch 2.
        self.dataset.set_epoch(math.floor((state.epoch or 0) + 1e-6))


class LossLogCallback(TrainerCallback):
    """Appends every logged training loss to ``RUN/loss.csv`` and every validation loss to
    ``RUN/eval.csv``, and plots ``RUN/loss.png`` at the end. On resume, rows past the
    checkpoint's step are dropped first, so the logs read as one uninterrupted run."""

    def __init__(self, run_dir: Path, tokens_per_step: int):
        self.path = Path(run_dir) / "loss.csv"
        self.eval_path = Path(run_dir) / "eval.csv"
        self.last_step = 0
        self.tokens_per_step = tokens_per_step

    def on_train_begin(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        kept = _rewrite_log(self.path, LOSS_COLUMNS, state.global_step)
        self.last_step = kept[-1]["step"] if kept else 0
        if self.eval_path.exists():
            _rewrite_log(self.eval_path, EVAL_COLUMNS, state.global_step)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        tokens = state.global_step * self.tokens_per_step
        if "eval_loss" in logs:
            new = not self.eval_path.exists()
            with open(self.eval_path, "a", newline="") as fh:
                writer = csv.writer(fh)
                if new:
                    writer.writerow(EVAL_COLUMNS)
                writer.writerow([_fmt(v) for v in (state.global_step, tokens, logs["eval_loss"])])
        if "loss" not in logs or state.global_step <= self.last_step:
            return  # (a run resumed at its last step logs that step once more)
        self.last_step = state.global_step
        row = [state.global_step, state.epoch, logs["loss"], logs.get("learning_rate"), logs.get("grad_norm"), tokens]
        with open(self.path, "a", newline="") as fh:
            csv.writer(fh).writerow([_fmt(v) for v in row])

    def on_train_end(self, args, state, control, **kwargs):
        if state.is_world_process_zero and self.path.exists():
            plot_loss(self.path, self.path.with_suffix(".png"))


class TimeLimitCallback(TrainerCallback):
    """Stops training after ``minutes`` of wall time (then ``final/`` is saved as usual): for
    fixed compute budgets. The schedule is not shortened, so a run stopped early ends before
    its learning rate has decayed; pick ``--steps`` to fit the budget when that matters."""

    def __init__(self, minutes: float):
        self.seconds, self.started = minutes * 60, None

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.time()

    def on_step_end(self, args, state, control, **kwargs):
        if time.time() - self.started > self.seconds:
            control.should_training_stop = True
            control.should_save = True


class StepClock(TrainerCallback):
    """Records when each optimizer step ends, and rewrites them to ``path`` (JSON) when given,
    so another process can read a run's speed while it runs: step budgets and benchmarks."""

    def __init__(self, path=None):
        self.times: list[float] = []
        self.path = Path(path) if path else None

    def on_step_end(self, args, state, control, **kwargs):
        self.times.append(time.time())
        if self.path is not None:
            self.path.write_text(json.dumps(self.times))


def seconds_per_step(times: list[float], skip: int = 0) -> float:
    """Mean seconds per step from step end times, leaving out the first ``skip`` steps (warm-up)."""
    if len(times) - skip < 2:
        raise ValueError(f"{len(times)} step times: too few to measure after skipping {skip}")
    return (times[-1] - times[skip]) / (len(times) - 1 - skip)


def _rewrite_log(path: Path, columns, up_to_step: int) -> list[dict]:
    """Rewrite a log CSV keeping only its rows up to ``up_to_step`` (a new file: the header)."""
    rows = [r for r in read_loss_log(path) if r["step"] <= up_to_step] if path.exists() else []
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows([_fmt(r[c]) for c in columns] for r in rows)
    return rows


def _fmt(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return repr(float(value)) if isinstance(value, float) else value


def read_loss_log(path) -> list[dict]:
    """``loss.csv`` as a list of dicts (step and tokens int, the rest float or None)."""
    out = []
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            out.append({k: (int(float(v)) if k in ("step", "tokens") else float(v)) if v != "" else None
                        for k, v in r.items()})
    return out


def plot_loss(csv_path, png_path) -> Path | None:
    """Training loss (and learning rate) against step, as a PNG (Agg backend, no display)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - matplotlib is a dependency, but plotting is optional
        return None
    rows = read_loss_log(csv_path)
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot([r["step"] for r in rows], [r["loss"] for r in rows], color="tab:blue", lw=1)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("training loss", color="tab:blue")
    lr = [(r["step"], r["learning_rate"]) for r in rows if r["learning_rate"] is not None]
    if lr:
        twin = ax.twinx()
        twin.plot(*zip(*lr), color="tab:gray", lw=0.8, ls="--")
        twin.set_ylabel("learning rate", color="tab:gray")
    evals = Path(csv_path).with_name("eval.csv")
    if evals.exists():
        points = read_loss_log(evals)
        ax.plot([r["step"] for r in points], [r["eval_loss"] for r in points], "o-", color="tab:orange", ms=3,
                lw=1, label="validation")
        ax.legend(loc="upper right")
    ax.set_title(Path(csv_path).parent.name)
    fig.tight_layout()
    fig.savefig(png_path, dpi=120)
    plt.close(fig)
    return Path(png_path)


def load_training_config(path) -> dict:
    """Extra TrainingArguments from a YAML or JSON file (e.g. configs/fsdp.yaml)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GenerInputError(f"cannot read config ({exc.strerror})", path=path) from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml
            data = yaml.safe_load(text)
    except Exception as exc:  # yaml.YAMLError / json.JSONDecodeError
        raise GenerInputError(f"not a valid config file ({type(exc).__name__}: {exc})".splitlines()[0], path=path) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise GenerInputError("config must be a mapping of TrainingArguments fields", path=path)
    known = set(TrainingArguments.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise GenerInputError(f"unknown TrainingArguments field(s): {', '.join(unknown)}", path=path)
    return data


def _distributed_mode(trainer) -> str:
    kind = str(trainer.accelerator.distributed_type).split(".")[-1]
    return {"NO": "one process", "MULTI_CPU": "DDP (gloo)", "MULTI_GPU": "DDP (nccl)"}.get(kind, kind)


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


@dataclass
class PretrainPlan:
    preset: str
    family: str
    objective: str
    seq_len: int
    batch_size: int
    world_size: int
    grad_accum: int
    tokens_per_step_target: int
    windows: int
    dataset_tokens: int
    max_steps: int  # -1 when epochs decide
    epochs: float
    steps_per_epoch: int
    precision: str
    attention: str
    parameters: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def tokens_per_step(self) -> int:
        return self.batch_size * self.seq_len * self.world_size * self.grad_accum

    def describe(self) -> str:
        steps = f"{self.max_steps:,} steps" if self.max_steps > 0 else f"{self.epochs:g} epochs"
        total = self.max_steps if self.max_steps > 0 else math.ceil(self.epochs * self.steps_per_epoch)
        return (
            f"{self.preset} ({self.family}, {self.objective}, {self.parameters:,} parameters, {self.precision}, "
            f"{self.attention} attention)\n"
            f"data: {self.windows:,} windows of {self.seq_len:,} tokens ({self.dataset_tokens:,} tokens)\n"
            f"tokens per step: target {self.tokens_per_step_target:,} -> {self.batch_size} per device x "
            f"{self.seq_len:,} x {self.world_size} process(es) x {self.grad_accum} accumulation = "
            f"{self.tokens_per_step:,}\n"
            f"schedule: {steps} ({total:,} optimizer steps, {self.steps_per_epoch:,} per epoch)"
        )


def gradient_accumulation(target_tokens: int, batch_size: int, seq_len: int, processes: int) -> int:
    """The accumulation steps that reach ``target_tokens`` per optimizer step (at least 1)."""
    return max(1, math.ceil(int(target_tokens) / (batch_size * seq_len * processes)))


_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
_WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")


def checkpoints(run_dir) -> list[Path]:
    """The ``checkpoint-N`` directories of a run, newest (highest N) first."""
    run_dir = Path(run_dir)
    found = [(int(m.group(1)), p) for p in run_dir.iterdir() if p.is_dir() and (m := _CHECKPOINT.match(p.name))] \
        if run_dir.is_dir() else []
    return [p for _, p in sorted(found, reverse=True)]


def checkpoint_problem(path: Path) -> str | None:
    """Why ``path`` cannot be resumed from (None: it can). The Trainer writes
    ``trainer_state.json`` last, so a save cut short lacks it or a file before it."""
    from safetensors import SafetensorError, safe_open

    try:
        state = json.loads((path / "trainer_state.json").read_text())
        int(state["global_step"])
    except FileNotFoundError:
        return "no trainer_state.json: the save was cut short"
    except (OSError, ValueError, KeyError, TypeError):
        return "trainer_state.json is unreadable"
    weights = next((path / w for w in _WEIGHTS if (path / w).is_file()), None)
    if weights is None:
        return "no model weights"
    if weights.name == "model.safetensors":
        try:
            with safe_open(str(weights), framework="pt"):
                pass
        except (SafetensorError, OSError) as exc:
            return f"unreadable {weights.name} ({exc})"
    missing = [name for name in ("optimizer.pt", "scheduler.pt") if not (path / name).is_file()]
    return f"no {', '.join(missing)}" if missing else None


def last_complete_checkpoint(run_dir, warn=print) -> Path | None:
    """The newest checkpoint a run can resume from; newer, incomplete ones (a kill during a
    save) are skipped with a warning."""
    for path in checkpoints(run_dir):
        problem = checkpoint_problem(path)
        if problem is None:
            return path
        warn(f"{path} is incomplete ({problem}); skipped")
    return None


def _removes_what_it_created(fn):
    """A run that fails (an error, SIGINT, SIGTERM) before it saved a checkpoint removes what
    it created in its run directory, and the directory if it made it; once a complete
    checkpoint exists the directory stays as it is, for ``--resume``."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        out = Path(inspect.signature(fn).bind(*args, **kwargs).arguments["out"])
        existed = out.exists()
        before = set(out.iterdir()) if out.is_dir() else set()
        try:
            return fn(*args, **kwargs)
        except BaseException:
            if is_main_process() and out.is_dir():
                new = set(out.iterdir()) - before
                if not any(p in new and checkpoint_problem(p) is None for p in checkpoints(out)):
                    for path in new:
                        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
                    if not existed and not any(out.iterdir()):
                        out.rmdir()
            raise

    return wrapper


@dataclass
class PretrainResult:
    run_dir: Path
    final: Path
    loss_log: Path
    loss_plot: Path | None
    plan: PretrainPlan
    trainer: Trainer


@_removes_what_it_created
def pretrain(
    preset: str,
    data,
    out,
    *,
    seq_len: int | None = None,
    tokens_per_step: int = PAPER_TOKENS_PER_STEP,
    batch_size: int = 1,
    learning_rate: float = 4e-4,
    warmup_steps: int = 2000,
    steps: int | None = None,
    epochs: float | None = None,
    resume: bool = False,
    config=None,
    save_steps: int = 1000,
    save_total_limit: int | None = 3,
    logging_steps: int = 10,
    seed: int = 0,
    num_workers: int = 0,
    model_overrides: dict | None = None,
    eval_data=None,
    eval_steps: int | None = None,
    eval_windows: int = 256,
    max_minutes: float | None = None,
    factorised: bool = False,
    callbacks: list | None = None,
    verify: bool = False,
    log=print,
    warn=None,
) -> PretrainResult:
    """Pre-train a preset on a shard directory; checkpoints, ``loss.csv``, ``loss.png`` and
    ``final/`` (model + tokenizer + training.json) go to ``out``.

    ``steps`` (optimizer steps) or ``epochs`` (default 6, the paper's) sets the length;
    ``config`` is a YAML/JSON file of extra TrainingArguments (FSDP, DeepSpeed, ...) applied
    last; ``model_overrides`` replace preset config fields (e.g. ``num_hidden_layers=2``).
    ``eval_data``: held-out shards (same tokenizer); the mean loss over ``eval_windows`` evenly
    spaced windows of them (6-mers read from offset 0, masks seeded per window, so every
    evaluation sees the same inputs) is logged every ``eval_steps`` (default ``save_steps``)
    to ``eval.csv``. ``max_minutes`` stops training after that much wall time. Shard sizes are
    always checked against their index; ``verify`` also checks every shard's sha256.
    ``resume`` continues from the newest complete checkpoint (incomplete ones are skipped with
    a ``warn``-ing). A run that fails before its first checkpoint leaves nothing behind.
    ``factorised`` (GENERator only) trains the 6-mer embedding and output rows through shared
    per-base vectors (:mod:`gener.modeling.factorised`); ``final/`` is a plain Llama all the same.
    """
    spec = presets.get_preset(preset)
    family = spec.family
    out = Path(out)
    if steps is not None and epochs is not None:
        raise GenerInputError("give --steps or --epochs, not both")
    if steps is not None and steps < 1:
        raise GenerInputError("--steps must be >= 1")
    if epochs is None and steps is None:
        epochs = 6.0
    if batch_size < 1 or tokens_per_step < 1:
        raise GenerInputError("--batch-size and --tokens-per-step must be >= 1")
    seq_len = int(seq_len or spec.max_position_embeddings)
    overrides = dict(model_overrides or {})
    if seq_len > overrides.get("max_position_embeddings", spec.max_position_embeddings):
        raise GenerInputError(f"--seq-len {seq_len:,} exceeds the preset's context "
                              f"({spec.max_position_embeddings:,} tokens)")

    warn = warn or (lambda text: log(f"warning: {text}"))
    if not resume and checkpoints(out):
        raise GenerInputError("holds checkpoints of an earlier run: pass --resume to continue it, "
                              "or choose a new --out", path=out)
    last = str(found) if resume and (found := last_complete_checkpoint(out, warn)) else None
    if resume and last is None:
        raise GenerInputError("--resume: no checkpoint to continue from (no complete checkpoint-* directory)", path=out)

    # The shards' tokenizer must be the family's: 6-mers for GENERator, nucleotides for GENERanno.
    tokenizer_name = "kmer" if family == "generator" else "nucleotide"
    windows = ShardDataset(data, seq_len, tokenizer=None, offset_augment=family == "generator", seed=seed,
                           verify=verify)
    if windows.index["tokenizer"]["name"] != tokenizer_name:
        raise GenerInputError(f"shards were written with --tokenizer {windows.index['tokenizer']['name']}; "
                              f"{preset} needs --tokenizer {tokenizer_name}", path=data)
    dataset = KeyedWindows(windows)
    tokenizer = windows.tokenizer
    eval_set = None
    if eval_data is not None:
        held = ShardDataset(eval_data, seq_len, tokenizer=None, offset_augment=False, seed=seed, verify=verify)
        if held.index["tokenizer"] != windows.index["tokenizer"]:
            raise GenerInputError("validation shards were written with another tokenizer than the training shards",
                                  path=eval_data)
        if len(held) == 0:
            raise GenerInputError(f"no complete window of {seq_len:,} tokens in the validation shards", path=eval_data)
        keep = np.linspace(0, len(held) - 1, min(eval_windows, len(held))).astype(int)
        eval_set = torch.utils.data.Subset(KeyedWindows(held), sorted(set(keep.tolist())))

    cuda = torch.cuda.is_available()
    bf16 = use_bf16()
    extra = load_training_config(config) if config else {}
    processes = world_size()
    accum = int(extra.pop("gradient_accumulation_steps", 0)) or gradient_accumulation(
        tokens_per_step, batch_size, seq_len, processes)

    if len(dataset) < batch_size * processes:
        raise GenerInputError(f"{len(dataset)} window(s) of {seq_len:,} tokens: fewer than one batch "
                              f"({batch_size} x {processes} process(es)); lower --seq-len or --batch-size", path=data)

    torch.manual_seed(seed)  # the initial weights (the Trainer seeds again before its own work)
    overrides.setdefault("attn_implementation", "sdpa")
    model = presets.build_model(preset, None, **overrides)
    if factorised:
        if family != "generator":
            raise GenerInputError("--factorised-kmers is for 6-mer models (generator-* presets)")
        factorise(model, tokenizer)
    finished = False
    if resume:
        state = json.loads((Path(last) / "trainer_state.json").read_text())
        finished = state["global_step"] >= (steps or state["max_steps"])
        if finished:  # (a factorised checkpoint holds parametrised weights: load them into the same structure)
            load_model(model, str(Path(last) / "model.safetensors"))
    if family == "generator":
        collator, compute_loss_func = CausalCollator(), None
    else:
        collator, compute_loss_func = MaskedNucleotideCollator(tokenizer, seed=seed), _masked_lm_loss

    steps_per_epoch = max(len(dataset) // (batch_size * processes) // accum, 1)
    plan = PretrainPlan(
        preset=preset, family=family, objective="causal LM, random 0..5 start offset" if family == "generator"
        else "masked LM 15% (80/10/10), N never masked", seq_len=seq_len, batch_size=batch_size,
        world_size=processes, grad_accum=accum, tokens_per_step_target=int(tokens_per_step), windows=len(dataset),
        dataset_tokens=windows.num_tokens, max_steps=steps or -1, epochs=float(epochs or 0),
        steps_per_epoch=steps_per_epoch, precision="bf16" if bf16 else "fp32",
        attention=model.config._attn_implementation, parameters=sum(p.numel() for p in model.parameters()),
    )
    if is_main_process():
        log(plan.describe())

    settings = dict(
        max_steps=steps or -1,
        num_train_epochs=float(epochs or 1),
        per_device_train_batch_size=batch_size,
        gradient_accumulation_steps=accum,
        learning_rate=learning_rate,
        warmup_steps=warmup_steps,
        logging_steps=logging_steps,
        logging_first_step=True,
        save_strategy="steps",
        save_steps=save_steps,
        save_total_limit=save_total_limit,
        eval_strategy="steps" if eval_set is not None else "no",
        eval_steps=eval_steps or save_steps,
        per_device_eval_batch_size=batch_size,
        seed=seed,
        data_seed=seed,
        dataloader_num_workers=num_workers,
        dataloader_drop_last=True,
        remove_unused_columns=False,  # sample_key must reach the collator
        ddp_find_unused_parameters=False,  # every parameter gets a gradient
        ddp_backend=None if cuda else ("gloo" if processes > 1 else None),
    )
    settings.update(extra)
    args = recipe_arguments(out, **settings)
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=dataset,
        eval_dataset=eval_set,
        data_collator=collator,
        compute_loss_func=compute_loss_func,
        callbacks=[SetEpochCallback(dataset), LossLogCallback(out, plan.tokens_per_step),
                   *([TimeLimitCallback(max_minutes)] if max_minutes else []), *(callbacks or [])],
    )
    replace_trainer_output(trainer, "pre-training")
    plan.extra["distributed"] = _distributed_mode(trainer)
    if is_main_process():
        log(f"parallelism: {plan.extra['distributed']}" + (", FSDP" if trainer.is_fsdp_enabled else ""))
    if args.fsdp and not trainer.is_fsdp_enabled and is_main_process():
        log("warning: the config asks for FSDP, but accelerate enables FSDP only on accelerators (GPU, XPU, ...): "
            f"this run uses {plan.extra['distributed']} instead")
    if compute_loss_func is not None:
        # The encoder's forward takes **kwargs; keep num_items_in_batch for our loss, not its body.
        trainer.model_accepts_loss_kwargs = False

    if is_main_process():
        out.mkdir(parents=True, exist_ok=True)
        record = {
            "preset": preset, "data": str(data), "model_overrides": overrides,
            "seq_len": seq_len, "batch_size": batch_size, "world_size": processes, "grad_accum": accum,
            "tokens_per_step": plan.tokens_per_step, "learning_rate": learning_rate, "warmup_steps": warmup_steps,
            "steps": steps, "epochs": epochs, "seed": seed, "config": str(config) if config else None,
            "eval_data": str(eval_data) if eval_data else None, "max_minutes": max_minutes, "factorised": factorised,
        }
        earlier = out / "pretrain.json"
        if resume and earlier.exists():
            before = json.loads(earlier.read_text())
            changed = [k for k in record if k not in ("data", "config", "eval_data", "max_minutes") and before.get(k) != record[k]]
            if changed:
                log(f"warning: resuming with other settings than the run began with ({', '.join(changed)}): "
                    "the loss curve will not continue exactly")
        record["command"] = "gener " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        earlier.write_text(json.dumps(record, indent=1))
    started = time.time()
    if finished:
        # The Trainer would take one more step before noticing it is done; keep the run as it is.
        trainer.state = TrainerState.load_from_json(str(Path(last) / "trainer_state.json"))
        if is_main_process():
            log(f"{last} already reached step {trainer.state.global_step:,}: nothing to train")
    else:
        trainer.train(resume_from_checkpoint=last if resume else None)
    final = out / "final"
    materialise(trainer.model)  # a no-op unless factorised
    trainer.save_model(str(final))
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(final))
        record = {
            "preset": preset, "family": family, "objective": plan.objective, "parameters": plan.parameters,
            "seq_len": seq_len, "tokens_per_step": plan.tokens_per_step, "global_step": trainer.state.global_step,
            "tokens_seen": trainer.state.global_step * plan.tokens_per_step, "epoch": trainer.state.epoch,
            "minutes_this_session": round((time.time() - started) / 60, 2), "resumed_from": last if resume else None,
            "log_history": trainer.state.log_history,
        }
        (final / "training.json").write_text(json.dumps(record, indent=1))
    plot = out / "loss.png"
    return PretrainResult(out, final, out / "loss.csv", plot if plot.exists() else None, plan, trainer)
