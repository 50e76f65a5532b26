"""Bad input over every verb: exit code 2, exactly one ``error:`` line on stderr (the last;
warnings may come before it), no traceback, and no file left behind (outputs, temp files,
run directories).

Each case runs the typer app in-process (the same code path as the ``gener`` script: the
app's own ``main`` with its error handling, SIGTERM handler and stream split); the inputs
are the real-genome fixtures of tests/data, a tiny model saved next to them, and broken
copies of both made here.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gener.cli import app

from tiny_models import tiny_generator

DATA = Path(__file__).parent / "data"
FA = DATA / "ecoli_k12_60kb.fa"
GB = DATA / "ecoli_k12_slices.gbk"
GFF = DATA / "yeast_chrI_136801-152000.gff3"
VCF = DATA / "ecoli_snvs.vcf"
GENES = DATA / "yeast_chrII_genes.fa"
CSV = DATA / "pum2_slice.csv"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """Inputs shared by the cases (built once): good and broken model directories, shards,
    a regions table, odd files."""
    root = tmp_path_factory.mktemp("bad-input")
    good = root / "model"
    tiny_generator(good)
    broken = {}
    for name, damage in {
        "truncated": lambda d: (d / "model.safetensors").write_bytes((d / "model.safetensors").read_bytes()[:5000]),
        "random": lambda d: (d / "model.safetensors").write_bytes(os.urandom(4096)),
        "config-list": lambda d: (d / "config.json").write_text("[1, 2]"),
        "no-weights": lambda d: (d / "model.safetensors").unlink(),
        "bad-tokenizer": lambda d: (d / "tokenizer_config.json").write_text("{not json"),
        "mismatch": lambda d: (d / "config.json").write_text(
            json.dumps({**json.loads((d / "config.json").read_text()), "hidden_size": 128})),
        "more-layers": lambda d: (d / "config.json").write_text(
            json.dumps({**json.loads((d / "config.json").read_text()), "num_hidden_layers": 3})),
    }.items():
        shutil.copytree(good, root / name)
        damage(root / name)
        broken[name] = root / name
    regions = root / "regions.parquet"
    shards = root / "shards"
    runner = CliRunner()
    assert runner.invoke(app, ["data", "regions", str(GB), "-o", str(regions), "-q"]).exit_code == 0
    assert runner.invoke(app, ["data", "tokenize", str(regions), "-o", str(shards), "-q"]).exit_code == 0
    truncated_shards = root / "truncated-shards"
    shutil.copytree(shards, truncated_shards)
    bin_file = next(truncated_shards.glob("*.bin"))
    bin_file.write_bytes(bin_file.read_bytes()[:1000])
    corrupt_shards = root / "corrupt-shards"  # the right size, bytes that are not nucleotides
    shutil.copytree(shards, corrupt_shards)
    bin_file = next(corrupt_shards.glob("*.bin"))
    bin_file.write_bytes(b"\x00" * bin_file.stat().st_size)
    bad_index = root / "bad-index"
    shutil.copytree(shards, bad_index)
    (bad_index / "index.json").write_text("{")
    run = root / "run-incomplete"  # a kill during the first checkpoint save
    (run / "checkpoint-2").mkdir(parents=True)
    (run / "checkpoint-2" / "model.safetensors").write_bytes(b"")
    binary = root / "random.bin"
    binary.write_bytes(os.urandom(3000))
    empty = root / "empty.fa"
    empty.write_text("")
    one_class = root / "one_class.csv"
    one_class.write_text("sequence,label\n" + "".join(f"{'ACGT' * 10}{i % 4 * 'A'},1\n" for i in range(40)))
    bad_vcf = root / "bad.vcf"
    bad_vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\nNC_000913.2:1-18655\tnot-a-number\t.\tA\tG\n")
    file_out = root / "a_file"
    file_out.write_text("x")
    return dict(root=root, model=good, broken=broken, regions=regions, shards=shards,
                truncated_shards=truncated_shards, corrupt_shards=corrupt_shards, bad_index=bad_index, run=run, binary=binary, empty=empty,
                one_class=one_class, bad_vcf=bad_vcf, file_out=file_out, fa=FA)


# (case id, argv with {placeholders}, a fragment the error line must hold). {out} is a path in
# a fresh directory (which must stay empty); {dir} is that directory.
CASES = [
    # annotate: input, outputs, Prodigal's flags, models
    ("annotate-missing-input", ["annotate", "{dir}/nope.fa"], "no such file"),
    ("annotate-input-is-dir", ["annotate", "{dir}"], "not a file"),
    ("annotate-binary-input", ["annotate", "{binary}", "-o", "{out}"], "binary"),
    ("annotate-empty-input", ["annotate", "{empty}", "-o", "{out}"], "empty"),
    ("annotate-out-missing-dir", ["annotate", "{fa}", "-o", "{dir}/no/such/dir/g.gff"], "does not exist"),
    ("annotate-out-is-dir", ["annotate", "{fa}", "-o", "{dir}"], "is a directory"),
    ("annotate-out-proc", ["annotate", "{fa}", "-o", "/proc/gener-no-such-file"], "no such device"),
    ("annotate-out-is-input", ["annotate", "{fa}", "-o", "{fa}"], "overwrite an input"),
    ("annotate-two-outputs-same", ["annotate", "{fa}", "-o", "{out}", "-a", "{out}"], "same output"),
    ("annotate-two-stdouts", ["annotate", "{fa}", "-a", "-"], "stdout"),
    ("annotate-input-twice", ["annotate", "{fa}", "-i", "{fa}"], "input once"),
    ("annotate-format", ["annotate", "{fa}", "-f", "embl"], "-f 'embl'"),
    ("annotate-mode", ["annotate", "{fa}", "-p", "metagenome"], "-p 'metagenome'"),
    ("annotate-table", ["annotate", "{fa}", "-g", "99"], "translation table"),
    ("annotate-window-zero", ["annotate", "{fa}", "--window", "0"], "--window"),
    ("annotate-device", ["annotate", "{fa}", "--device", "nonsense"], "--device"),
    ("annotate-unknown-flag", ["annotate", "{fa}", "-s", "{out}"], "No such option: -s"),
    ("annotate-model-missing", ["annotate", "{fa}", "--model", "{dir}/nowhere"], "cannot find model"),
    ("annotate-model-generator", ["annotate", "{fa}", "--model", "{model}"], "not a CDS annotator"),
    ("annotate-model-truncated", ["annotate", "{fa}", "--model", "{broken[truncated]}"], "not a CDS annotator"),
    ("annotate-min-gene", ["annotate", "{fa}", "--min-gene-length", "3"], "--min-gene-length"),
    # generate
    ("generate-no-prompt", ["generate", "-o", "{out}", "--model", "{model}"], "prompt"),
    ("generate-prompts-missing", ["generate", "-o", "{out}", "--prompts", "{dir}/p.fa"], "no such file"),
    ("generate-out-missing-dir", ["generate", "-o", "{dir}/x/y.fa", "--prompt", "ATGAAA"], "does not exist"),
    ("generate-top-p", ["generate", "-o", "{out}", "--prompt", "ATGAAA", "--top-p", "2"], "--top-p"),
    ("generate-zero-samples", ["generate", "-o", "{out}", "--prompt", "ATGAAA", "-n", "0"], "--num-samples"),
    ("generate-temperature", ["generate", "-o", "{out}", "--prompt", "ATGAAA", "--temperature", "-1"], "--temperature"),
    ("generate-model-mismatch", ["generate", "-o", "{out}", "--prompt", "ATGAAA", "--model", "{broken[mismatch]}"],
     "does not match the weights"),
    ("generate-model-more-layers", ["generate", "-o", "{out}", "--prompt", "ATGAAA", "--model", "{broken[more-layers]}"],
     "not in the checkpoint"),
    # score
    ("score-stride-over-window", ["score", "{genes}", "--window", "16", "--stride", "40"], "--stride 40"),
    ("score-stride-over-context", ["score", "{genes}", "--model", "{model}", "--stride", "100000"], "--stride 100000"),
    ("score-window-zero", ["score", "{genes}", "--window", "0"], "--window"),
    ("score-device", ["score", "{genes}", "--device", "cuda:7x"], "--device"),
    ("score-out-is-dir", ["score", "{genes}", "-o", "{dir}"], "is a directory"),
    ("score-missing-input", ["score", "{dir}/none.fa", "--model", "{model}"], "no such file"),
    ("score-model-random", ["score", "{genes}", "--model", "{broken[random]}"], "unreadable weights"),
    ("score-model-config-list", ["score", "{genes}", "--model", "{broken[config-list]}"], "JSON object"),
    ("score-model-no-weights", ["score", "{genes}", "--model", "{broken[no-weights]}"], "no readable model weights"),
    ("score-model-bad-tokenizer", ["score", "{genes}", "--model", "{broken[bad-tokenizer]}"], "tokenizer_config.json"),
    ("score-mask-spacing", ["score", "{genes}", "--mask-spacing", "0"], "--mask-spacing"),
    # embed
    ("embed-pool", ["embed", "{genes}", "-o", "{out}", "--pool", "max"], "--pool"),
    ("embed-out-missing-dir", ["embed", "{genes}", "-o", "{dir}/a/b.parquet"], "does not exist"),
    ("embed-window", ["embed", "{genes}", "-o", "{out}", "--window", "2"], "--window"),
    ("embed-model-truncated", ["embed", "{genes}", "-o", "{out}", "--model", "{broken[truncated]}"], "unreadable weights"),
    # recover
    ("recover-seq-col-fasta", ["recover", "--data", "{genes}", "--seq-col", "seq", "--model", "{model}"], "--seq-col"),
    ("recover-seq-col-missing", ["recover", "--data", "{csv}", "--seq-col", "dna", "--model", "{model}"], "'dna'"),
    ("recover-predict-zero", ["recover", "--data", "{genes}", "--predict-bp", "0"], "--predict-bp"),
    ("recover-out-missing-dir", ["recover", "--data", "{genes}", "-o", "{dir}/x/y.tsv"], "does not exist"),
    ("recover-context", ["recover", "--data", "{genes}", "--min-context-bp", "100000"], "min_context_bp"),
    ("recover-too-short", ["recover", "--data", "{genes}", "--min-context-bp", "5000", "--model", "{model}"],
     "long enough"),
    # variants
    ("variants-vcf-missing", ["variants", "--vcf", "{dir}/v.vcf", "--fasta", "{gb}", "-o", "{out}"], "no such file"),
    ("variants-fasta-missing", ["variants", "--vcf", "{vcf}", "--fasta", "{dir}/g.fa", "-o", "{out}"], "no such file"),
    ("variants-out-is-vcf", ["variants", "--vcf", "{vcf}", "--fasta", "{gb}", "-o", "{vcf}"], "overwrite an input"),
    ("variants-context-zero", ["variants", "--vcf", "{vcf}", "--fasta", "{gb}", "-o", "{out}", "--context-bp", "0"],
     "--context-bp"),
    ("variants-bad-vcf", ["variants", "--vcf", "{bad_vcf}", "--fasta", "{gb}", "-o", "{out}"], "bad.vcf"),
    # evaluate-annotation, models
    ("evaluate-pred-missing", ["evaluate-annotation", "--pred", "{dir}/p.gff3", "--ref", "{gb}"], "no such file"),
    ("evaluate-ref-binary", ["evaluate-annotation", "--pred", "{gff}", "--ref", "{binary}"], "binary"),
    ("models-flag-value", ["models", "--params=3"], "--params"),
    ("unknown-verb", ["annotat", "{fa}"], "No such command"),
    # data
    ("regions-fasta", ["data", "regions", "{fa}", "-o", "{out}"], "FASTA has no annotation"),
    ("regions-out-is-dir", ["data", "regions", "{gb}", "-o", "{dir}"], "is a directory"),
    ("regions-chunk-zero", ["data", "regions", "{gb}", "-o", "{out}", "--whole", "--chunk", "0"], "--chunk"),
    ("stats-out-is-file", ["data", "stats", "{regions}", "-o", "{file_out}"], "not a directory"),
    ("stats-not-parquet", ["data", "stats", "{fa}"], "ecoli_k12_60kb.fa"),
    ("tokenize-tokenizer", ["data", "tokenize", "{regions}", "-o", "{dir}/s", "--tokenizer", "bpe"], "bpe"),
    ("tokenize-out-is-file", ["data", "tokenize", "{regions}", "-o", "{file_out}"], "not a directory"),
    ("tokenize-shard-tokens", ["data", "tokenize", "{regions}", "-o", "{dir}/s", "--shard-tokens", "0"],
     "--shard-tokens"),
    ("family-source-missing", ["data", "family", "{dir}/none.gbk", "-o", "{out}"], "none.gbk"),
    ("family-out-is-dir", ["data", "family", "{gb}", "-o", "{dir}"], "is a directory"),
    ("task-unknown", ["data", "task", "enhancers", "-o", "{dir}/t"], "unknown task"),
    ("task-out-is-file", ["data", "task", "pum2", "-o", "{file_out}"], "not a directory"),
    ("fetch-unknown", ["data", "fetch", "--only", "ecoli-k13"], "ecoli-k12"),
    # pretrain
    ("pretrain-preset", ["pretrain", "--preset", "generator-7b", "--data", "{shards}", "-o", "{dir}/r"], "generator-7b"),
    ("pretrain-data-missing", ["pretrain", "--preset", "generator-tiny", "--data", "{dir}/none", "-o", "{dir}/r"],
     "index.json"),
    ("pretrain-set-type", ["pretrain", "--preset", "generator-tiny", "--data", "{shards}", "-o", "{dir}/r",
                           "--set", "hidden_size=abc"], "hidden_size must be an integer"),
    ("pretrain-set-unknown", ["pretrain", "--preset", "generator-tiny", "--data", "{shards}", "-o", "{dir}/r",
                              "--set", "hidden_sise=64"], "not a model config field"),
    ("pretrain-out-is-file", ["pretrain", "--preset", "generator-tiny", "--data", "{shards}", "-o", "{file_out}"],
     "not a directory"),
    ("pretrain-truncated-shard", ["pretrain", "--preset", "generator-tiny", "--data", "{truncated_shards}",
                                  "-o", "{dir}/r", "--seq-len", "64", "--steps", "1"], "truncated"),
    ("pretrain-corrupt-shard", ["pretrain", "--preset", "generator-tiny", "--data", "{corrupt_shards}",  # fails in
                                "-o", "{dir}/r", "--seq-len", "64", "--steps", "1", "--set", "num_hidden_layers=1",
                                "--tokens-per-step", "64"], "not nucleotides"),  # training: the run cleans up
    ("pretrain-corrupt-index", ["pretrain", "--preset", "generator-tiny", "--data", "{bad_index}", "-o", "{dir}/r"],
     "corrupt index"),
    ("pretrain-seq-len", ["pretrain", "--preset", "generator-tiny", "--data", "{shards}", "-o", "{dir}/r",
                          "--seq-len", "0"], "--seq-len"),
    ("pretrain-resume-incomplete", ["pretrain", "--preset", "generator-tiny", "--data", "{shards}", "-o", "{run}",
                                    "--seq-len", "64", "--steps", "1", "--resume"], "no checkpoint"),
    # finetune
    ("annotator-train-missing", ["finetune", "annotator", "--train", "{dir}/g.gbk", "-o", "{dir}/r"], "g.gbk"),
    ("annotator-window", ["finetune", "annotator", "--train", "{gb}", "-o", "{dir}/r", "--window", "0"], "--window"),
    ("annotator-out-is-file", ["finetune", "annotator", "--train", "{gb}", "-o", "{file_out}"], "not a directory"),
    ("decoder-not-a-checkpoint", ["finetune", "decoder", "--model", "{dir}", "--genome", "{gb}"],
     "checkpoint directory"),
    ("decoder-genome-missing", ["finetune", "decoder", "--model", "{model}", "--genome", "{dir}/g.gbk"], "g.gbk"),
    ("decoder-genome-unannotated", ["finetune", "decoder", "--model", "{model}", "--genome", "{genes}"],
     "expected an annotation"),
    ("decoder-not-an-annotator", ["finetune", "decoder", "--model", "{model}", "--genome", "{gb}"],
     "not a CDS annotator"),
    ("classify-data-missing", ["finetune", "classify", "--data", "{dir}/task.csv", "-o", "{dir}/r"], "no such file"),
    ("clm-data-missing", ["finetune", "clm", "--data", "{dir}/x.fa", "-o", "{dir}/r", "--model", "{model}"], "x.fa"),
    ("clm-valid-fraction", ["finetune", "clm", "--data", "{genes}", "-o", "{dir}/r", "--valid-fraction", "2"],
     "--valid-fraction"),
    ("clm-set", ["finetune", "clm", "--data", "{genes}", "-o", "{dir}/r", "--model", "generator-tiny",
                 "--set", "num_hidden_layers=two"], "num_hidden_layers must be an integer"),
    ("classify-data-missing", ["finetune", "classify", "--data", "{dir}/t.csv", "-o", "{dir}/r"], "t.csv"),
    ("classify-folds-zero", ["finetune", "classify", "--data", "{csv}", "--seq-col", "seq", "--label-col",
                             "binding_site", "-o", "{dir}/r", "--folds", "0"], "0 folds"),
    ("classify-one-class", ["finetune", "classify", "--data", "{one_class}", "-o", "{dir}/r"], "two classes"),
    ("classify-out-is-file", ["finetune", "classify", "--data", "{one_class}", "-o", "{file_out}"], "not a directory"),
    # dogma, design
    ("dogma-family-missing", ["dogma", "--family", "{dir}/cds.fa", "-o", "{dir}/r", "--model", "{model}"], "cds.fa"),
    ("dogma-out-is-file", ["dogma", "--family", "{genes}", "-o", "{file_out}"], "not a directory"),
    ("design-data-missing", ["design", "--data", "{dir}/u.csv", "-o", "{dir}/r", "--model", "{model}"], "u.csv"),
    ("design-top-p", ["design", "-o", "{dir}/r", "--top-p", "1.5"], "--top-p"),
]


def _fill(argv, env, scratch):
    values = {**{k: str(v) for k, v in env.items() if isinstance(v, Path)}, "dir": str(scratch),
              "out": str(scratch / "out"), "gb": str(GB), "gff": str(GFF), "vcf": str(VCF), "genes": str(GENES),
              "csv": str(CSV), "broken": {k: str(v) for k, v in env["broken"].items()}}
    return [a.format(**values) for a in argv]


def _listing(root: Path) -> set:
    return {p.relative_to(root) for p in root.rglob("*")}


@pytest.mark.parametrize("argv,fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_leaves_nothing(argv, fragment, env, tmp_path, monkeypatch):
    monkeypatch.setenv("GENER_DATA_DIR", str(env["root"] / "data-cache"))  # an empty cache: nothing fetched
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    before = _listing(env["root"])
    result = CliRunner().invoke(app, _fill(argv, env, scratch))
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error: ")]
    assert result.exit_code == 2, (result.exit_code, result.output)
    # one error line, the last; what came before it is what the verb had said so far (warnings)
    assert len(errors) == 1 and lines[-1] == errors[0], result.stderr
    assert fragment in errors[0], errors[0]
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert list(scratch.iterdir()) == [], list(scratch.iterdir())  # no output, temp file or run directory
    assert _listing(env["root"]) == before  # nor anything next to the inputs


def test_the_suite_covers_every_verb():
    """A new verb must bring its bad-input cases here."""
    def verbs(group, prefix=()):
        from typer.main import get_command

        command = get_command(group) if prefix == () else group
        for name, sub in command.commands.items():
            if hasattr(sub, "commands"):
                yield from verbs(sub, (*prefix, name))
            else:
                yield " ".join((*prefix, name))

    covered = set()
    for _, argv, _ in CASES:
        covered.add(" ".join(argv[:2]) if argv[0] in ("data", "finetune") else argv[0])
    missing = sorted(set(verbs(app)) - covered - {"data list"})  # data list takes no input
    assert not missing, missing
    assert len(CASES) >= 60


def test_missing_datasets_are_listed_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("GENER_DATA_DIR", str(tmp_path / "cache"))
    result = CliRunner().invoke(app, ["data", "task", "promoter", "-o", str(tmp_path / "t")])
    assert result.exit_code == 2
    assert "3 dataset(s)" in result.stderr and "dm-chr2R, dm3-refseq, dm3-upstream" in result.stderr
    assert "--fetch" in result.stderr and not (tmp_path / "t").exists()


def test_gzip_input_truncated(tmp_path):
    cut = tmp_path / "cut.fa.gz"
    cut.write_bytes(gzip.compress(FA.read_bytes())[:5000])
    result = CliRunner().invoke(app, ["annotate", str(cut), "-o", str(tmp_path / "g.gff")])
    assert result.exit_code == 2 and "truncated or corrupt" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.fa.gz"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere: permissions are not enforced")
def test_unwritable_directory(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = CliRunner().invoke(app, ["score", str(GENES), "-o", str(locked / "s.tsv")])
        assert result.exit_code == 2 and "cannot write in" in result.stderr
    finally:
        locked.chmod(0o755)
