"""Per-base, per-strand class probabilities of whole sequences from a GENERanno
token-classification model.

The published pipeline (docs/annotate.md): windows of ``window`` bp overlapping by
``overlap`` bp, the last window aligned to the sequence end, softmax probabilities averaged
where windows overlap. ``weighting="taper"`` instead cross-fades linearly across each
overlap, so a base is predicted mostly by the window in which it sits farther from an edge
(where the model sees context on both sides); ``"uniform"`` is the published average.

A sequence shorter than a window is one window of its own length. Windows of several
sequences share batches (padded, with an attention mask), so thousands of short contigs
run as fast as one genome. Ambiguous bases go through the tokenizer's own ids (every IUPAC
letter has one). Stitching is numpy, one slice-add per window.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from gener import distributed
from gener.errors import GenerInputError

PAD_ID = 3
WEIGHTINGS = ("uniform", "taper")
PRECISIONS = ("auto", "bf16", "fp32")
ATTENTIONS = ("auto", "windows", "sdpa")
# Default batch = this many tokens' worth of windows: small enough that a batch's activations
# stay in the CPU's caches (1.4x as fast as 32k tokens for the tiny annotator on 2 cores,
# benchmarks/annotate.py --options), large enough to keep a GPU busy for small models.
TOKENS_PER_BATCH = 8192
# Below this many parameters a CPU runs whole batches side by side (side_by_side): their
# matrix products are too small to share among threads. Larger models keep torch's threads,
# and the memory of one batch at a time.
SMALL_MODEL = 50_000_000


def default_overlap(window: int) -> int:
    """Half a window for small windows (overlap bought +5.8 points of exact match for the
    small annotator on C. burnetii), at most the published 512 bp."""
    return min(window // 2, 512)


def default_batch_size(window: int) -> int:
    return max(1, TOKENS_PER_BATCH // max(1, window))


def window_starts(length: int, window: int, overlap: int) -> np.ndarray:
    """Window start positions: every ``window - overlap`` bp, the last one aligned to the end."""
    if window < 1:
        raise GenerInputError(f"window must be at least 1 bp, got {window}")
    if not 0 <= overlap < window:
        raise GenerInputError(f"overlap must be at least 0 and smaller than the window ({window} bp), got {overlap}")
    if length <= window:
        return np.zeros(1, dtype=np.int64)
    stride = window - overlap
    starts = np.arange(0, length - window + 1, stride, dtype=np.int64)
    if starts[-1] + window < length:
        starts = np.append(starts, length - window)
    return starts


def window_weights(width: int, overlap: int, weighting: str) -> np.ndarray:
    if weighting == "uniform" or overlap == 0:
        return np.ones(width, dtype=np.float32)
    if weighting != "taper":
        raise GenerInputError(f"unknown weighting {weighting!r}; choose one of {', '.join(WEIGHTINGS)}")
    i = np.arange(width, dtype=np.float32) + 0.5
    return np.minimum(1.0, np.minimum(i, width - i) / overlap).astype(np.float32)


def model_labels(model) -> int:
    """Classes per strand head, checking the head is one we can read."""
    config = model.config
    if getattr(config, "k", 1) != 1:
        raise GenerInputError(
            f"this token-classification head predicts {config.k} nucleotides per token; "
            "gener annotates with single-nucleotide heads (k = 1)"
        )
    heads = getattr(config, "num_prediction_heads", 1)
    if heads != 2:
        raise GenerInputError(f"a CDS annotator needs two strand heads, this model has {heads}")
    return int(config.num_labels)


def fast_cpu_bf16() -> bool:
    """True where the CPU has bf16 matrix units (AMX or AVX512-BF16): there the tiny annotator
    runs about 1.9x as fast in bf16 as in fp32 on 2 cores, with probabilities within ~0.3
    (benchmarks/annotate.py --options); elsewhere bf16 on a CPU is slower than fp32."""
    return cpu_has_amx() or _cpu_check("_is_avx512_bf16_supported")


def cpu_has_amx() -> bool:
    """True where the CPU has AMX tiles: there PyTorch's fused CPU attention kernel runs bf16
    on them and beats :mod:`gener.modeling.cpu_attention` (1.2-1.5x on 2 cores, Intel Xeon,
    benchmarks/annotate.py --options); without AMX the windowed attention is the faster one."""
    return _cpu_check("_is_amx_tile_supported")


def _cpu_check(name: str) -> bool:
    return bool(getattr(torch.cpu, name, lambda: False)())


def model_for(model, precision: str, attention: str = "auto"):
    """The model to run: a bf16 copy of an fp32 model for ``precision="bf16"``, or for
    ``"auto"`` on a CPU with bf16 units; otherwise the model itself (GPU models already run
    in their own dtype). A copy in bf16 weights, not autocast: autocast casts the weights
    again at every call, and on 2 CPU cores gained 1.0-1.7x where the copy gains 1.9x.

    ``attention="auto"`` runs a bf16 model on a CPU without AMX with
    :mod:`gener.modeling.cpu_attention` (the same arithmetic as SDPA; 1.4x as fast a forward
    pass for the tiny annotator on an AMD CPU with AVX512-BF16, slower in fp32 and slower than
    SDPA where AMX runs it, benchmarks/annotate.py --options); ``"windows"`` at any precision
    on a CPU; ``"sdpa"`` keeps transformers' SDPA. The caller's model is never changed."""
    if precision not in PRECISIONS:
        raise GenerInputError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if attention not in ATTENTIONS:
        raise GenerInputError(f"attention must be one of {', '.join(ATTENTIONS)}, got {attention!r}")
    on_cpu = _device_of(model).type == "cpu"
    use = precision == "bf16" or (precision == "auto" and on_cpu and fast_cpu_bf16())
    runner = model
    if use and next(model.parameters()).dtype == torch.float32:
        runner = copy.deepcopy(model).to(torch.bfloat16)
    windowed = attention == "windows" or (attention == "auto" and runner is not model and not cpu_has_amx())
    if windowed and on_cpu and hasattr(runner, "set_attn_implementation"):
        from gener.modeling.cpu_attention import use_windowed_attention

        runner = copy.deepcopy(runner) if runner is model else runner
        use_windowed_attention(runner)
    return runner


def _device_of(model) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:  # pragma: no cover
        return torch.device("cpu")


def predict_proba_many(
    model,
    sequences: Sequence[str],
    *,
    tokenizer=None,
    window: int = 512,
    overlap: int | None = None,
    batch_size: int | None = None,
    weighting: str = "uniform",
    circular: Sequence[bool] | bool = False,
    progress: Callable[[int, int], None] | None = None,
    precision: str = "auto",
    attention: str = "auto",
) -> list[np.ndarray]:
    """``(2, L, num_labels)`` float32 probabilities for each sequence (track 0 = + strand,
    track 1 = - strand, genome coordinates).

    ``circular`` (per sequence or for all): the window context wraps around the origin, so
    bases near the ends are predicted with their real neighbours. ``progress(index, bases)``
    is called with a sequence's index and the number of its bases newly predicted.
    ``precision`` and ``attention``: see :func:`model_for`.
    Under torchrun the ranks share the batches (gener.distributed): rank 0 returns the
    probabilities and reports progress, the other ranks return ``[]``.
    """
    from gener.tokenization import NucleotideTokenizer

    tokenizer = tokenizer or NucleotideTokenizer()
    overlap = default_overlap(window) if overlap is None else int(overlap)
    window_starts(window + 1, window, overlap)  # validates window / overlap
    if weighting not in WEIGHTINGS:
        raise GenerInputError(f"unknown weighting {weighting!r}; choose one of {', '.join(WEIGHTINGS)}")
    batch_size = default_batch_size(window) if batch_size is None else int(batch_size)
    if batch_size < 1:
        raise GenerInputError(f"batch size must be at least 1, got {batch_size}")
    num_labels = model_labels(model)
    if isinstance(circular, bool):
        circular = [circular] * len(sequences)

    # Token ids per sequence (circular ones padded with wrapped flanks), and the windows.
    inputs, flanks, jobs = [], [], []  # jobs: (sequence index, start, width)
    for index, (seq, circ) in enumerate(zip(sequences, circular)):
        ids = tokenizer.encode_bulk(seq, add_bos=False, add_eos=False).astype(np.int64)
        if len(ids) != len(seq):
            raise ValueError("the tokenizer must give one id per nucleotide")
        flank = min(overlap or window // 4, len(ids)) if circ and len(ids) else 0
        if flank:
            ids = np.concatenate((ids[-flank:], ids, ids[:flank]))
        inputs.append(ids)
        flanks.append(flank)
        if len(ids):
            width = min(window, len(ids))
            jobs.extend((index, int(s), width) for s in window_starts(len(ids), window, overlap))
    sums = [np.zeros((2, len(ids), num_labels), dtype=np.float32) for ids in inputs]
    weights = [np.zeros(len(ids), dtype=np.float32) for ids in inputs]
    # Windows of equal width batch without padding: sort by width (stable, so a long
    # sequence's windows stay together and its progress is monotone).
    jobs.sort(key=lambda j: -j[2])
    device = _device_of(model)
    runner = model_for(model, precision, attention)  # a caller running many batches may pass the result itself

    def forward(batch) -> np.ndarray:  # (batch, 2, width, labels) probabilities
        longest = max(w for _, _, w in batch)
        ids = np.full((len(batch), longest), PAD_ID, dtype=np.int64)
        mask = np.zeros((len(batch), longest), dtype=np.int64)
        for row, (index, start, width) in enumerate(batch):
            ids[row, :width] = inputs[index][start : start + width]
            mask[row, :width] = 1
        kwargs = {"input_ids": torch.from_numpy(ids).to(device)}
        if not mask.all():
            kwargs["attention_mask"] = torch.from_numpy(mask).to(device)
        logits = runner(**kwargs).logits  # (batch, width, 2, labels)
        if logits.shape[1] != longest or logits.shape[2] != 2:
            raise ValueError(f"unexpected logits shape {tuple(logits.shape)} for {longest} input tokens")
        return torch.softmax(logits.float(), dim=-1).permute(0, 2, 1, 3).cpu().numpy()

    done_per_sequence = [0] * len(inputs)
    batches = [jobs[b : b + batch_size] for b in range(0, len(jobs), batch_size)]
    # Under torchrun, each rank runs every N-th batch and rank 0 stitches them all, in order;
    # on one CPU process, a small model's batches run side by side on one thread each.
    small = sum(t.numel() for t in runner.parameters()) < SMALL_MODEL
    on_cpu_alone = device.type == "cpu" and distributed.world_size() == 1 and small
    with torch.inference_mode():
        for batch, probs in (side_by_side(forward, batches) if on_cpu_alone
                             else distributed.map_in_order(forward, batches)):
            for row, (index, start, width) in enumerate(batch):
                w = window_weights(width, overlap, weighting)
                sums[index][:, start : start + width] += probs[row, :, :width] * w[None, :, None]
                weights[index][start : start + width] += w
            if progress is not None:
                gains: dict[int, int] = {}
                for index, start, width in batch:
                    gain = _new_bases(done_per_sequence, index, start, width, flanks[index], len(inputs[index]))
                    gains[index] = gains.get(index, 0) + gain
                for index, gain in gains.items():
                    if gain:
                        progress(index, gain)
    if not distributed.is_main():
        return []  # the probabilities are rank 0's
    out = []
    for total, weight, flank in zip(sums, weights, flanks):
        total /= np.maximum(weight, 1e-12)[None, :, None]
        out.append(total[:, flank : total.shape[1] - flank] if flank else total)
    return out


def side_by_side(fn: Callable, items: Sequence) -> Iterator[tuple]:
    """``(item, fn(item))`` in order, with ``fn`` running on as many items at once as torch has
    CPU threads, each call on one thread. A small model's batch is too little work to share
    among threads (its matrix products are small), so whole batches in parallel keep the
    cores busier: about 1.1x the throughput of the tiny annotator on 2 cores
    (benchmarks/annotate.py --options). torch's thread count is restored afterwards; at most
    two items per thread are in flight, so memory stays bounded."""
    workers = torch.get_num_threads()
    if workers < 2 or len(items) < 2:
        yield from ((item, fn(item)) for item in items)
        return

    def one_thread(item):
        with torch.inference_mode():  # inference mode is per thread
            return fn(item)

    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(workers) as pool:
            pending: deque = deque()
            for item in items:
                pending.append((item, pool.submit(one_thread, item)))
                if len(pending) >= 2 * workers:
                    done, future = pending.popleft()
                    yield done, future.result()
            while pending:
                done, future = pending.popleft()
                yield done, future.result()
    finally:
        torch.set_num_threads(workers)


def _new_bases(done: list[int], index: int, start: int, width: int, flank: int, length: int) -> int:
    """Bases of the original sequence newly covered (windows of a sequence run in order)."""
    end = min(start + width, length - flank) - flank
    gain = max(0, end - done[index])
    done[index] = max(done[index], end)
    return gain


def predict_proba(model, sequence: str, **kwargs) -> np.ndarray:
    """``(2, L, num_labels)`` probabilities of one sequence; see :func:`predict_proba_many`."""
    circular = kwargs.pop("circular", False)
    return predict_proba_many(model, [sequence], circular=[circular], **kwargs)[0]
