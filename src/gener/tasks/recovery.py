"""Sequence recovery: predict the next bases after a context, accuracy per position.

**Samples** (:func:`cut_samples`). One sample per input sequence: the *cut* is at
``min(context_bp, length - predict_bp)`` (``cut="first"``, default: the longest context
the sequence allows, starting at its first base) or at a seeded random position with at
least ``min_context_bp`` bases before it (``cut="random"``). The context is the up to
``context_bp`` bases before the cut, the target the ``predict_bp`` bases after it.
Sequences shorter than ``min_context_bp + predict_bp``, and targets with a base other than
A/C/G/T, are skipped (and counted). Inputs: FASTA (type: the first word after the id when
``type=...`` is given, else ``all``) or parquet / CSV / TSV with a ``sequence`` column, an
id column (``id`` / ``gene_id`` / ``name``) and a type column (``type``, else ``gene_type``)
— a ``gener data regions`` table works as it is.

**Protocols.**
- Causal GENERator (published): prompt = ``<s>`` + the context's rightmost bases trimmed to
  a multiple of 6 (``trim_left``); greedy decoding of ``ceil(predict_bp / 6)`` tokens with
  every special id banned (``</s>`` too); accuracy = matching positions / predict_bp.
- ``per_base=True`` (a consistent +1 to +2 points for small models): each step takes, for each of the six positions,
  the argmax base of its marginal (gener.modeling.perbase) and feeds that 6-mer back.
- Masked GENERanno (the paper's zero-shot variant): ``<s>`` + context + ``<mask>``; the
  argmax of A/C/G/T at the mask replaces it, a new ``<mask>`` is appended, repeated.
- Order-k Markov (gener.tasks.markov): greedy with backoff, for the baseline.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gener.errors import GenerInputError
from gener.io.tables import is_table, read_table
from gener.sequence import normalize


@dataclass
class Sample:
    id: str
    type: str
    context: str
    target: str


@dataclass
class Report:
    accuracy: float
    n: int
    per_type: dict[str, tuple[float, int]]
    skipped: int = 0

    def to_dict(self) -> dict:
        return {"accuracy": self.accuracy, "samples": self.n, "skipped": self.skipped,
                "per_type": {t: {"accuracy": a, "samples": n} for t, (a, n) in sorted(self.per_type.items())}}


# --- data ---------------------------------------------------------------------------------
def read_table_records(path, seq_col: str | None = None) -> list[tuple[str, str, str]]:
    """(id, type, sequence) from FASTA, parquet, CSV or TSV; ``seq_col``: the sequence
    column of a table (default: the first of ``sequence``, ``seq``, ``dna_sequence``, ...)."""
    path = Path(path)
    if not path.is_file():
        raise GenerInputError("no such file" if not path.exists() else "not a file", path=path)
    if is_table(path):
        return _rows_of(read_table(path), path, seq_col)
    if seq_col is not None:
        raise GenerInputError("--seq-col is for tables (parquet, CSV, TSV); this is a sequence file", path=path)
    from gener.io import read_sequences

    out = []
    for r in read_sequences(path):
        words = dict(w.split("=", 1) for w in r.description.split() if "=" in w)
        out.append((r.id, words.get("type", "all"), r.sequence))
    return out


def _rows_of(table: dict, path, seq_col: str | None) -> list[tuple[str, str, str]]:
    from gener.data.tasks import SEQ_COLUMNS

    column = seq_col or next((c for c in SEQ_COLUMNS if c in table), None)
    if column not in table:
        wanted = repr(seq_col) if seq_col else "sequence (or seq, dna_sequence, ...)"
        raise GenerInputError(f"no {wanted} column (columns: {', '.join(table)}); choose one with --seq-col",
                              path=path)
    n = len(table[column])
    id_col = next((c for c in ("id", "gene_id", "name") if c in table), None)
    type_col = next((c for c in ("type", "gene_type") if c in table), None)
    ids = [str(x) for x in table[id_col]] if id_col else [f"row{i + 1}" for i in range(n)]
    types = [str(x) for x in table[type_col]] if type_col else ["all"] * n
    out = []
    for i, seq in enumerate(table[column]):
        try:
            out.append((ids[i], types[i], normalize(seq or "")))
        except GenerInputError as exc:
            raise GenerInputError(str(exc), path=path, record=ids[i]) from None
    return out


def cut_samples(records, context_bp: int = 6144, predict_bp: int = 30, *, cut: str = "first",
                min_context_bp: int = 60, seed: int = 0) -> tuple[list[Sample], int]:
    """(samples, skipped) from ``(id, type, sequence)`` records; see the module docstring."""
    if cut not in ("first", "random"):
        raise GenerInputError(f"cut must be 'first' or 'random', got {cut!r}")
    if predict_bp < 1 or context_bp < min_context_bp:
        raise GenerInputError("need predict_bp >= 1 and context_bp >= min_context_bp")
    samples, skipped = [], 0
    for rid, rtype, seq in records:
        n = len(seq)
        if n < min_context_bp + predict_bp:
            skipped += 1
            continue
        if cut == "first":
            at = min(context_bp, n - predict_bp)
        else:
            h = int.from_bytes(hashlib.sha256(f"{seed}:{rid}".encode()).digest()[:8], "little")
            at = min_context_bp + h % (n - predict_bp - min_context_bp + 1)
        target = seq[at:at + predict_bp]
        if set(target) - set("ACGT"):
            skipped += 1
            continue
        samples.append(Sample(rid, rtype, seq[max(0, at - context_bp):at], target))
    return samples, skipped


def accuracy_report(samples: Sequence[Sample], predictions: Sequence[str], skipped: int = 0) -> Report:
    hits = [np.mean([a == b for a, b in zip(p, s.target)]) if s.target else 0.0 for s, p in zip(samples, predictions)]
    by_type = defaultdict(list)
    for s, h in zip(samples, hits):
        by_type[s.type].append(h)
    return Report(float(np.mean(hits)) if hits else float("nan"), len(hits),
                  {t: (float(np.mean(v)), len(v)) for t, v in by_type.items()}, skipped)


# --- model protocols ------------------------------------------------------------------------
class PerBaseArgmax:
    """Logits processor: only the 6-mer made of each position's argmax base survives."""

    def __init__(self, tokenizer):
        from gener.modeling.perbase import kmer_ids

        self.ids = kmer_ids(tokenizer)
        self.k = tokenizer.k

    def __call__(self, input_ids, scores):
        from gener.modeling.perbase import base_log_probs

        ids = self.ids.to(scores.device)
        best = base_log_probs(scores, ids).argmax(-1)  # (batch, k) digits
        value = (best * (4 ** torch.arange(self.k - 1, -1, -1, device=scores.device))).sum(-1)
        keep = ids[value]
        out = torch.full_like(scores, float("-inf"))
        return out.scatter(1, keep.unsqueeze(1), 0.0)


def predict_causal(model, tokenizer, contexts: Sequence[str], predict_bp: int, *, per_base: bool = False,
                   batch_size: int = 16, progress=None) -> list[str]:
    from transformers import GenerationConfig

    from gener.tasks.generate import DnaOnly, _left_pad, check_causal

    check_causal(model, "causal recovery")
    k = tokenizer.k
    new = math.ceil(predict_bp / k)
    limit = model.config.max_position_embeddings - 1 - new
    rows = []
    for c in contexts:
        ids = tokenizer.encode_bulk(c, add_bos=False, add_eos=False, remainder="trim_left").astype(np.int64)[-limit:]
        rows.append(np.concatenate([[tokenizer.bos_token_id], ids]))
    config = GenerationConfig(max_new_tokens=new, min_new_tokens=new, do_sample=False, eos_token_id=None,
                              pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id, use_cache=True)
    processors = [DnaOnly(tokenizer, model.get_output_embeddings().weight.shape[0], allow_eos=False)]
    if per_base:
        processors.append(PerBaseArgmax(tokenizer))
    device = next(model.parameters()).device
    order = sorted(range(len(rows)), key=lambda i: -len(rows[i]))
    out: list[str] = [""] * len(rows)
    for b in range(0, len(order), batch_size):
        batch = order[b:b + batch_size]
        ids, mask = _left_pad([rows[i] for i in batch], tokenizer.pad_token_id)
        with torch.inference_mode():
            gen = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device), generation_config=config,
                                 logits_processor=processors)
        for i, tokens in zip(batch, gen[:, ids.shape[1]:].cpu().numpy()):
            out[i] = tokenizer.decode(tokens)[:predict_bp]
        if progress:
            progress(len(batch))
    return out


def predict_masked(model, tokenizer, contexts: Sequence[str], predict_bp: int, *, batch_size: int = 16,
                   progress=None) -> list[str]:
    """The autoregressive mask protocol for a bidirectional GENERanno masked LM."""
    limit = model.config.max_position_embeddings - 2
    bases = torch.tensor(tokenizer.convert_tokens_to_ids(list("ACGT")))
    device = next(model.parameters()).device
    out: list[str] = []
    for b in range(0, len(contexts), batch_size):
        chunk = contexts[b:b + batch_size]
        rows = [tokenizer.encode_bulk(c[-(limit - predict_bp):], add_bos=False, add_eos=False).astype(np.int64) for c in chunk]
        width = max(len(r) for r in rows) + 1 + predict_bp
        ids = torch.full((len(rows), width), tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        lengths = torch.tensor([len(r) + 1 for r in rows])  # <s> + context
        for i, r in enumerate(rows):
            ids[i, 0] = tokenizer.bos_token_id
            ids[i, 1:len(r) + 1] = torch.as_tensor(r)
        predicted = torch.zeros((len(rows), predict_bp), dtype=torch.long)
        for step in range(predict_bp):
            at = lengths + step
            ids[torch.arange(len(rows)), at] = tokenizer.mask_token_id
            mask[:] = (torch.arange(width) <= at.unsqueeze(1)).long()
            with torch.inference_mode():
                logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            pick = logits[torch.arange(len(rows)), at.to(device)][:, bases.to(device)].argmax(-1).cpu()
            predicted[:, step] = pick
            ids[torch.arange(len(rows)), at] = bases[pick]
        out.extend("".join("ACGT"[x] for x in row) for row in predicted.tolist())
        if progress:
            progress(len(chunk))
    return out


def recover(model, tokenizer, samples: Sequence[Sample], predict_bp: int, *, per_base: bool = False,
            batch_size: int = 16, progress=None) -> list[str]:
    """Predictions for each sample with the protocol of the model's family."""
    from gener.tasks.windows import family_of_model

    contexts = [s.context for s in samples]
    if family_of_model(model) == "generator":
        return predict_causal(model, tokenizer, contexts, predict_bp, per_base=per_base, batch_size=batch_size,
                              progress=progress)
    if per_base:
        raise GenerInputError("--per-base decoding is for 6-mer GENERator models")
    return predict_masked(model, tokenizer, contexts, predict_bp, batch_size=batch_size, progress=progress)


def write_predictions(path, samples: Sequence[Sample], predictions: Sequence[str]) -> None:
    from gener.io import atomic_write

    with atomic_write(path) as fh:
        fh.write("id\ttype\tcontext_bp\ttarget\tpredicted\taccuracy\n")
        for s, p in zip(samples, predictions):
            acc = np.mean([a == b for a, b in zip(p, s.target)])
            fh.write(f"{s.id}\t{s.type}\t{len(s.context)}\t{s.target}\t{p}\t{acc:.4f}\n")
