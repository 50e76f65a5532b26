"""The embedded default generator, on gene regions it never saw (yeast chromosome II is held
out of its training corpus: scripts/generator_corpus.py)."""

import random
import re
from pathlib import Path

import pytest
import torch

import gener
from gener.io import read_fasta
from gener.modeling.loading import EMBEDDED_MODELS
from gener.tasks.generate import generate
from gener.tasks.score import score_sequences

HELD_OUT = Path(__file__).parent / "data" / "yeast_chrII_genes.fa"


@pytest.fixture(scope="module")
def embedded():
    torch.set_num_threads(1)
    return gener.load("gener-generator-tiny")


def test_ships_as_an_official_layout_llama():
    info = EMBEDDED_MODELS["gener-generator-tiny"]
    assert info.available() and (info.directory / "README.md").is_file()  # weights and model card
    assert sum(f.stat().st_size for f in info.directory.iterdir()) < 20_000_000
    model, tok = gener.load(info.directory)
    assert type(model).__name__ == "LlamaForCausalLM" and model.config.vocab_size == 4128
    assert tok.convert_tokens_to_ids("AAAAAA") == 32 and tok.convert_tokens_to_ids("GGGGGG") == 4127


def test_held_out_genes_score_above_their_shuffles(embedded):
    model, tok = embedded
    real = [(r.id, r.sequence) for r in read_fasta(HELD_OUT)]
    rng = random.Random(0)
    shuffled = [(name, "".join(rng.sample(seq, len(seq)))) for name, seq in real]
    a = [s.per_bp for s in score_sequences(model, tok, real)]
    b = [s.per_bp for s in score_sequences(model, tok, shuffled)]
    wins = sum(x > y for x, y in zip(a, b))
    # A model that learned nothing beyond base composition scores both alike.
    assert wins >= len(real) - 1 and sum(a) / len(a) > sum(b) / len(b) + 0.01


def test_generates_dna_only(embedded):
    model, tok = embedded
    prompt = next(read_fasta(HELD_OUT)).sequence[:600]
    out = generate(model, tok, [prompt], num_samples=2, max_new_bp=120, seed=0, progress=False)
    assert all(re.fullmatch("[ACGT]*", g.sequence) for g in out)
    assert all(len(g.sequence) == 120 or g.finished for g in out)
