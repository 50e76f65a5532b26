"""Log-likelihood of DNA sequences under GENERator (causal) or GENERanno (masked) models.

What is computed (natural log, nats):

- **GENERator, token mode** (default): log p(sequence) under the model, 6-mer by 6-mer,
  each token conditioned on ``<s>`` and everything before it. A tail of ``len % 6`` bases
  is scored exactly too, as the probability of the next 6-mer *starting* with those bases
  (the sum over its completions), so every unambiguous base counts.
- **GENERator, per-base mode** (``per_base=True``, the v2 objective): each 6-mer's score is
  the sum over its six positions of log p_j(base_j), p_j the normalised per-base marginal
  of the next-token distribution (gener.modeling.perbase). A product of marginals, not a
  joint probability, so it is not comparable with token mode.
- **GENERanno**: a pseudo-log-likelihood: for each A/C/G/T position, the position is
  replaced by ``<mask>`` and log p(true base) is read among the four bases. Exact PLL
  costs one forward pass per base; ``mask_spacing=D`` masks every D-th base at once (D
  passes per window), an approximation that is D-times cheaper per base.

Bases inside a 6-mer with an ambiguity code (``<oov>``) and N positions are not scored;
``scored_bp`` says how many were. Sequences longer than the window are scored in windows
(gener.tasks.windows): a causal window gives its owned tokens ``window - stride`` tokens of
left context. Logits are computed only at scored positions, in chunks, so memory stays
bounded by the batch of hidden states, never batch x length x vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from gener import distributed
from gener.modeling.perbase import base_log_probs, kmer_ids, target_bases
from gener.tasks.windows import batched, body_of, family_of_model, plan_windows

_LOGIT_ROWS = 2048  # rows of logits materialised at once


@dataclass
class Score:
    id: str
    length: int  # bases in the sequence
    scored_bp: int
    log_likelihood: float  # nats

    @property
    def per_bp(self) -> float:
        return self.log_likelihood / self.scored_bp if self.scored_bp else float("nan")


def score_sequences(model, tokenizer, records: Iterable[tuple[str, str]], *, per_base: bool = False,
                    window: int | None = None, stride: int | None = None, batch_size: int = 8,
                    mask_spacing: int | None = None, max_batch_tokens: int = 32768, progress=None) -> Iterator[Score]:
    """Yield a :class:`Score` per ``(id, normalised sequence)``, in input order, streaming.

    ``window`` / ``stride`` in tokens (default: the model's context, half of it). A forward
    pass holds at most ``batch_size`` windows and about ``max_batch_tokens`` tokens (at least
    one window), so full-context windows of a large model do not exhaust memory.
    ``progress(bases)`` is called as bases are scored."""
    family = family_of_model(model)
    context = model.config.max_position_embeddings
    window = min(window or context, context) - 1  # room for <s>
    if family == "generator":
        scorer = _CausalScorer(model, tokenizer, per_base)
    else:
        if per_base:
            raise ValueError("per-base scoring is for 6-mer GENERator models")
        scorer = _MaskedScorer(model, tokenizer, mask_spacing, max_batch_tokens)
    batch_size = max(1, min(batch_size, max_batch_tokens // (window + 1)))
    yield from scorer.run(records, window, stride, batch_size, progress)


class _Scorer:
    causal = True

    def __init__(self, model, tokenizer):
        self.model, self.tok = model, tokenizer
        self.device = next(model.parameters()).device

    def run(self, records, window, stride, batch_size, progress):
        pending: dict[int, list] = {}  # item -> [id, length, scored, ll, windows left]

        def windows():
            for item, (name, seq) in enumerate(records):
                tokens, extra = self.tokens(seq)
                plan = plan_windows(len(tokens), window, stride, causal=self.causal, item=item)
                pending[item] = [name, len(seq), 0, 0.0, len(plan)]
                for w in plan:
                    yield w, tokens, extra

        next_item = 0
        # Under torchrun each rank scores every N-th batch; rank 0 gets all, in order, and yields.
        for batch, results in distributed.map_in_order(self.score_batch, batched(windows(), batch_size)):
            for (w, _, _), (scored, ll, bases) in zip(batch, results):
                entry = pending[w.item]
                entry[2] += scored
                entry[3] += ll
                entry[4] -= 1
                if progress:
                    progress(bases)
            while next_item in pending and pending[next_item][4] == 0:
                name, length, scored, ll, _ = pending.pop(next_item)
                yield Score(name, length, scored, ll)
                next_item += 1


class _CausalScorer(_Scorer):
    def __init__(self, model, tokenizer, per_base):
        super().__init__(model, tokenizer)
        self.per_base = per_base
        self.kmers = kmer_ids(tokenizer).to(self.device)
        self.k = tokenizer.k

    def tokens(self, seq):
        ids = self.tok.encode_bulk(seq, add_bos=False, add_eos=False, remainder="trim_right").astype(np.int64)
        r = len(seq) % self.k
        tail = seq[len(seq) - r:] if r else ""
        return ids, (tail if tail and set(tail) <= set("ACGT") else "")

    @torch.inference_mode()
    def score_batch(self, batch):
        rows = [np.concatenate([[self.tok.bos_token_id], t[w.start:w.end]]) for w, t, _ in batch]
        ids, mask = _pad_right(rows, self.tok.pad_token_id)
        hidden = body_of(self.model)(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).last_hidden_state
        head = self.model.get_output_embeddings()
        out = []
        for (w, tokens, tail), h in zip(batch, hidden):
            # logits at input position p predict token start + p; owned tokens j sit at p = j - start
            pos = torch.arange(w.own_start - w.start, w.own_end - w.start, device=self.device)
            targets = torch.as_tensor(tokens[w.own_start:w.own_end], device=self.device)
            want_tail = w.last and tail
            if want_tail:
                pos = torch.cat([pos, torch.tensor([w.end - w.start], device=self.device)])
            ll, scored = 0.0, 0
            for s in range(0, len(pos), _LOGIT_ROWS):
                logits = head(h[pos[s:s + _LOGIT_ROWS]]).float()
                tgt = targets[s:s + _LOGIT_ROWS]
                n = len(tgt)
                digits = target_bases(tgt, self.kmers)
                ok = digits[:, 0] >= 0  # <oov> targets are not scored
                if self.per_base:
                    lp = base_log_probs(logits[:n][ok], self.kmers).gather(-1, digits[ok].unsqueeze(-1)).sum()
                else:
                    lp = torch.log_softmax(logits[:n][ok], -1).gather(-1, tgt[ok].unsqueeze(-1)).sum()
                ll += float(lp)
                scored += int(ok.sum()) * self.k
                if want_tail and s + _LOGIT_ROWS >= len(pos):
                    ll += self._tail(logits[-1], tail)
                    scored += len(tail)
            out.append((scored, ll, (w.own_end - w.own_start) * self.k + (len(tail) if want_tail else 0)))
        return out

    def _tail(self, logits, tail) -> float:
        digits = ["ATCG".index(b) for b in tail]
        if self.per_base:
            lp = base_log_probs(logits, self.kmers)
            return float(sum(lp[j, d] for j, d in enumerate(digits)))
        grid = torch.log_softmax(logits, -1)[self.kmers].reshape([4] * self.k)
        return float(torch.logsumexp(grid[tuple(digits)].reshape(-1), 0))


class _MaskedScorer(_Scorer):
    causal = False

    def __init__(self, model, tokenizer, mask_spacing, max_batch_tokens):
        super().__init__(model, tokenizer)
        self.spacing, self.max_batch_tokens = mask_spacing, max_batch_tokens
        self.bases = torch.tensor(tokenizer.convert_tokens_to_ids(list("ACGT")), device=self.device)

    def tokens(self, seq):
        return self.tok.encode_bulk(seq, add_bos=False, add_eos=False).astype(np.int64), None

    @torch.inference_mode()
    def score_batch(self, batch):
        out = []
        for w, tokens, _ in batch:  # one window -> many masked copies, batched among themselves
            row = torch.as_tensor(np.concatenate([[self.tok.bos_token_id], tokens[w.start:w.end]]), device=self.device)
            owned = torch.arange(w.own_start, w.own_end, device=self.device) - w.start + 1
            owned = owned[torch.isin(row[owned], self.bases)]
            groups = ([owned[owned % self.spacing == r] for r in range(self.spacing)] if self.spacing
                      else [owned[i:i + 1] for i in range(len(owned))])
            groups = [g for g in groups if len(g)]
            ll = 0.0
            for chunk in batched(groups, max(1, min(16, self.max_batch_tokens // len(row)))):
                inputs = row.repeat(len(chunk), 1)
                for i, g in enumerate(chunk):
                    inputs[i, g] = self.tok.mask_token_id
                logits = self.model(input_ids=inputs).logits.float()
                for i, g in enumerate(chunk):
                    lp = torch.log_softmax(logits[i, g][:, self.bases], -1)
                    truth = (row[g].unsqueeze(-1) == self.bases).float().argmax(-1)
                    ll += float(lp.gather(-1, truth.unsqueeze(-1)).sum())
            out.append((len(owned), ll, w.own_end - w.own_start))
        return out


def _pad_right(rows, pad_id):
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for n, row in enumerate(rows):
        ids[n, : len(row)] = torch.as_tensor(row)
        mask[n, : len(row)] = 1
    return ids, mask


def write_scores(path, scores: Iterable[Score], *, mode: str) -> int:
    """TSV (id, length, scored_bp, log_likelihood, per_bp, mode), written atomically."""
    from gener.io import atomic_write

    n = 0
    with atomic_write(path) as fh:
        fh.write("id\tlength\tscored_bp\tlog_likelihood\tper_bp\tmode\n")
        for s in scores:
            fh.write(f"{s.id}\t{s.length}\t{s.scored_bp}\t{s.log_likelihood:.6f}\t{s.per_bp:.6f}\t{mode}\n")
            n += 1
    return n
