"""benchmarks/gpu.py: every part runs at toy size on the CPU (--smoke), and a part that fails
or runs out of time is recorded while the others still run."""

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent.parent / "benchmarks" / "gpu.py"


def _module():
    spec = importlib.util.spec_from_file_location("gpu_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_smoke_runs_every_part(tmp_path):
    proc = subprocess.run([sys.executable, str(SCRIPT), "--smoke", "--out", str(tmp_path)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((tmp_path / "gpu.json").read_text())
    parts = results["parts"]
    assert list(parts) == list(_module().PARTS) and all(p["status"] == "ok" for p in parts.values())
    assert parts["annotate"]["bp"] == 6000 and parts["annotate"]["model_seconds"] > 0
    assert parts["generate"]["batch_4"]["tokens_per_s"] > 0 and parts["score_embed"]["embed"]["records"] == 3
    agree = parts["agreement"]["generator"]
    assert 0 < agree["max_abs_diff"] < agree["logit_std"] and agree["argmax_agreement"] > 0.5  # bf16 is close, not equal
    train = parts["pretrain"]
    assert train["tokens_per_s"] > 0 and train["steps_timed"] >= 2 and train["parallelism"]
    assert train["profile"]["share_by_kind"]["matmul"] > 0
    table = (tmp_path / "gpu.md").read_text()
    assert all(f"| {name} |" in table for name in parts)


def test_a_failing_part_is_recorded_and_the_others_run(tmp_path, monkeypatch):
    gpu = _module()

    def broken(*args):
        raise RuntimeError("out of memory (simulated)")

    monkeypatch.setattr(gpu, "part_forward", broken)
    monkeypatch.setattr(gpu, "part_generate", lambda *args: {"new_tokens": 1, "batch_1": {"tokens_per_s": 2.0,
                                                                                         "kbp_per_s": 0.01}})
    code = gpu.main(["--smoke", "--out", str(tmp_path), "--parts", "forward_16k,generate"])
    parts = json.loads((tmp_path / "gpu.json").read_text())["parts"]
    assert code == 1
    assert parts["forward_16k"]["status"] == "error" and "simulated" in parts["forward_16k"]["error"]
    assert parts["generate"]["status"] == "ok"
    assert "| forward_16k | error: RuntimeError" in (tmp_path / "gpu.md").read_text()


def test_time_limit_interrupts_a_part():
    gpu = _module()
    started = time.perf_counter()
    with pytest.raises(gpu.PartTimeout):
        with gpu.time_limit(0.2):
            while True:
                time.sleep(0.01)
    assert time.perf_counter() - started < 2
