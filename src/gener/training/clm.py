"""Causal-LM fine-tuning of a GENERator on a set of sequences (``gener finetune clm``).

What the GENERator applications need (docs/finetuning.md): each sequence becomes
``<s>`` [control] 6-mers ``</s>``, so the model learns where sequences start and end;
batches are right-padded (labels -100 on pads) or packed into fixed blocks; the loss is
the token cross-entropy or the v2 per-base loss (:func:`gener.modeling.perbase.per_base_nll`).

Control labels (prompted design): a label per sequence becomes one reserved special token
right after ``<s>``. The vocabulary has no ``<high>``/``<low>``, so labels are mapped onto
spare specials (``<sp0>``, ``<sp1>``, ... by default, or any non-role special given
explicitly) and the mapping is saved as ``control_tokens.json`` beside the weights, which
is what ``gener generate --control LABEL`` reads.

Training is the house recipe on the HF Trainer: AdamW (0.9, 0.95), weight decay 0.1, warm-up
then cosine to 10%, clipping 1.0, fp32 on CPU / bf16 on GPUs with it, SDPA; a validation
split with early stopping on its loss; ``RUN/final`` loads with ``gener.load``.
"""

from __future__ import annotations

import json
import math
import re
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import EarlyStoppingCallback, Trainer

from gener.errors import GenerInputError
from gener.io.tables import is_table, read_table
from gener.modeling import presets
from gener.modeling.perbase import kmer_ids, per_base_nll
from gener.progress import replace_trainer_output
from gener.sequence import normalize
from gener.tasks.generate import load_control_tokens, save_control_tokens
from gener.training.pretrain import LossLogCallback
from gener.training.recipe import recipe_arguments

IGNORE = -100
LOSSES = ("token", "per-base")
_ROLE_TOKENS = ("unk_token", "bos_token", "eos_token", "pad_token", "mask_token")


@dataclass
class Example:
    name: str
    sequence: str
    control: str | None = None


# ---------------------------------------------------------------------------- data


def read_examples(path, *, control_col: str | None = None, sequence_col: str = "sequence") -> list[Example]:
    """Sequences (and optional control labels) from FASTA/GenBank, parquet, or CSV/TSV.

    Tables take ``sequence_col`` and ``control_col`` columns. In FASTA the label is a
    ``COL=VALUE`` field of the description line (``>seq7 label=high``). Every sequence goes
    through :func:`gener.sequence.normalize`; errors name the file and record.
    """
    path = Path(path)
    if not path.exists():
        raise GenerInputError("no such file", path=path)
    if is_table(path):
        rows = table_rows(path, sequence_col, control_col)
    else:
        from gener.io import read_sequences

        rows = []
        for rec in read_sequences(path):
            label = None
            if control_col:
                m = re.search(rf"(?:^|\s){re.escape(control_col)}=(\S+)", rec.description)
                label = m.group(1) if m else None
            rows.append((rec.id, rec.sequence, label))
    out = []
    for i, (name, seq, label) in enumerate(rows):
        name = str(name if name is not None else i + 1)
        if control_col and (label is None or str(label).strip() == ""):
            raise GenerInputError(f"no {control_col!r} label", path=path, record=name)
        try:
            seq = normalize(seq or "", name=name)
        except GenerInputError as exc:
            raise GenerInputError(str(exc), path=path) from None
        if seq:
            out.append(Example(name, seq, None if label is None else str(label)))
    if not out:
        raise GenerInputError("no sequences", path=path)
    return out


def table_rows(path, sequence_col: str, other_col: str | None = None) -> list[tuple]:
    """``(id, sequence, other)`` rows of a table (:func:`gener.io.tables.read_table`; ``id`` from
    an ``id`` or ``ID`` column when there is one)."""
    table = read_table(path, [sequence_col] + ([other_col] if other_col else []))
    n = len(table[sequence_col])
    key = "id" if "id" in table else ("ID" if "ID" in table else None)
    ids = table[key] if key else [None] * n
    others = table[other_col] if other_col else [None] * n
    return list(zip(ids, table[sequence_col], others))


def control_tokens(tokenizer, labels, mapping: dict[str, str] | None = None,
                   inherited: dict[str, str] | None = None) -> dict[str, str]:
    """label -> special token. Explicit ``mapping`` first, then labels the base model already
    had (``inherited``), then the free ``<spN>`` tokens in order for the rest (sorted labels,
    so the same data gives the same map). A token must be a special that is not a role
    token (``<s>``, ``</s>``, ``<pad>``, ``<mask>``, ``<oov>``), used once."""
    vocab = tokenizer.get_vocab()
    first_kmer = int(kmer_ids(tokenizer).min())
    roles = {getattr(tokenizer, r) for r in _ROLE_TOKENS}
    out: dict[str, str] = {}
    for label, token in {**(inherited or {}), **(mapping or {})}.items():
        if token not in vocab or vocab[token] >= first_kmer or token in roles:
            raise GenerInputError(f"control token {token!r} for label {label!r} is not a free special token "
                                  "(use <sp0>, <sp1>, ... or another non-role special)")
        out[label] = token
    if len(set(out.values())) != len(out):
        raise GenerInputError(f"two control labels share one token: {out}")
    spare = sorted((t for t in vocab if re.fullmatch(r"<sp\d+>", t) and t not in out.values()), key=vocab.get)
    for label in sorted(set(labels) - set(out)):
        if not spare:
            raise GenerInputError(f"more control labels than spare <spN> tokens: map {label!r} explicitly "
                                  "with --control-map LABEL=TOKEN (any non-role special, e.g. <bok>)")
        out[label] = spare.pop(0)
    return out


def parse_control_map(items) -> dict[str, str]:
    """``["high=<sp0>", "low=<sp1>"]`` or ``["high=<sp0>,low=<sp1>"]`` -> dict."""
    out = {}
    for item in items or []:
        for pair in str(item).split(","):
            label, sep, token = pair.partition("=")
            if not sep or not label.strip() or not token.strip():
                raise GenerInputError(f"--control-map {pair!r}: expected LABEL=TOKEN (e.g. high=<sp0>)")
            out[label.strip()] = token.strip()
    return out


def encode(examples: list[Example], tokenizer, *, controls: dict[str, str] | None = None, max_tokens: int = 1024,
           remainder: str = "trim_right") -> tuple[list[np.ndarray], int]:
    """``<s>`` [control] k-mers ``</s>`` per example -> (id arrays, number truncated).

    ``trim_right`` keeps the 5' end in frame (a CDS keeps its reading frame from the start
    codon). A sequence longer than ``max_tokens`` keeps its start and loses ``</s>``: the
    model is never taught to stop where the sequence did not."""
    ids_of = {label: tokenizer.convert_tokens_to_ids(tok) for label, tok in (controls or {}).items()}
    rows, truncated = [], 0
    for ex in examples:
        body = tokenizer.encode_bulk(ex.sequence, add_bos=False, add_eos=False, remainder=remainder)
        head = [tokenizer.bos_token_id] + ([ids_of[ex.control]] if ex.control is not None and ids_of else [])
        row = np.concatenate([np.asarray(head, np.int64), body.astype(np.int64), [tokenizer.eos_token_id]])
        if len(row) > max_tokens:
            row, truncated = row[:max_tokens], truncated + 1
        if len(row) > len(head) + 1:  # at least one k-mer
            rows.append(row)
    return rows, truncated


def pack(rows: list[np.ndarray], block: int) -> list[np.ndarray]:
    """Concatenate the documents and cut fixed blocks (the last one shorter)."""
    flat = np.concatenate(rows)
    return [flat[i:i + block] for i in range(0, len(flat), block)]


class TokenRows(torch.utils.data.Dataset):
    def __init__(self, rows: list[np.ndarray]):
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        return {"input_ids": torch.as_tensor(self.rows[i], dtype=torch.long)}


class PadCollator:
    """Right-pads a batch; ``labels`` are the ids with -100 on pads (the model shifts them)."""

    def __init__(self, pad_id: int):
        self.pad_id = int(pad_id)

    def __call__(self, features) -> dict:
        width = max(len(f["input_ids"]) for f in features)
        ids = torch.full((len(features), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(features), width), dtype=torch.long)
        for i, f in enumerate(features):
            n = len(f["input_ids"])
            ids[i, :n], mask[i, :n] = f["input_ids"], 1
        return {"input_ids": ids, "attention_mask": mask, "labels": ids.masked_fill(mask == 0, IGNORE)}


def per_base_loss(ids: torch.Tensor):
    """A ``compute_loss_func`` for the Trainer: the v2 per-base NLL of next-token targets."""

    def loss(outputs, labels, num_items_in_batch=None):
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
        return per_base_nll(logits[:, :-1], labels[:, 1:].to(logits.device), ids)

    return loss


# ---------------------------------------------------------------------------- training


@dataclass
class ClmResult:
    run_dir: Path
    final: Path
    controls: dict[str, str]
    train_sequences: int
    valid_sequences: int
    truncated: int
    global_step: int
    best_eval_loss: float | None
    log_history: list = field(default_factory=list)


def check_model(name: str) -> None:
    """Fail early (before anything is written) when ``name`` is neither a preset nor a model
    that resolves: a missing embedded model, a path that does not exist, a hub id offline."""
    if name not in presets.PRESETS:
        from gener.modeling.loading import resolve

        resolve(name)


def load_causal_model(name: str, overrides: dict | None = None):
    """A preset name builds a fresh model (tests, from-scratch runs); anything else loads."""
    from gener.tokenization import KmerTokenizer

    if name in presets.PRESETS:
        if presets.get_preset(name).family != "generator":
            raise GenerInputError(f"{name} is not a causal (generator-*) preset")
        return presets.build_model(name, "causal-lm", **(overrides or {})), KmerTokenizer(), {}
    import gener
    from gener.modeling.loading import resolve

    model, tokenizer = gener.load(name, task="causal-lm", device="cpu", dtype=torch.float32)
    if not hasattr(tokenizer, "k"):
        raise GenerInputError(f"{name} is not a GENERator (6-mer causal) model")
    inherited = {label: tokenizer.convert_ids_to_tokens(i) for label, i in load_control_tokens(resolve(name)).items()}
    return model, tokenizer, inherited


def split(examples: list[Example], fraction: float, seed: int) -> tuple[list[Example], list[Example]]:
    """A seeded random hold-out; at least one of each when there are two or more."""
    if fraction <= 0 or len(examples) < 2:
        return examples, []
    order = np.random.default_rng(seed).permutation(len(examples))
    n = min(max(1, round(len(examples) * fraction)), len(examples) - 1)
    return [examples[i] for i in order[n:]], [examples[i] for i in order[:n]]


def finetune_clm(
    model: str,
    data,
    out,
    *,
    valid=None,
    valid_fraction: float = 0.1,
    loss: str = "token",
    control_col: str | None = None,
    control_map: dict[str, str] | None = None,
    sequence_col: str = "sequence",
    max_tokens: int = 1024,
    packing: bool = False,
    batch_size: int = 8,
    learning_rate: float = 1e-4,
    warmup_steps: int = 0,
    steps: int | None = None,
    epochs: float = 3.0,
    eval_steps: int | None = None,
    patience: int = 3,
    seed: int = 0,
    model_overrides: dict | None = None,
    examples: list[Example] | None = None,
    log=print,
) -> ClmResult:
    """Fine-tune ``model`` on ``data`` (or ready ``examples``); writes ``out/final`` (model,
    tokenizer, ``control_tokens.json`` when labels are used, ``training.json``) and
    ``out/loss.csv`` / ``loss.png``."""
    if loss not in LOSSES:
        raise GenerInputError(f"unknown loss {loss!r}; choose one of: {', '.join(LOSSES)}")
    out = Path(out)
    examples = examples if examples is not None else read_examples(data, control_col=control_col,
                                                                    sequence_col=sequence_col)
    if valid is not None:
        train_ex, valid_ex = examples, read_examples(valid, control_col=control_col, sequence_col=sequence_col)
    else:
        train_ex, valid_ex = split(examples, valid_fraction, seed)

    torch.manual_seed(seed)
    net, tokenizer, inherited = load_causal_model(model, model_overrides)
    labels = {e.control for e in train_ex + valid_ex if e.control is not None}
    if labels and any(e.control is None for e in train_ex + valid_ex):
        raise GenerInputError("some sequences have a control label and some do not")
    controls = control_tokens(tokenizer, labels, control_map, inherited) if labels else dict(inherited)
    train_rows, cut = encode(train_ex, tokenizer, controls=controls if labels else None, max_tokens=max_tokens)
    valid_rows, cut_v = encode(valid_ex, tokenizer, controls=controls if labels else None, max_tokens=max_tokens)
    if packing:
        train_rows = pack(train_rows, max_tokens)
        valid_rows = pack(valid_rows, max_tokens) if valid_rows else []
    if not train_rows:
        raise GenerInputError("no sequence of at least one 6-mer to train on", path=data)
    if cut:
        log(f"{cut} of {len(train_ex)} training sequence(s) longer than {max_tokens} tokens were truncated "
            "(kept their 5' end, lost </s>)")

    net.config.pad_token_id = tokenizer.pad_token_id
    per_epoch = max(1, math.ceil(len(train_rows) / batch_size))
    total = steps or max(1, math.ceil(epochs * per_epoch))
    eval_every = eval_steps or max(1, total // 10)
    has_valid = bool(valid_rows)
    args = recipe_arguments(
        out,
        max_steps=total,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=batch_size,
        learning_rate=learning_rate,
        warmup_steps=warmup_steps,
        logging_steps=max(1, min(eval_every, 10)),
        logging_first_step=True,
        eval_strategy="steps" if has_valid else "no",
        eval_steps=eval_every,
        save_strategy="steps",
        save_steps=eval_every,
        save_total_limit=2,
        load_best_model_at_end=has_valid,
        metric_for_best_model="eval_loss" if has_valid else None,
        greater_is_better=False,
        seed=seed,
        data_seed=seed,
        dataloader_num_workers=0,
    )
    callbacks = [LossLogCallback(out, batch_size * max_tokens)]
    if has_valid and patience > 0:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=patience))
    trainer = Trainer(
        model=net,
        args=args,
        train_dataset=TokenRows(train_rows),
        eval_dataset=TokenRows(valid_rows) if has_valid else None,
        data_collator=PadCollator(tokenizer.pad_token_id),
        compute_loss_func=per_base_loss(kmer_ids(tokenizer)) if loss == "per-base" else None,
        callbacks=callbacks,
    )
    replace_trainer_output(trainer, "fine-tuning")
    log(f"fine-tuning {model} ({sum(p.numel() for p in net.parameters()):,} parameters, {loss} loss) on "
        f"{len(train_ex):,} sequences ({len(valid_ex):,} held out), {len(train_rows):,} "
        f"{'packed blocks' if packing else 'rows'}, {total:,} steps" + (f"; controls {controls}" if labels else ""))
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    trainer.train()
    final = out / "final"
    trainer.save_model(str(final))
    tokenizer.save_pretrained(str(final))
    if controls:
        save_control_tokens(final, controls)
    evals = [h["eval_loss"] for h in trainer.state.log_history if "eval_loss" in h]
    result = ClmResult(out, final, controls, len(train_ex), len(valid_ex), cut + cut_v, trainer.state.global_step,
                       min(evals) if evals else None, trainer.state.log_history)
    record = {
        "command": "gener " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "model": model, "data": str(data), "loss": loss, "controls": controls, "max_tokens": max_tokens,
        "packing": packing, "batch_size": batch_size, "learning_rate": learning_rate, "seed": seed,
        "train_sequences": len(train_ex), "valid_sequences": len(valid_ex), "truncated": cut + cut_v,
        "global_step": trainer.state.global_step, "planned_steps": total, "best_eval_loss": result.best_eval_loss,
        "minutes": round((time.time() - started) / 60, 2), "log_history": trainer.state.log_history,
    }
    (final / "training.json").write_text(json.dumps(record, indent=1))
    return result
