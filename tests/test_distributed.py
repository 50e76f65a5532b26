"""torchrun --nproc_per_node 2 (CPU, gloo) for annotate, score and embed: the outputs are
byte-identical to one process, in input order, and only rank 0 speaks."""

import json
from pathlib import Path

from typer.testing import CliRunner

from gener.cli import app
from tiny_models import one_thread  # noqa: F401 (fixture)
from torchrun_launch import torchrun

DATA = Path(__file__).parent / "data"
GENOME = DATA / "ecoli_k12_slices.gbk"  # three E. coli records: 18.7, 8.0 and 5.1 kb


def _verbs(out: Path) -> list[list[str]]:
    # Small batches and windows, so that the batches alternate between the ranks many
    # times and the windows of the longest record are split between them.
    return [
        ["annotate", str(GENOME), "-o", str(out / "genes.gff"), "--proteins", str(out / "genes.faa"),
         "--batch-size", "8"],
        ["score", str(GENOME), "-o", str(out / "scores.tsv"), "--window", "64", "--batch-size", "4"],
        ["embed", str(GENOME), "-o", str(out / "embeddings.parquet"), "--window", "64", "--batch-size", "4"],
    ]


def test_two_processes_write_what_one_process_writes(tmp_path, one_thread):  # noqa: F811
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    runner = CliRunner()
    for args in _verbs(one):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    code, stdout, stderr = torchrun([str(Path(__file__).parent / "distributed_cli.py"), json.dumps(_verbs(two))])
    assert code == 0, stdout[-3000:] + stderr[-3000:]
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in two.iterdir()) and len(names) == 4
    for name in names:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    assert (one / "genes.gff").read_text().count("\tCDS\t") > 10
    said = stdout + stderr
    # the summary lines come from rank 0 only, and so do transformers' loading bars (one per verb at most)
    assert said.count(" genes (") == 1 and said.count("embeddings (") == 1 and said.count("sequences scored") == 1
    assert said.count("Loading weights: 100%") <= 3


def test_each_rank_gets_its_own_gpu(monkeypatch):
    import torch

    from gener import distributed

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert distributed.device("cuda") == torch.device("cuda", 1)  # a bare "cuda" is this rank's GPU
    assert distributed.device("cuda:0") == torch.device("cuda", 0)  # an explicit index is kept
    assert distributed.device("cpu") == torch.device("cpu")
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert distributed.device("cuda") == torch.device("cuda")
