"""Inference across the processes of one ``torchrun`` launch: who am I, which work is mine,
and the results gathered on rank 0 in input order.

    torchrun --nproc_per_node N -m gener.cli annotate|score|embed ...

Every rank reads the same input and forms the same batches; rank ``r`` runs the forward
pass of batches ``r, r + N, r + 2N, ...`` on its own device, and rank 0 receives every
batch's result in the original order, so it stitches, decodes and writes exactly what a
single process would (same batches, same order of every floating-point sum). The other
ranks compute and stay quiet. A single process (no torchrun, or ``--nproc_per_node 1``)
takes none of these paths.

Results travel as pickled objects over a gloo group (CPU), whatever device the model is
on: inference needs no collective on device tensors. Rank and world size come from
torchrun's environment, so reading them imports nothing (torch is imported only to join
the group).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

_GROUP = None  # the gloo group used for gathers, once joined


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def is_main() -> bool:
    return rank() == 0


def device(requested=None):
    """The device this rank runs its model on: ``requested`` as given, except that under
    torchrun a bare ``cuda`` (or no request, on a machine with GPUs) means this process's
    own GPU, ``cuda:LOCAL_RANK``."""
    import torch

    if requested is None:
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    requested = torch.device(requested)
    if world_size() > 1 and requested.type == "cuda" and requested.index is None:
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return requested


def join() -> None:
    """Join the launch's process group (a no-op in a single process); call once, before the
    model loads, from every rank."""
    global _GROUP
    if world_size() == 1 or _GROUP is not None:
        return
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("gloo")
    if not is_main():  # quiet: no library progress bars or warnings from the other ranks
        import warnings

        from transformers.utils import logging

        logging.set_verbosity_error()
        logging.disable_progress_bar()
        warnings.simplefilter("ignore")
    # A group someone else made (e.g. NCCL) cannot move CPU objects: add a gloo one.
    _GROUP = dist.group.WORLD if dist.get_backend() == "gloo" else dist.new_group(backend="gloo")


def map_in_order(fn: Callable, items: Iterable) -> Iterator[tuple]:
    """``(item, fn(item))`` for every item, in order, on rank 0; on other ranks, nothing.

    Each rank computes ``fn`` for its share of ``items`` (every N-th, round robin) and the
    results of each round of N items meet on rank 0 before the next round starts, so rank 0
    holds at most N results at a time. ``items`` must be the same sequence on every rank."""
    world = world_size()
    if world == 1:
        for item in items:
            yield item, fn(item)
        return
    import torch.distributed as dist

    join()
    me, items = rank(), iter(items)
    while True:
        batch = list(islice(items, world))
        if not batch:
            return
        mine = fn(batch[me]) if me < len(batch) else None
        results = [None] * world if me == 0 else None
        dist.gather_object(mine, results, dst=0, group=_GROUP)
        if me == 0:
            yield from zip(batch, results)
