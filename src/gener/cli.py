"""The ``gener`` command line: one verb per workflow.

Every command turns :class:`gener.errors.GenerInputError` into a one-line message and
exit code 2, so bad input never ends in a traceback.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import gener
from gener.errors import GenerInputError

app = typer.Typer(
    name="gener",
    help="GENERator / GENERanno genomic foundation models: annotate, generate, score, train.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
data_app = typer.Typer(help="Reference genomes and labelled sets: fetch, list; gene regions: regions, stats, tokenize.", no_args_is_help=True)
app.add_typer(data_app, name="data")
finetune_app = typer.Typer(help="Fine-tune a model for one job: annotator, ...", no_args_is_help=True)
app.add_typer(finetune_app, name="finetune")

console = Console()
err_console = Console(stderr=True, soft_wrap=True)  # an error stays one line, however long


def _friendly_errors(fn):
    """Print bad-input errors as one line instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except GenerInputError as exc:
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}")
            raise typer.Exit(2) from None

    return wrapper


def _version_callback(value: bool):
    if value:
        console.print(f"gener {gener.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Show the version and exit."
    ),
):
    """gener: real genomes in, genes and sequences out, with the published checkpoints or
    the small embedded models."""


@app.command()
@_friendly_errors
def models(
    params: bool = typer.Option(False, "--params", help="Build each preset on the meta device and count parameters."),
):
    """List model presets, embedded default models and known hub ids."""
    from gener.modeling import presets
    from gener.modeling.loading import EMBEDDED_MODELS, HUB_IDS

    table = Table(title="Presets (build from scratch with these architectures)")
    for col in ("preset", "layers", "hidden", "heads/kv", "context"):
        table.add_column(col, no_wrap=True)
    if params:
        table.add_column("params", justify="right", no_wrap=True)
    for spec in presets.PRESETS.values():
        row = [
            spec.name,
            str(spec.num_hidden_layers),
            str(spec.hidden_size),
            f"{spec.num_attention_heads}/{spec.num_key_value_heads}",
            spec.context_description,
        ]
        if params:
            row.append(presets.format_count(presets.count_parameters(spec.name)))
        table.add_row(*row)
    console.print(table)

    emb = Table(title="Embedded default models (ship inside the package, work offline)")
    for col in ("name", "task", "status"):
        emb.add_column(col)
    for name, info in EMBEDDED_MODELS.items():
        emb.add_row(name, info.task, "installed" if info.available() else "not built yet")
    console.print(emb)

    hub = Table(title="Published checkpoints (hub ids; downloaded when online)")
    hub.add_column("hub id")
    hub.add_column("family")
    for hub_id, family in HUB_IDS.items():
        hub.add_row(hub_id, family)
    console.print(hub)


@data_app.command("fetch")
@_friendly_errors
def data_fetch(
    dest: Optional[Path] = typer.Option(None, "--dest", help="Cache directory (default: $GENER_DATA_DIR or the user cache)."),
    only: Optional[list[str]] = typer.Option(None, "--only", help="Fetch only these dataset names (repeatable)."),
):
    """Download the reference genomes and labelled sets into the cache, verified by sha256."""
    from gener.data import fetch as fetch_mod

    fetch_mod.fetch(dest=dest, names=only, console=console)


@data_app.command("list")
@_friendly_errors
def data_list(
    dest: Optional[Path] = typer.Option(None, "--dest", help="Cache directory (default: $GENER_DATA_DIR or the user cache)."),
):
    """Show which reference datasets are cached, where, and their sizes."""
    from gener.data import fetch as fetch_mod

    fetch_mod.print_listing(dest=dest, console=console)


@data_app.command("regions")
@_friendly_errors
def data_regions(
    inputs: list[str] = typer.Argument(..., help="GenBank or GFF3 files (plain or compressed), directories, or cached dataset names; FASTA too with --whole."),
    out: Path = typer.Option(..., "--out", "-o", help="Output parquet (written in row groups, renamed into place at the end)."),
    group: Optional[str] = typer.Option(None, "--group", help="Taxonomic group for every input (bacteria, archaea, fungi, ... or a token such as <bct>); default: from each file's lineage."),
    flank: int = typer.Option(0, "--flank", help="Bases added on each side of a gene (clipped at the ends of linear records)."),
    whole: bool = typer.Option(False, "--whole", help="Emit whole sequences in chunks instead of genes (the papers' scheme 2)."),
    chunk: int = typer.Option(98_304, "--chunk", help="Chunk length in bp for --whole."),
    min_length: int = typer.Option(0, "--min-length", help="Drop genes (with --whole: chunks) shorter than this, flanks not counted."),
    fasta: Optional[list[Path]] = typer.Option(None, "--fasta", help="Sequences for GFF3 input without ##FASTA (repeatable)."),
):
    """Extract gene regions (every gene with its type, coordinates, strand, group and sequence
    in transcribed orientation) from annotated genomes into a parquet table."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from gener.data.regions import curate_regions

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,.0f} bp"), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("reading", total=None)
        summary = curate_regions(
            inputs, out, group=group, flank=flank, whole=whole, chunk=chunk, min_length=min_length, fasta=fasta,
            progress=lambda record, bases: bar.update(task, advance=bases, description=escape(record)),
        )
    for source in summary.unlabelled:
        err_console.print(f"[yellow]warning:[/] {escape(source)}: no lineage in the file; group 'unknown' (use --group)")
    rate = summary.input_bases / max(summary.seconds, 1e-9) / 1e6
    console.print(
        f"[green]{summary.regions:,} {'chunks' if whole else 'regions'}[/], {summary.bases:,} bp from "
        f"{summary.records:,} record(s) ({summary.input_bases:,} bp) in {summary.seconds:.1f} s "
        f"({rate:.1f} Mbp/s) -> {escape(str(out))}"
    )


@data_app.command("stats")
@_friendly_errors
def data_stats(
    regions: Path = typer.Argument(..., help="A parquet written by `gener data regions`."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Directory for groups.csv/.md and gene_types.csv/.md."),
):
    """Regions and nucleotides per taxonomic group and per gene type (the papers' corpus tables)."""
    from gener.data.genes import GROUP_TOKENS
    from gener.data.stats import region_stats, save_stats

    tables = region_stats(regions)
    for table in tables:
        view = Table(title=table.title)
        for i, col in enumerate(table.columns):
            view.add_column(col, justify="left" if i == 0 else "right", no_wrap=i == 0)
        for label, n, pn, bp, pbp, mean in table.rows:
            if label == "total":
                view.add_section()
            shown = f"{label} {GROUP_TOKENS[label]}" if label in GROUP_TOKENS else label
            view.add_row(escape(shown), f"{n:,}", f"{pn:.2f}", f"{bp:,}", f"{pbp:.2f}", f"{mean:,.0f}")
        console.print(view)
    if out is not None:
        for path in save_stats(tables, out):
            console.print(f"[green]saved[/] {escape(str(path))}")


@data_app.command("tokenize")
@_friendly_errors
def data_tokenize(
    regions: Path = typer.Argument(..., help="A parquet written by `gener data regions`."),
    tokenizer: str = typer.Option("kmer", "--tokenizer", help="kmer (GENERator, 6-mers) or nucleotide (GENERanno)."),
    out: Path = typer.Option(..., "--out", "-o", help="Shard directory (created; must be empty or hold old shards with --force)."),
    shard_tokens: int = typer.Option(100_000_000, "--shard-tokens", help="Tokens per shard file, at most (documents are never split)."),
    force: bool = typer.Option(False, "--force", help="Replace the shards already in OUT."),
):
    """Write memory-mapped pre-training shards (nucleotides + document index, read as packed
    token windows by gener.data.shards.ShardDataset), streaming the parquet in batches."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from gener.data.shards import write_shards

    columns = (SpinnerColumn(), TextColumn("writing shards"), TextColumn("{task.completed:,.0f} bp"), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("tokenize", total=None)
        summary = write_shards(regions, out, tokenizer=tokenizer, shard_tokens=shard_tokens, force=force,
                               progress=lambda bases: bar.update(task, advance=bases))
    seconds = max(summary.seconds, 1e-9)
    console.print(
        f"[green]{summary.documents:,} documents[/], {summary.bases:,} bp, {summary.tokens:,} tokens "
        f"({tokenizer}) in {summary.shards} shard(s), {summary.seconds:.2f} s: "
        f"{summary.bases / seconds / 1e6:.1f} Mbp/s, {summary.tokens / seconds / 1e6:.2f} M tokens/s -> {escape(str(out))}"
    )


@finetune_app.command("annotator")
@_friendly_errors
def finetune_annotator_cmd(
    model: str = typer.Option("generanno-tiny", "--model", help="Preset to train from scratch, or a GENERanno checkpoint (dir / hub id) to fine-tune."),
    train: list[str] = typer.Option(..., "--train", help="Annotated genomes to train on: GenBank/GFF3 paths or dataset names (repeatable)."),
    valid: Optional[list[str]] = typer.Option(None, "--valid", help="Genomes to report validation metrics on (repeatable)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory (checkpoints, final model in OUT/final)."),
    steps: int = typer.Option(3000, help="Optimizer steps."),
    batch_size: int = typer.Option(32, "--batch-size", help="Windows per step."),
    window: int = typer.Option(512, help="Window length in bp."),
    lr: float = typer.Option(2e-3, "--lr", help="Peak learning rate (warm-up, then cosine to 10%)."),
    eval_steps: int = typer.Option(500, "--eval-steps", help="Evaluate and checkpoint every N steps."),
    seed: int = typer.Option(0, help="Random seed (windows, initialisation)."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the last checkpoint in OUT."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Override a preset config field, KEY=VALUE (repeatable), e.g. num_hidden_layers=2."),
):
    """Train GENERanno's per-strand CDS heads on windows of annotated genomes."""
    from gener.training.annotator import finetune_annotator

    final = finetune_annotator(
        model, train, valid or [], out, window=window, batch_size=batch_size, steps=steps,
        learning_rate=lr, eval_steps=eval_steps, seed=seed, resume=resume, model_overrides=_parse_overrides(set_),
    )
    console.print(f"[green]saved[/] {final}")


def _parse_overrides(items: Optional[list[str]]) -> dict:
    import json

    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise GenerInputError(f"--set {item!r}: expected KEY=VALUE (e.g. num_hidden_layers=2)")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


@app.command("pretrain")
@_friendly_errors
def pretrain_cmd(
    preset: str = typer.Option(..., "--preset", help="Architecture to train from scratch (gener models): generator-* (causal 6-mer) or generanno-* (masked nucleotide)."),
    data: Path = typer.Option(..., "--data", help="Shard directory from `gener data tokenize` (kmer for generator, nucleotide for generanno)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory: checkpoint-*/, loss.csv, loss.png, pretrain.json, final/."),
    seq_len: Optional[int] = typer.Option(None, "--seq-len", help="Tokens per window (default: the preset's context, 16,384 / 8,192)."),
    tokens_per_step: int = typer.Option(2_097_152, "--tokens-per-step", help="Target tokens per optimizer step, reached by gradient accumulation (paper: 2M)."),
    batch_size: int = typer.Option(1, "--batch-size", help="Windows per device per micro-batch."),
    lr: float = typer.Option(4e-4, "--lr", help="Peak learning rate (linear warm-up, then cosine to 10%)."),
    warmup: int = typer.Option(2000, "--warmup", help="Warm-up steps."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Optimizer steps (instead of --epochs)."),
    epochs: Optional[float] = typer.Option(None, "--epochs", help="Passes over the data (default 6, the paper's)."),
    resume: bool = typer.Option(False, "--resume", help="Continue exactly from the last checkpoint in OUT."),
    config: Optional[Path] = typer.Option(None, "--config", help="YAML/JSON of extra TrainingArguments, e.g. configs/fsdp.yaml."),
    save_steps: int = typer.Option(1000, "--save-steps", help="Checkpoint every N optimizer steps."),
    log_steps: int = typer.Option(10, "--log-steps", help="Log the loss every N optimizer steps."),
    seed: int = typer.Option(0, "--seed", help="Seed for weights, window order, offsets and masks."),
    workers: int = typer.Option(0, "--workers", help="DataLoader worker processes."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Override a preset config field, KEY=VALUE (repeatable), e.g. num_hidden_layers=2."),
    eval_data: Optional[Path] = typer.Option(None, "--eval-data", help="Held-out shards: validation loss every --eval-steps to RUN/eval.csv."),
    eval_steps: Optional[int] = typer.Option(None, "--eval-steps", help="Validate every N optimizer steps (default --save-steps)."),
    eval_windows: int = typer.Option(256, "--eval-windows", help="Validation windows (evenly spaced over the held-out shards)."),
    max_minutes: Optional[float] = typer.Option(None, "--max-minutes", help="Stop after this much wall time (final/ is still saved)."),
    factorised: bool = typer.Option(False, "--factorised-kmers", help="Train 6-mer rows through shared per-base vectors (small models, little data); saves a plain Llama."),
):
    """Pre-train a preset from scratch on token shards (paper recipe; runs under torchrun)."""
    from gener.training.pretrain import is_main_process, pretrain

    result = pretrain(
        preset, data, out, seq_len=seq_len, tokens_per_step=tokens_per_step, batch_size=batch_size,
        learning_rate=lr, warmup_steps=warmup, steps=steps, epochs=epochs, resume=resume, config=config,
        save_steps=save_steps, logging_steps=log_steps, seed=seed, num_workers=workers,
        model_overrides=_parse_overrides(set_), eval_data=eval_data, eval_steps=eval_steps, eval_windows=eval_windows, max_minutes=max_minutes,
        factorised=factorised,
        log=lambda text: console.print(escape(text)),
    )
    if is_main_process():
        console.print(f"[green]saved[/] {escape(str(result.final))}; loss log {escape(str(result.loss_log))}"
                      + (f", plot {escape(str(result.loss_plot))}" if result.loss_plot else ""))


@app.command("evaluate-annotation")
@_friendly_errors
def evaluate_annotation_cmd(
    pred: Path = typer.Option(..., "--pred", help="Predicted annotation: GFF3 (gener's, or Prodigal's -f gff) or GenBank."),
    ref: Path = typer.Option(..., "--ref", help="Reference annotation: GenBank, or GFF3 (with ##FASTA or --ref-fasta)."),
    ref_fasta: Optional[Path] = typer.Option(None, "--ref-fasta", help="Sequences for a GFF3 reference without ##FASTA."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (metrics and counts) instead of a table."),
    per_record: bool = typer.Option(False, "--per-record", help="Also score each record (pooled is always shown)."),
):
    """Score predicted CDS against a reference's validated CDS: the GENERanno paper's six
    metrics (bp precision/sensitivity, start/end/boundary accuracy, exact match) and
    gene-level stop / exact recall and precision."""
    import json

    from gener.tasks.annotate.evaluate import GENE_METRICS, LABELS, PAPER_METRICS, evaluate_files, format_rate

    report = evaluate_files(pred, ref, ref_fasta=ref_fasta)
    if as_json:
        out = {"pred": str(pred), "ref": str(ref), **report.to_dict(per_record=per_record)}
        typer.echo(json.dumps(out, indent=2))
        return
    pooled = report.pooled
    table = Table(title=f"{escape(pred.name)} vs validated CDS of {escape(ref.name)}")
    table.add_column("metric")
    columns = list(report.records.items()) if per_record else []
    for rid, _ in columns:
        table.add_column(escape(rid), justify="right")
    table.add_column("pooled", justify="right", style="bold")
    for name in PAPER_METRICS + GENE_METRICS:
        if name == GENE_METRICS[0]:
            table.add_section()
        row = [format_rate(getattr(s, name)) for _, s in columns]
        table.add_row(LABELS[name], *row, format_rate(getattr(pooled, name)))
    table.add_section()
    for label, attr in (("reference genes", "ref_genes"), ("predicted genes", "pred_genes")):
        table.add_row(label, *[str(getattr(s, attr)) for _, s in columns], str(getattr(pooled, attr)))
    console.print(table)


@app.command("annotate")
@_friendly_errors
def annotate_cmd(
    input: Path = typer.Argument(..., help="Genome or contigs: FASTA, GenBank or GFF3+##FASTA, plain or compressed."),
    out: Path = typer.Option(..., "--out", "-o", help="GFF3 output, Prodigal-style attributes."),
    proteins: Optional[Path] = typer.Option(None, "--proteins", "-a", help="Protein FASTA (.faa), Prodigal headers."),
    genes: Optional[Path] = typer.Option(None, "--genes", "-d", help="Gene nucleotide FASTA (.ffn)."),
    model: Optional[str] = typer.Option(None, "--model", help="Annotator: checkpoint directory, embedded name or hub id (default: the embedded gener-annotator-tiny)."),
    table: int = typer.Option(11, "--table", "-g", help="NCBI translation table (11 bacteria/archaea, 4 Mycoplasma, ...)."),
    window: Optional[int] = typer.Option(None, "--window", help="Window in bp (default: the model's training window, else its context up to 8192)."),
    overlap: Optional[int] = typer.Option(None, "--overlap", help="Overlap between windows in bp (default: half a window, at most 512)."),
    weighting: str = typer.Option("uniform", "--weighting", help="Stitching: uniform (published average) or taper (cross-fade across overlaps)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Windows per forward pass (default: 32k tokens' worth)."),
    device: Optional[str] = typer.Option(None, "--device", help="torch device (default: cuda if available, else cpu)."),
    topology: str = typer.Option("auto", "--topology", help="auto (GenBank LOCUS / FASTA circular=true), linear or circular."),
    closed: bool = typer.Option(False, "--closed", "-c", help="No genes running off the sequence ends or into gaps (Prodigal -c)."),
    min_gene_length: int = typer.Option(90, "--min-gene-length", help="Shortest complete gene in bp, stop codon included."),
    start_codons: Optional[str] = typer.Option(None, "--start-codons", help="Comma-separated start codons, or 'table' for all of the table's (default ATG,GTG,TTG as Prodigal)."),
):
    """Predict protein-coding genes (CDS) with a GENERanno annotator: every gene a valid ORF
    of the translation table, partial genes at contig edges and gaps flagged as Prodigal does.
    Outputs are written only once everything succeeded."""
    import contextlib
    import time

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from gener.io import atomic_write
    from gener.tasks.annotate import annotator as ann

    outputs = [p for p in (out, proteins, genes) if p is not None]
    if not input.is_file():
        raise GenerInputError("no such file" if not input.exists() else "not a file", path=input)
    for p in outputs:
        if p.resolve() == input.resolve():
            raise GenerInputError("output would overwrite the input", path=p)
        if not p.parent.is_dir():
            raise GenerInputError("output directory does not exist", path=p)
    if len({p.resolve() for p in outputs}) != len(outputs):
        raise GenerInputError("--out, --proteins and --genes must be different files")
    starts = start_codons if start_codons in (None, "table") else [c for c in start_codons.split(",") if c.strip()]

    # Read (and so validate) every record before the model runs.
    records = list(ann.read_records(input, topology=topology))
    annotator = ann.Annotator(model, device=device, table=table, window=window, overlap=overlap,
                              batch_size=batch_size, min_gene_length=min_gene_length, weighting=weighting,
                              closed=closed, start_codons=starts)
    total = sum(len(r.sequence) for r in records)
    if total == 0:
        raise GenerInputError("no sequence to annotate (every record is empty)", path=input)

    def warn(message):
        err_console.print(f"[yellow]warning:[/] {escape(message)}")

    results = []
    started = time.perf_counter()
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,.0f}/{task.total:,.0f} bp"),
               TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task("annotating", total=total, rate="")

        def progress(record_id, bases):
            elapsed = max(time.perf_counter() - started, 1e-9)
            done = bar.tasks[0].completed + bases
            bar.update(task, advance=bases, description=escape(record_id), rate=f"{done / elapsed:,.0f} bp/s")

        for result in annotator.annotate_records(records, progress=progress, on_warning=warn):
            results.append(result)
        bar.update(task, description="done")
    elapsed = time.perf_counter() - started

    with contextlib.ExitStack() as stack:  # all outputs renamed into place together, or none
        ann.write_gff3(stack.enter_context(atomic_write(out)), results)
        if proteins is not None:
            ann.write_proteins(stack.enter_context(atomic_write(proteins)), results)
        if genes is not None:
            ann.write_genes(stack.enter_context(atomic_write(genes)), results)
    n_genes = sum(len(g) for _, _, g in results)
    partial = sum(1 for _, _, gs in results for g in gs if g.partial != "00")
    console.print(
        f"[green]{n_genes:,} genes[/] ({partial:,} partial) on {len(results):,} sequence(s), {total:,} bp "
        f"in {elapsed:.1f} s ({total / max(elapsed, 1e-9):,.0f} bp/s) -> {escape(str(out))}"
    )


# --- generation, scoring, embeddings, recovery, variants (gener.tasks.generate & co.) -------
DEFAULT_GENERATOR = "gener-generator-tiny"


def _check_output(out: Path, *inputs) -> None:
    if not out.parent.is_dir():
        raise GenerInputError("output directory does not exist", path=out)
    for p in inputs:
        if p is not None and Path(p).exists() and out.resolve() == Path(p).resolve():
            raise GenerInputError("output would overwrite an input", path=out)


@app.command("generate")
@_friendly_errors
def generate_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="FASTA of the new DNA (>PROMPT_SAMPLE prompt_bp= new_bp= finished=)."),
    prompt: Optional[str] = typer.Option(None, "--prompt", help="One prompt sequence (6-mer aligned by dropping its first len%6 bases)."),
    prompts: Optional[Path] = typer.Option(None, "--prompts", help="FASTA of prompts (one sample set per record)."),
    model: str = typer.Option(DEFAULT_GENERATOR, "--model", help="Causal GENERator: directory, embedded name or hub id."),
    num_samples: int = typer.Option(1, "-n", "--num-samples", help="Samples per prompt."),
    max_new_bp: int = typer.Option(600, "--max-new-bp", help="New bases per sample at most (fewer when </s> comes first)."),
    temperature: float = typer.Option(1.0, "--temperature", help="Sampling temperature; 0 = greedy."),
    top_p: float = typer.Option(1.0, "--top-p", help="Nucleus sampling mass (1 = off)."),
    top_k: int = typer.Option(0, "--top-k", help="Keep the K most likely tokens (0 = off)."),
    control: Optional[str] = typer.Option(None, "--control", help="Control label from the model's control_tokens.json; allows an empty prompt."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed (same inputs + seed + batch size = same samples)."),
    batch_size: int = typer.Option(16, "--batch-size", help="Samples per forward pass."),
    with_prompt: bool = typer.Option(False, "--with-prompt", help="Write the aligned prompt before the new DNA."),
    device: Optional[str] = typer.Option(None, "--device", help="torch device (default: cuda if available, else cpu)."),
):
    """Generate DNA with a causal GENERator (KV cache, left-padded batches, DNA tokens only)."""
    import time

    from gener.tasks.generate import check_control, generate, load_control_tokens, read_prompts, write_generated

    _check_output(out, prompts)
    named = read_prompts(prompt, prompts, allow_empty=control is not None)
    controls = load_control_tokens(model) if control is not None else None
    check_control(control, controls)  # every input checked before the model loads
    started = time.perf_counter()
    lm, tokenizer = gener.load(model, device=device)
    results = generate(lm, tokenizer, [s for _, s in named], num_samples=num_samples, max_new_bp=max_new_bp,
                       temperature=temperature, top_p=top_p, top_k=top_k, control=control, control_tokens=controls,
                       seed=seed, batch_size=batch_size)
    write_generated(out, [n for n, _ in named], results, with_prompt=with_prompt)
    bp = sum(len(g.sequence) for g in results)
    done = sum(g.finished for g in results)
    elapsed = time.perf_counter() - started
    console.print(f"[green]{len(results):,} samples[/] ({done:,} ended with </s>), {bp:,} bp in {elapsed:.1f} s "
                  f"-> {escape(str(out))}")


# --- CLM fine-tuning, central dogma, prompted design (gener.training.clm, gener.tasks.dogma/design) ---
@finetune_app.command("clm")
@_friendly_errors
def finetune_clm_cmd(
    data: Path = typer.Option(..., "--data", help="Sequences: FASTA/GenBank, parquet or CSV/TSV (column --sequence-col)."),
    model: str = typer.Option("gener-generator-tiny", "--model", help="Causal GENERator to fine-tune (directory, embedded name, hub id), or a generator-* preset to train from scratch."),
    out: Path = typer.Option(Path("runs/clm"), "--out", "-o", help="Run directory: checkpoints, loss.csv/png, final/ (gener.load-able)."),
    loss: str = typer.Option("token", "--loss", help="token (cross-entropy over 6-mers) or per-base (the v2 loss)."),
    control_col: Optional[str] = typer.Option(None, "--control-col", help="Column (table) or COL=VALUE header field (FASTA) holding a control label per sequence."),
    control_map: Optional[list[str]] = typer.Option(None, "--control-map", help="LABEL=TOKEN (repeatable or comma-separated); default: sorted labels onto <sp0>, <sp1>, ..."),
    sequence_col: str = typer.Option("sequence", "--sequence-col", help="Sequence column of a parquet/CSV table."),
    valid: Optional[Path] = typer.Option(None, "--valid", help="Validation sequences (default: a --valid-fraction hold-out)."),
    valid_fraction: float = typer.Option(0.1, "--valid-fraction", help="Hold-out fraction for validation and early stopping (0 = none)."),
    max_tokens: int = typer.Option(1024, "--max-tokens", help="Tokens per row (longer sequences keep their 5' end); block size with --packing."),
    packing: bool = typer.Option(False, "--packing", help="Concatenate sequences into full blocks instead of padded rows."),
    batch_size: int = typer.Option(8, "--batch-size", help="Rows per step."),
    lr: float = typer.Option(1e-4, "--lr", help="Peak learning rate (cosine to 10%)."),
    warmup: int = typer.Option(0, "--warmup", help="Warm-up steps."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Optimizer steps (instead of --epochs)."),
    epochs: float = typer.Option(3.0, "--epochs", help="Passes over the training sequences."),
    eval_steps: Optional[int] = typer.Option(None, "--eval-steps", help="Validate and checkpoint every N steps (default: 10 times per run)."),
    patience: int = typer.Option(3, "--patience", help="Early stopping: validations without improvement (0 = off)."),
    seed: int = typer.Option(0, "--seed", help="Seed for the split, the order and fresh weights."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Preset config override KEY=VALUE when --model is a preset."),
):
    """Fine-tune a causal GENERator on sequences: <s>, an optional control token, 6-mers, </s>."""
    from gener.training.clm import finetune_clm, parse_control_map

    result = finetune_clm(
        model, data, out, valid=valid, valid_fraction=valid_fraction, loss=loss, control_col=control_col,
        control_map=parse_control_map(control_map), sequence_col=sequence_col, max_tokens=max_tokens,
        packing=packing, batch_size=batch_size, learning_rate=lr, warmup_steps=warmup, steps=steps, epochs=epochs,
        eval_steps=eval_steps, patience=patience, seed=seed, model_overrides=_parse_overrides(set_),
        log=lambda text: console.print(escape(text)),
    )
    best = f", best validation loss {result.best_eval_loss:.4f}" if result.best_eval_loss is not None else ""
    controls = f"; control labels {result.controls}" if result.controls else ""
    console.print(f"[green]saved[/] {escape(str(result.final))} after {result.global_step} steps{best}{escape(controls)}")


@data_app.command("family")
@_friendly_errors
def data_family_cmd(
    source: str = typer.Argument("umaydis", help="Annotated genome (GenBank, GFF3 with FASTA, directory) or cached dataset name."),
    out: Path = typer.Option(..., "--out", "-o", help="FASTA of the family's complete CDS."),
    family: str = typer.Option("p450", "--family", help="Named family: p450, histone, all."),
    match: Optional[str] = typer.Option(None, "--match", help="Regular expression on product/note/gene (instead of --family)."),
    exclude: Optional[str] = typer.Option(None, "--exclude", help="Regular expression of products to leave out (with --match)."),
    table: int = typer.Option(1, "--table", help="Translation table the CDS must be complete ORFs of."),
    max_members: Optional[int] = typer.Option(None, "--max-members", help="Keep a seeded random subset of this size."),
    max_length: Optional[int] = typer.Option(None, "--max-length", help="Leave out CDS longer than this (bp)."),
    seed: int = typer.Option(0, "--seed"),
):
    """Write the complete CDS of a protein family from real annotations (for gener dogma)."""
    from gener.tasks.dogma import build_family, write_family

    members = build_family(family, source, include=match, exclude=exclude, table=table, max_members=max_members,
                           max_length=max_length, seed=seed)
    write_family(out, members)
    console.print(f"[green]{len(members)} CDS[/] ({min(len(m.sequence) for m in members)}-"
                  f"{max(len(m.sequence) for m in members)} bp) -> {escape(str(out))}")


@app.command("dogma")
@_friendly_errors
def dogma_cmd(
    family: str = typer.Option(..., "--family", help="FASTA of CDS, or a family name (p450, histone, all) built from --source."),
    model: str = typer.Option("gener-generator-tiny", "--model", help="Causal GENERator to fine-tune (or a generator-* preset)."),
    out: Path = typer.Option(Path("runs/dogma"), "--out", "-o", help="Directory: family.fa, model/, generated.fa/.faa, dogma.json, dogma.png."),
    source: str = typer.Option("umaydis", "--source", help="Annotated genome or dataset for a named family."),
    table: int = typer.Option(1, "--table", help="Translation table (1 standard, 11 bacterial, 4 Mycoplasma...)."),
    num_samples: int = typer.Option(64, "-n", "--num-samples", help="Sequences to generate."),
    max_new_bp: Optional[int] = typer.Option(None, "--max-new-bp", help="Bases per sample at most (default 1.25 x the longest CDS)."),
    temperature: float = typer.Option(1.0, "--temperature"),
    top_p: float = typer.Option(1.0, "--top-p"),
    top_k: int = typer.Option(0, "--top-k"),
    min_aa: int = typer.Option(30, "--min-aa", help="Shortest protein that counts as a complete ORF."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Fine-tuning steps (instead of --epochs)."),
    epochs: float = typer.Option(3.0, "--epochs"),
    batch_size: int = typer.Option(4, "--batch-size"),
    lr: float = typer.Option(1e-4, "--lr"),
    loss: str = typer.Option("token", "--loss", help="token or per-base."),
    max_members: Optional[int] = typer.Option(200, "--max-members", help="For a named family: at most this many CDS."),
    max_length: Optional[int] = typer.Option(3000, "--max-length", help="For a named family: longest CDS kept (bp)."),
    control_size: int = typer.Option(200, "--control-size", help="Natural CDS sampled for the shuffled controls and the natural reference."),
    gen_batch: int = typer.Option(16, "--gen-batch", help="Samples per generation batch."),
    seed: int = typer.Option(0, "--seed"),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Preset config override KEY=VALUE when --model is a preset."),
):
    """Central dogma: fine-tune on a protein family's CDS, generate, translate, compare with controls."""
    from gener.tasks.dogma import run_dogma

    report = run_dogma(
        model, family, out, source=source, table=table, max_members=max_members, max_length=max_length,
        num_samples=num_samples, max_new_bp=max_new_bp, temperature=temperature, top_p=top_p, top_k=top_k,
        min_aa=min_aa, steps=steps, epochs=epochs, batch_size=batch_size, learning_rate=lr, loss=loss, seed=seed,
        control_size=control_size, generate_batch=gen_batch, model_overrides=_parse_overrides(set_),
        log=lambda text: console.print(escape(text)),
    )
    table_ = Table(title=f"central dogma: {report['family']['origin']}")
    for col in ("group", "sequences", "complete ORFs", "kept", "protein aa (median)", "identity (median)"):
        table_.add_column(col)
    for name, g in report["groups"].items():
        table_.add_row(name, str(g["sequences"]), f"{g['complete_orfs']} ({g['complete_fraction']:.0%})", str(g["kept"]),
                       str(g["protein_length"].get("median", "-")), str(g["identity"].get("median", "-")))
    console.print(table_)
    console.print(f"report {escape(str(out / 'dogma.json'))}, plot {escape(str(out / 'dogma.png'))}")


@app.command("design")
@_friendly_errors
def design_cmd(
    model: str = typer.Option("gener-generator-tiny", "--model", help="Base GENERator for the generator and the judge (or a generator-* preset)."),
    data: str = typer.Option("pombe-utr3", "--data", help="Measured set: dataset name, or CSV/TSV/parquet with --sequence-col and --activity-col."),
    out: Path = typer.Option(Path("runs/design"), "--out", "-o", help="Directory: generator/, generated_high.fa, generated_low.fa, design.json, design.png."),
    sequence_col: str = typer.Option("seq", "--sequence-col"),
    activity_col: str = typer.Option("hlt", "--activity-col", help="Measured activity (pombe-utr3: hlt, the mRNA half-life)."),
    max_bp: int = typer.Option(600, "--max-bp", help="Leave out sequences longer than this."),
    max_sequences: Optional[int] = typer.Option(None, "--max-sequences", help="Use a seeded random subset of this size (CPU runs)."),
    test_fraction: float = typer.Option(0.2, "--test-fraction", help="Held-out natural sequences for the judge and the natural reference."),
    num_samples: int = typer.Option(64, "-n", "--num-samples", help="Sequences generated per label."),
    max_new_bp: Optional[int] = typer.Option(None, "--max-new-bp", help="Bases per sample at most (default: the longest natural sequence)."),
    temperature: float = typer.Option(1.0, "--temperature"),
    top_p: float = typer.Option(1.0, "--top-p"),
    top_k: int = typer.Option(0, "--top-k"),
    gen_steps: Optional[int] = typer.Option(None, "--gen-steps", help="Generator fine-tuning steps (instead of --gen-epochs)."),
    gen_epochs: float = typer.Option(3.0, "--gen-epochs"),
    gen_lr: float = typer.Option(1e-4, "--gen-lr"),
    judge_epochs: int = typer.Option(10, "--judge-epochs", help="Most epochs of the regression judge (early stopping)."),
    judge_lr: float = typer.Option(1e-4, "--judge-lr"),
    batch_size: int = typer.Option(8, "--batch-size", help="Generator fine-tuning rows per step."),
    judge_batch: int = typer.Option(32, "--judge-batch", help="Judge fine-tuning batch."),
    gen_batch: int = typer.Option(16, "--gen-batch", help="Samples per generation batch."),
    loss: str = typer.Option("token", "--loss", help="Generator loss: token or per-base."),
    seed: int = typer.Option(0, "--seed"),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Preset config override KEY=VALUE when --model is a preset."),
):
    """Prompted design: control tokens for the top/bottom activity quartiles, generate per label, judge with a regression head."""
    from gener.tasks.design import run_design

    report = run_design(
        model, out, data=data, sequence_col=sequence_col, activity_col=activity_col, max_bp=max_bp,
        max_sequences=max_sequences, test_fraction=test_fraction, num_samples=num_samples, max_new_bp=max_new_bp,
        temperature=temperature, top_p=top_p, top_k=top_k, gen_steps=gen_steps, gen_epochs=gen_epochs, gen_lr=gen_lr,
        judge_epochs=judge_epochs, judge_lr=judge_lr, batch_size=batch_size, judge_batch=judge_batch,
        generate_batch=gen_batch, loss=loss, seed=seed, model_overrides=_parse_overrides(set_),
        log=lambda text: console.print(escape(text)),
    )
    table_ = Table(title=f"predicted {activity_col}")
    for col in ("group", "n", "median", "q25", "q75"):
        table_.add_column(col)
    for name, s in report["predicted_activity"].items():
        table_.add_row(name, str(s["n"]), *(str(s.get(k, "-")) for k in ("median", "q25", "q75")))
    console.print(table_)
    for name, s in report["separation"].items():
        if "auc" in s:
            console.print(f"{name}: AUC {s['auc']:.3f}, one-sided Mann-Whitney p = {s['p_value']:.3g}")
    console.print(f"report {escape(str(out / 'design.json'))}, plot {escape(str(out / 'design.png'))}")


# --- sequence understanding (issue 6): gener finetune classify, gener data task ---------------
@finetune_app.command("classify")
@_friendly_errors
def finetune_classify_cmd(
    data: str = typer.Option(..., "--data", help="CSV / TSV / parquet / JSONL / labelled FASTA, a directory of train/validation/test files, a hub dataset id (REPO or REPO:SUBSET) or a suite alias (nt-revised:H3K4me3, genomic-benchmarks:human_nontata_promoters, gener-tasks:gene_classification, deepstarr, ...)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory: results.json, results.md, confusion.png (and model/ with --save-model)."),
    model: str = typer.Option("gener-generator-tiny", "--model", help="Checkpoint directory, embedded name, hub id, or a preset (random init) to fine-tune."),
    task: Optional[str] = typer.Option(None, "--task", help="classification, regression or multilabel (default: inferred from the labels)."),
    subset: Optional[str] = typer.Option(None, "--subset", help="Subset (config) of a hub dataset or sub-directory of DATA."),
    label_col: Optional[list[str]] = typer.Option(None, "--label-col", help="Label column (default: label); repeat for several regression outputs or 0/1 label columns."),
    seq_col: Optional[str] = typer.Option(None, "--seq-col", help="Sequence column (default: sequence, seq, dna_sequence, ...)."),
    folds: int = typer.Option(10, "--folds", help="Cross-validation folds (stratified for classification); 1 = use the validation split as given."),
    grid: Optional[list[str]] = typer.Option(None, "--grid", help="Search, chosen on validation folds only: --grid 'lr=1e-5,2e-5 batch=64,128' (or one --grid per axis)."),
    lr: float = typer.Option(1e-5, "--lr", help="Learning rate (without --grid lr=...)."),
    batch_size: int = typer.Option(64, "--batch-size", help="Batch size (without --grid batch=...)."),
    micro_batch: Optional[int] = typer.Option(None, "--micro-batch", help="Sequences per forward pass; the rest by gradient accumulation."),
    epochs: int = typer.Option(20, "--epochs", help="Most epochs per run (early stopping, patience --patience, usually ends sooner)."),
    patience: int = typer.Option(5, "--patience", help="Evaluations without improvement before stopping."),
    plateau_patience: int = typer.Option(2, "--plateau-patience", help="Flat evaluations before the learning rate is halved (reduce-on-plateau)."),
    max_length: Optional[int] = typer.Option(None, "--max-length", help="Tokens per sequence, longer ones truncated with a warning (default: the model's context)."),
    metric: Optional[str] = typer.Option(None, "--metric", help="Validation metric for early stopping and the grid (default: mcc / f1_max / pearson)."),
    seed: int = typer.Option(0, "--seed", help="Seed for folds, initialisation and batch order (fold f uses seed + f)."),
    save_model: bool = typer.Option(False, "--save-model", help="Save the run with the best validation metric to OUT/model."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Override a preset config field, KEY=VALUE (only when --model is a preset)."),
):
    """Fine-tune a model on labelled sequences with k-fold cross-validation and a learning-rate x
    batch-size grid (the papers' protocol); report test metrics as mean and standard error."""
    from gener.data.tasks import load_task
    from gener.training.classify import FinetuneSettings
    from gener.training.crossval import cross_validate, parse_grid, report_markdown, write_report

    task_data = load_task(data, task=task, subset=subset, seq_col=seq_col, label_cols=label_col)
    console.print(escape(task_data.describe()))
    settings = FinetuneSettings(learning_rate=lr, batch_size=batch_size, micro_batch=micro_batch, epochs=epochs,
                                patience=patience, plateau_patience=plateau_patience, max_length=max_length,
                                metric=metric, seed=seed,
                                model_overrides=_parse_overrides(set_))
    report, best = cross_validate(
        model, task_data, folds=folds, grid=parse_grid(grid), settings=settings, keep_best_model=save_model,
        log=lambda text: console.print(escape(text)),
        warn=lambda text: err_console.print(f"[yellow]warning:[/] {escape(text)}"),
    )
    written = write_report(report, out)
    if best is not None:
        from gener.training.classify import load_tokenizer_for

        best.save_pretrained(out / "model")
        load_tokenizer_for(model).save_pretrained(out / "model")
        written.append(out / "model")
    console.print(report_markdown(report))
    console.print("[green]saved[/] " + ", ".join(escape(str(p)) for p in written))


@data_app.command("task")
@_friendly_errors
def data_task_cmd(
    name: str = typer.Argument(..., help="gene-type, taxonomy, promoter, oct4-mafk or pum2."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory: train/[validation/]test.parquet + task.json (gener finetune classify --data DIR)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Sampling seed (gene-type, taxonomy, promoter)."),
    length: Optional[int] = typer.Option(None, "--length", help="Fragment / window length in bp (taxonomy 500, promoter 300)."),
    per_class: Optional[int] = typer.Option(None, "--per-class", help="gene-type: CDS and intergenic sequences kept per genome (300)."),
    per_genome: Optional[int] = typer.Option(None, "--per-genome", help="taxonomy: fragments per genome (300)."),
    max_bp: Optional[int] = typer.Option(None, "--max-bp", help="gene-type: bases kept from each sequence's 5' end (2000)."),
):
    """Build a real labelled task from the cached reference data (see `gener data fetch`)."""
    import inspect

    from gener.data.task_builders import BUILDERS, build_task
    from gener.data.tasks import save_task

    options = {k: v for k, v in dict(seed=seed, length=length, per_class=per_class, per_genome=per_genome,
                                     max_bp=max_bp).items() if v is not None}
    if name in BUILDERS:
        accepted = inspect.signature(BUILDERS[name]).parameters
        extra = [k for k in options if k not in accepted]
        if extra:
            raise GenerInputError(f"task {name} takes no --{extra[0].replace('_', '-')}")
    data = build_task(name, **options)
    written = save_task(data, out, extra={"builder": name, "options": options})
    console.print(escape(data.describe()))
    console.print("[green]saved[/] " + ", ".join(escape(str(p)) for p in written))


def _load_for(model: str, purpose: str, device):
    """Load ``model`` with the head ``purpose`` needs: "lm" (causal-lm / masked-lm), or "base":
    whatever head the checkpoint has (its body's hidden states are what is used)."""
    from gener.modeling.loading import family_of, read_config, resolve, task_of

    directory = resolve(model)
    config = read_config(directory)
    family = family_of(config, directory)
    task = None if purpose == "base" else ("causal-lm" if family == "generator" else "masked-lm")
    if task is not None and task_of(config, family) != task:  # a head it does not have would be random weights
        raise GenerInputError(f"{model} is a {task_of(config, family)} checkpoint; this command needs a {task} model "
                              "(a base / pre-trained checkpoint)")
    return gener.load(directory, task=task, device=device)


def _bases_progress(total_label: str):
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(SpinnerColumn(), TextColumn(total_label), TextColumn("{task.completed:,.0f} bp"),
                    TimeElapsedColumn(), console=err_console, transient=True)


@app.command("score")
@_friendly_errors
def score_cmd(
    input: Path = typer.Argument(..., help="Sequences: FASTA, GenBank or GFF3+##FASTA (plain or compressed)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="TSV (id, length, scored_bp, log_likelihood, per_bp, mode); default: stdout."),
    model: str = typer.Option(DEFAULT_GENERATOR, "--model", help="GENERator (log-likelihood) or GENERanno (pseudo-log-likelihood) checkpoint."),
    per_base: bool = typer.Option(False, "--per-base", help="GENERator: sum of per-base marginal log-probs (the v2 objective) instead of 6-mer tokens."),
    window: Optional[int] = typer.Option(None, "--window", help="Window in tokens (default: the model's context)."),
    stride: Optional[int] = typer.Option(None, "--stride", help="Step between windows in tokens (default: half a window)."),
    mask_spacing: Optional[int] = typer.Option(None, "--mask-spacing", help="GENERanno: mask every D-th base at once (D passes per window) instead of one pass per base."),
    batch_size: int = typer.Option(8, "--batch-size", help="Windows per forward pass."),
    device: Optional[str] = typer.Option(None, "--device", help="torch device (default: cuda if available, else cpu)."),
):
    """Log-likelihood of each sequence, total and per bp (natural log), windowed for long sequences."""
    import sys
    import time

    from gener.io import read_sequences
    from gener.tasks.score import score_sequences, write_scores

    if out is not None:
        _check_output(out, input)
    lm, tokenizer = _load_for(model, "lm", device)
    family = "generator" if lm.config.model_type == "llama" else "generanno"
    if per_base and family != "generator":
        raise GenerInputError("--per-base is for 6-mer GENERator models")
    mode = "pll" if family == "generanno" else ("per-base" if per_base else "token")
    started = time.perf_counter()
    with _bases_progress("scoring") as bar:
        task = bar.add_task("score", total=None)
        scores = score_sequences(lm, tokenizer, ((r.id, r.sequence) for r in read_sequences(input)), per_base=per_base,
                                 window=window, stride=stride, batch_size=batch_size, mask_spacing=mask_spacing,
                                 progress=lambda bp: bar.update(task, advance=bp))
        if out is not None:
            n = write_scores(out, scores, mode=mode)
        else:
            rows = list(scores)  # all scored before anything is printed
            sys.stdout.write("id\tlength\tscored_bp\tlog_likelihood\tper_bp\tmode\n")
            for s in rows:
                sys.stdout.write(f"{s.id}\t{s.length}\t{s.scored_bp}\t{s.log_likelihood:.6f}\t{s.per_bp:.6f}\t{mode}\n")
            n = len(rows)
        bases = bar.tasks[0].completed
    elapsed = time.perf_counter() - started
    err_console.print(f"[green]{n:,} sequences[/] scored ({mode}), {bases:,.0f} bp in {elapsed:.1f} s "
                      f"({bases / max(elapsed, 1e-9) / 1e3:,.1f} kbp/s)" + (f" -> {escape(str(out))}" if out else ""))


@app.command("embed")
@_friendly_errors
def embed_cmd(
    input: Path = typer.Argument(..., help="Sequences: FASTA, GenBank or GFF3+##FASTA (plain or compressed)."),
    out: Path = typer.Option(..., "--out", "-o", help="Parquet: id, length, windows, pool, embedding (float32 list)."),
    model: str = typer.Option(DEFAULT_GENERATOR, "--model", help="GENERator or GENERanno checkpoint (the body's hidden states are used)."),
    pool: Optional[str] = typer.Option(None, "--pool", help="first | last | mean (default: last for GENERator, first for GENERanno)."),
    window: Optional[int] = typer.Option(None, "--window", help="Window in tokens (default: the model's context)."),
    batch_size: int = typer.Option(8, "--batch-size", help="Windows per forward pass."),
    device: Optional[str] = typer.Option(None, "--device", help="torch device (default: cuda if available, else cpu)."),
):
    """One embedding vector per sequence (published pooling), windowed, streamed to parquet."""
    import time

    from gener.io import read_sequences
    from gener.tasks.embed import POOLS, default_pool, embed_sequences, write_embeddings

    _check_output(out, input)
    if pool is not None and pool not in POOLS:
        raise GenerInputError(f"unknown --pool {pool!r}; choose one of {', '.join(POOLS)}")
    body, tokenizer = _load_for(model, "base", device)
    pool = pool or default_pool(body)
    started = time.perf_counter()
    with _bases_progress("embedding") as bar:
        task = bar.add_task("embed", total=None)
        rows = embed_sequences(body, tokenizer, ((r.id, r.sequence) for r in read_sequences(input)), pool=pool,
                               window=window, batch_size=batch_size, progress=lambda bp: bar.update(task, advance=bp))
        n = write_embeddings(out, rows, pool=pool)
        bases = bar.tasks[0].completed
    elapsed = time.perf_counter() - started
    console.print(f"[green]{n:,} embeddings[/] ({pool} pooling, dim {body.config.hidden_size}), {bases:,.0f} bp in "
                  f"{elapsed:.1f} s ({bases / max(elapsed, 1e-9) / 1e3:,.1f} kbp/s) -> {escape(str(out))}")


@app.command("recover")
@_friendly_errors
def recover_cmd(
    data: Path = typer.Option(..., "--data", help="Sequences: FASTA, or parquet/CSV/TSV with sequence [id, type|gene_type] columns (e.g. gener data regions)."),
    model: str = typer.Option(DEFAULT_GENERATOR, "--model", help="GENERator (greedy 6-mers) or GENERanno (autoregressive mask) checkpoint."),
    context_bp: int = typer.Option(6144, "--context-bp", help="Context before the cut, at most (rightmost bases; 6-mer aligned for GENERator)."),
    predict_bp: int = typer.Option(30, "--predict-bp", help="Bases to predict after the cut."),
    per_base: bool = typer.Option(False, "--per-base", help="GENERator: argmax of each base's marginal instead of the argmax 6-mer."),
    cut: str = typer.Option("first", "--cut", help="first: cut at min(context, length - predict); random: a seeded random cut."),
    min_context_bp: int = typer.Option(60, "--min-context-bp", help="Skip sequences with less context than this."),
    seed: int = typer.Option(0, "--seed", help="Seed for --cut random."),
    batch_size: int = typer.Option(16, "--batch-size", help="Samples per forward pass."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Per-sample TSV (id, type, context_bp, target, predicted, accuracy)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    device: Optional[str] = typer.Option(None, "--device", help="torch device (default: cuda if available, else cpu)."),
):
    """Sequence recovery (next-k-mer prediction): accuracy of the predicted bases after a context,
    overall and per type, with the published protocol of the model's family."""
    import json
    import time

    from gener.tasks.recovery import accuracy_report, cut_samples, read_table_records, recover, write_predictions

    if out is not None:
        _check_output(out, data)
    samples, skipped = cut_samples(read_table_records(data), context_bp, predict_bp, cut=cut,
                                   min_context_bp=min_context_bp, seed=seed)
    if not samples:
        raise GenerInputError(f"no sequence is long enough ({min_context_bp} + {predict_bp} bp)", path=data)
    lm, tokenizer = _load_for(model, "lm", device)
    started = time.perf_counter()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("recovering"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task("recover", total=len(samples))
        predictions = recover(lm, tokenizer, samples, predict_bp, per_base=per_base, batch_size=batch_size,
                              progress=lambda n: bar.update(task, advance=n))
    report = accuracy_report(samples, predictions, skipped)
    elapsed = time.perf_counter() - started
    if out is not None:
        write_predictions(out, samples, predictions)
    if as_json:
        typer.echo(json.dumps({"model": model, "data": str(data), "context_bp": context_bp, "predict_bp": predict_bp,
                               "per_base": per_base, "cut": cut, **report.to_dict(), "seconds": round(elapsed, 2)}, indent=2))
        return
    table = Table(title=f"Sequence recovery, {predict_bp} bp after up to {context_bp:,} bp ({escape(model)})")
    for col in ("type", "samples", "accuracy"):
        table.add_column(col, justify="left" if col == "type" else "right")
    for t, (acc, n) in sorted(report.per_type.items()):
        table.add_row(escape(t), f"{n:,}", f"{acc:.4f}")
    table.add_section()
    table.add_row("all", f"{report.n:,}", f"{report.accuracy:.4f}", style="bold")
    console.print(table)
    console.print(f"{skipped:,} sequence(s) skipped (too short or ambiguous target); {elapsed:.1f} s")


@app.command("variants")
@_friendly_errors
def variants_cmd(
    vcf: Path = typer.Option(..., "--vcf", help="VCF (plain or compressed); SNVs are scored, other records skipped."),
    fasta: Path = typer.Option(..., "--fasta", help="Reference sequences (FASTA, GenBank, GFF3+##FASTA) named as the VCF's CHROM."),
    out: Path = typer.Option(..., "--out", "-o", help="TSV: chrom, pos, id, ref, alt, label, upstream_score, window_score."),
    model: str = typer.Option(DEFAULT_GENERATOR, "--model", help="Causal GENERator checkpoint."),
    context_bp: int = typer.Option(8192, "--context-bp", help="Upstream context of the published score."),
    window_bp: int = typer.Option(6144, "--window-bp", help="Window centred on the variant for the second score (0 = skip it)."),
    label_key: str = typer.Option("LABEL", "--label", help="INFO key holding the label (1/0, pathogenic/benign, ...) for AUROC / AUPRC."),
    batch_size: int = typer.Option(8, "--batch-size", help="Sequences per forward pass."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary (counts, AUROC / AUPRC) as JSON."),
    device: Optional[str] = typer.Option(None, "--device", help="torch device (default: cuda if available, else cpu)."),
):
    """Score SNVs: the published upstream-context score log p(ref) - log p(alt), and the
    log-likelihood ratio of a window around the variant (higher = ALT less likely)."""
    import json
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from gener.io import read_sequences
    from gener.tasks import variants as var
    from gener.tasks.generate import check_causal

    _check_output(out, vcf, fasta)
    variants, skipped = var.read_vcf(vcf, label_key=label_key)
    if not variants:
        raise GenerInputError(f"no SNV to score ({skipped} record(s)/allele(s) skipped: indels or symbolic)", path=vcf)
    genome = {r.id: r.sequence for r in read_sequences(fasta)}
    var.check_reference(variants, genome, vcf)
    lm, tokenizer = _load_for(model, "lm", device)
    check_causal(lm, "variant scoring")
    started = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task("upstream score", total=len(variants))
        var.score_upstream(lm, tokenizer, variants, genome, context_bp=context_bp, batch_size=batch_size,
                           progress=lambda n: bar.update(task, advance=n))
        if window_bp:
            task = bar.add_task("window score", total=len(variants))
            var.score_window(lm, tokenizer, variants, genome, window_bp=window_bp, batch_size=batch_size,
                             progress=lambda n: bar.update(task, advance=n))
    var.write_variants(out, variants)
    summary = {"variants": len(variants), "skipped": skipped, **var.metrics(variants),
               "seconds": round(time.perf_counter() - started, 2)}
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    line = f"[green]{len(variants):,} SNVs[/] scored ({skipped:,} skipped) in {summary['seconds']:.1f} s -> {escape(str(out))}"
    console.print(line)
    for name in ("upstream", "window"):
        if name in summary:
            m = summary[name]
            console.print(f"  {name:8s} AUROC {m['auroc']:.4f}  AUPRC {m['auprc']:.4f}  "
                          f"({summary['labelled']['n']:,} labelled, {summary['labelled']['positives']:,} positive)")


if __name__ == "__main__":  # pragma: no cover
    app()
