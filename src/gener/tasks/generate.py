"""DNA generation with a causal GENERator model (HF ``model.generate``, KV cache on).

Policies (docs/generation.md):

- **Prompts** are normalised (:func:`gener.sequence.normalize`) and 6-mer aligned by
  dropping their first ``len % 6`` bases (``trim_left``), so the bases next to the
  continuation are kept; :attr:`Generated.prompt` is the aligned prompt actually used.
  The model input is ``<s>`` [+ control token] + the prompt's 6-mers.
- **Empty prompts** (or prompts shorter than one 6-mer) are an error, unless a control
  token is given or ``allow_empty=True``: then generation starts from ``<s>`` [+ control]
  alone (unconditional generation, what fine-tuned design / central-dogma models use).
- **Only DNA comes out**: every special id except ``</s>`` (``<oov>``, ``<s>``, ``<pad>``,
  control tokens, ...) gets probability 0 before temperature / top-k / top-p, so no
  special token ever appears in a sample; ``</s>`` ends a sample (``finished=True``).
- **Batches** are left-padded (decoder-only), with an attention mask; prompts are grouped
  by length to waste little padding. Outputs do not depend on the grouping beyond float
  rounding.
- **Context**: ``<s>`` + prompt + the new tokens must fit the model's
  ``max_position_embeddings``; otherwise a GenerInputError says by how much.
- **Seeds**: ``seed`` makes the run reproducible (same inputs, batch size and device);
  the global torch RNG is left as it was.
- ``temperature=0`` is greedy decoding; ``top_k=0`` and ``top_p=1`` switch those filters off.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gener.errors import GenerInputError
from gener.sequence import normalize

CONTROL_FILE = "control_tokens.json"


@dataclass
class Generated:
    prompt_index: int
    sample: int
    prompt: str  # the 6-mer-aligned prompt actually used
    sequence: str  # new DNA only
    finished: bool  # ended with </s>


# --- control tokens -----------------------------------------------------------------------
def load_control_tokens(directory) -> dict[str, int]:
    """Label -> token id from ``control_tokens.json`` (``{"high": "<sp0>", ...}``) in a model
    directory (or an embedded name / hub id, resolved by :func:`gener.modeling.loading.resolve`).
    A directory without the file has no control labels: ``{}``."""
    from gener.modeling.loading import resolve

    path = resolve(directory) / CONTROL_FILE
    if not path.is_file():
        return {}
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise GenerInputError(f"cannot read control tokens: {exc}", path=path) from None
    if not isinstance(raw, dict) or not raw:
        raise GenerInputError('expected a JSON object {"label": "<sp0>", ...}', path=path)
    vocab = _vocab_of(path.parent)
    out = {}
    for label, token in raw.items():
        idx = token if isinstance(token, int) else vocab.get(str(token))
        if idx is None:
            raise GenerInputError(f"control label {label!r}: token {token!r} is not in the vocabulary", path=path)
        if idx in (1, 2, 3):  # <s>, </s>, <pad> have roles already
            raise GenerInputError(f"control label {label!r}: token {token!r} has another role", path=path)
        out[str(label)] = int(idx)
    return out


def save_control_tokens(directory, mapping: dict[str, str]) -> Path:
    """Write ``control_tokens.json`` (label -> special token, e.g. ``{"high": "<sp0>"}``) into a
    model directory. Which label gets which token is decided where the model is fine-tuned
    (:func:`gener.training.clm.control_tokens`); this is the one writer of the file."""
    path = Path(directory) / CONTROL_FILE
    path.write_text(json.dumps(dict(mapping), indent=1) + "\n")
    return path


def _vocab_of(directory: Path) -> dict[str, int]:
    from gener.tokenization.base import read_vocab_file
    from gener.tokenization.kmer import GENERATOR_SPECIALS

    vocab_file = directory / "vocab.txt"
    if vocab_file.is_file():
        return read_vocab_file(vocab_file)
    return {t: i for i, t in enumerate(GENERATOR_SPECIALS)}


def _control_id(control, control_tokens, model) -> int | None:
    if control is None:
        return None
    if control_tokens is None:  # a model loaded from a directory remembers where it came from
        origin = getattr(model, "name_or_path", "") or ""
        control_tokens = load_control_tokens(origin) if origin and Path(origin).is_dir() else {}
    check_control(control, control_tokens)
    return control_tokens[control]


def check_control(control: str | None, control_tokens: dict[str, int] | None) -> None:
    """An unknown label is an error listing the known ones."""
    if control is not None and control not in (control_tokens or {}):
        known = ", ".join(sorted(control_tokens or {})) or "none (the model has no control_tokens.json)"
        raise GenerInputError(f"unknown control label {control!r}; known labels: {known}")


# --- the DNA-only constraint ----------------------------------------------------------------
class DnaOnly:
    """Logits processor: every id that is not a k-mer (or ``</s>`` when allowed) gets -inf."""

    def __init__(self, tokenizer, vocab_size: int, *, allow_eos: bool = True):
        allowed = torch.zeros(vocab_size, dtype=torch.bool)
        kmers = torch.as_tensor(tokenizer._kmer_ids[: 4 ** tokenizer.k], dtype=torch.long)
        allowed[kmers[kmers < vocab_size]] = True
        if allow_eos:
            allowed[tokenizer.eos_token_id] = True
        self.banned = ~allowed

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self.banned.device != scores.device:
            self.banned = self.banned.to(scores.device)
        return scores.masked_fill(self.banned, float("-inf"))


def check_causal(model, what: str = "generation") -> None:
    if not (hasattr(model, "generate") and model.can_generate()):
        raise GenerInputError(f"{what} needs a causal GENERator model (LlamaForCausalLM); "
                              f"got {type(model).__name__}")


# --- prompts ------------------------------------------------------------------------------
def prepare_prompt(prompt: str, k: int = 6, *, index: int = 0, name: str | None = None,
                   allow_empty: bool = False) -> str:
    """Normalise and k-mer align one prompt (trim_left); errors name the prompt."""
    what = f"prompt {name!r}" if name else f"prompt {index + 1}"
    if not isinstance(prompt, str):
        raise GenerInputError(f"{what}: expected a DNA string, got {type(prompt).__name__}")
    try:
        seq = normalize(prompt)
    except GenerInputError as exc:
        raise GenerInputError(f"{what}: {exc}") from None
    aligned = seq[len(seq) % k:]
    if not aligned and not allow_empty:
        why = "is empty" if not seq else f"has fewer than {k} bases ({len(seq)})"
        raise GenerInputError(f"{what} {why}: give at least one {k}-mer, or a control label "
                              "(unconditional generation)")
    return aligned


def generate(model, tokenizer, prompts: Sequence[str], *, num_samples: int = 1, max_new_bp: int = 600,
             temperature: float = 1.0, top_p: float = 1.0, top_k: int = 0, control: str | None = None,
             control_tokens: dict[str, int] | None = None, seed: int | None = None, batch_size: int = 16,
             progress: bool = True, allow_empty: bool = False, use_cache: bool = True) -> list[Generated]:
    """Sample ``num_samples`` continuations of each prompt; results in prompt-major order.

    ``max_new_bp`` new bases at most (``ceil(max_new_bp / 6)`` tokens, cut to exactly
    ``max_new_bp``; fewer when ``</s>`` comes first). ``control`` prepends the control token
    of that label (``control_tokens``, default: the model directory's control_tokens.json).
    ``use_cache=False`` only exists to measure what the KV cache buys."""
    check_causal(model)
    if isinstance(prompts, str):
        prompts = [prompts]
    if not prompts:
        raise GenerInputError("no prompts given")
    if num_samples < 1 or max_new_bp < 1 or batch_size < 1:
        raise GenerInputError("num_samples, max_new_bp and batch_size must be >= 1")
    if temperature < 0 or not 0 < top_p <= 1 or top_k < 0:
        raise GenerInputError("need temperature >= 0, 0 < top_p <= 1 and top_k >= 0")
    ctrl = _control_id(control, control_tokens, model)
    aligned = [prepare_prompt(p, tokenizer.k, index=i, allow_empty=allow_empty or ctrl is not None)
               for i, p in enumerate(prompts)]
    k = tokenizer.k
    new_tokens = math.ceil(max_new_bp / k)
    head = [tokenizer.bos_token_id] + ([ctrl] if ctrl is not None else [])
    rows = [np.concatenate([np.array(head, np.int64), tokenizer.encode_bulk(p, add_bos=False, add_eos=False)])
            for p in aligned]
    context = model.config.max_position_embeddings
    for i, row in enumerate(rows):
        if len(row) + new_tokens > context:
            raise GenerInputError(
                f"prompt {i + 1}: {len(row)} prompt tokens + {new_tokens} new tokens exceed the model's context "
                f"of {context} tokens ({context * k:,} bp); shorten the prompt or --max-new-bp")

    jobs = [(i, s) for i in range(len(rows)) for s in range(num_samples)]
    order = sorted(range(len(jobs)), key=lambda j: -len(rows[jobs[j][0]]))  # similar lengths share a batch
    device = next(model.parameters()).device
    processor = DnaOnly(tokenizer, model.get_output_embeddings().weight.shape[0])
    config = _generation_config(tokenizer, new_tokens, temperature, top_p, top_k, use_cache)
    results: list[Generated | None] = [None] * len(jobs)
    batches = [order[b:b + batch_size] for b in range(0, len(order), batch_size)]
    cuda = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda), _progress(progress, len(jobs)) as bar:
        if seed is not None:
            torch.manual_seed(seed)
        for batch in batches:
            batch_rows = [rows[jobs[j][0]] for j in batch]
            ids, mask = _left_pad(batch_rows, tokenizer.pad_token_id)
            with torch.inference_mode():
                out = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device), generation_config=config,
                                     logits_processor=[processor])
            new = out[:, ids.shape[1]:].cpu().numpy()
            for j, tokens in zip(batch, new):
                i, s = jobs[j]
                stop = np.flatnonzero(tokens == tokenizer.eos_token_id)
                finished = len(stop) > 0
                dna = tokenizer.decode(tokens[: stop[0]] if finished else tokens)
                results[j] = Generated(i, s, aligned[i], dna[:max_new_bp], finished)
            bar(len(batch))
    return results  # type: ignore[return-value]


def _generation_config(tokenizer, new_tokens, temperature, top_p, top_k, use_cache):
    from transformers import GenerationConfig

    sample = temperature > 0
    return GenerationConfig(
        max_new_tokens=new_tokens, min_new_tokens=0, do_sample=sample,
        temperature=temperature if sample else None, top_p=top_p if sample and top_p < 1 else None,
        top_k=top_k if sample and top_k > 0 else None, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id, use_cache=use_cache,
    )


def _left_pad(rows, pad_id) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for n, row in enumerate(rows):
        ids[n, width - len(row):] = torch.as_tensor(row)
        mask[n, width - len(row):] = 1
    return ids, mask


class _progress:
    """A rich progress bar on stderr (or nothing), called with the number of samples done."""

    def __init__(self, enabled: bool, total: int):
        self.enabled, self.total = enabled, total

    def __enter__(self):
        if not self.enabled:
            return lambda n: None
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._bar = Progress(TextColumn("generating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                             console=Console(stderr=True), transient=True)
        self._bar.__enter__()
        task = self._bar.add_task("generate", total=self.total)
        return lambda n: self._bar.update(task, advance=n)

    def __exit__(self, *exc):
        if self.enabled:
            self._bar.__exit__(*exc)
        return False


# --- files ----------------------------------------------------------------------------------
def read_prompts(prompt: str | None = None, prompts_file=None, *, allow_empty: bool = False) -> list[tuple[str, str]]:
    """``(name, sequence)`` pairs from one ``--prompt`` or a ``--prompts`` FASTA (exactly one),
    each checked by :func:`prepare_prompt` before any model is loaded."""
    from gener.io import read_fasta

    if (prompt is None) == (prompts_file is None):
        raise GenerInputError("give exactly one of --prompt SEQ or --prompts FASTA")
    named = [("prompt", prompt)] if prompt is not None else [(r.id, r.sequence) for r in read_fasta(prompts_file)]
    for i, (name, seq) in enumerate(named):
        prepare_prompt(seq, index=i, name=name if prompts_file else None, allow_empty=allow_empty)
    return named


def write_generated(out, names: Sequence[str], results: Sequence[Generated], *, with_prompt: bool = False) -> None:
    """FASTA ``>NAME_SAMPLE prompt_bp=.. new_bp=.. finished=yes|no``, written atomically."""
    from gener.io import write_fasta

    records = []
    for g in results:
        description = f"prompt_bp={len(g.prompt)} new_bp={len(g.sequence)} finished={'yes' if g.finished else 'no'}"
        seq = g.prompt + g.sequence if with_prompt else g.sequence
        records.append((f"{names[g.prompt_index]}_{g.sample + 1}", description, seq))
    write_fasta(out, [_Rec(*r) for r in records])


@dataclass
class _Rec:
    id: str
    description: str
    sequence: str
