"""Frozen-embedding features for the linear probe (``gener finetune classify --freeze``, and
the probe every fine-tune is checked against).

Every sequence goes through the model once, with the same input as fine-tuning
(:func:`gener.training.classify.encode_sequences`); its embedding is, at each of up to
``DEPTHS`` evenly spaced depths (from the embedding output to the last layer), the mean and
the maximum over its DNA tokens (specials and padding excluded) of the hidden states, all
concatenated. The probe's features are that embedding next to the k-mer frequencies the
baseline uses (:func:`probe_features`): the head can always fall back on composition, so
what the probe gains over the baseline is what the model's representation adds to it. A
linear head per fold (:mod:`gener.training.linear`) then costs seconds, so a probe of every
fold costs one forward pass over the data instead of ``folds`` trainings.

Why these poolings and not the head's pooled token: on the built tasks the last-layer
``<s>`` / last token of the tiny embedded models carried less than the token mean, and lower
layers keep composition that the last layer of a CDS annotator discards. The maximum adds
"this feature fired somewhere": a binding motif anywhere in the window, which a mean over
hundreds of tokens dilutes; with it (and crossval.select_mode) the default run went from beating the baseline on two of
the five built tasks to all five, with the annotator's stage-1 weights (benchmarks/understanding.py measures them;
docs/benchmarks.md has the current figures). Why the k-mer block: alone, the tiny models' embeddings lost to the baseline
on the composition-driven built tasks (taxonomy, PUM2, Oct4 / MafK), where a head with both
can do no worse than composition alone, up to fitting noise.
"""

from __future__ import annotations

import numpy as np
import torch

from gener.training.classify import build_classifier, encode_sequences, load_tokenizer_for, model_family

DEPTHS = 5


def depths(layers: int) -> list[int]:
    """Indices into ``hidden_states`` (0 = embeddings, ``layers`` = last layer)."""
    if layers + 1 <= DEPTHS:
        return list(range(layers + 1))
    return sorted({round(i * layers / (DEPTHS - 1)) for i in range(DEPTHS)})


def embed_frozen(model_name: str, sequences: list[str], *, max_length: int | None = None,
                 overrides: dict | None = None, max_batch_tokens: int = 16384, warn=None) -> np.ndarray:
    """``(len(sequences), 2 x depths x hidden)`` float32 features (the means at every depth,
    then the maxima), in input order."""
    family = model_family(model_name)
    tokenizer = load_tokenizer_for(model_name)
    model = build_classifier(model_name, "classification", ["a", "b"], overrides).eval()
    body = model.model
    max_length = max_length or model.config.max_position_embeddings
    ids, truncated = encode_sequences(sequences, tokenizer, family, max_length)
    if truncated and warn is not None:
        warn(f"{truncated:,} of {len(ids):,} sequences longer than {max_length:,} tokens were truncated")
    picks = depths(model.config.num_hidden_layers)
    device = next(body.parameters()).device
    out = np.zeros((len(ids), 2 * len(picks) * model.config.hidden_size), np.float32)
    order = np.argsort([len(i) for i in ids])  # similar lengths together: little padding
    start = 0
    while start < len(order):
        stop = start + 1
        while stop < len(order) and (stop - start + 1) * len(ids[order[stop]]) <= max_batch_tokens:
            stop += 1
        rows = [ids[i] for i in order[start:stop]]
        width = max(len(r) for r in rows)
        x = torch.full((len(rows), width), tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        dna = torch.zeros((len(rows), width), dtype=torch.float32)  # DNA tokens: not <s>, not padding
        for r, row in enumerate(rows):
            x[r, : len(row)] = torch.as_tensor(row)
            mask[r, : len(row)] = 1
            dna[r, 1: len(row) - (1 if family == "generator" else 0)] = 1
        with torch.inference_mode():
            hidden = body(input_ids=x.to(device), attention_mask=mask.to(device),
                          output_hidden_states=True).hidden_states
            dna = dna.to(device)[..., None]
            weights = dna / dna.sum(1, keepdim=True).clamp(min=1)
            outside = (1 - dna) * torch.finfo(torch.float32).min  # never the maximum
            means = [(hidden[d].float() * weights).sum(1) for d in picks]
            some = dna.sum(1) > 0  # a sequence without DNA tokens gets zeros, not -inf
            maxima = [torch.where(some, (hidden[d].float() + outside).amax(1), 0.0) for d in picks]
            pooled = torch.cat(means + maxima, dim=1)
        out[order[start:stop]] = pooled.cpu().numpy()
        start = stop
    return out


def probe_features(model_name: str, sequences: list[str], kmers: np.ndarray | None = None, **kwargs) -> np.ndarray:
    """The probe's features: :func:`embed_frozen` next to the baseline's k-mer frequencies
    (``kmers``: those of ``sequences`` when the caller has them already)."""
    from gener.training.linear import kmer_features

    kmers = kmer_features(sequences) if kmers is None else kmers
    return np.concatenate([embed_frozen(model_name, sequences, **kwargs), kmers], axis=1)


# --model auto: both embedded models are candidates (in this order: the first wins a tie).
CANDIDATES = ("gener-generator-tiny", "gener-annotator-tiny")


def choose_encoder(task: str, num_labels: int, metric: str, sequences: list[str], labels: np.ndarray, runs_data, *,
                   kmers: np.ndarray | None = None, warn=None) -> tuple[str, dict[str, float], np.ndarray]:
    """The candidate whose probe (:func:`probe_features`) scores best on the validation folds -
    never the test split. ``sequences`` may go on past the labelled pool (the test
    split): they are embedded too, and the chosen model's features are returned for reuse.
    ``kmers``: the k-mer frequencies of ``sequences``, if the caller has them."""
    from gener import metrics as M
    from gener.errors import GenerInputError
    from gener.modeling.loading import EMBEDDED_MODELS
    from gener.training.linear import fit_per_fold

    from gener.training.linear import kmer_features

    kmers = kmer_features(sequences) if kmers is None else kmers
    scores, features, best = {}, {}, None
    for name in CANDIDATES:
        if not EMBEDDED_MODELS[name].available():
            continue
        features[name] = probe_features(name, sequences, kmers, warn=warn)
        runs = fit_per_fold(task, num_labels, metric, features[name][: len(labels)], labels, runs_data)
        scores[name] = float(np.mean([r["valid"][metric] for r in runs]))
        if best is None or M.better(metric, scores[name], scores[best]):
            best = name
    if best is None:
        raise GenerInputError("--model auto: no embedded model is installed here; pass --model NAME")
    return best, scores, features[best]
