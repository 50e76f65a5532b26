"""gener finetune clm on real CDS (U. maydis P450 and histone families, tests/data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

import gener
from gener.cli import app
from gener.errors import GenerInputError
from gener.modeling.perbase import kmer_ids, per_base_nll
from gener.tokenization import KmerTokenizer
from gener.training import clm

DATA = Path(__file__).parent / "data"
FAMILIES = DATA / "umaydis_cds_families.fa"
TINY = dict(num_hidden_layers=1, hidden_size=32, intermediate_size=64, num_attention_heads=2, num_key_value_heads=1)


def test_reads_labels_from_fasta_headers_and_tables(tmp_path):
    examples = clm.read_examples(FAMILIES, control_col="family")
    assert len(examples) == 19
    assert {e.control for e in examples} == {"p450", "histone"}
    assert all(set(e.sequence) <= set("ACGT") and e.sequence.startswith("ATG") for e in examples)

    table = tmp_path / "t.csv"
    table.write_text("id,sequence,label\na,acgtacgtacgu,high\nb,GGGGGGCCCCCC,low\n")
    rows = clm.read_examples(table, control_col="label")
    assert [(e.name, e.sequence, e.control) for e in rows] == [("a", "ACGTACGTACGT", "high"),
                                                               ("b", "GGGGGGCCCCCC", "low")]
    with pytest.raises(GenerInputError, match="no column 'activity'"):
        clm.read_examples(table, control_col="activity")
    (tmp_path / "bad.csv").write_text("id,sequence\nx,ACGTXACGT\n")
    with pytest.raises(GenerInputError, match=r"bad\.csv.*record 'x'.*'X' at position 5"):
        clm.read_examples(tmp_path / "bad.csv")
    with pytest.raises(GenerInputError, match="no 'family' label"):
        clm.read_examples(DATA / "yeast_chrI_136801-152000.fa", control_col="family")


def test_control_tokens_map_onto_free_specials():
    tok = KmerTokenizer()
    assert clm.control_tokens(tok, {"low", "high"}) == {"high": "<sp0>", "low": "<sp1>"}
    assert clm.control_tokens(tok, {"a", "b"}, {"b": "<sp2>"}) == {"a": "<sp0>", "b": "<sp2>"}
    # labels a base model already had keep their token; new ones get the next free one
    assert clm.control_tokens(tok, {"new"}, None, {"old": "<sp0>"}) == {"old": "<sp0>", "new": "<sp1>"}
    with pytest.raises(GenerInputError, match="not a free special"):
        clm.control_tokens(tok, {"a"}, {"a": "</s>"})
    with pytest.raises(GenerInputError, match="not a free special"):
        clm.control_tokens(tok, {"a"}, {"a": "AAAAAA"})
    with pytest.raises(GenerInputError, match="more control labels than spare"):
        clm.control_tokens(tok, {"a", "b", "c", "d"})
    assert clm.parse_control_map(["high=<sp0>,low=<sp1>"]) == {"high": "<sp0>", "low": "<sp1>"}


def test_encoding_padding_and_packing():
    tok = KmerTokenizer()
    cds = clm.read_examples(FAMILIES, control_col="family")[:3]
    rows, cut = clm.encode(cds, tok, controls={"p450": "<sp0>", "histone": "<sp1>"}, max_tokens=10_000)
    assert cut == 0
    first = rows[0]
    assert first[0] == tok.bos_token_id and first[1] == tok.convert_tokens_to_ids("<sp0>")
    assert first[-1] == tok.eos_token_id
    # trim_right: the 5' end stays in frame; the k-mers decode back to the start of the CDS
    assert tok.decode(first[2:-1].tolist()) == cds[0].sequence[: len(cds[0].sequence) // 6 * 6]
    short, cut = clm.encode(cds, tok, max_tokens=50)
    assert cut == 3 and all(len(r) == 50 and r[-1] != tok.eos_token_id for r in short)

    batch = clm.PadCollator(tok.pad_token_id)([{"input_ids": torch.as_tensor(r)} for r in (rows[0][:20], rows[1][:7])])
    assert batch["input_ids"].shape == (2, 20)
    assert (batch["labels"][1, 7:] == -100).all() and (batch["labels"][1, :7] == batch["input_ids"][1, :7]).all()
    assert batch["attention_mask"].sum().item() == 27

    blocks = clm.pack(rows, 64)
    assert all(len(b) == 64 for b in blocks[:-1]) and sum(map(len, blocks)) == sum(map(len, rows))


def test_per_base_loss_is_shifted_v2_loss():
    tok = KmerTokenizer()
    ids = kmer_ids(tok)
    torch.manual_seed(0)
    logits = torch.randn(2, 9, tok.vocab_size)
    labels = torch.randint(32, tok.vocab_size, (2, 9))
    labels[1, 6:] = -100
    got = clm.per_base_loss(ids)({"logits": logits}, labels)
    want = per_base_nll(logits[:, :-1], labels[:, 1:], ids)
    assert torch.allclose(got, want)


def test_finetune_learns_saves_controls_and_generates(tmp_path):
    from gener.tasks.generate import generate, load_control_tokens

    torch.set_num_threads(1)
    result = clm.finetune_clm("generator-tiny", FAMILIES, tmp_path / "run", control_col="family", max_tokens=96,
                              batch_size=6, learning_rate=5e-3, steps=24, eval_steps=6, valid_fraction=0.2,
                              model_overrides=TINY, log=lambda *_: None)
    assert (result.final / "control_tokens.json").is_file()
    assert json.loads((result.final / "control_tokens.json").read_text()) == {"histone": "<sp0>", "p450": "<sp1>"}
    losses = [h["loss"] for h in result.log_history if "loss" in h]
    evals = [h["eval_loss"] for h in result.log_history if "eval_loss" in h]
    assert losses[-1] < losses[0] - 1.0  # fits the family (from ~8.3 nats, uniform over 4,128 tokens)
    assert min(evals) < evals[0] and result.best_eval_loss == min(evals)  # held-out members improve, a little
    assert result.train_sequences == 15 and result.valid_sequences == 4
    assert (tmp_path / "run" / "loss.csv").is_file()

    model, tok = gener.load(str(result.final))
    assert load_control_tokens(result.final) == {"histone": 29, "p450": 30}
    out = generate(model, tok, [""], control="p450", num_samples=2, max_new_bp=60, seed=1, progress=False)
    assert len(out) == 2 and all(set(g.sequence) <= set("ACGT") for g in out)


def test_finetune_per_base_without_labels_and_packing(tmp_path):
    torch.set_num_threads(1)
    result = clm.finetune_clm("generator-tiny", FAMILIES, tmp_path / "run", loss="per-base", packing=True,
                              max_tokens=64, batch_size=4, steps=3, valid_fraction=0, model_overrides=TINY,
                              log=lambda *_: None)
    assert result.controls == {} and not (result.final / "control_tokens.json").exists()
    assert result.best_eval_loss is None
    record = json.loads((result.final / "training.json").read_text())
    assert record["loss"] == "per-base" and record["packing"] and record["global_step"] == 3
    losses = [h["loss"] for h in record["log_history"] if "loss" in h]
    assert 1.0 < losses[0] < 2.5  # per-base NLL, about ln 4 = 1.39 per base at the start


def test_cli_bad_input_is_one_line(tmp_path):
    bad = tmp_path / "bad.fa"
    bad.write_text(">x\nACGT!!\n")
    res = CliRunner().invoke(app, ["finetune", "clm", "--data", str(bad), "--model", "generator-tiny",
                                   "-o", str(tmp_path / "run")])
    assert res.exit_code == 2 and "invalid" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "run").exists()
    res = CliRunner().invoke(app, ["finetune", "clm", "--data", str(FAMILIES), "--loss", "nope",
                                   "-o", str(tmp_path / "run")])
    assert res.exit_code == 2 and "unknown loss" in res.output


def test_parquet_data_and_a_validation_file(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    examples = clm.read_examples(FAMILIES, control_col="family")
    pq.write_table(pa.table({"id": [e.name for e in examples[:12]], "sequence": [e.sequence for e in examples[:12]],
                             "family": [e.control for e in examples[:12]]}), tmp_path / "train.parquet")
    valid = tmp_path / "valid.fa"
    valid.write_text("".join(f">{e.name} family={e.control}\n{e.sequence}\n" for e in examples[12:]))
    rows = clm.read_examples(tmp_path / "train.parquet", control_col="family")
    assert [r.name for r in rows] == [e.name for e in examples[:12]] and rows[0].control == "p450"
    result = clm.finetune_clm("generator-tiny", tmp_path / "train.parquet", tmp_path / "run", valid=valid,
                              control_col="family", max_tokens=48, batch_size=4, steps=2, eval_steps=1,
                              model_overrides=TINY, log=lambda *_: None)
    assert (result.train_sequences, result.valid_sequences) == (12, 7)
    assert result.best_eval_loss is not None
