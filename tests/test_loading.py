"""gener.load on directories in the official published layout, hub ids, and bad names.

The official directories are rebuilt here at tiny size, file for file: a plain Llama (or
``generanno``) config.json with ``auto_map`` pointing at upstream code, sharded safetensors,
and upstream tokenizer files whose ``tokenizer.py`` must never be executed.
"""

import itertools
import json
import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import save_file

import gener
from gener.errors import GenerInputError
from gener.modeling import loading, presets

GENERATOR_SPECIALS = (
    "<oov> <s> </s> <pad> <mask> <bog> <eog> <bok> <eok> <+> <-> <cds> <pseudo> <tRNA> <rRNA> <ncRNA> "
    "<miscRNA> <mam> <vrt> <inv> <pln> <fng> <prt> <arc> <bct> <mit> <plt> <plm> <vir> <sp0> <sp1> <sp2>"
).split()
GENERANNO_SPECIALS = (
    "<oov> <s> </s> <pad> <mask> <bog> <eog> <bok> <eok> <+> <-> <mam> <vrt> <inv> <pln> <fng> <prt> <arc> "
    "<bct> <mit> <plt> <plm> <vir> <cds> <pseudo> <tRNA> <rRNA> <ncRNA> <sp0> <sp1> <sp2> <sp3>"
).split()
UPSTREAM_CODE = 'raise RuntimeError("upstream code was executed")\n'


def _write_vocab(path, tokens):
    path.write_text("".join(f"{t} {i}\n" for i, t in enumerate(tokens)))


def _official_generator_dir(tmp_path):
    torch.manual_seed(0)
    model = presets.build_model("generator-tiny", num_hidden_layers=2).eval()
    out = tmp_path / "GENERator-eukaryote-1.2b-base"
    model.save_pretrained(out, max_shard_size="2MB")  # sharded + index, as the 3B release
    assert (out / "model.safetensors.index.json").is_file()
    config = json.loads((out / "config.json").read_text())
    config.pop("rope_parameters")
    config.pop("pad_token_id")
    config.update(
        architectures=["GENERatorForCausalLM"],
        auto_map={"AutoModelForCausalLM": "modeling_generator.GENERatorForCausalLM"},
        rope_theta=500000.0,
        rope_scaling=None,
        torch_dtype="float32",
        transformers_version="4.44.0",
    )
    (out / "config.json").write_text(json.dumps(config))
    (out / "modeling_generator.py").write_text(UPSTREAM_CODE)
    (out / "tokenizer.py").write_text(UPSTREAM_CODE)
    (out / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "auto_map": {"AutoTokenizer": ["tokenizer.DNAKmerTokenizer", None]},
                "tokenizer_class": "DNAKmerTokenizer",
                "k": 6,
                "add_bos_token": True,
                "add_eos_token": False,
                "padding_side": "right",
            }
        )
    )
    (out / "special_tokens_map.json").write_text(json.dumps({"bos_token": "<s>", "eos_token": "</s>"}))
    kmers = ["".join(p) for p in itertools.product("ATCG", repeat=6)]
    _write_vocab(out / "vocab.txt", GENERATOR_SPECIALS + kmers)
    return model, out


def test_official_generator_layout_loads_with_official_ids(tmp_path):
    original, directory = _official_generator_dir(tmp_path)
    model, tokenizer = gener.load(directory)
    assert type(model).__name__ == "LlamaForCausalLM"
    ids = tokenizer("AAAAAATTTTTTGGGGGG")["input_ids"]
    assert ids == [1, 32, 1397, 4127]
    x = torch.tensor([ids])
    with torch.no_grad():
        assert torch.allclose(model(input_ids=x).logits, original(input_ids=x).logits, atol=1e-6)
    assert not hasattr(model.config, "auto_map")  # saving it back must not point at upstream code


def _official_generanno_annotator_dir(tmp_path, heads=2, mlp=False):
    """A token-classification checkpoint in the published layout: ``heads`` strand heads,
    linear or MLP (``use_mlp_classifier``), weights saved under the official key names."""
    torch.manual_seed(0)
    original = presets.build_model("generanno-tiny", "token-classification", num_labels=2, num_hidden_layers=2,
                                   num_prediction_heads=heads, use_mlp_classifier=mlp).eval()
    # The published key names, written out independently of our module names.
    layer_keys = [
        f"model.layers.{i}.{name}.weight"
        for i in range(2)
        for name in (
            "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
            "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj", "input_layernorm", "post_attention_layernorm",
        )
    ]
    head = ["score.0.weight", "score.0.bias", "score.3.weight"] if mlp else ["score.weight"]
    if heads > 1:
        head = [key.replace("score.", f"score.{h}.") for h in range(heads) for key in head]
    official_keys = {"model.embed_tokens.weight", "model.norm.weight", *head, *layer_keys}
    state = original.state_dict()
    assert set(state) == official_keys
    out = tmp_path / "GENERanno-prokaryote-0.5b-cds-annotator"
    out.mkdir()
    save_file({k: v.contiguous() for k, v in state.items()}, str(out / "model.safetensors"))
    cfg = original.config
    (out / "config.json").write_text(
        json.dumps(
            {
                "model_type": "generanno",
                "architectures": ["GenerannoForTokenClassification"],
                "auto_map": {
                    "AutoConfig": "configuration_generanno.GenerannoConfig",
                    "AutoModelForTokenClassification": "modeling_generanno.GenerannoForTokenClassification",
                },
                "vocab_size": 64, "hidden_size": cfg.hidden_size, "intermediate_size": cfg.intermediate_size,
                "num_hidden_layers": 2, "num_attention_heads": cfg.num_attention_heads,
                "num_key_value_heads": cfg.num_key_value_heads, "max_position_embeddings": 8192,
                "rope_theta": 500000.0, "rope_scaling": None, "rms_norm_eps": 1e-5, "hidden_act": "silu",
                "pad_token_id": 3, "bos_token_id": 1, "eos_token_id": 2, "mask_token_id": 4,
                "num_prediction_heads": heads, "use_mlp_classifier": mlp, "id2label": {"0": "NON_CODING", "1": "CDS"},
                "label2id": {"NON_CODING": 0, "CDS": 1}, "torch_dtype": "float32",
            }
        )
    )
    for name in ("configuration_generanno.py", "modeling_generanno.py", "tokenizer.py"):
        (out / name).write_text(UPSTREAM_CODE)
    (out / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "DNATokenizer"}))
    _write_vocab(out / "vocab.txt", GENERANNO_SPECIALS + list("ACGKMNRSTWY"))
    return original, out


@pytest.mark.parametrize("heads,mlp", [(2, False), (1, True), (2, True)])
def test_official_generanno_annotator_layout_loads(tmp_path, heads, mlp):
    original, out = _official_generanno_annotator_dir(tmp_path, heads, mlp)
    model, tokenizer = gener.load(out)
    assert type(model).__name__ == "GenerannoForTokenClassification"
    assert model.config.k == 1  # inferred from the head shape, not upstream's default of 6
    ids = tokenizer("ACGNT", add_special_tokens=False)["input_ids"]
    assert ids == [32, 33, 34, 37, 40]
    x = torch.tensor([ids])
    with torch.no_grad():
        assert torch.allclose(model(input_ids=x).logits, original(input_ids=x).logits, atol=1e-6)


def test_official_generator_tokenizer_follows_its_config(tmp_path):
    """Upstream's DNAKmerTokenizer appends </s> on add_special_tokens=True although its config
    says add_eos_token: false; gener follows the config, and honours it when it says true."""
    _, directory = _official_generator_dir(tmp_path)
    tokenizer = loading.load_tokenizer(directory, "generator")
    assert tokenizer("AAAAAATTTTTT")["input_ids"] == [1, 32, 1397]
    # the published scripts' own convention gives the same ids with either tokenizer
    assert tokenizer("<s>AAAAAATTTTTT", add_special_tokens=False)["input_ids"] == [1, 32, 1397]
    settings = json.loads((directory / "tokenizer_config.json").read_text())
    (directory / "tokenizer_config.json").write_text(json.dumps({**settings, "add_eos_token": True}))
    assert loading.load_tokenizer(directory, "generator")("AAAAAATTTTTT")["input_ids"] == [1, 32, 1397, 2]


def test_auto_classes_still_reach_upstream_code_after_import_gener(tmp_path):
    """transformers 5 prefers a registered class to remote code even with trust_remote_code=True.
    gener registers none for "generanno", so on an official directory the Auto call still goes
    to upstream's code (here a stub that raises) rather than silently returning gener's class,
    whose logits have another layout."""
    _, directory = _official_generanno_annotator_dir(tmp_path)
    code = ("import sys, gener, gener.modeling.generanno\n"
            "from transformers import AutoModelForTokenClassification\n"
            "try:\n"
            "    model = AutoModelForTokenClassification.from_pretrained(sys.argv[1], trust_remote_code=True)\n"
            "    print('returned', type(model).__module__)\n"
            "except RuntimeError as exc:\n"
            "    print(exc)\n")
    env = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "modules")}  # where remote code is copied
    proc = subprocess.run([sys.executable, "-c", code, str(directory)], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "upstream code was executed" in proc.stdout, proc.stdout


def test_saved_directory_round_trip(tmp_path):
    original, directory = _official_generator_dir(tmp_path)
    model, tokenizer = gener.load(directory)
    again = tmp_path / "saved"
    model.save_pretrained(again)
    tokenizer.save_pretrained(again)
    model2, tokenizer2 = gener.load(again)
    assert type(tokenizer2) is type(tokenizer)
    assert tokenizer2("GGGGGG")["input_ids"] == [1, 4127]
    assert json.loads((again / "config.json").read_text())["model_type"] == "llama"


def _hub_env(monkeypatch, cache):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))


def test_hub_id_offline_without_cache_is_a_clear_error(tmp_path, monkeypatch):
    _hub_env(monkeypatch, tmp_path / "empty-cache")
    with pytest.raises(GenerInputError, match="HF_HUB_OFFLINE is set.*pass its path"):
        gener.load("GenerTeam/GENERator-eukaryote-1.2b-base")


def test_hub_id_resolves_from_the_hub_cache(tmp_path, monkeypatch):
    original, directory = _official_generator_dir(tmp_path)
    repo = tmp_path / "cache" / "models--GenerTeam--GENERator-eukaryote-1.2b-base"
    revision = "7515b17659f092997335226c3fb6aafd06c0add9"
    (repo / "snapshots").mkdir(parents=True)
    directory.rename(repo / "snapshots" / revision)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    _hub_env(monkeypatch, tmp_path / "cache")
    model, tokenizer = gener.load("GenerTeam/GENERator-eukaryote-1.2b-base")
    assert type(model).__name__ == "LlamaForCausalLM"
    assert tokenizer("TTTTTT")["input_ids"] == [1, 1397]


def test_bad_names_are_clear_errors(tmp_path):
    with pytest.raises(GenerInputError, match="cannot find model"):
        gener.load("no-such-model")
    with pytest.raises(GenerInputError, match="no config.json"):
        gener.load(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(GenerInputError, match="neither a GENERator"):
        gener.load(tmp_path)
