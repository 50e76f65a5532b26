"""Training the CDS annotator: the start-weighted loss and a short run on real E. coli slices."""

import json
from pathlib import Path

import pytest
import torch
from transformers.modeling_outputs import TokenClassifierOutput

from gener.tasks.annotate.labels import IGNORE, NUM_CLASSES, START
from gener.training.annotator import finetune_annotator, start_weighted_loss

DATA = Path(__file__).parent / "data"


def _cross_entropy(logits, labels, weight=None):
    return torch.nn.functional.cross_entropy(logits.reshape(-1, NUM_CLASSES), labels.reshape(-1), weight=weight,
                                             ignore_index=IGNORE)


def test_start_weighted_loss_is_weighted_cross_entropy():
    torch.manual_seed(0)
    logits = torch.randn(2, 8, 2, NUM_CLASSES)
    labels = torch.randint(0, NUM_CLASSES, (2, 8, 2))
    labels[0, :3] = IGNORE
    labels[1, 2, 0] = START
    out = TokenClassifierOutput(logits=logits)
    assert torch.allclose(start_weighted_loss(1.0)(out, labels), _cross_entropy(logits, labels))
    weight = torch.tensor([1.0, 1.0, 1.0, 1.0, 10.0])
    got = start_weighted_loss(10.0)(out, labels)
    assert torch.allclose(got, _cross_entropy(logits, labels, weight))
    # Only the start positions gain weight: without any start label the loss is the plain one.
    no_start = labels.clone()
    no_start[no_start == START] = 0
    assert torch.allclose(start_weighted_loss(10.0)(out, no_start), _cross_entropy(logits, no_start))


@pytest.mark.parametrize("start_weight", [1.0, 5.0])
def test_short_training_run_saves_a_loadable_annotator(tmp_path, start_weight):
    final = finetune_annotator("generanno-tiny", [str(DATA / "ecoli_k12_slices.gbk")],
                               [str(DATA / "coxiella_burnetii_slices.gbk")], tmp_path / "run", steps=3,
                               batch_size=2, window=128, eval_steps=3, warmup_steps=1,
                               model_overrides={"num_hidden_layers": 1}, start_weight=start_weight)
    record = json.loads((final / "training.json").read_text())
    assert record["start_weight"] == start_weight and record["steps"] == 3
    assert 0.0 <= record["final_eval"]["eval_accuracy"] <= 1.0
    # decoder weights chosen on the --valid genome travel with the model, and are recorded
    decoder = json.loads((final / "decoder.json").read_text())
    assert {"both-single", "both-meta", "model"} <= set(decoder) and "inference" not in decoder  # preset: none
    assert record["decoder"]["genomes"] == ["coxiella_burnetii_slices.gbk"]
    assert record["decoder"]["tuned"]["both-single"]["weights"] == decoder["both-single"]["weights"]
    from gener.tasks.annotate.annotator import Annotator

    genes = Annotator(str(final)).annotate("ACGT" * 200, "s")
    assert all(g.end - g.start >= 60 for g in genes)
    checkpoint = tmp_path / "run" / "checkpoint-3"  # no training.json: the window comes from its config
    assert not (checkpoint / "training.json").exists() and Annotator(str(checkpoint)).window == 128


def test_a_checkpoint_keeps_its_architecture_but_may_keep_only_its_first_layers():
    from gener.errors import GenerInputError
    from gener.training.annotator import build_annotator_model

    full = build_annotator_model("gener-annotator-tiny")
    shallow = build_annotator_model("gener-annotator-tiny", num_hidden_layers=2)
    layers = full.config.num_hidden_layers
    assert layers > 2 and len(full.model.layers) == layers
    assert len(shallow.model.layers) == shallow.config.num_hidden_layers == 2
    weights = full.state_dict()
    kept = shallow.state_dict()
    assert all(torch.equal(kept[name], weights[name]) for name in kept)  # layers 0-1, embeddings, norm, heads
    assert not any(name.startswith("model.layers.2.") for name in kept)
    for bad in ({"num_hidden_layers": layers + 1}, {"num_hidden_layers": 0}, {"hidden_size": 64}):
        with pytest.raises(GenerInputError):
            build_annotator_model("gener-annotator-tiny", **bad)


def _windows(count=4, window=128):
    from gener.tasks.annotate.dataset import AnnotationWindows, load_labelled

    windows = AnnotationWindows(load_labelled([str(DATA / "ecoli_k12_slices.gbk")]), window)
    rows = [windows[i] for i in range(count)]
    return {key: torch.stack([torch.as_tensor(row[key]) for row in rows]) for key in rows[0]}


def test_distillation_loss_mixes_the_kl_to_the_teacher_with_the_label_loss(tmp_path):
    from gener.training.annotator import DistillationTrainer, build_annotator_model, load_teacher
    from gener.training.recipe import recipe_arguments

    batch = _windows()
    teacher = load_teacher("gener-annotator-tiny")

    def loss(student, weight, training=True):
        trainer = DistillationTrainer(model=student, args=recipe_arguments(tmp_path, report_to="none"),
                                      teacher=teacher, distill_weight=weight)
        student.train(training)
        with torch.no_grad():
            return float(trainer.compute_loss(student, dict(batch)))

    twin = build_annotator_model("gener-annotator-tiny")  # the teacher's own weights: nothing to learn
    assert loss(twin, 1.0) == pytest.approx(0.0, abs=1e-5)
    student = build_annotator_model("gener-annotator-tiny", num_hidden_layers=2)
    with torch.no_grad():
        labels = student(input_ids=batch["input_ids"], labels=batch["labels"]).loss.item()
        s = student(input_ids=batch["input_ids"]).logits.float()
        t = teacher(input_ids=batch["input_ids"]).logits.float()
    keep = batch["labels"] != IGNORE
    kl = torch.nn.functional.kl_div(s[keep].log_softmax(-1), t[keep].log_softmax(-1), log_target=True,
                                    reduction="batchmean").item()
    assert kl > 0.01
    assert loss(student, 0.0) == pytest.approx(labels, rel=1e-4)
    assert loss(student, 0.25) == pytest.approx(0.75 * labels + 0.25 * kl, rel=1e-4)
    assert loss(student, 0.25, training=False) == pytest.approx(labels, rel=1e-4)  # evaluation: labels only


def test_a_distilled_run_records_its_teacher_and_rejects_a_teacher_of_another_kind(tmp_path):
    from gener.errors import GenerInputError

    args = dict(train=[str(DATA / "ecoli_k12_slices.gbk")], valid=[], steps=2, batch_size=2, window=128,
                warmup_steps=1, model_overrides={"num_hidden_layers": 1})
    final = finetune_annotator("gener-annotator-tiny", out=tmp_path / "run", teacher="gener-annotator-tiny",
                               distill_weight=0.7, **args)
    record = json.loads((final / "training.json").read_text())
    assert record["teacher"] == "gener-annotator-tiny" and record["distill_weight"] == 0.7
    # no --valid genome to tune on: the checkpoint's window overlap is kept, its weights are not
    assert json.loads((final / "decoder.json").read_text()) == {"inference": {"overlap": 0}}
    with pytest.raises(GenerInputError, match="not a CDS annotator"):
        finetune_annotator("gener-annotator-tiny", out=tmp_path / "bad", teacher="gener-generator-tiny", **args)
    with pytest.raises(GenerInputError, match="distillation weight"):
        finetune_annotator("gener-annotator-tiny", out=tmp_path / "bad", teacher="gener-annotator-tiny",
                           distill_weight=1.5, **args)
    assert not (tmp_path / "bad").exists()
