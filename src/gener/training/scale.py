"""Fine-tuning defaults chosen by model scale, so that ``gener finetune classify`` with no
tuning options is a good run for the model at hand.

One learning rate does not fit a 0.75M-parameter encoder and a 3B decoder: the paper's
grid starts at 1e-5, where a tiny model barely moves in 20 short epochs, and 1e-3 would
wreck a 1.2B one. The rule, first match wins:

1. the checkpoint records its own training (``training.json`` next to its weights, as the
   embedded models and every ``gener pretrain`` / ``finetune annotator`` run do): the peak
   learning rate of that run, halved - a fine-tune continues from where training left off
   and should not move the body further than training itself did;
2. otherwise by parameter count (weights' shapes, or the preset's architecture):

| parameters | lr | batch | epochs (patience) | warm-up | --grid auto (lr x batch) |
|---|---|---|---|---|---|
| < 30M (CPU-sized) | 1e-3 | 32 | 10 (3) | 1/2 epoch | lr/3, lr, 3 lr |
| 30M - 300M | 1e-4 | 64 | 15 (5) | 1/2 epoch | lr/3, lr, 3 lr |
| >= 300M (0.5B, 1.2B, 3B: the paper's recipe) | 1e-5 | 64 | 20 (5) | none | 1e-5, 2e-5, 5e-5 x 64, 128 |

A small model on a few hundred sequences peaks within a few epochs, and on two CPU cores
each epoch costs seconds per hundred sequences: 10 epochs with patience 3 keeps a 5-fold run
on ~500 sequences within minutes. Any explicit option (``--lr``, ``--batch-size``,
``--epochs``, ``--patience``, ``--warmup``) wins over this table.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from gener.modeling import presets
from gener.modeling.loading import resolve


@dataclass(frozen=True)
class ScaleDefaults:
    learning_rate: float
    batch_size: int
    epochs: int
    patience: int
    warmup_epochs: float
    grid: tuple[dict, ...]  # what --grid auto searches
    parameters: int
    why: str  # what the values are based on, for the log and the report


def parameter_count(name: str, overrides: dict | None = None) -> int:
    """Parameters of a preset (built on the meta device) or a checkpoint (its weights' shapes)."""
    import torch

    if name in presets.PRESETS:
        with torch.device("meta"):
            model = presets.build_model(name, None, **(overrides or {}))
        return sum(p.numel() for p in model.parameters())
    directory = resolve(name)
    files = sorted(directory.glob("*.safetensors"))
    if files:
        from safetensors import safe_open

        total = 0
        for path in files:
            with safe_open(str(path), "pt") as fh:
                total += sum(math.prod(fh.get_slice(k).get_shape()) for k in fh.keys())
        return total
    state = torch.load(next(directory.glob("pytorch_model*.bin")), map_location="meta", weights_only=True)
    return sum(t.numel() for t in state.values())


def recorded_peak_lr(name: str) -> float | None:
    """The highest learning rate in the checkpoint's own ``training.json`` log, if it has one."""
    if name in presets.PRESETS:
        return None
    path = Path(resolve(name)) / "training.json"
    if not path.is_file():
        return None
    try:
        history = json.loads(path.read_text()).get("log_history", [])
    except (OSError, ValueError):
        return None
    rates = [h["learning_rate"] for h in history if isinstance(h, dict) and h.get("learning_rate")]
    return max(rates) if rates else None


def _around(lr: float, batch: int) -> tuple[dict, ...]:
    return tuple({"learning_rate": float(f"{lr * f:.2g}"), "batch_size": b} for f in (1 / 3, 1, 3) for b in (batch,))


def scale_defaults(name: str, overrides: dict | None = None) -> ScaleDefaults:
    n = parameter_count(name, overrides)
    size = presets.format_count(n)
    if n >= 300e6:
        grid = tuple({"learning_rate": lr, "batch_size": b} for lr in (1e-5, 2e-5, 5e-5) for b in (64, 128))
        return ScaleDefaults(1e-5, 64, 20, 5, 0.0, grid, n, f"{size} parameters, the paper's recipe")
    lr, batch, epochs, patience = (1e-3, 32, 10, 3) if n < 30e6 else (1e-4, 64, 15, 5)
    why = f"{size} parameters"
    peak = recorded_peak_lr(name)
    if peak:
        lr = float(f"{peak / 2:.2g}")
        why += f"; lr = half the peak of its recorded training ({peak:.2g})"
    return ScaleDefaults(lr, batch, epochs, patience, 0.5, _around(lr, batch), n, why)
