"""Training verbs: `gener pretrain` and `gener finetune annotator|decoder|clm|classify`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from gener.cli import (
    DEFAULT_GENERATOR,
    app,
    check_output,
    finetune_app,
    friendly_errors,
    parse_overrides,
    say,
    warn,
)


@app.command("pretrain")
@friendly_errors
def pretrain_cmd(
    preset: str = typer.Option(..., "--preset", help="Architecture to train from scratch (gener models): generator-* (causal 6-mer) or generanno-* (masked nucleotide)."),
    data: Path = typer.Option(..., "--data", help="Shard directory from `gener data tokenize` (kmer for generator, nucleotide for generanno)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory: checkpoint-*/, loss.csv, loss.png, pretrain.json, final/."),
    seq_len: Optional[int] = typer.Option(None, "--seq-len", min=2, help="Tokens per window (default: the preset's context, 16,384 / 8,192)."),
    tokens_per_step: int = typer.Option(2_097_152, "--tokens-per-step", min=1, help="Target tokens per optimizer step, reached by gradient accumulation (paper: 2M)."),
    batch_size: int = typer.Option(1, "--batch-size", min=1, help="Windows per device per micro-batch."),
    lr: float = typer.Option(4e-4, "--lr", help="Peak learning rate (linear warm-up, then cosine to 10%)."),
    warmup: int = typer.Option(2000, "--warmup", min=0, help="Warm-up steps."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, help="Optimizer steps (instead of --epochs)."),
    epochs: Optional[float] = typer.Option(None, "--epochs", min=0.0, help="Passes over the data (default 6, the paper's)."),
    resume: bool = typer.Option(False, "--resume", help="Continue exactly from the last checkpoint in OUT."),
    config: Optional[Path] = typer.Option(None, "--config", help="YAML/JSON of extra TrainingArguments, e.g. configs/fsdp.yaml."),
    save_steps: int = typer.Option(1000, "--save-steps", min=1, help="Checkpoint every N optimizer steps."),
    log_steps: int = typer.Option(10, "--log-steps", min=1, help="Log the loss every N optimizer steps."),
    seed: int = typer.Option(0, "--seed", help="Seed for weights, window order, offsets and masks."),
    workers: int = typer.Option(0, "--workers", min=0, help="DataLoader worker processes."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Override a preset config field, KEY=VALUE (repeatable), e.g. num_hidden_layers=2."),
    eval_data: Optional[Path] = typer.Option(None, "--eval-data", help="Held-out shards: validation loss every --eval-steps to RUN/eval.csv."),
    eval_steps: Optional[int] = typer.Option(None, "--eval-steps", min=1, help="Validate every N optimizer steps (default --save-steps)."),
    eval_windows: int = typer.Option(256, "--eval-windows", min=1, help="Validation windows (evenly spaced over the held-out shards)."),
    max_minutes: Optional[float] = typer.Option(None, "--max-minutes", min=0.0, help="Stop after this much wall time (final/ is still saved)."),
    verify: bool = typer.Option(False, "--verify", help="Check every shard's sha256 against index.json before training (sizes are always checked)."),
    factorised: bool = typer.Option(False, "--factorised-kmers", help="Train 6-mer rows through shared per-base vectors (small models, little data); saves a plain Llama."),
):
    """Pre-train a preset from scratch on token shards (paper recipe; runs under torchrun)."""
    from gener.training.pretrain import is_main_process, pretrain

    check_output(out, directory=True)
    overrides = parse_overrides(set_)
    result = pretrain(
        preset, data, out, seq_len=seq_len, tokens_per_step=tokens_per_step, batch_size=batch_size,
        learning_rate=lr, warmup_steps=warmup, steps=steps, epochs=epochs, resume=resume, config=config,
        save_steps=save_steps, logging_steps=log_steps, seed=seed, num_workers=workers,
        model_overrides=overrides, eval_data=eval_data, eval_steps=eval_steps, eval_windows=eval_windows, max_minutes=max_minutes,
        factorised=factorised, verify=verify,
        log=lambda text: say(escape(text)), warn=warn,
    )
    if is_main_process():
        say(f"[green]saved[/] {escape(str(result.final))}; loss log {escape(str(result.loss_log))}"
            + (f", plot {escape(str(result.loss_plot))}" if result.loss_plot else ""))


@finetune_app.command("annotator")
@friendly_errors
def finetune_annotator_cmd(
    model: str = typer.Option("generanno-tiny", "--model", help="Preset to train from scratch, or a GENERanno checkpoint (dir / hub id) to fine-tune."),
    train: list[str] = typer.Option(..., "--train", help="Annotated genomes to train on: GenBank/GFF3 paths or dataset names (repeatable)."),
    valid: Optional[list[str]] = typer.Option(None, "--valid", help="Genomes to report validation metrics on (repeatable)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory (checkpoints, final model in OUT/final)."),
    steps: int = typer.Option(3000, min=1, help="Optimizer steps."),
    batch_size: int = typer.Option(32, "--batch-size", min=1, help="Windows per step."),
    window: int = typer.Option(512, min=6, help="Window length in bp."),
    lr: float = typer.Option(2e-3, "--lr", min=0.0, help="Peak learning rate (warm-up, then cosine to 10%)."),
    eval_steps: int = typer.Option(500, "--eval-steps", min=1, help="Evaluate and checkpoint every N steps."),
    seed: int = typer.Option(0, help="Random seed (windows, initialisation)."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the last checkpoint in OUT."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Override a preset config field, KEY=VALUE (repeatable), e.g. num_hidden_layers=2; on a checkpoint only num_hidden_layers=N, which keeps its first N layers."),
    start_weight: float = typer.Option(1.0, "--start-weight", min=0.0, help="Loss weight of the start-codon class (one base per gene) against 1 for the others."),
    teacher: Optional[str] = typer.Option(None, "--teacher", help="An annotator (dir / embedded name / hub id) whose per-base probabilities the model also learns (distillation), e.g. to train a shallower model."),
    distill_weight: float = typer.Option(0.5, "--distill-weight", min=0.0, max=1.0, help="With --teacher: the share of the loss that is the KL divergence to the teacher; the rest is the loss on the reference labels."),
    tune_decoder: bool = typer.Option(True, "--tune-decoder/--no-tune-decoder", help="After training, choose OUT/final's decoder weights on the --valid genomes (as `gener finetune decoder` does)."),
):
    """Train GENERanno's per-strand CDS heads on windows of annotated genomes."""
    from gener.training.annotator import finetune_annotator

    check_output(out, directory=True)
    overrides = parse_overrides(set_)
    final = finetune_annotator(
        model, train, valid or [], out, window=window, batch_size=batch_size, steps=steps,
        learning_rate=lr, eval_steps=eval_steps, seed=seed, resume=resume, model_overrides=overrides,
        start_weight=start_weight, teacher=teacher, distill_weight=distill_weight, tune_decoder=tune_decoder,
        log=lambda text: say(escape(text)),
    )
    say(f"[green]saved[/] {escape(str(final))}")


@finetune_app.command("decoder")
@friendly_errors
def finetune_decoder_cmd(
    model: Path = typer.Option(..., "--model", help="An annotator checkpoint directory; its decoder.json is (re)written."),
    genomes: list[str] = typer.Option(..., "--genome", help="Annotated genomes the model was NOT trained on: GenBank / GFF3-with-FASTA paths or dataset names (repeatable)."),
    device: Optional[str] = typer.Option(None, "--device", help="cpu, cuda, cuda:N (default: a GPU if there is one)."),
):
    """Choose an annotator's decoder weights on annotated genomes and write its decoder.json.

    Prints the chosen settings and their scores on the genomes (markdown) on stdout.
    """
    from gener.cli import console
    from gener.errors import GenerInputError
    from gener.tasks.annotate.dataset import read_genomes
    from gener.tasks.annotate.tuning import check_tuning_genomes, markdown, tune_checkpoint

    if not model.is_dir() or not (model / "config.json").is_file():
        raise GenerInputError("--model must be an annotator checkpoint directory (with config.json); "
                              "its decoder.json is written there", path=model)
    check_output(model / "decoder.json")
    tuning_genomes = check_tuning_genomes(read_genomes(genomes))
    rows = tune_checkpoint(model, tuning_genomes, device=device, log=lambda text: say(escape(text)))
    console.print(markdown(rows), end="", markup=False, highlight=False, soft_wrap=True)
    say(f"[green]wrote[/] {escape(str(model / 'decoder.json'))}")


@finetune_app.command("clm")
@friendly_errors
def finetune_clm_cmd(
    data: Path = typer.Option(..., "--data", help="Sequences: FASTA/GenBank, parquet or CSV/TSV (column --sequence-col)."),
    model: str = typer.Option(DEFAULT_GENERATOR, "--model", help="Causal GENERator to fine-tune (directory, embedded name, hub id), or a generator-* preset to train from scratch."),
    out: Path = typer.Option(Path("runs/clm"), "--out", "-o", help="Run directory: checkpoints, loss.csv/png, final/ (gener.load-able)."),
    loss: str = typer.Option("token", "--loss", help="token (cross-entropy over 6-mers) or per-base (the v2 loss)."),
    control_col: Optional[str] = typer.Option(None, "--control-col", help="Column (table) or COL=VALUE header field (FASTA) holding a control label per sequence."),
    control_map: Optional[list[str]] = typer.Option(None, "--control-map", help="LABEL=TOKEN (repeatable or comma-separated); default: sorted labels onto <sp0>, <sp1>, ..."),
    sequence_col: str = typer.Option("sequence", "--sequence-col", help="Sequence column of a parquet/CSV table."),
    valid: Optional[Path] = typer.Option(None, "--valid", help="Validation sequences (default: a --valid-fraction hold-out)."),
    valid_fraction: float = typer.Option(0.1, "--valid-fraction", min=0.0, max=0.9, help="Hold-out fraction for validation and early stopping (0 = none)."),
    max_tokens: int = typer.Option(1024, "--max-tokens", min=3, help="Tokens per row (longer sequences keep their 5' end); block size with --packing."),
    packing: bool = typer.Option(False, "--packing", help="Concatenate sequences into full blocks instead of padded rows."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Rows per step."),
    lr: float = typer.Option(1e-4, "--lr", min=0.0, help="Peak learning rate (cosine to 10%)."),
    warmup: int = typer.Option(0, "--warmup", min=0, help="Warm-up steps."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, help="Optimizer steps (instead of --epochs)."),
    epochs: float = typer.Option(3.0, "--epochs", min=0.0, help="Passes over the training sequences."),
    eval_steps: Optional[int] = typer.Option(None, "--eval-steps", min=1, help="Validate and checkpoint every N steps (default: 10 times per run)."),
    patience: int = typer.Option(3, "--patience", min=0, help="Early stopping: validations without improvement (0 = off)."),
    seed: int = typer.Option(0, "--seed", help="Seed for the split, the order and fresh weights."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Preset config override KEY=VALUE when --model is a preset."),
):
    """Fine-tune a causal GENERator on sequences: <s>, an optional control token, 6-mers, </s>."""
    from gener.training.clm import finetune_clm, parse_control_map

    check_output(out, directory=True)
    overrides = parse_overrides(set_)
    result = finetune_clm(
        model, data, out, valid=valid, valid_fraction=valid_fraction, loss=loss, control_col=control_col,
        control_map=parse_control_map(control_map), sequence_col=sequence_col, max_tokens=max_tokens,
        packing=packing, batch_size=batch_size, learning_rate=lr, warmup_steps=warmup, steps=steps, epochs=epochs,
        eval_steps=eval_steps, patience=patience, seed=seed, model_overrides=overrides,
        log=lambda text: say(escape(text)),
    )
    best = f", best validation loss {result.best_eval_loss:.4f}" if result.best_eval_loss is not None else ""
    controls = f"; control labels {result.controls}" if result.controls else ""
    say(f"[green]saved[/] {escape(str(result.final))} after {result.global_step} steps{best}{escape(controls)}")


@finetune_app.command("classify")
@friendly_errors
def finetune_classify_cmd(
    data: str = typer.Option(..., "--data", help="CSV / TSV / parquet / JSONL / labelled FASTA, a directory of train/validation/test files, a hub dataset id (REPO or REPO:SUBSET) or a suite alias (nt-revised:H3K4me3, genomic-benchmarks:human_nontata_promoters, gener-tasks:gene_classification, deepstarr, ...)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory: results.json, results.md, confusion.png (and model/ with --save-model)."),
    model: str = typer.Option("auto", "--model", help="Checkpoint directory, embedded name, hub id, or a preset (random init) to fine-tune; auto: the embedded model whose frozen embeddings score best on the validation folds."),
    task: Optional[str] = typer.Option(None, "--task", help="classification, regression or multilabel (default: inferred from the labels)."),
    subset: Optional[str] = typer.Option(None, "--subset", help="Subset (config) of a hub dataset or sub-directory of DATA."),
    label_col: Optional[list[str]] = typer.Option(None, "--label-col", help="Label column (default: label); repeat for several regression outputs or 0/1 label columns."),
    seq_col: Optional[str] = typer.Option(None, "--seq-col", help="Sequence column (default: sequence, seq, dna_sequence, ...)."),
    folds: int = typer.Option(5, "--folds", help="Cross-validation folds (grouped by the group column when there is one, else stratified by class); 1 = use the validation split as given. The paper used 10."),
    grid: Optional[list[str]] = typer.Option(None, "--grid", help="Search, chosen on validation folds only: auto (a small range around the default), or --grid 'lr=1e-5,2e-5 batch=64,128' (or one --grid per axis)."),
    lr: Optional[float] = typer.Option(None, "--lr", help="Learning rate (default: by model scale, see the log; without --grid lr=...)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Batch size (default: by model scale; without --grid batch=...)."),
    micro_batch: Optional[int] = typer.Option(None, "--micro-batch", help="Sequences per forward pass; the rest by gradient accumulation."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Most epochs per run (default: by model scale; early stopping, patience --patience, usually ends sooner)."),
    warmup: Optional[float] = typer.Option(None, "--warmup", help="Linear warm-up, as a fraction of the first epoch (default: by model scale)."),
    patience: Optional[int] = typer.Option(None, "--patience", help="Evaluations without improvement before stopping (default: by model scale, 3 small / 5 paper)."),
    plateau_patience: int = typer.Option(2, "--plateau-patience", help="Flat evaluations before the learning rate is halved (reduce-on-plateau)."),
    max_length: Optional[int] = typer.Option(None, "--max-length", help="Tokens per sequence, longer ones truncated with a warning (default: the model's context)."),
    max_train: Optional[int] = typer.Option(None, "--max-train", help="Use at most N training sequences (seeded subsample, stratified by class): a cheap first run."),
    freeze: bool = typer.Option(False, "--freeze", help="Only the linear probe (fast): embed every sequence once with the frozen model, fit a linear head per fold on the embeddings and k-mer frequencies. Without it, the probe runs after the fine-tune and the better of the two on validation is kept."),
    balanced: bool = typer.Option(False, "--balanced", help="Class-weighted loss (weights 1 / class frequency): for imbalanced classes where the model settles on the majority."),
    baseline: str = typer.Option("kmer", "--baseline", help="kmer (a 1..4-mer-frequency logistic regression on the same folds, in every report) or none."),
    group_col: Optional[str] = typer.Option(None, "--group-col", help="Column of groups (genome, chromosome) kept whole in folds (default: group, when present; none: ignore groups)."),
    metric: Optional[str] = typer.Option(None, "--metric", help="Validation metric for early stopping and the grid (default: mcc / f1_max / pearson)."),
    seed: int = typer.Option(0, "--seed", help="Seed for folds, subsampling, initialisation and batch order (fold f uses seed + f)."),
    save_model: bool = typer.Option(False, "--save-model", help="Save the fine-tuned run with the best validation metric to OUT/model (the probe is then skipped: the saved model is the one reported)."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Override a preset config field, KEY=VALUE (only when --model is a preset)."),
):
    """Fine-tune a model on labelled sequences with k-fold cross-validation (the papers' protocol),
    and a linear probe on its frozen embeddings (the probe is kept unless the fine-tune is better on
    validation by a standard error), next to a k-mer baseline on the same folds; report test
    metrics as mean and standard error."""
    from gener.data.tasks import load_task
    from gener.training.classify import FinetuneSettings
    from gener.training.crossval import cross_validate, parse_grid
    from gener.training.report import report_markdown, write_report

    check_output(out, directory=True)
    task_data = load_task(data, task=task, subset=subset, seq_col=seq_col, label_cols=label_col, group_col=group_col)
    say(escape(task_data.describe()))
    settings = FinetuneSettings(learning_rate=lr, batch_size=batch_size, micro_batch=micro_batch, epochs=epochs,
                                warmup_epochs=warmup, patience=patience, plateau_patience=plateau_patience,
                                max_length=max_length, metric=metric, balanced=balanced, seed=seed,
                                model_overrides=parse_overrides(set_))
    line = lambda text: say(escape(text))  # noqa: E731 - log and per-epoch progress: stderr, silent with -q
    report, best = cross_validate(
        model, task_data, folds=folds, grid=parse_grid(grid), settings=settings, baseline=baseline, freeze=freeze,
        max_train=max_train, keep_best_model=save_model, log=line, progress=line, warn=warn,
    )
    written = write_report(report, out)
    if best is not None:
        from gener.training.classify import load_tokenizer_for

        best.save_pretrained(out / "model")
        load_tokenizer_for(report["model"]).save_pretrained(out / "model")
        written.append(out / "model")
    print(report_markdown(report), end="")  # the summary, with the baseline and the verdict: stdout, unwrapped
    say("[green]saved[/] " + ", ".join(escape(str(p)) for p in written))
