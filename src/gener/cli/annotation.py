"""Gene annotation verbs: `gener annotate` and `gener evaluate-annotation`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from gener import distributed
from gener.cli import app, console, err_console, friendly_errors
from gener.errors import GenerInputError


@app.command("annotate")
@friendly_errors
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

    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from gener.io import atomic_write
    from gener.tasks.annotate import annotator as ann
    from gener.tasks.annotate import output

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
    distributed.join()  # under torchrun: the ranks share the model's windows, rank 0 decodes and writes
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

    if not distributed.is_main():
        return
    with contextlib.ExitStack() as stack:  # all outputs renamed into place together, or none
        output.write_gff3(stack.enter_context(atomic_write(out)), results)
        if proteins is not None:
            output.write_proteins(stack.enter_context(atomic_write(proteins)), results)
        if genes is not None:
            output.write_genes(stack.enter_context(atomic_write(genes)), results)
    n_genes = sum(len(g) for _, _, g in results)
    partial = sum(1 for _, _, gs in results for g in gs if g.partial != "00")
    console.print(
        f"[green]{n_genes:,} genes[/] ({partial:,} partial) on {len(results):,} sequence(s), {total:,} bp "
        f"in {elapsed:.1f} s ({total / max(elapsed, 1e-9):,.0f} bp/s) -> {escape(str(out))}"
    )


@app.command("evaluate-annotation")
@friendly_errors
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

    from gener.tasks.annotate.evaluate import (
        GENE_METRICS,
        LABELS,
        PAPER_METRICS,
        evaluate_files,
        format_rate,
    )

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
