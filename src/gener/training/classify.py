"""Fine-tune a GENERator or GENERanno model on labelled sequences: the papers' recipe.

- Input: GENERator reads ``<s>`` + 6-mers + ``<s>`` (as the published scripts do; the
  6-mers are cut from the start, a tail shorter than 6 bp dropped, never a silent
  ``<oov>``) and pools each sequence's **own last real token** - the trailing ``<s>``:
  ``LlamaForSequenceClassification`` with ``pad_token_id`` set takes the rightmost non-pad
  token of every row, so right padding cannot move the pooling onto ``<pad>`` (upstream's
  bug when the pad id is unset). GENERanno reads ``<s>`` + nucleotides and pools ``<s>``.
- Inputs longer than ``max_length`` tokens are truncated (their end dropped), with a warning.
- AdamW (0.9, 0.95), weight decay 0.1, an optional linear warm-up (``warmup_epochs``, at
  most one epoch), then reduce-on-plateau on the validation metric, early stopping after
  ``patience`` evaluations without improvement; the best epoch's weights are kept in memory
  (no checkpoint files) and restored at the end. bf16 on GPUs that support it, fp32 on CPU;
  SDPA attention.
- ``balanced``: a class-weighted cross-entropy (1 / class frequency in the training part)
  instead of the plain one, for imbalanced classes where a small model otherwise predicts
  only the majority.
- Learning rate, batch, epochs, patience and warm-up left as ``None`` come from the model's scale
  (:mod:`gener.training.scale`).
- ``progress`` gets one line per epoch: epoch, train loss, validation metric, elapsed.

``run_finetune`` is one training run; :mod:`gener.training.crossval` runs folds and grids.
"""

from __future__ import annotations

import copy
import math
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from transformers import PrinterCallback, Trainer, TrainerCallback

from gener import metrics as M
from gener.data.tasks import LabelledSet
from gener.errors import GenerInputError
from gener.modeling import presets
from gener.modeling.loading import family_of, load_tokenizer, read_config, resolve, without_load_report
from gener.training.recipe import recipe_arguments

PROBLEM_TYPES = {"classification": "single_label_classification", "multilabel": "multi_label_classification",
                 "regression": "regression"}


@dataclass
class FinetuneSettings:
    learning_rate: float | None = None  # None: by model scale (gener.training.scale)
    batch_size: int | None = None  # effective batch; micro_batch x accumulation
    micro_batch: int | None = None
    epochs: int | None = None  # the most; early stopping usually ends sooner
    warmup_epochs: float | None = None  # linear warm-up, a fraction of the first epoch
    patience: int | None = None  # evaluations without improvement before stopping
    plateau_patience: int = 2  # flat evaluations before the learning rate is halved
    max_length: int | None = None  # tokens; default the model's context
    metric: str | None = None  # validation metric; default per task (gener.metrics.DEFAULT_METRIC)
    balanced: bool = False  # classification: weigh each class's loss by 1 / its training frequency
    seed: int = 0
    model_overrides: dict = field(default_factory=dict)  # preset config fields (tests, tiny models)


@dataclass
class RunResult:
    valid: dict[str, float]
    test: dict[str, float] | None
    best_epoch: int
    epochs_run: int
    seconds: float
    test_logits: np.ndarray | None = None
    model: torch.nn.Module | None = None


SCALED = {"learning_rate": "lr", "batch_size": "batch", "epochs": "epochs", "patience": "patience",
          "warmup_epochs": "warm-up"}


def with_scale_defaults(model_name: str, settings: FinetuneSettings, given=()) -> tuple[FinetuneSettings, str | None]:
    """``settings`` with every unset field (not in ``given``, e.g. a grid's axes) taken from the
    model's scale, and a line saying which and why (None when nothing was unset)."""
    unset = [k for k in SCALED if getattr(settings, k) is None and k not in given]
    if not unset:
        return settings, None
    from gener.training.scale import scale_defaults

    d = scale_defaults(model_name, settings.model_overrides)
    chosen = ", ".join(f"{SCALED[k]} {getattr(d, k):g}" for k in unset)
    return replace(settings, **{k: getattr(d, k) for k in unset}), f"{d.why}: {chosen}"


# --- model and inputs ---------------------------------------------------------------------
def model_family(name: str) -> str:
    if name in presets.PRESETS:
        return presets.PRESETS[name].family
    return family_of(read_config(resolve(name)), resolve(name))


def load_tokenizer_for(name: str):
    from gener.tokenization import KmerTokenizer, NucleotideTokenizer

    if name in presets.PRESETS:
        return KmerTokenizer() if presets.PRESETS[name].family == "generator" else NucleotideTokenizer()
    return load_tokenizer(resolve(name), model_family(name))


def build_classifier(name: str, task: str, label_names: list[str], overrides: dict | None = None):
    """A sequence-classification model: a preset from scratch, or a checkpoint whose body is
    kept and whose head (``score``) is new. Checkpoints of any head load (causal LM, masked LM,
    the token-classification annotator)."""
    n = len(label_names)
    head = dict(num_labels=n, problem_type=PROBLEM_TYPES[task],
                id2label=dict(enumerate(label_names)), label2id={l: i for i, l in enumerate(label_names)})
    if name in presets.PRESETS:
        return presets.build_model(name, "sequence-classification", attn_implementation="sdpa",
                                   **head, **(overrides or {}))
    directory = resolve(name)
    family = family_of(read_config(directory), directory)
    cls = presets.model_class(family, "sequence-classification")
    config = cls.config_class.from_pretrained(directory)
    if hasattr(config, "auto_map"):
        del config.auto_map
    for key, value in head.items():
        setattr(config, key, value)
    if family == "generator" and config.pad_token_id is None:
        config.pad_token_id = 3  # published configs have none; pooling needs it (module docstring)
    with without_load_report():  # "newly initialised score" is the point, not a warning
        return cls.from_pretrained(directory, config=config, dtype=torch.float32, attn_implementation="sdpa")


def encode_sequences(sequences: list[str], tokenizer, family: str, max_length: int) -> tuple[list[np.ndarray], int]:
    """Token ids per sequence and how many were truncated to ``max_length`` tokens."""
    out, truncated = [], 0
    bos = tokenizer.bos_token_id
    for seq in sequences:
        if family == "generator":
            body = tokenizer.encode_bulk(seq, add_bos=False, add_eos=False, remainder="trim_right")
            if len(body) + 2 > max_length:
                body, truncated = body[: max_length - 2], truncated + 1
            ids = np.concatenate([[bos], body, [bos]]).astype(np.int64)
        else:
            ids = tokenizer.encode_bulk(seq, add_bos=True, add_eos=False).astype(np.int64)
            if len(ids) > max_length:
                ids, truncated = ids[:max_length], truncated + 1
        if len(ids) < 2 + (family == "generator"):
            raise GenerInputError(f"sequence {seq[:20]!r}... is too short to tokenize (fewer than 6 bp?)")
        out.append(ids)
    return out, truncated


class EncodedSet(torch.utils.data.Dataset):
    def __init__(self, ids: list[np.ndarray], labels: np.ndarray):
        self.ids, self.labels = ids, labels

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


class PadCollator:
    """Right padding with ``<pad>``; long labels for classification, float otherwise."""

    def __init__(self, pad_id: int, task: str):
        self.pad_id, self.task = pad_id, task

    def __call__(self, features):
        width = max(len(f["input_ids"]) for f in features)
        ids = torch.full((len(features), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(features), width), dtype=torch.long)
        for i, f in enumerate(features):
            ids[i, : len(f["input_ids"])] = torch.as_tensor(f["input_ids"])
            mask[i, : len(f["input_ids"])] = 1
        labels = np.stack([np.asarray(f["labels"]) for f in features])
        dtype = torch.long if self.task == "classification" else torch.float32
        return {"input_ids": ids, "attention_mask": mask, "labels": torch.as_tensor(labels, dtype=dtype)}


class KeepBestAndStop(TrainerCallback):
    """Early stopping on the validation metric with the best weights kept in memory, so a grid
    of folds writes no checkpoints (HF's EarlyStoppingCallback needs them on disk)."""

    def __init__(self, metric: str, patience: int):
        self.metric, self.patience = metric, patience
        self.best, self.best_state, self.best_epoch, self.bad, self.best_metrics = float("nan"), None, 0, 0, {}

    def on_evaluate(self, args, state, control, metrics=None, model=None, **kwargs):
        value = metrics.get(f"eval_{self.metric}", float("nan"))
        if M.better(self.metric, value, self.best):
            self.best, self.bad, self.best_epoch = value, 0, round(state.epoch or 0)
            self.best_metrics = {k.removeprefix("eval_"): v for k, v in metrics.items()}
            self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        else:
            self.bad += 1
            if self.bad >= self.patience:
                control.should_training_stop = True


def balanced_loss(labels: np.ndarray, num_labels: int):
    """Cross-entropy with class weights n / (classes x count): a minority class counts as much
    as the majority, so a small model cannot settle on always predicting the majority (MCC 0)."""
    counts = np.bincount(labels, minlength=num_labels).astype(np.float64)
    weights = torch.tensor(np.where(counts > 0, counts.sum() / (np.count_nonzero(counts) * np.maximum(counts, 1)), 0.0),
                           dtype=torch.float32)

    def loss(outputs, labels, num_items_in_batch=None):
        logits = outputs.logits.float()
        total = torch.nn.functional.cross_entropy(logits, labels.view(-1), weight=weights.to(logits.device),
                                                  reduction="sum")
        # the Trainer sums micro-batches: divide by the accumulated batch, weighted as the terms are
        return total / (num_items_in_batch if num_items_in_batch is not None else len(labels))

    return loss


class WarmUp(TrainerCallback):
    """Linear warm-up over the first ``steps`` optimizer steps; reduce-on-plateau (which the
    Trainer steps only at evaluations, after warm-up) takes over from the peak."""

    def __init__(self, steps: int):
        self.steps, self.peaks = steps, None

    def on_step_begin(self, args, state, control, optimizer=None, **kwargs):
        if optimizer is None or state.global_step >= self.steps:
            return
        if self.peaks is None:
            self.peaks = [g["lr"] for g in optimizer.param_groups]
        for group, peak in zip(optimizer.param_groups, self.peaks):
            group["lr"] = peak * (state.global_step + 1) / self.steps


class EpochLines(TrainerCallback):
    """One progress line per evaluation: epoch, train loss, validation metric, elapsed."""

    def __init__(self, metric: str, write, prefix: str = ""):
        self.metric, self.write, self.prefix = metric, write, prefix
        self.loss, self.started = float("nan"), time.time()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.loss = logs["loss"]

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        value = (metrics or {}).get(f"eval_{self.metric}", float("nan"))
        self.write(f"{self.prefix}epoch {round(state.epoch or 0)}/{round(args.num_train_epochs)}: "
                   f"train loss {self.loss:.4f}, valid {self.metric} {value:.4f}, {time.time() - self.started:.0f} s")


def run_finetune(model_name: str, task: str, label_names: list[str], train: LabelledSet, valid: LabelledSet,
                 test: LabelledSet | None, settings: FinetuneSettings, *, keep_model: bool = False,
                 warn=None, progress=None, prefix: str = "") -> RunResult:
    """Train on ``train``, select the epoch on ``valid``, report ``valid`` and ``test`` metrics."""
    from transformers import set_seed

    started = time.time()
    settings, _ = with_scale_defaults(model_name, settings)
    metric = M.check_metric(task, settings.metric or M.DEFAULT_METRIC[task], len(label_names))
    family = model_family(model_name)
    tokenizer = load_tokenizer_for(model_name)
    set_seed(settings.seed)
    model = build_classifier(model_name, task, label_names, settings.model_overrides)
    max_length = settings.max_length or model.config.max_position_embeddings
    sets = {}
    for split, part in (("train", train), ("valid", valid), ("test", test)):
        if part is None:
            continue
        ids, truncated = encode_sequences(part.sequences, tokenizer, family, max_length)
        if truncated and warn is not None:
            warn(f"{split}: {truncated:,} of {len(ids):,} sequences longer than {max_length:,} tokens were truncated")
        sets[split] = EncodedSet(ids, part.labels)

    micro = min(settings.micro_batch or settings.batch_size, settings.batch_size)
    accumulation = max(1, settings.batch_size // micro)
    goal = M.METRIC_GOALS.get(metric) or M.METRIC_GOALS.get(metric.rsplit("_", 1)[0], "max")
    scratch = tempfile.mkdtemp(prefix="gener-classify-")  # the Trainer wants a directory; nothing is kept
    args = recipe_arguments(
        scratch,
        num_train_epochs=settings.epochs,
        per_device_train_batch_size=micro,
        per_device_eval_batch_size=micro * 2,
        gradient_accumulation_steps=accumulation,
        learning_rate=settings.learning_rate,
        lr_scheduler_type="reduce_lr_on_plateau",
        lr_scheduler_kwargs={"mode": goal, "factor": 0.5, "patience": settings.plateau_patience},
        eval_strategy="epoch",
        save_strategy="no",
        metric_for_best_model=metric,
        greater_is_better=goal == "max",
        logging_strategy="epoch",
        seed=settings.seed,
        data_seed=settings.seed,
        dataloader_num_workers=0,
        log_level="error",
    )

    def compute(eval_pred):
        return M.compute_metrics(task, eval_pred.label_ids, eval_pred.predictions)

    keeper = KeepBestAndStop(metric, settings.patience)
    callbacks = [keeper]
    steps_per_epoch = max(1, math.ceil(len(train) / (micro * accumulation)))
    if settings.warmup_epochs:
        callbacks.append(WarmUp(max(1, round(min(1.0, settings.warmup_epochs) * steps_per_epoch))))
    if progress is not None:
        callbacks.append(EpochLines(metric, progress, prefix))
    loss = balanced_loss(train.labels, len(label_names)) if settings.balanced and task == "classification" else None
    trainer = Trainer(model=model, args=args, train_dataset=sets["train"], eval_dataset=sets["valid"],
                      data_collator=PadCollator(tokenizer.pad_token_id, task), compute_metrics=compute,
                      callbacks=callbacks, compute_loss_func=loss)
    trainer.remove_callback(PrinterCallback)  # per-epoch dicts on stdout; the caller logs each run
    try:
        trainer.train()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if keeper.best_state is not None:
        model.load_state_dict(keeper.best_state)
    result = RunResult(valid={k: v for k, v in keeper.best_metrics.items() if k not in ("runtime", "samples_per_second",
                                                                                       "steps_per_second", "epoch")},
                       test=None, best_epoch=keeper.best_epoch, epochs_run=round(trainer.state.epoch or 0),
                       seconds=0.0)
    if "test" in sets:
        pred = trainer.predict(sets["test"])
        result.test_logits = np.asarray(pred.predictions)
        result.test = M.compute_metrics(task, test.labels, result.test_logits)
    if keep_model:
        result.model = copy.deepcopy(model).cpu()
    result.seconds = time.time() - started
    return result
