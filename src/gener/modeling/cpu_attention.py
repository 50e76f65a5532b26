"""Attention for many short windows on a CPU, where PyTorch's fused kernel is slow.

On a CPU, ``scaled_dot_product_attention`` runs a flash-attention kernel whose inner
products, with the tiny annotator's 32-dimensional heads, are too small to use the CPU's
matrix units well: in bf16 it took about 70% of the annotator's forward pass on 512 bp
windows. Computing each window's scores outright (one window at a time, so the
``heads x 512 x 512`` score matrix stays in the caches, and the query heads that share a
key / value head stacked into one matrix product) does the same arithmetic as two plain
matrix products and a softmax (benchmarks/annotate.py --options measures the gain).

Only inference without padding takes this path; with an attention mask, dropout, gradients
or on an accelerator the call goes to transformers' SDPA implementation unchanged.
"""

from __future__ import annotations

import torch
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

NAME = "gener_cpu_windows"


def windowed_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    """transformers' attention-function signature: ``query`` ``(batch, heads, L, d)``, ``key`` /
    ``value`` ``(batch, kv_heads, L, d)``; returns ``((batch, L, heads, d), None)``."""
    if (attention_mask is not None or query.device.type != "cpu" or dropout or module.training
            or torch.is_grad_enabled() or key.shape[-2] != query.shape[-2]):
        return sdpa_attention_forward(module, query, key, value, attention_mask, scaling=scaling, dropout=dropout,
                                      **kwargs)
    batch, heads, length, dim = query.shape
    groups = key.shape[1]
    scale = dim ** -0.5 if scaling is None else scaling
    # the scale on the queries, not on the (length / dim times larger) scores; the query heads
    # of one key head are contiguous, so stacking them is a reshape
    stacked = (query * scale).reshape(batch, groups, heads // groups * length, dim)
    out = torch.empty_like(stacked)
    for b in range(batch):
        scores = torch.matmul(stacked[b], key[b].transpose(-1, -2))
        out[b] = torch.matmul(torch.softmax(scores, dim=-1), value[b])
    return out.reshape(batch, heads, length, dim).transpose(1, 2).contiguous(), None


def use_windowed_attention(model) -> None:
    """Switch ``model`` (a transformers model with pluggable attention) to
    :func:`windowed_attention`. Masks are built as for SDPA, so padded batches fall back to it."""
    AttentionInterface.register(NAME, windowed_attention)
    ALL_MASK_ATTENTION_FUNCTIONS.register(NAME, sdpa_mask)
    model.set_attn_implementation(NAME)
