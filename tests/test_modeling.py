"""Presets, attention direction, heads, and parameter counts of the published sizes."""

import pytest
import torch

from gener.errors import GenerInputError
from gener.modeling import presets


def _tiny(name, task=None, **overrides):
    torch.manual_seed(0)
    overrides.setdefault("num_hidden_layers", 2)
    return presets.build_model(name, task, **overrides).eval()


def _changed_at(model, ids, position, new_id, read_at):
    """Max change of the output at ``read_at`` when the token at ``position`` is replaced."""
    other = ids.clone()
    other[0, position] = new_id
    with torch.no_grad():
        a = model(input_ids=ids).logits[0, read_at]
        b = model(input_ids=other).logits[0, read_at]
    return (a - b).abs().max().item()


def test_generanno_is_bidirectional():
    model = _tiny("generanno-tiny", "masked-lm")
    ids = torch.tensor([[1] + [32, 33, 34, 40] * 8])
    # A change near the end reaches the first positions: attention looks both ways.
    assert _changed_at(model, ids, position=30, new_id=37, read_at=2) > 1e-4


def test_generator_is_causal():
    model = _tiny("generator-tiny", "causal-lm")
    ids = torch.tensor([[1] + list(range(100, 130))])
    assert _changed_at(model, ids, position=25, new_id=4000, read_at=2) == 0.0
    assert _changed_at(model, ids, position=25, new_id=4000, read_at=27) > 1e-4


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [("generator-1.2b", 1.1e9, 1.25e9), ("generator-3b", 2.9e9, 3.1e9), ("generanno-0.5b", 0.48e9, 0.51e9)],
)
def test_published_sizes(name, low, high):
    assert low <= presets.count_parameters(name) <= high


def test_generator_config_matches_published():
    cfg = presets.build_config("generator-1.2b")
    assert cfg.model_type == "llama"
    assert (cfg.vocab_size, cfg.hidden_size, cfg.num_hidden_layers, cfg.intermediate_size) == (4128, 2048, 26, 5632)
    assert (cfg.num_attention_heads, cfg.num_key_value_heads, cfg.max_position_embeddings) == (32, 4, 16384)
    assert cfg.rope_parameters["rope_theta"] == 500000.0 and cfg.rms_norm_eps == 1e-5
    assert cfg.tie_word_embeddings is False and (cfg.bos_token_id, cfg.eos_token_id) == (1, 2)


def test_token_classification_heads_per_strand():
    model = _tiny("generanno-tiny", "token-classification", num_labels=2)
    assert [name for name, _ in model.named_parameters() if name.startswith("score")] == ["score.0.weight", "score.1.weight"]
    ids = torch.randint(32, 43, (2, 50))
    labels = torch.randint(0, 2, (2, 50, 2))
    labels[1, 40:] = -100  # padding positions are ignored by the loss
    out = model(input_ids=ids, labels=labels)
    assert out.logits.shape == (2, 50, 2, 2)
    assert torch.isfinite(out.loss)


def test_sequence_classification_pools_first_token():
    model = _tiny("generanno-tiny", "sequence-classification", num_labels=3)
    ids = torch.tensor([[1] + [32, 33, 34, 40] * 5])
    with torch.no_grad():
        hidden = model.model(input_ids=ids).last_hidden_state
        expected = model.score(hidden[:, 0])
        assert torch.allclose(model(input_ids=ids).logits, expected)


def test_unknown_preset_and_task_are_clear_errors():
    with pytest.raises(GenerInputError, match="unknown preset"):
        presets.build_config("generator-7b")
    with pytest.raises(GenerInputError, match="no task"):
        presets.model_class("generator", "token-classification")


def test_factorised_kmer_rows_train_shared_base_vectors_and_export_a_plain_llama(tmp_path):
    from transformers import LlamaForCausalLM

    from gener.modeling.factorised import factorise, is_factorised, materialise
    from gener.tokenization import KmerTokenizer

    tok = KmerTokenizer()
    model = presets.build_model("generator-tiny", num_hidden_layers=1, hidden_size=32, intermediate_size=64)
    factorise(model, tok)
    assert is_factorised(model)
    emb = model.model.embed_tokens.weight
    aaaaaa, aaaaat, gggggg = (tok.convert_tokens_to_ids(m) for m in ("AAAAAA", "AAAAAT", "GGGGGG"))
    # 6-mers sharing five bases share five of six composed vectors: closer than unrelated ones.
    near = torch.dist(emb[aaaaaa], emb[aaaaat])
    far = torch.dist(emb[aaaaaa], emb[gggggg])
    assert near < far
    ids = torch.tensor([tok("ACGTACGGTTACCAGTACGATTTACG")["input_ids"]])
    model(input_ids=ids, labels=ids).loss.backward()
    base = model.model.embed_tokens.parametrizations.weight[0].base
    assert base.grad is not None and base.grad.abs().sum() > 0  # one sequence trains every 6-mer's rows
    with torch.no_grad():
        before = model(input_ids=ids).logits
    materialise(model)
    assert not is_factorised(model)
    model.save_pretrained(tmp_path)
    plain = LlamaForCausalLM.from_pretrained(tmp_path)
    with torch.no_grad():
        torch.testing.assert_close(plain(input_ids=ids).logits, before)
