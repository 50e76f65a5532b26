"""The papers' optimisation recipe, shared by every gener training verb.

AdamW (0.9, 0.95), weight decay 0.1, gradient clipping 1.0, a linear warm-up then cosine
decay to 10% of the peak learning rate (a verb may choose another schedule, e.g.
reduce-on-plateau for classification); bf16 on GPUs that support it and fp32 elsewhere (CPUs
here have no bf16 units, so fp32 is faster there); no experiment trackers; progress bars only
on a terminal.
"""

from __future__ import annotations

import sys

import torch
from transformers import TrainingArguments


def use_bf16() -> bool:
    return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())


def recipe_arguments(output_dir, **settings) -> TrainingArguments:
    """``TrainingArguments`` with the recipe's defaults; ``settings`` add to or replace them."""
    cuda = torch.cuda.is_available()
    arguments = dict(
        output_dir=str(output_dir),
        optim="adamw_torch",
        adam_beta1=0.9,
        adam_beta2=0.95,
        adam_epsilon=1e-8,
        weight_decay=0.1,
        max_grad_norm=1.0,
        lr_scheduler_type="cosine_with_min_lr",
        lr_scheduler_kwargs={"min_lr_rate": 0.1},
        bf16=use_bf16(),
        use_cpu=not cuda,
        dataloader_pin_memory=cuda,
        report_to="none",
        disable_tqdm=not sys.stderr.isatty(),
    )
    arguments.update(settings)
    return TrainingArguments(**arguments)
