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
    assert len(full.model.layers) == 4 and len(shallow.model.layers) == shallow.config.num_hidden_layers == 2
    weights = full.state_dict()
    kept = shallow.state_dict()
    assert all(torch.equal(kept[name], weights[name]) for name in kept)  # layers 0-1, embeddings, norm, heads
    assert not any(name.startswith("model.layers.2.") for name in kept)
    for bad in ({"num_hidden_layers": 5}, {"num_hidden_layers": 0}, {"hidden_size": 64}):
        with pytest.raises(GenerInputError):
            build_annotator_model("gener-annotator-tiny", **bad)
