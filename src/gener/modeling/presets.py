"""Every model architecture gener can build, in one registry.

The published presets match the released checkpoints' config.json (docs/models.md);
the ``*-tiny`` presets are small enough to train and run on a laptop
CPU and are what the embedded default models use.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from transformers import (
    LlamaConfig,
    LlamaForCausalLM,
    LlamaForSequenceClassification,
    LlamaModel,
)

from gener.errors import GenerInputError
from gener.modeling.generanno import (
    GenerannoConfig,
    GenerannoForMaskedLM,
    GenerannoForSequenceClassification,
    GenerannoForTokenClassification,
    GenerannoModel,
)

GENERATOR_VOCAB = 4128
GENERANNO_VOCAB = 64


@dataclass(frozen=True)
class Preset:
    name: str
    family: str  # "generator" (causal, 6-mer) or "generanno" (bidirectional, 1-mer)
    hidden_size: int
    num_hidden_layers: int
    intermediate_size: int
    num_attention_heads: int
    num_key_value_heads: int
    max_position_embeddings: int
    description: str
    extra: dict = field(default_factory=dict)

    @property
    def bp_per_token(self) -> int:
        return 6 if self.family == "generator" else 1

    @property
    def context_description(self) -> str:
        kbp = self.max_position_embeddings * self.bp_per_token / 1000
        return f"{self.max_position_embeddings:,} tok ({kbp:.0f} kbp)" if kbp >= 10 else f"{self.max_position_embeddings:,} tok ({kbp:.1f} kbp)"


def _generator(name, hidden, layers, inter, heads, kv, desc, context=16384):
    return Preset(name, "generator", hidden, layers, inter, heads, kv, context, desc)


def _generanno(name, hidden, layers, inter, heads, kv, desc, context=8192):
    return Preset(name, "generanno", hidden, layers, inter, heads, kv, context, desc)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        _generator("generator-1.2b", 2048, 26, 5632, 32, 4, "GENERator 1.2B (published eukaryote/prokaryote, v1 and v2)"),
        _generator("generator-3b", 3072, 30, 8448, 32, 4, "GENERator 3B (published eukaryote/prokaryote, v1 and v2)"),
        _generator("generator-tiny", 256, 4, 704, 4, 2, "small causal 6-mer model for CPU training (embedded generator)"),
        _generanno("generanno-0.5b", 1280, 28, 3520, 16, 4, "GENERanno 0.5B (published prokaryote/eukaryote base and CDS annotator)"),
        _generanno("generanno-tiny", 128, 4, 352, 4, 2, "small bidirectional encoder for CPU training (embedded annotator)"),
    )
}

# Model classes per family and task. GENERator stays a plain Llama so that what we save is
# a checkpoint in the official layout.
_CLASSES = {
    ("generator", "base"): LlamaModel,
    ("generator", "causal-lm"): LlamaForCausalLM,
    ("generator", "sequence-classification"): LlamaForSequenceClassification,
    ("generanno", "base"): GenerannoModel,
    ("generanno", "masked-lm"): GenerannoForMaskedLM,
    ("generanno", "sequence-classification"): GenerannoForSequenceClassification,
    ("generanno", "token-classification"): GenerannoForTokenClassification,
}
DEFAULT_TASK = {"generator": "causal-lm", "generanno": "masked-lm"}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise GenerInputError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}") from None


def build_config(name: str, **overrides) -> LlamaConfig | GenerannoConfig:
    """The transformers config of a preset; ``overrides`` replace any field."""
    p = get_preset(name)
    common = dict(
        hidden_size=p.hidden_size,
        num_hidden_layers=p.num_hidden_layers,
        intermediate_size=p.intermediate_size,
        num_attention_heads=p.num_attention_heads,
        num_key_value_heads=p.num_key_value_heads,
        max_position_embeddings=p.max_position_embeddings,
        rms_norm_eps=1e-5,
        hidden_act="silu",
        tie_word_embeddings=False,
        bos_token_id=1,
        eos_token_id=2,
        rope_parameters={"rope_type": "default", "rope_theta": 500000.0},
    )
    if p.family == "generator":
        # Published configs carry no pad_token_id; sequence classification needs one to
        # find each sequence's last real token, so gener sets <pad>=3 (harmless for the LM).
        common.update(vocab_size=GENERATOR_VOCAB, pad_token_id=3)
        common.update(p.extra, **overrides)
        return LlamaConfig(**common)
    common.update(vocab_size=GENERANNO_VOCAB, pad_token_id=3, mask_token_id=4)
    common.update(p.extra, **overrides)
    return GenerannoConfig(**common)


def model_class(family: str, task: str | None = None):
    task = task or DEFAULT_TASK[family]
    try:
        return _CLASSES[(family, task)]
    except KeyError:
        tasks = sorted(t for f, t in _CLASSES if f == family)
        raise GenerInputError(f"{family} has no task {task!r}; choose one of: {', '.join(tasks)}") from None


def build_model(name: str, task: str | None = None, **overrides):
    """A freshly initialised model of a preset (``task`` picks the head)."""
    config = build_config(name, **overrides)
    return model_class(get_preset(name).family, task)(config)


def count_parameters(name: str, task: str | None = None) -> int:
    """Parameter count of a preset, built on the meta device (no memory, no init time)."""
    with torch.device("meta"):
        model = build_model(name, task)
    return sum(p.numel() for p in model.parameters())


def format_count(n: int) -> str:
    for unit, scale in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f}{unit}" if unit == "B" else f"{n / scale:.3g}{unit}"
    return str(n)


def preset_table() -> list[dict]:
    return [asdict(p) for p in PRESETS.values()]
