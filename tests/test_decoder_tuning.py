"""Choosing an annotator's decoder weights (tuning.py, `gener finetune decoder`) on real genome slices."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gener.cli import app
from gener.modeling.loading import resolve
from gener.tasks.annotate import tuning
from gener.tasks.annotate.annotator import DEFAULT_WEIGHTS, Annotator
from gener.tasks.annotate.dataset import read_genomes

DATA = Path(__file__).parent / "data"
# M. mycoides (translation table 4), a genome the model was not trained on: 4 records, 26.5 kbp (long
# enough for single mode), 20 validated CDS
GENOME = str(DATA / "mycoplasma_mycoides_t4.gbk")


@pytest.fixture(scope="module")
def untuned(tmp_path_factory):
    """The embedded annotator without its decoder.json, and its genome prepared for tuning."""
    directory = tmp_path_factory.mktemp("model") / "annotator"
    shutil.copytree(resolve("gener-annotator-tiny"), directory)
    (directory / "decoder.json").unlink()
    [(file, records)] = tuning.check_tuning_genomes(read_genomes([GENOME]))
    annotator = Annotator(directory, evidence="model", precision="fp32")  # the same figures on every CPU
    probs = annotator.probabilities_many([r.sequence for r in records], [r.circular for r in records])
    return directory, tuning.prepare(file.name, records, probs)


def test_over_calling_beyond_a_tenth_more_genes_than_prodigal_is_penalised():
    assert tuning.objective(0.8, 110, 100) == pytest.approx(0.8)
    assert tuning.objective(0.8, 132, 100) == pytest.approx(0.8 * 110 / 132)


def test_tuned_weights_beat_the_untuned_defaults_and_round_trip_through_decoder_json(untuned):
    directory, genome = untuned
    params, info = tuning.tune([genome], "both", "single")
    assert params["coding"] == params["start"] == 1.0  # Prodigal's scale is kept
    assert params["model"] in tuning.GRIDS["model"] and params["spacing"] in tuning.SPACINGS["both"]
    default = tuning.untuned("both")
    assert (default["model"], default["model_start"]) == (DEFAULT_WEIGHTS["both"]["model"],
                                                          DEFAULT_WEIGHTS["both"]["model_start"])
    untuned_score, _ = tuning.score([genome], default, "single")
    tuned_score, _ = tuning.score([genome], params, "single")
    assert tuned_score == pytest.approx(tuning.objective(info["exact_match"], info["pred_genes"],
                                                         info["prodigal_genes"]))
    start_score, _ = tuning.score([genome], {**tuning.START["both"], "spacing": 0.0}, "single")
    assert tuned_score > start_score and tuned_score >= untuned_score
    tuning.write_decoder_json(directory, {"inference": {"overlap": 0}})
    tuning.write_decoder_json(directory, {"both-single": tuning.entry(params)})
    assert sorted(p.name for p in directory.glob("*decoder*")) == ["decoder.json"]  # no temporary left
    annotator = Annotator(directory)
    assert annotator.overlap == 0  # the earlier entry is kept
    options = annotator.decoding("single")
    assert options["weights"].model == params["model"] and options["weights"].spacing == params["spacing"]


def test_a_genome_too_short_for_single_mode_tunes_meta_mode_and_the_model_alone(untuned):
    _, genome = untuned
    short = tuning.TuningGenome(genome.name, genome.records[:1], genome.probs[:1],
                                {"meta": genome.statistics["meta"]}, genome.prodigal_genes)
    rows = tuning.tune_all([short], sources=("both", "model"))
    assert [name for name, _, _ in rows] == ["both-meta", "model"]
    with pytest.raises(ValueError, match="single mode"):
        tuning.score([short], {**tuning.START["both"], "spacing": 0.0}, "single")


def test_finetune_decoder_writes_the_weights_and_prints_them(untuned, tmp_path):
    directory = tmp_path / "annotator"
    shutil.copytree(untuned[0], directory)
    (directory / "decoder.json").unlink(missing_ok=True)
    result = CliRunner().invoke(app, ["finetune", "decoder", "--model", str(directory), "--genome", GENOME])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("| evidence |") and "| both-single |" in result.stdout
    written = json.loads((directory / "decoder.json").read_text())
    assert set(written) == {"both-single", "both-meta", "model", "genome-single", "genome-meta"}
    assert "wrote" in result.stderr


@pytest.mark.parametrize("argv, message", [
    (["--model", "gener-annotator-tiny"], "checkpoint directory"),
    (["--model", "{dir}", "--genome", "{fasta}"], "expected an annotation"),
])
def test_finetune_decoder_rejects_bad_input_in_one_line(untuned, tmp_path, argv, message):
    fasta = tmp_path / "g.fa"
    fasta.write_text(">g\n" + "ACGT" * 100 + "\n")
    argv = [a.format(dir=untuned[0], fasta=fasta) for a in argv]
    if "--genome" not in argv:
        argv += ["--genome", GENOME]
    result = CliRunner().invoke(app, ["finetune", "decoder", *argv])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error:") and message in result.stderr


def test_annotate_warns_when_the_model_has_no_tuned_weights(tmp_path):
    directory = tmp_path / "annotator"
    shutil.copytree(resolve("gener-annotator-tiny"), directory)
    (directory / "decoder.json").unlink()
    genome = str(DATA / "ecoli_k12_60kb.fa")
    untuned_run = CliRunner().invoke(app, ["annotate", genome, "--model", str(directory), "-o", str(tmp_path / "a")])
    assert untuned_run.exit_code == 0 and "no decoder weights chosen for it" in untuned_run.stderr
    genome_only = CliRunner().invoke(app, ["annotate", genome, "--model", str(directory), "--evidence", "genome",
                                           "-o", str(tmp_path / "b")])
    assert genome_only.exit_code == 0 and "warning" not in genome_only.stderr  # the genome needs no weights
    tuned = CliRunner().invoke(app, ["annotate", genome, "-o", str(tmp_path / "c")])
    assert tuned.exit_code == 0 and "warning" not in tuned.stderr
