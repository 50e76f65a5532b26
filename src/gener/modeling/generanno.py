"""GENERanno: Llama blocks with bidirectional attention over single nucleotides, plus heads.

The encoder body is transformers' EuroBERT (RMSNorm, RoPE, gated SiLU MLP, grouped-query
attention, non-causal mask), whose module names are exactly those of the published
GENERanno checkpoints (``model.embed_tokens``, ``model.layers.N.self_attn.q_proj``, ...,
``model.norm``). The heads keep the published names too, so official weights load without a
key mapping:

- masked LM: ``lm_head`` (no bias);
- sequence classification: ``score`` on the FIRST token (``<s>``), no bias;
- token classification: ``score.<h>``, one linear head per strand (``num_prediction_heads``),
  each predicting ``num_labels`` classes for each of the ``k`` nucleotides a token covers.

One deliberate difference from upstream: our token-classification logits have the shape
``(batch, positions, heads, labels)`` — a per-strand track per nucleotide — instead of the
upstream layout that concatenates the heads along the sequence axis.

These classes are not registered with transformers' ``AutoConfig`` / ``AutoModelFor*``: the
published checkpoints carry the same ``model_type`` ("generanno") and an ``auto_map`` to
upstream's code, and transformers 5 prefers a registered class over remote code even with
``trust_remote_code=True`` — ``import gener`` would silently turn that call into one that
returns logits of another layout. Importing gener leaves those calls as they are; gener's
classes come from ``gener.load`` (or the classes here, by name).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from transformers.configuration_utils import strict
from transformers.modeling_outputs import MaskedLMOutput, SequenceClassifierOutput, TokenClassifierOutput
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
from transformers.models.eurobert.configuration_eurobert import EuroBertConfig
from transformers.models.eurobert.modeling_eurobert import EuroBertModel, EuroBertPreTrainedModel


@strict
class GenerannoConfig(EuroBertConfig):
    """EuroBERT's config with GENERanno's token ids and head options as defaults."""

    model_type = "generanno"

    vocab_size: int = 64
    max_position_embeddings: int = 8192
    pad_token_id: int | None = 3
    bos_token_id: int | None = 1
    eos_token_id: int | list[int] | None = 2
    mask_token_id: int = 4
    # Token-classification heads: one per strand in the published annotator.
    num_prediction_heads: int = 2
    # Nucleotides predicted per token (1 for the single-nucleotide tokenizer).
    k: int = 1
    use_mlp_classifier: bool = False
    # Which hidden layer feeds the heads (-1 = final, after the last norm).
    feature_layer: int = -1

    def _validate_period3_rope_parameters(self, rope_parameters, ignore_keys=None):
        self._check_received_keys(
            "period3", set(rope_parameters), {"rope_type", "period3_pairs"}, optional_keys={"rope_theta"},
            ignore_keys=ignore_keys,
        )


def _period3_rope_parameters(config, device=None, seq_len=None, layer_type=None):
    """Standard RoPE frequencies with every ``len/n``-th pair turned at 2*pi/3 rad per base.

    With plain RoPE the fastest channel turns 1 rad per nucleotide, so no channel has the
    3-nt period of codons; small annotators trained from scratch learn the reading frame
    minutes sooner with a few period-3 pairs (a 0.78M-parameter annotator: accuracy 0.82 after
    3 minutes, where plain RoPE stayed near the label prior after 7). Published
    checkpoints use plain RoPE and load unchanged; this is opt-in via
    ``rope_parameters={"rope_type": "period3", "period3_pairs": n, "rope_theta": ...}``.
    """
    params = config.rope_parameters
    dim = config.head_dim
    inv_freq = 1.0 / (params.get("rope_theta", 10000.0) ** (torch.arange(0, dim, 2, dtype=torch.float) / dim))
    pairs = int(params["period3_pairs"])
    if pairs:
        # Spread the period-3 pairs over the spectrum, keeping the fastest pair (local order).
        index = torch.linspace(inv_freq.numel() - 1, 1, pairs).round().long()
        inv_freq[index] = 2 * math.pi / 3
    return inv_freq.to(device), 1.0


ROPE_INIT_FUNCTIONS["period3"] = _period3_rope_parameters


def _mlp_or_linear(config: GenerannoConfig, out_features: int) -> nn.Module:
    if config.use_mlp_classifier:  # published option; layout kept for weight compatibility
        return nn.Sequential(
            nn.Linear(config.hidden_size, config.hidden_size),
            nn.GELU(),
            nn.Dropout(0.1),
            nn.Linear(config.hidden_size, out_features, bias=False),
        )
    return nn.Linear(config.hidden_size, out_features, bias=False)


class GenerannoPreTrainedModel(EuroBertPreTrainedModel):
    config_class = GenerannoConfig
    config: GenerannoConfig


class GenerannoModel(EuroBertModel, GenerannoPreTrainedModel):
    """The bidirectional encoder body (returns ``last_hidden_state``)."""

    config_class = GenerannoConfig


class _WithEncoder(GenerannoPreTrainedModel):
    def _features(self, input_ids, attention_mask, inputs_embeds, position_ids, kwargs):
        layer = self.config.feature_layer
        out = self.model(
            input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            output_hidden_states=layer != -1 or kwargs.pop("output_hidden_states", False),
            **kwargs,
        )
        hidden = out.last_hidden_state if layer == -1 else out.hidden_states[layer]
        return hidden, out

    def get_input_embeddings(self):
        return self.model.embed_tokens

    def set_input_embeddings(self, value):
        self.model.embed_tokens = value


class GenerannoForMaskedLM(_WithEncoder):
    _tied_weights_keys = {}

    def __init__(self, config: GenerannoConfig):
        super().__init__(config)
        self.model = GenerannoModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def get_output_embeddings(self):
        return self.lm_head

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, inputs_embeds=None, labels=None, **kwargs):
        hidden, out = self._features(input_ids, attention_mask, inputs_embeds, position_ids, kwargs)
        logits = self.lm_head(hidden)
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits.float().view(-1, logits.size(-1)), labels.view(-1))
        return MaskedLMOutput(loss=loss, logits=logits, hidden_states=out.hidden_states)


class GenerannoForSequenceClassification(_WithEncoder):
    """Pools the first token, as the published head does (input starts with ``<s>``)."""

    def __init__(self, config: GenerannoConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.model = GenerannoModel(config)
        self.score = _mlp_or_linear(config, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, inputs_embeds=None, labels=None, **kwargs):
        hidden, out = self._features(input_ids, attention_mask, inputs_embeds, position_ids, kwargs)
        logits = self.score(hidden[:, 0])
        loss = None
        if labels is not None:
            loss = _sequence_loss(self.config, logits, labels)
        return SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=out.hidden_states)


class GenerannoForTokenClassification(_WithEncoder):
    """Per-nucleotide, per-strand labels: logits ``(batch, seq_len * k, heads, num_labels)``.

    ``labels`` has shape ``(batch, seq_len * k, heads)`` (or ``(batch, seq_len * k)`` with a
    single head); -100 marks positions without a label (padding, specials).
    """

    def __init__(self, config: GenerannoConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.model = GenerannoModel(config)
        out = config.num_labels * config.k
        if config.num_prediction_heads > 1:
            self.score = nn.ModuleList(_mlp_or_linear(config, out) for _ in range(config.num_prediction_heads))
        else:
            self.score = _mlp_or_linear(config, out)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, inputs_embeds=None, labels=None, **kwargs):
        hidden, out = self._features(input_ids, attention_mask, inputs_embeds, position_ids, kwargs)
        heads = self.score if isinstance(self.score, nn.ModuleList) else [self.score]
        batch, length, _ = hidden.shape
        k, n = self.config.k, self.config.num_labels
        logits = torch.stack([h(hidden).view(batch, length * k, n) for h in heads], dim=2)
        loss = None
        if labels is not None:
            target = labels.view(batch, length * k, len(heads))
            loss = nn.functional.cross_entropy(logits.float().reshape(-1, n), target.reshape(-1))
        return TokenClassifierOutput(loss=loss, logits=logits, hidden_states=out.hidden_states)


def _sequence_loss(config, logits, labels):
    problem = config.problem_type
    if problem is None:
        if config.num_labels == 1:
            problem = "regression"
        elif labels.dtype in (torch.long, torch.int):
            problem = "single_label_classification"
        else:
            problem = "multi_label_classification"
    if problem == "regression":
        return nn.functional.mse_loss(logits.squeeze(-1).float(), labels.float().view(-1) if config.num_labels == 1 else labels.float())
    if problem == "single_label_classification":
        return nn.functional.cross_entropy(logits.float(), labels.view(-1))
    return nn.functional.binary_cross_entropy_with_logits(logits.float(), labels.float())

