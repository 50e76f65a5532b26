"""gener.tasks.generate and `gener generate` on real sequences with tiny random models."""

import re
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

import gener
from gener.cli import app
from gener.errors import GenerInputError
from gener.io import read_fasta
from gener.tasks.generate import generate, load_control_tokens, save_control_tokens
from tiny_models import tiny_generanno, tiny_generator, one_thread  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("one_thread")

DATA = Path(__file__).parent / "data"
ECOLI = str(DATA / "ecoli_k12_60kb.fa")
YEAST = str(DATA / "yeast_chrI_136801-152000.fa")
DNA = re.compile("^[ACGT]*$")


@pytest.fixture(scope="module")
def genome():
    return next(read_fasta(ECOLI)).sequence


@pytest.fixture(scope="module")
def tiny():
    return tiny_generator()


def test_left_padded_batch_equals_single_prompt_and_prompt_is_aligned(tiny, genome):
    model, tok = tiny
    short, long = genome[100:200], genome[5000:5400]
    alone = generate(model, tok, [short], temperature=0, max_new_bp=60, progress=False)[0]
    batch = generate(model, tok, [long, short], temperature=0, max_new_bp=60, progress=False)
    assert alone.prompt == short[4:]  # 100 % 6 = 4 leading bases dropped (trim_left)
    assert batch[1].prompt_index == 1 and batch[1].sequence == alone.sequence
    assert len(alone.sequence) == 60 and DNA.match(alone.sequence) and not alone.finished
    nocache = generate(model, tok, [long, short], temperature=0, max_new_bp=60, progress=False, use_cache=False)
    assert [g.sequence for g in nocache] == [g.sequence for g in batch]


def test_seed_reproduces_and_samples_differ(tiny, genome):
    model, tok = tiny
    prompts = [genome[:300], genome[7000:7123]]
    kw = dict(num_samples=3, max_new_bp=31, progress=False, batch_size=4)
    a = generate(model, tok, prompts, seed=7, **kw)
    b = generate(model, tok, prompts, seed=7, **kw)
    c = generate(model, tok, prompts, seed=8, **kw)
    assert [(g.prompt_index, g.sample) for g in a] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert [g.sequence for g in a] == [g.sequence for g in b] != [g.sequence for g in c]
    assert len({g.sequence for g in a}) == 6 and all(len(g.sequence) == 31 for g in a)
    # the global RNG is left alone
    torch.manual_seed(0)
    x = torch.rand(1)
    torch.manual_seed(0)
    generate(model, tok, prompts[:1], seed=1, max_new_bp=6, progress=False)
    assert torch.rand(1) == x


def _biased(model, bias):
    """Zero hidden states and a biased head: the next-token distribution is softmax(bias)."""
    model.model.norm.weight.data.zero_()
    head = torch.nn.Linear(model.config.hidden_size, bias.numel(), bias=True)
    head.weight.data.zero_()
    head.bias.data.copy_(bias)
    model.lm_head = head
    return model


def test_special_tokens_never_appear_and_eos_ends_a_sample(genome):
    model, tok = tiny_generator()
    bias = torch.zeros(4128)
    bias[:32] = 12.0  # every special far likelier than any 6-mer...
    bias[2] = 0.0  # ...except </s>, as likely as one 6-mer
    _biased(model, bias)
    out = generate(model, tok, [genome[:600]], num_samples=8, max_new_bp=120, seed=0, progress=False)
    assert all(DNA.match(g.sequence) and len(g.sequence) == 120 for g in out)
    bias[2] = 9.0  # </s> now ~0.65 per step
    _biased(model, bias)
    out = generate(model, tok, [genome[:600]], num_samples=8, max_new_bp=600, seed=0, progress=False)
    assert all(g.finished and len(g.sequence) < 600 and len(g.sequence) % 6 == 0 for g in out)
    assert all(DNA.match(g.sequence) for g in out)


def test_bad_input_is_one_clear_error(tiny, genome):
    model, tok = tiny
    with pytest.raises(GenerInputError, match="prompt 1 is empty"):
        generate(model, tok, [""], progress=False)
    with pytest.raises(GenerInputError, match="prompt 2: invalid nucleotide 'X' at position 4"):
        generate(model, tok, ["ACGTAC", "ACGXTT"], progress=False)
    short_model, _ = tiny_generator(max_position_embeddings=64)
    with pytest.raises(GenerInputError, match=r"prompt 1: 61 prompt tokens \+ 10 new tokens exceed the model's context of 64"):
        generate(short_model, tok, [genome[:360]], max_new_bp=60, progress=False)
    with pytest.raises(GenerInputError, match="unknown control label 'high'; known labels: none"):
        generate(model, tok, [genome[:60]], control="high", progress=False)
    with pytest.raises(GenerInputError, match="needs a causal GENERator model"):
        generate(tiny_generanno()[0], tok, [genome[:60]], progress=False)


def test_control_tokens_from_the_model_directory(tmp_path, genome):
    tiny_generator(tmp_path)
    assert load_control_tokens(tmp_path) == {}
    save_control_tokens(tmp_path, {"high": "<sp0>", "low": "<sp1>"})
    assert load_control_tokens(tmp_path) == {"high": 29, "low": 30}  # <sp0>, <sp1>
    model, tok = gener.load(tmp_path)
    with pytest.raises(GenerInputError, match="unknown control label 'mid'; known labels: high, low"):
        generate(model, tok, [genome[:60]], control="mid", progress=False)
    kw = dict(temperature=0, max_new_bp=36, progress=False)
    high = generate(model, tok, [""], control="high", **kw)[0]  # empty prompt: from <s><sp0> alone
    low = generate(model, tok, [""], control="low", **kw)[0]
    assert high.prompt == "" and DNA.match(high.sequence) and high.sequence != low.sequence
    assert generate(model, tok, [""], control_tokens={"x": 29}, control="x", **kw)[0].sequence == high.sequence


def test_cli_generate_writes_fasta_and_nothing_on_error(tmp_path):
    tiny_generator(tmp_path / "m")
    runner = CliRunner()
    out = tmp_path / "gen.fa"
    args = ["generate", "--model", str(tmp_path / "m"), "--prompts", YEAST, "-n", "2", "--max-new-bp", "50",
            "--seed", "3", "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    records = list(read_fasta(out))
    n_prompts = len(list(read_fasta(YEAST)))
    assert len(records) == 2 * n_prompts and records[0].id.endswith("_1") and records[1].id.endswith("_2")
    assert all(len(r.sequence) == 50 and DNA.match(r.sequence) for r in records)
    assert "finished=no" in records[0].description
    bad = tmp_path / "bad.fa"
    for extra in (["--prompt", "ACGTNNQ"], ["--prompt", ""], ["--prompt", "ACGTAC", "--control", "high"]):
        result = runner.invoke(app, ["generate", "--model", str(tmp_path / "m"), *extra, "-o", str(bad)])
        assert result.exit_code == 2 and result.output.strip().startswith("error:"), result.output
        assert len(result.output.strip().splitlines()) == 1
        assert not bad.exists()
