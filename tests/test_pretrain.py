"""Pre-training (gener pretrain): collators, accumulation, epochs, exact resume, 2 processes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from transformers import TrainerCallback
from typer.testing import CliRunner

from gener.cli import app
from gener.data.regions import curate_regions
from gener.data.shards import ShardDataset, write_shards
from gener.errors import GenerInputError
from gener.tokenization import NucleotideTokenizer
from gener.training.pretrain import (
    IGNORE,
    CausalCollator,
    KeyedWindows,
    MaskedNucleotideCollator,
    SetEpochCallback,
    gradient_accumulation,
    last_complete_checkpoint,
    pretrain,
    read_loss_log,
)
from torchrun_launch import torchrun

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent
FIXTURES = [DATA / "ecoli_k12_slices.gbk", DATA / "coxiella_endosymbiont_pseudo.gbk"]
SMALL = dict(num_hidden_layers=1, hidden_size=32, intermediate_size=64)
SMALL_ARGS = [arg for k, v in SMALL.items() for arg in ("--set", f"{k}={v}")]


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pretrain-data")
    curate_regions([str(p) for p in FIXTURES], root / "r.parquet", flank=7)
    out = {}
    for name in ("kmer", "nucleotide"):
        write_shards(root / "r.parquet", root / name, tokenizer=name)
        out[name] = root / name
    return out


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: threads only add overhead
    yield
    torch.set_num_threads(threads)


def test_gradient_accumulation_reaches_the_target():
    assert gradient_accumulation(2_097_152, 1, 16384, 1) == 128  # the paper: 128 x 16,384
    assert gradient_accumulation(2_097_152, 4, 16384, 8) == 4
    assert gradient_accumulation(1000, 4, 64, 2) == 2  # ceil(1000 / 512)
    assert gradient_accumulation(10, 4, 64, 1) == 1


def test_masked_collator_proportions_on_a_large_batch():
    tok = NucleotideTokenizer()
    acgt = np.array([tok.convert_tokens_to_ids(b) for b in "ACGT"])
    never = [tok.convert_tokens_to_ids(c) for c in "NRYKMSW"] + [tok.bos_token_id, tok.eos_token_id,
                                                                 tok.pad_token_id, tok.mask_token_id, 0, 23]
    rng = np.random.default_rng(0)
    ids = acgt[rng.integers(0, 4, (64, 4096))]
    other = rng.random(ids.shape) < 0.2  # a fifth of the positions: N, other IUPAC codes, specials
    ids[other] = rng.choice(never, other.sum())
    features = [{"input_ids": torch.from_numpy(row), "sample_key": torch.tensor([0, 0, i])} for i, row in enumerate(ids)]
    batch = MaskedNucleotideCollator(tok)(features)
    x, labels = batch["input_ids"].numpy(), batch["labels"].numpy()
    chosen = labels != IGNORE

    assert not chosen[other].any()  # N, ambiguity codes and specials are never selected ...
    assert np.array_equal(x[other], ids[other])  # ... nor changed
    assert np.array_equal(labels[chosen], ids[chosen])  # labels are the original bases
    assert np.array_equal(x[~chosen], ids[~chosen])
    n_acgt = (~other).sum()  # ~210k
    assert abs(chosen.sum() / n_acgt - 0.15) < 0.005
    masked = chosen & (x == tok.mask_token_id)
    same = chosen & (x == ids)
    random = chosen & ~masked & ~same
    assert abs(masked.sum() / chosen.sum() - 0.8) < 0.01
    assert abs(same.sum() / chosen.sum() - 0.1) < 0.01
    assert abs(random.sum() / chosen.sum() - 0.1) < 0.01
    assert np.isin(x[random], acgt).all()  # a different base, never N or a special
    # each of the three other bases is drawn about equally often
    for base in acgt:
        got = np.bincount(np.searchsorted(acgt, x[random & (ids == base)]), minlength=4)
        assert got[np.searchsorted(acgt, base)] == 0
        assert got.sum() and (got[got > 0] / got.sum() > 0.28).all()

    # the masks are a pure function of sample_key: exact resume, any worker, any process count
    again = MaskedNucleotideCollator(tok)(features[::-1])
    assert torch.equal(again["labels"].flip(0), batch["labels"])
    moved = MaskedNucleotideCollator(tok)([{**f, "sample_key": torch.tensor([0, 1, i])} for i, f in enumerate(features)])
    assert not torch.equal(moved["labels"], batch["labels"])  # a new epoch, new masks


def test_causal_collator_keeps_windows():
    ids = torch.arange(10).view(2, 5)
    batch = CausalCollator()([{"input_ids": r, "sample_key": torch.tensor([0, 0, i])} for i, r in enumerate(ids)])
    assert torch.equal(batch["input_ids"], ids) and torch.equal(batch["labels"], ids)
    assert set(batch) == {"input_ids", "labels"}


def test_set_epoch_callback_reaches_the_dataset(shards):
    data = KeyedWindows(ShardDataset(shards["kmer"], 64))
    callback = SetEpochCallback(data)
    first = data[3]["input_ids"]
    for state_epoch, expected in ((0, 0), (1.0, 1), (2.5, 2), (2.9999999, 3)):
        callback.on_epoch_begin(None, SimpleNamespace(epoch=state_epoch), None)
        assert data.epoch == expected and data[3]["sample_key"].tolist() == [0, expected, 3]
    offsets = {data.windows.offset(3, e) for e in range(12)}
    assert len(offsets) > 1  # the 6-mer framing changes between epochs
    data.set_epoch(0)
    assert torch.equal(data[3]["input_ids"], first)


def _run(preset, data, out, **kw):
    settings = dict(seq_len=128, tokens_per_step=1024, batch_size=4, warmup_steps=2, steps=12, save_steps=5,
                    logging_steps=1, model_overrides=SMALL, log=lambda *a: None)
    settings.update(kw)
    return pretrain(preset, data, out, **settings)


class _Kill(TrainerCallback):
    """Dies right after checkpoint ``at`` is written, like a killed job."""

    def __init__(self, at):
        self.at = at

    def on_save(self, args, state, control, **kwargs):
        if state.global_step == self.at:
            raise KeyboardInterrupt


class _Epochs(TrainerCallback):
    def __init__(self):
        self.seen = []

    def on_step_end(self, args, state, control, train_dataloader=None, **kwargs):
        self.seen.append(train_dataloader.dataset.epoch)


@pytest.mark.parametrize("preset,kind", [("generator-tiny", "kmer"), ("generanno-tiny", "nucleotide")])
def test_exact_resume_across_an_epoch(shards, tmp_path, preset, kind):
    # 66 windows of 128 6-mers / 98 of 512 nucleotides; 4 per batch, 2 accumulated: 8 / 12
    # steps per epoch, so the run crosses into epoch 1 and is killed there, mid-epoch.
    kw = dict(steps=16) if kind == "kmer" else dict(steps=16, seq_len=512, tokens_per_step=4096)
    epochs = _Epochs()
    full = _run(preset, shards[kind], tmp_path / "full", callbacks=[epochs], **kw)
    assert full.plan.grad_accum == 2 and full.plan.steps_per_epoch == (8 if kind == "kmer" else 12)
    assert set(epochs.seen) == {0, 1}  # the epoch reached the dataset
    with pytest.raises(KeyboardInterrupt):
        _run(preset, shards[kind], tmp_path / "cut", callbacks=[_Kill(15)], **kw)
    assert [r["step"] for r in read_loss_log(tmp_path / "cut" / "loss.csv")] == list(range(1, 16))
    with pytest.raises(GenerInputError, match="--resume"):
        _run(preset, shards[kind], tmp_path / "cut", **kw)
    _run(preset, shards[kind], tmp_path / "cut", resume=True, **kw)

    a, b = read_loss_log(full.loss_log), read_loss_log(tmp_path / "cut" / "loss.csv")
    assert [r["step"] for r in a] == [r["step"] for r in b] == list(range(1, 17))
    diff = max(abs(x["loss"] - y["loss"]) for x, y in zip(a, b))
    print(f"{preset}: largest loss difference after resume {diff:.3g}")
    assert diff < 1e-5
    assert [r["learning_rate"] for r in a] == [r["learning_rate"] for r in b]
    for x, y in zip(a, b):
        assert abs(x["grad_norm"] - y["grad_norm"]) < 1e-4


def test_schedule_and_outputs(shards, tmp_path):
    result = _run("generanno-tiny", shards["nucleotide"], tmp_path / "run", steps=20, warmup_steps=5,
                  learning_rate=1e-3, save_steps=100)
    log = read_loss_log(result.loss_log)
    lr = [r["learning_rate"] for r in log]
    assert max(lr) == pytest.approx(1e-3)  # linear warm-up to the peak ...
    assert lr.index(max(lr)) == 5
    assert min(lr[5:]) >= 1e-4 - 1e-12 and lr[-1] < 2e-4  # ... then cosine towards 10% of it
    assert all(r["tokens"] == r["step"] * 1024 for r in log)
    assert result.loss_plot is not None and result.loss_plot.read_bytes()[:4] == b"\x89PNG"
    args = result.trainer.args
    assert (args.adam_beta1, args.adam_beta2, args.weight_decay, args.max_grad_norm) == (0.9, 0.95, 0.1, 1.0)
    assert result.trainer.model.config._attn_implementation == "sdpa"
    record = json.loads((result.final / "training.json").read_text())
    assert record["global_step"] == 20 and record["tokens_seen"] == 20 * 1024

    import gener

    model, tokenizer = gener.load(str(result.final))
    assert type(model).__name__ == "GenerannoForMaskedLM" and model.config.num_hidden_layers == 1


def test_validation_loss_is_logged_and_the_time_limit_stops(shards, tmp_path):
    # Held-out shards: the fixtures' Coxiella regions only (never in this run's training data).
    held = tmp_path / "held"
    curate_regions([str(FIXTURES[1])], tmp_path / "h.parquet", flank=7)
    write_shards(tmp_path / "h.parquet", held, tokenizer="kmer")
    train = tmp_path / "train"
    curate_regions([str(FIXTURES[0])], tmp_path / "t.parquet", flank=7)
    write_shards(tmp_path / "t.parquet", train, tokenizer="kmer")
    _run("generator-tiny", train, tmp_path / "run", steps=6, eval_data=held, eval_steps=3, eval_windows=5,
                  learning_rate=5e-3, warmup_steps=1)
    evals = read_loss_log(tmp_path / "run" / "eval.csv")
    assert [r["step"] for r in evals] == [3, 6]
    assert all(4 < r["eval_loss"] < 9 for r in evals)  # a real cross-entropy over 4,128 ids (uniform: 8.33)
    assert evals[-1]["eval_loss"] < evals[0]["eval_loss"]  # it learns something that transfers
    with pytest.raises(GenerInputError, match="another tokenizer"):
        _run("generator-tiny", train, tmp_path / "r2", steps=2, eval_data=shards["nucleotide"])
    stopped = _run("generator-tiny", train, tmp_path / "r3", steps=1000, max_minutes=1e-9)
    assert stopped.trainer.state.global_step == 1 and (tmp_path / "r3" / "final" / "config.json").is_file()


def test_cli_generator(shards, tmp_path):
    out = tmp_path / "run"
    args = ["pretrain", "--preset", "generator-tiny", "--data", str(shards["kmer"]), "--out", str(out),
            "--seq-len", "64", "--tokens-per-step", "600", "--batch-size", "2", "--warmup", "1", "--steps", "3",
            "--log-steps", "1", "--save-steps", "2", *SMALL_ARGS]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2 per device x 64 x 1 process(es) x 5 accumulation = 640" in " ".join(result.output.split())
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint-2", "checkpoint-3", "final", "loss.csv", "loss.png",
                                                     "pretrain.json"]
    assert len(read_loss_log(out / "loss.csv")) == 3
    from transformers import LlamaForCausalLM

    model = LlamaForCausalLM.from_pretrained(out / "final")  # an ordinary checkpoint
    assert model.config.hidden_size == 32

    again = CliRunner().invoke(app, args)  # checkpoints there, no --resume: a one-line error
    assert again.exit_code == 2 and "--resume" in again.output
    done = CliRunner().invoke(app, args + ["--resume"])  # already at the last step: nothing to do
    assert done.exit_code == 0, done.output
    assert "other settings" not in done.output and len(read_loss_log(out / "loss.csv")) == 3
    changed = CliRunner().invoke(app, args + ["--resume", "--lr", "1e-3"])
    assert changed.exit_code == 0 and "other settings than the run began with (learning_rate)" in " ".join(changed.output.split())


@pytest.mark.parametrize("extra,message", [
    (["--steps", "2", "--epochs", "1"], "not both"),
    (["--steps", "2", "--resume"], "no checkpoint"),
    (["--steps", "2", "--seq-len", "20000"], "exceeds"),
    (["--steps", "2", "--set", "num_hidden_layers"], "KEY=VALUE"),
])
def test_cli_errors(shards, tmp_path, extra, message):
    args = ["pretrain", "--preset", "generator-tiny", "--data", str(shards["kmer"]), "--out", str(tmp_path / "r")]
    result = CliRunner().invoke(app, args + extra)
    assert result.exit_code == 2 and message in result.output


def test_wrong_shards_for_the_family(shards, tmp_path):
    with pytest.raises(GenerInputError, match="needs --tokenizer nucleotide"):
        _run("generanno-tiny", shards["kmer"], tmp_path / "r", seq_len=64)


def test_config_file(tmp_path, shards):
    bad = tmp_path / "bad.yaml"
    bad.write_text("not_a_training_argument: 1\n")
    with pytest.raises(GenerInputError, match="not_a_training_argument"):
        _run("generator-tiny", shards["kmer"], tmp_path / "r", seq_len=64, config=bad)
    assert (REPO / "configs" / "fsdp.yaml").is_file()


def test_two_processes_under_torchrun(shards, tmp_path):
    """torchrun --nproc_per_node 2 on CPU (gloo) with the shipped FSDP config. accelerate enables
    FSDP only on accelerators, so on CPU the run is DDP and says so."""
    out = tmp_path / "ddp"
    code, stdout, stderr = torchrun(
        ["-m", "gener.cli", "pretrain", "--preset", "generator-tiny", "--data", str(shards["kmer"]), "--out", str(out),
         "--seq-len", "64", "--tokens-per-step", "1024", "--batch-size", "4", "--warmup", "1", "--steps", "4",
         "--save-steps", "2", "--log-steps", "1", "--config", str(REPO / "configs" / "fsdp.yaml"), *SMALL_ARGS],
        before_retry=lambda: shutil.rmtree(out, ignore_errors=True))
    assert code == 0, stdout[-3000:] + stderr[-3000:]
    text = " ".join(stderr.split())  # the plan is a log: stderr
    assert "4 per device x 64 x 2 process(es) x 2 accumulation = 1,024" in text
    assert "parallelism: DDP (gloo)" in text or "FSDP" in text
    log = read_loss_log(out / "loss.csv")
    assert [r["step"] for r in log] == [1, 2, 3, 4] and all(np.isfinite(r["loss"]) for r in log)
    assert (out / "final" / "model.safetensors").exists() and (out / "checkpoint-4").is_dir()


def test_resume_skips_an_incomplete_checkpoint(tmp_path):
    """A kill during a save leaves checkpoint-N without its trainer_state.json (written last) or
    with a cut weights file: resume takes the newest complete one, and says which it skipped."""
    import torch
    from safetensors.torch import save_file

    def checkpoint(step, *, state=True, weights=b""):
        path = tmp_path / f"checkpoint-{step}"
        path.mkdir()
        save_file({"w": torch.zeros(2)}, str(path / "model.safetensors"))
        if weights:
            (path / "model.safetensors").write_bytes(weights)
        for name in ("optimizer.pt", "scheduler.pt"):
            (path / name).write_bytes(b"x")
        if state:
            (path / "trainer_state.json").write_text(json.dumps({"global_step": step}))

    checkpoint(2)
    checkpoint(4, weights=b"cut")
    checkpoint(6, state=False)
    said = []
    assert last_complete_checkpoint(tmp_path, said.append) == tmp_path / "checkpoint-2"
    assert len(said) == 2 and "checkpoint-6 is incomplete (no trainer_state.json" in said[0]
    assert "checkpoint-4 is incomplete (unreadable model.safetensors" in said[1]
