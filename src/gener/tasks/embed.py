"""Sequence embeddings from GENERator or GENERanno hidden states, windowed and streamed.

Inputs follow the published sequence-understanding recipes (docs/models.md):
GENERator reads ``<s>`` + 6-mers (tail ``len % 6`` bases dropped, ``trim_right``) + ``<s>``
and pools at each sequence's own last real token (never at a pad); GENERanno reads
``<s>`` + nucleotides and pools the first token (what its classification head uses).

Pooling (``pool``): ``last`` (default for GENERator), ``first`` (default for GENERanno;
refused for GENERator, whose first token only ever sees ``<s>``), or ``mean`` over the DNA
tokens (specials excluded). A sequence longer than the window is cut into windows
(gener.tasks.windows, owned parts do not overlap) and its embedding is the mean of the
windows' pooled vectors weighted by the lengths they own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import torch

from gener import distributed
from gener.errors import GenerInputError
from gener.tasks.windows import batched, body_of, family_of_model, plan_windows

POOLS = ("first", "last", "mean")


def default_pool(model) -> str:
    return "last" if family_of_model(model) == "generator" else "first"


def embed_sequences(model, tokenizer, records: Iterable[tuple[str, str]], *, pool: str | None = None,
                    window: int | None = None, batch_size: int = 8, max_batch_tokens: int = 32768,
                    progress=None) -> Iterator[tuple[str, int, int, np.ndarray]]:
    """Yield ``(id, length, windows, float32 vector)`` per ``(id, sequence)``, in order; a forward
    pass holds at most ``batch_size`` windows and about ``max_batch_tokens`` tokens."""
    family = family_of_model(model)
    pool = pool or default_pool(model)
    if pool not in POOLS:
        raise GenerInputError(f"unknown pooling {pool!r}; choose one of {', '.join(POOLS)}")
    if family == "generator" and pool == "first":
        raise GenerInputError("first-token pooling of a causal GENERator only sees <s>; use --pool last or mean")
    causal = family == "generator"
    context = model.config.max_position_embeddings
    window = min(window or context, context) - (2 if causal else 1)
    body = body_of(model)
    device = next(model.parameters()).device
    bos = tokenizer.bos_token_id
    remainder = "trim_right" if causal else None

    pending: dict[int, list] = {}

    def windows():
        for item, (name, seq) in enumerate(records):
            ids = tokenizer.encode_bulk(seq, add_bos=False, add_eos=False, remainder=remainder).astype(np.int64)
            if len(ids) == 0:
                raise GenerInputError(f"sequence {name!r} is too short to embed ({len(seq)} bp)")
            plan = plan_windows(len(ids), window, window, causal=causal, item=item)  # stride = window: tiles
            pending[item] = [name, len(seq), len(plan), 0, np.zeros(body.config.hidden_size, np.float64), len(plan)]
            for w in plan:
                yield w, ids

    def pooled(batch) -> list[np.ndarray]:  # one float64 vector per window
        rows = [np.concatenate([[bos], ids[w.start:w.end]] + ([[bos]] if causal else [])) for w, ids in batch]
        width = max(len(r) for r in rows)
        ids_t = torch.full((len(rows), width), tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for n, r in enumerate(rows):
            ids_t[n, : len(r)] = torch.as_tensor(r)
            mask[n, : len(r)] = 1
        with torch.inference_mode():
            hidden = body(input_ids=ids_t.to(device), attention_mask=mask.to(device)).last_hidden_state.float()
        vectors = []
        for n, r in enumerate(rows):
            if pool == "first":
                vec = hidden[n, 0]
            elif pool == "last":
                vec = hidden[n, len(r) - 1]
            else:  # DNA tokens only: skip <s> (and the trailing <s> of the causal input)
                vec = hidden[n, 1: len(r) - (1 if causal else 0)].mean(0)
            vectors.append(vec.cpu().double().numpy())
        return vectors

    next_item = 0
    batches = batched(windows(), max(1, min(batch_size, max_batch_tokens // (window + 2))))
    # Under torchrun each rank embeds every N-th batch; rank 0 gets all, in order, and yields.
    for batch, vectors in distributed.map_in_order(pooled, batches):
        for (w, _), vec in zip(batch, vectors):
            entry = pending[w.item]
            weight = w.own_end - w.own_start
            entry[4] += weight * vec
            entry[3] += weight
            entry[2] -= 1
            if progress:
                progress(weight * (tokenizer.k if causal else 1))
        while next_item in pending and pending[next_item][2] == 0:
            name, length, _, total, acc, n_windows = pending.pop(next_item)
            yield name, length, n_windows, (acc / total).astype(np.float32)
            next_item += 1


def write_embeddings(path, rows: Iterable[tuple[str, int, int, np.ndarray]], *, pool: str, row_group: int = 4096) -> int:
    """Parquet: id, length, windows, pool, embedding (fixed-size list of float32); streamed in
    row groups into a temp file that is renamed into place only when complete."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from gener.io import atomic_write

    n = 0
    writer = None
    with atomic_write(path, "wb") as fh:
        try:
            for chunk in batched(rows, row_group):
                dim = len(chunk[0][3])
                flat = pa.array(np.concatenate([r[3] for r in chunk]), pa.float32())
                table = pa.table({
                    "id": pa.array([r[0] for r in chunk], pa.string()),
                    "length": pa.array([r[1] for r in chunk], pa.int64()),
                    "windows": pa.array([r[2] for r in chunk], pa.int32()),
                    "pool": pa.array([pool] * len(chunk), pa.string()),
                    "embedding": pa.FixedSizeListArray.from_arrays(flat, dim),
                })
                if writer is None:
                    writer = pq.ParquetWriter(fh, table.schema, compression="zstd")
                writer.write_table(table)
                n += len(chunk)
            if writer is None:
                raise GenerInputError("no sequences to embed", path=path)
        finally:
            if writer is not None:
                writer.close()
    return n
