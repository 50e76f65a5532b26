"""Tiny randomly initialised models for fast tests of the generation / scoring tasks."""

from __future__ import annotations

import pytest
import torch

from gener.modeling.presets import build_model
from gener.tokenization import KmerTokenizer, NucleotideTokenizer

SMALL = dict(num_hidden_layers=1, hidden_size=64, intermediate_size=128, num_attention_heads=2,
             num_key_value_heads=1)


def tiny_generator(directory=None, *, seed: int = 0, init: float = 0.5, **overrides):
    """A 1-layer GENERator (``init`` = initializer_range; large values spread the logits so
    greedy choices are not ties). Saved with its tokenizer when ``directory`` is given."""
    torch.manual_seed(seed)
    model = build_model("generator-tiny", **{**SMALL, "initializer_range": init, **overrides}).eval()
    tokenizer = KmerTokenizer()
    if directory is not None:
        model.save_pretrained(directory)
        tokenizer.save_pretrained(directory)
    return model, tokenizer


def tiny_generanno(directory=None, *, seed: int = 0, task: str = "masked-lm", **overrides):
    torch.manual_seed(seed)
    model = build_model("generanno-tiny", task, **{**SMALL, "initializer_range": 0.5, **overrides}).eval()
    tokenizer = NucleotideTokenizer()
    if directory is not None:
        model.save_pretrained(directory)
        tokenizer.save_pretrained(directory)
    return model, tokenizer


@pytest.fixture
def one_thread():
    """Tiny models run many small ops: on a shared 2-core machine, torch's thread pool makes
    them up to 40x slower (measured), so these tests run on one thread and restore it after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
