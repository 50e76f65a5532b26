"""Factorised k-mer embeddings for training small GENERators from scratch.

A 6-mer model has 4,096 separate input rows and output rows; with little data each is seen
rarely, and the model must first discover that 6-mers sharing bases are alike (a 5M
model had barely learned after 2.6M tokens). Here, during training, every k-mer row of the input
embedding and of ``lm_head`` is

    row(kmer) = free(kmer) + sum_j base_j[kmer[j]]

with ``base_j`` one vector per (position j, base): 4*k*hidden shared parameters that every
occurrence of every k-mer trains. ``free`` keeps full capacity. Special-token rows are free
only. This is a ``torch.nn.utils.parametrize`` parametrisation, so the model class is still a
stock ``LlamaForCausalLM``; :func:`materialise` computes the rows once and removes the
parametrisation, leaving an ordinary embedding matrix and ``lm_head``: the saved checkpoint is
a plain Llama in the official layout.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from gener.modeling.perbase import kmer_ids, target_bases

PARAMETRISED = ("model.embed_tokens", "lm_head")


class KmerRows(nn.Module):
    """weight -> weight + (shared per-position base vectors summed over each k-mer's bases)."""

    def __init__(self, digits: torch.Tensor, hidden: int, std: float):
        super().__init__()
        k = digits.shape[1]
        self.register_buffer("digits", digits.clamp(min=0), persistent=False)
        self.register_buffer("is_kmer", (digits[:, 0] >= 0).unsqueeze(-1), persistent=False)
        # Scaled so a composed row has about the spread of an ordinary initial row.
        self.base = nn.Parameter(torch.randn(k, 4, hidden) * std / k ** 0.5)

    def forward(self, free: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(self.base.shape[0], device=free.device)
        composed = self.base[positions, self.digits].sum(dim=1)  # (vocab, k, hidden) -> (vocab, hidden)
        return free + composed.to(free.dtype) * self.is_kmer


def factorise(model, tokenizer, free_scale: float = 0.1) -> None:
    """Parametrise the k-mer rows of ``model``'s input embedding and ``lm_head`` (in place).

    ``free_scale`` shrinks the initial free rows, so training starts from the factorised
    structure and the free part grows only where the data asks for it.
    """
    vocab = model.config.vocab_size
    digits = target_bases(torch.arange(vocab), kmer_ids(tokenizer))  # (vocab, k), -1 for specials
    std = model.config.initializer_range
    for name in PARAMETRISED:
        module = model.get_submodule(name)
        with torch.no_grad():
            module.weight.mul_(free_scale)
        parametrize.register_parametrization(module, "weight", KmerRows(digits, module.weight.shape[1], std))


def is_factorised(model) -> bool:
    return any(parametrize.is_parametrized(model.get_submodule(n)) for n in PARAMETRISED)


def materialise(model) -> None:
    """Replace the parametrisation by the rows it computes: a plain model again (in place)."""
    for name in PARAMETRISED:
        module = model.get_submodule(name)
        if parametrize.is_parametrized(module):
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
