"""gener design on real measurements: S. pombe 3'UTR mRNA half-lives (tests/data, from concise)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from gener.errors import GenerInputError
from gener.tasks import design

DATA = Path(__file__).parent / "data"
POMBE = DATA / "pombe_utr3_sample.csv"
TINY = dict(num_hidden_layers=1, hidden_size=32, intermediate_size=64, num_attention_heads=2, num_key_value_heads=1)


def test_read_measured_and_quartiles(tmp_path):
    measured, info = design.read_measured(str(POMBE))
    assert len(measured.sequences) == 240 and info["skipped"] == {"no_activity": 0, "length": 0}
    assert measured.activity.dtype == np.float32 and -3 < measured.activity.min() < measured.activity.max() < 4
    short, info = design.read_measured(str(POMBE), max_bp=100)
    assert 0 < len(short.sequences) < 240 and info["skipped"]["length"] == 240 - len(short.sequences)
    labels, lo, hi = design.quartile_labels(measured.activity)
    assert lo < np.median(measured.activity) < hi
    assert abs((labels == "high").mean() - 0.25) < 0.02 and abs((labels == "low").mean() - 0.25) < 0.02
    assert (measured.activity[labels == "high"] >= hi).all() and (measured.activity[labels == "low"] <= lo).all()

    bad = tmp_path / "bad.csv"
    bad.write_text("seq,hlt\nACGTACGTACGTAC,NA\n" + "ACGTACGTACGTAC,1.5\n" * 3)
    with pytest.raises(GenerInputError, match="3 usable sequences"):
        design.read_measured(str(bad))
    with pytest.raises(GenerInputError, match="no column 'half_life'"):
        design.read_measured(str(POMBE), activity_col="half_life")


def test_separation_statistic():
    rng = np.random.default_rng(0)
    a, b = rng.normal(1, 1, 50), rng.normal(0, 1, 50)
    s = design.separation(a, b)
    assert s["p_value"] < 1e-3 and 0.7 < s["auc"] < 0.9
    same = design.separation(b, b)
    assert same["auc"] == 0.5 and same["p_value"] > 0.4
    assert design.separation([], b) == {"n": [0, 50]}


def test_run_design_end_to_end(tmp_path):
    torch.set_num_threads(1)
    out = tmp_path / "design"
    report = design.run_design("generator-tiny", out, data=str(POMBE), max_sequences=120, num_samples=4,
                               max_new_bp=60, gen_steps=3, judge_epochs=1, judge_batch=16, model_overrides=TINY,
                               progress=False, log=lambda *_: None)
    for name in ("generated_high.fa", "generated_low.fa", "design.json", "design.png"):
        assert (out / name).is_file(), name
    controls = json.loads((out / "generator" / "final" / "control_tokens.json").read_text())
    assert controls == {"high": "<sp0>", "low": "<sp1>"}
    saved = json.loads((out / "design.json").read_text())
    assert saved["data"]["train"] == 96 and saved["data"]["test"] == 24
    assert saved["generator"]["train_sequences"] + 0 > 0
    assert set(saved["predicted_activity"]) == {"generated_high", "generated_low", "natural_high", "natural_low",
                                                "natural_all"}
    assert saved["predicted_activity"]["natural_all"]["n"] == 24
    assert {"pearson", "mse"} <= set(saved["judge"]["test"])
    assert "natural_high_vs_low" in saved["separation"]
    assert report["controls"] == controls


def test_cli_bad_input_is_one_line(tmp_path):
    from typer.testing import CliRunner

    from gener.cli import app

    res = CliRunner().invoke(app, ["design", "--data", str(POMBE), "--activity-col", "nope", "--model", "generator-tiny",
                                   "-o", str(tmp_path / "d")])
    assert res.exit_code == 2 and "no column 'nope'" in res.output and not (tmp_path / "d").exists()
    res = CliRunner().invoke(app, ["dogma", "--family", "kinases", "--model", "generator-tiny", "-o", str(tmp_path / "g")])
    assert res.exit_code == 2 and "unknown family 'kinases'" in res.output and not (tmp_path / "g").exists()
    for verb in (["dogma", "--family", "histone"], ["design", "--data", str(POMBE)]):
        res = CliRunner().invoke(app, [*verb, "--model", str(tmp_path / "no-such-model"), "-o", str(tmp_path / "x")])
        assert res.exit_code == 2 and "error" in res.output and not (tmp_path / "x").exists(), verb
