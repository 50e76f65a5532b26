"""Windows over sequences longer than a model's context, shared by scoring and embeddings.

A window covers tokens ``[start, end)`` of one sequence (specials not counted) and *owns*
``[own_start, own_end)``: the positions whose results it reports, so every position is
reported exactly once. Causal models own everything after the previous window's end (each
owned position keeps ``window - stride`` tokens of left context, except at the start);
bidirectional models split each overlap at its middle, so owned positions have context on
both sides. The last window is aligned to the sequence end (no short last window).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Window:
    item: int
    start: int
    end: int
    own_start: int
    own_end: int
    last: bool  # the last window of its sequence


def plan_windows(n: int, window: int, stride: int | None = None, *, causal: bool, item: int = 0) -> list[Window]:
    """Windows of at most ``window`` tokens every ``stride`` (default: half a window)."""
    if window < 1:
        raise ValueError("window must be >= 1")
    stride = stride or max(window // 2, 1)
    if n <= window:
        return [Window(item, 0, n, 0, n, True)]
    starts = list(range(0, n - window + 1, stride))
    if starts[-1] + window < n:
        starts.append(n - window)
    ends = [s + window for s in starts]
    if causal:
        owns = [0] + ends[:-1]
        bounds = list(zip(owns, ends))
    else:
        cuts = [0] + [(starts[i + 1] + ends[i]) // 2 for i in range(len(starts) - 1)] + [n]
        bounds = list(zip(cuts[:-1], cuts[1:]))
    return [Window(item, s, e, a, b, i == len(starts) - 1) for i, (s, e, (a, b)) in enumerate(zip(starts, ends, bounds))]


def batched(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for x in items:
        batch.append(x)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def family_of_model(model) -> str:
    from gener.modeling.loading import FAMILY_BY_MODEL_TYPE

    model_type = getattr(model.config, "model_type", None)
    if model_type in FAMILY_BY_MODEL_TYPE:
        return FAMILY_BY_MODEL_TYPE[model_type]
    raise ValueError(f"not a GENERator or GENERanno model: model_type {model_type!r}")


def body_of(model):
    """The transformer body (hidden states) of a model with or without a head."""
    inner = getattr(model, "model", None)
    return inner if isinstance(inner, torch.nn.Module) else model
