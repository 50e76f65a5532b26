"""Per-base views of a 6-mer model's next-token distribution.

GENERator predicts one k-mer at a time. Several recipes need the probability of single
bases instead (the published protocols, docs/models.md):

- variant effect scoring: p(base) at the next position = the summed probability of the
  4**(k-1) k-mers that start with that base;
- the v2 per-base loss: for each of the k positions of the target k-mer, marginalise the
  softmax over the 4 bases and take the negative log-likelihood, averaged over positions;
- per-base decoding for sequence recovery: the argmax base of every position's marginal.

Every function here takes the k-mer ids in base-4 order from the tokenizer
(:func:`kmer_ids`), never assumes ids 32.., because published checkpoints may order their
vocab.txt differently. Base order is GENERator's: A, T, C, G.
"""

from __future__ import annotations

import torch

BASES = "ATCG"  # digit order of GENERator k-mers, most significant base first


def kmer_ids(tokenizer) -> torch.Tensor:
    """Token ids of all 4**k k-mers, indexed by their base-4 value (A=0, T=1, C=2, G=3)."""
    k = tokenizer.k
    return torch.as_tensor(tokenizer._kmer_ids[: 4 ** k], dtype=torch.long)


def base_log_probs(logits: torch.Tensor, ids: torch.Tensor, *, normalize: bool = True) -> torch.Tensor:
    """``(..., vocab)`` logits -> ``(..., k, 4)`` log p(base at position j of the next k-mer).

    The softmax runs over the whole vocabulary (as the published scoring does). With
    ``normalize`` each position's four values are renormalised to sum to 1 (the mass on
    special tokens removed); without it they are the raw summed k-mer probabilities.
    """
    k = _k_of(ids)
    logp = torch.log_softmax(logits.float(), dim=-1).index_select(-1, ids.to(logits.device))
    grid = logp.reshape(*logp.shape[:-1], *([4] * k))  # axis j+offset = base at position j
    lead = logp.dim() - 1
    per_position = []
    for j in range(k):
        others = tuple(lead + a for a in range(k) if a != j)
        per_position.append(torch.logsumexp(grid, dim=others))
    out = torch.stack(per_position, dim=-2)  # (..., k, 4)
    if normalize:
        out = out - torch.logsumexp(out, dim=-1, keepdim=True)
    return out


def target_bases(targets: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """``(...)`` token ids -> ``(..., k)`` base digits 0..3, or -1 where the id is not a k-mer."""
    k = _k_of(ids)
    ids = ids.to(targets.device)
    value_of = torch.full((int(ids.max()) + 1,), -1, dtype=torch.long, device=targets.device)
    value_of[ids] = torch.arange(len(ids), device=targets.device)
    in_table = (targets >= 0) & (targets < len(value_of))
    values = torch.where(in_table, value_of[targets.clamp(0, len(value_of) - 1)], torch.full_like(targets, -1))
    shifts = torch.arange(k - 1, -1, -1, device=targets.device) * 2
    digits = (values.clamp(min=0).unsqueeze(-1) >> shifts) & 3
    return torch.where(values.unsqueeze(-1) >= 0, digits, torch.full_like(digits, -1))


def per_base_nll(logits: torch.Tensor, targets: torch.Tensor, ids: torch.Tensor,
                 ignore_index: int = -100) -> torch.Tensor:
    """The v2 per-base loss: mean over k-mer targets and their k positions of
    -log p_j(base_j), with p_j the normalised marginal of position j.

    Targets that are special tokens (``</s>``, ``<oov>``, control tokens) have no bases; they
    get the ordinary token cross-entropy so the model still learns to end a sequence.
    ``ignore_index`` targets count for nothing.
    """
    logits = logits.reshape(-1, logits.shape[-1])
    targets = targets.reshape(-1)
    keep = targets != ignore_index
    logits, targets = logits[keep], targets[keep]
    if targets.numel() == 0:
        return logits.sum() * 0.0
    digits = target_bases(targets, ids)  # (n, k)
    is_kmer = digits[:, 0] >= 0
    losses = []
    if is_kmer.any():
        lp = base_log_probs(logits[is_kmer], ids)  # (m, k, 4)
        picked = lp.gather(-1, digits[is_kmer].unsqueeze(-1)).squeeze(-1)  # (m, k)
        losses.append(-picked.mean(dim=-1))
    if (~is_kmer).any():
        losses.append(torch.nn.functional.cross_entropy(logits[~is_kmer].float(), targets[~is_kmer],
                                                        reduction="none"))
    return torch.cat(losses).mean()


def _k_of(ids: torch.Tensor) -> int:
    k, n = 0, len(ids)
    while n > 1:
        n //= 4
        k += 1
    if 4 ** k != len(ids):
        raise ValueError(f"{len(ids)} k-mer ids is not a power of 4")
    return k
