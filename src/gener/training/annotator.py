"""Fine-tune GENERanno's per-strand token-classification heads as a CDS annotator.

Runs on the HF Trainer (so ``torchrun`` and accelerate work unchanged). The model is either
a preset built from scratch (the embedded annotator: ``generanno-tiny`` with period-3 RoPE)
or a GENERanno checkpoint whose encoder is kept and whose heads are replaced.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from transformers import Trainer

from gener import distributed
from gener.errors import GenerInputError
from gener.modeling import presets
from gener.modeling.generanno import GenerannoConfig, GenerannoForTokenClassification
from gener.modeling.loading import load, resolve, without_load_report
from gener.progress import replace_trainer_output
from gener.tasks.annotate.dataset import AnnotationWindows, label_genomes, load_labelled, read_genomes
from gener.tasks.annotate.inference import model_labels
from gener.tasks.annotate.labels import IGNORE, NUM_CLASSES, START
from gener.tasks.annotate.tuning import (check_tuning_genomes, entry, read_decoder_json, tune_checkpoint,
                                        write_decoder_json)
from gener.tokenization import NucleotideTokenizer
from gener.training.recipe import recipe_arguments

LABEL_NAMES = {0: "non-coding", 1: "codon-1", 2: "codon-2", 3: "codon-3", 4: "start"}
# Period-3 rotary pairs for small models trained from scratch (see generanno.py).
SCRATCH_ROPE = {"rope_type": "period3", "period3_pairs": 4, "rope_theta": 500000.0}


def build_annotator_model(name: str, **overrides):
    """A token-classification model with NUM_CLASSES labels on each strand head; ``overrides``
    replace preset config fields. A checkpoint keeps its architecture, except that
    ``num_hidden_layers=N`` keeps its first N layers (a shallower, faster model that starts
    from the checkpoint's weights instead of from scratch)."""
    head = dict(num_labels=NUM_CLASSES, num_prediction_heads=2, k=1, id2label=LABEL_NAMES,
                label2id={v: k for k, v in LABEL_NAMES.items()})
    if name in presets.PRESETS:
        return presets.build_model(name, "token-classification", **{"rope_parameters": SCRATCH_ROPE, **overrides},
                                   **head)
    if set(overrides) - {"num_hidden_layers"}:
        raise GenerInputError("--set changes a preset's architecture; a checkpoint keeps its own "
                              "(except num_hidden_layers=N, which keeps its first N layers)")
    path = resolve(name)
    if "num_hidden_layers" in overrides:
        layers, has = overrides["num_hidden_layers"], GenerannoConfig.from_pretrained(path).num_hidden_layers
        if not isinstance(layers, int) or not 1 <= layers <= has:
            raise GenerInputError(f"num_hidden_layers must be a whole number from 1 to {has} (the checkpoint's "
                                  f"layers), got {layers!r}")
    with without_load_report():  # the dropped layers and replaced heads are what was asked for
        return GenerannoForTokenClassification.from_pretrained(path, ignore_mismatched_sizes=True, **head,
                                                               **overrides)


def start_weighted_loss(start_weight: float):
    """Cross-entropy with the start class weighted ``start_weight`` times: one base per gene
    carries it, so unweighted it is ~0.1% of the loss and the model learns it last."""
    weight = torch.ones(NUM_CLASSES)
    weight[START] = start_weight

    def loss(outputs, labels, num_items_in_batch=None):
        logits = outputs.logits.float()
        return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1),
                                                 weight=weight.to(logits.device), ignore_index=IGNORE)

    return loss


class DistillationTrainer(Trainer):
    """The Trainer with a teacher annotator: each training step's loss is ``distill_weight``
    times the KL divergence from the teacher's per-base, per-strand class distribution to the
    student's (over the labelled bases), plus ``1 - distill_weight`` times the usual loss on
    the reference labels. The teacher's probabilities say more than its labels (how sure it
    is of a frame, where a start is likely), so a smaller student trained on them keeps more
    of the teacher than one trained on the labels alone. Evaluation reports the label loss
    only, comparable with runs without a teacher."""

    def __init__(self, *args, teacher, distill_weight: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.teacher = teacher.to(self.args.device).eval().requires_grad_(False)
        self.distill_weight = distill_weight

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs["labels"]  # the base class may pop it
        loss, outputs = super().compute_loss(model, inputs, return_outputs=True,
                                             num_items_in_batch=num_items_in_batch)
        if model.training:
            with torch.no_grad():
                teacher = self.teacher(input_ids=inputs["input_ids"],
                                       attention_mask=inputs.get("attention_mask")).logits.float()
            keep = labels != IGNORE  # (batch, window, strands)
            student = torch.nn.functional.log_softmax(outputs.logits.float()[keep], dim=-1)
            kl = torch.nn.functional.kl_div(student, torch.nn.functional.log_softmax(teacher[keep], dim=-1),
                                            log_target=True, reduction="batchmean")
            loss = (1 - self.distill_weight) * loss + self.distill_weight * kl
        return (loss, outputs) if return_outputs else loss


def load_teacher(name: str) -> GenerannoForTokenClassification:
    """The teacher: an annotator predicting the same classes per base and strand as the
    models trained here (``inference.model_labels`` checks its strand heads and k)."""
    teacher, _ = load(name, device="cpu", dtype=torch.float32)
    if not isinstance(teacher, GenerannoForTokenClassification) or model_labels(teacher) != NUM_CLASSES:
        raise GenerInputError(f"the teacher {name!r} is not a CDS annotator with {NUM_CLASSES} classes per base "
                              "and strand")
    return teacher


def _argmax_logits(logits, labels):
    return logits.argmax(-1)  # keep eval memory small: (batch, W, 2) instead of (batch, W, 2, C)


def _metrics(eval_pred):
    pred, labels = eval_pred.predictions, eval_pred.label_ids
    keep = labels != IGNORE
    pred, labels = pred[keep], labels[keep]
    coding_true, coding_pred = labels > 0, pred > 0
    tp = np.sum(coding_true & coding_pred)
    precision = tp / max(1, coding_pred.sum())
    recall = tp / max(1, coding_true.sum())
    return {
        "accuracy": float(np.mean(pred == labels)),
        "coding_f1": float(2 * precision * recall / max(1e-9, precision + recall)),
        "frame_accuracy": float(np.mean(pred[coding_true] == labels[coding_true])) if coding_true.any() else 0.0,
    }


def finetune_annotator(
    model: str,
    train: list[str],
    valid: list[str],
    out: Path,
    *,
    window: int = 512,
    batch_size: int = 32,
    steps: int = 3000,
    learning_rate: float = 2e-3,
    warmup_steps: int = 200,
    eval_steps: int = 500,
    valid_bp: int = 1_000_000,
    seed: int = 0,
    resume: bool = False,
    callbacks: list | None = None,
    model_overrides: dict | None = None,
    start_weight: float = 1.0,
    teacher: str | None = None,
    distill_weight: float = 0.5,
    tune_decoder: bool = True,
    log: Callable[[str], None] | None = None,
):
    """Train and save ``out/final`` (model + tokenizer + training record); ``callbacks`` are
    extra ``TrainerCallback``s (e.g. :class:`gener.training.pretrain.TimeLimitCallback`).
    ``teacher``: an annotator checkpoint whose probabilities the model also learns
    (:class:`DistillationTrainer`, weight ``distill_weight``). With ``valid`` genomes and
    ``tune_decoder``, ``out/final`` gets decoder weights chosen on them (:func:`finish_decoder`);
    ``log`` reports that step."""
    if not 0 <= distill_weight <= 1:
        raise GenerInputError(f"the distillation weight must be from 0 to 1, got {distill_weight}")
    out = Path(out)
    torch.manual_seed(seed)
    # The models first: a bad --model / --teacher fails in a second, before genomes are read.
    net = build_annotator_model(model, **(model_overrides or {}))
    # In the config, so that every Trainer checkpoint (which has no training.json) carries it:
    # an annotator run on windows longer than it was trained on is silently worse and slower.
    net.config.annotation_window = window
    distill = {"teacher": load_teacher(teacher), "distill_weight": distill_weight} if teacher else {}
    tokenizer = NucleotideTokenizer()
    train_records = load_labelled(train, tokenizer)
    valid_genomes = read_genomes(valid) if valid else []
    valid_records = label_genomes(valid_genomes, tokenizer)
    tuning_genomes = check_tuning_genomes(valid_genomes) if tune_decoder else []
    train_set = AnnotationWindows(train_records, window, samples=steps * batch_size, seed=seed)
    valid_set = AnnotationWindows(valid_records, window) if valid_records else None
    if valid_set is not None and len(valid_set) * window > valid_bp:
        # An evenly spaced subset keeps evaluation quick while covering every genome.
        keep = np.linspace(0, len(valid_set) - 1, valid_bp // window).astype(int)
        valid_set = torch.utils.data.Subset(valid_set, keep.tolist())

    args = recipe_arguments(
        out,
        max_steps=steps,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=batch_size,
        learning_rate=learning_rate,
        warmup_steps=warmup_steps,
        logging_steps=50,
        eval_strategy="steps" if valid_set is not None else "no",
        eval_steps=eval_steps,
        save_steps=eval_steps,
        save_total_limit=2,
        seed=seed,
        dataloader_num_workers=0,
    )
    trainer = (DistillationTrainer if teacher else Trainer)(
        model=net,
        args=args,
        train_dataset=train_set,
        eval_dataset=valid_set,
        compute_metrics=_metrics if valid_set is not None else None,
        preprocess_logits_for_metrics=_argmax_logits,
        compute_loss_func=start_weighted_loss(start_weight) if start_weight != 1 else None,
        callbacks=callbacks,
        **distill,
    )
    replace_trainer_output(trainer, "fine-tuning")
    started = time.time()
    trainer.train(resume_from_checkpoint=resume or None)
    final = out / "final"
    trainer.save_model(final)
    tokenizer.save_pretrained(final)
    record = {
        "command": "gener " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "model": model,
        "model_overrides": model_overrides or {},
        "train": train,
        "valid": valid,
        "train_bp": int(sum(len(r.ids) for r in train_records)),
        "window": window,
        "batch_size": batch_size,
        "steps": steps,
        "learning_rate": learning_rate,
        "start_weight": start_weight,
        **({"teacher": teacher, "distill_weight": distill_weight} if teacher else {}),
        "tokens_seen": steps * batch_size * window,
        "minutes": round((time.time() - started) / 60, 1),
        "final_eval": trainer.evaluate() if valid_set is not None else None,
        "log_history": trainer.state.log_history,
    }
    decoder = finish_decoder(final, model, tuning_genomes, log=log)
    if decoder is not None:
        record["decoder"] = decoder
    (final / "training.json").write_text(json.dumps(record, indent=1))
    return final


def finish_decoder(final: Path, base: str, genomes: list, *, log: Callable[[str], None] | None = None) -> dict | None:
    """Give ``final`` a decoder.json: the window overlap of the model it started from (a
    checkpoint's "inference" entry), and weights tuned on ``genomes`` (the held-out --valid
    genomes); returns what was tuned, for training.json, or None. Without tuned weights
    `gener annotate` weighs the model's evidence with the embedded annotator's weights, a prior
    that may not suit this model. Under torchrun the tuning is left to
    `gener finetune decoder` afterwards: the ranks' processes belong to the Trainer."""
    say = log or (lambda text: None)
    if base not in presets.PRESETS:
        inherited = read_decoder_json(resolve(base)).get("inference")
        if inherited:
            write_decoder_json(final, {"inference": inherited})
    if not genomes:
        return None
    if distributed.world_size() > 1:
        if distributed.is_main():
            say(f"decoder weights not tuned under torchrun; run `gener finetune decoder --model {final} "
                "--genome ...` with the --valid genomes")
        return None
    say(f"tuning the decoder's weights on {len(genomes)} held-out genome(s)")
    rows = tune_checkpoint(final, genomes, log=say)
    return {"genomes": [file.name for file, _ in genomes],
            "tuned": {key: {**entry(params), "figures": info} for key, params, info in rows}}
