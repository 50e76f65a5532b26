"""Gene annotation verbs: `gener annotate` and `gener evaluate-annotation`."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from gener import distributed
from gener.cli import app, check_outputs, console, device_option, friendly_errors, say, warn
from gener.errors import GenerInputError


@app.command("annotate")
@friendly_errors
def annotate_cmd(
    input: Optional[Path] = typer.Argument(None, show_default=False, help="Genome or contigs: FASTA, GenBank or GFF3+##FASTA, plain or compressed (- or none: stdin)."),
    input_opt: Optional[Path] = typer.Option(None, "-i", "--input", show_default=False, help="The input, Prodigal's way (instead of the argument)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", show_default=False, help="Gene table (default: stdout, as Prodigal)."),
    fmt: str = typer.Option("gff", "-f", "--format", help="Gene table format: gff (GFF3), gbk (GenBank) or sco (Prodigal's simple coordinates)."),
    proteins: Optional[Path] = typer.Option(None, "--proteins", "-a", help="Protein FASTA (.faa), Prodigal headers."),
    genes: Optional[Path] = typer.Option(None, "--genes", "-d", help="Gene nucleotide FASTA (.ffn)."),
    model: Optional[str] = typer.Option(None, "--model", help="Annotator: checkpoint directory, embedded name or hub id (default: the embedded gener-annotator-tiny)."),
    table: int = typer.Option(11, "--table", "-g", min=1, help="NCBI translation table (11 bacteria/archaea, 4 Mycoplasma, ...)."),
    mode: str = typer.Option("auto", "-p", "--mode", help="single: learn the genome's statistics from the input (all records together); meta: pre-trained metagenomic ones per record; auto: single from 20 kbp of input on (Prodigal -p)."),
    evidence: str = typer.Option("both", "--evidence", help="What the decoder weighs: both (the model and the genome's own statistics), model (the model alone) or genome (the genome's statistics alone, no forward pass)."),
    precision: str = typer.Option("auto", "--precision", help="Model precision: auto (bf16 on CPUs with bf16 units and on GPUs, else fp32), bf16 or fp32."),
    closed: bool = typer.Option(False, "--closed", "-c", help="No genes running off the sequence ends or into gaps (Prodigal -c)."),
    mask: bool = typer.Option(False, "--mask", "-m", help="Runs of N are gaps, no gene across them (Prodigal -m). gener always does this, for runs of 50 or more N or other ambiguous bases, so -m changes nothing."),
    window: Optional[int] = typer.Option(None, "--window", min=1, help="Window in bp (default: the model's training window, else its context up to 8192)."),
    overlap: Optional[int] = typer.Option(None, "--overlap", min=0, help="Overlap between windows in bp (default: the model's own, 0 for the embedded model; else half a window, at most 512)."),
    weighting: str = typer.Option("uniform", "--weighting", help="Stitching: uniform (published average) or taper (cross-fade across overlaps)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1, help="Windows per forward pass (default: 32k tokens' worth)."),
    device: Optional[str] = device_option(),
    topology: str = typer.Option("auto", "--topology", help="auto (GenBank LOCUS / FASTA circular=true), linear or circular."),
    min_gene_length: int = typer.Option(90, "--min-gene-length", min=6, help="Shortest complete gene in bp, stop codon included."),
    start_codons: Optional[str] = typer.Option(None, "--start-codons", help="Comma-separated start codons, or 'table' for all of the table's (default ATG,GTG,TTG as Prodigal)."),
):
    """Predict protein-coding genes (CDS) with a GENERanno annotator: every gene a valid ORF
    of the translation table, partial genes at contig edges and gaps flagged as Prodigal does.

    Prodigal's flags work as in Prodigal: gener annotate -i genome.fna -o genes.gff -a
    proteins.faa -f gff -p single -c. The gene table goes to stdout without -o. Gene IDs are
    SEQID_N; a record id seen twice gets .2, .3, ... appended (with a warning), so IDs stay
    unique. Every output is written only once everything succeeded."""
    import contextlib
    import time

    from gener.io import atomic_write
    from gener.progress import Progress
    from gener.tasks.annotate import annotator as ann
    from gener.tasks.annotate import output, selftrain

    if input is not None and input_opt is not None:
        raise GenerInputError("give the input once: as the argument or with -i")
    source = input_opt if input_opt is not None else input
    table_out = out if out is not None else Path("-")
    check_outputs([table_out, proteins, genes], source)
    if fmt not in output.FORMATS:
        raise GenerInputError(f"-f {fmt!r}: choose one of {', '.join(output.FORMATS)}")
    if mode not in selftrain.MODES:
        raise GenerInputError(f"-p {mode!r}: choose one of {', '.join(selftrain.MODES)}")
    starts = start_codons if start_codons in (None, "table") else [c for c in start_codons.split(",") if c.strip()]

    # Read (and so validate) every record before the model runs.
    with _input_file(source) as path:
        records = output.unique_record_ids(list(ann.read_records(path, topology=topology)), warn)
    total = sum(len(r.sequence) for r in records)
    if total == 0:
        raise GenerInputError("no sequence to annotate (every record is empty)", path=source or "stdin")
    distributed.join()  # under torchrun: the ranks share the model's windows, rank 0 decodes and writes
    annotator = ann.Annotator(model, device=device, table=table, window=window, overlap=overlap,
                              batch_size=batch_size, min_gene_length=min_gene_length, weighting=weighting,
                              closed=closed, start_codons=starts, mode=mode, evidence=evidence,
                              precision=precision)
    if not annotator.has_tuned_weights and distributed.is_main():
        warn(f"{model} has no decoder weights chosen for it (decoder.json): its evidence is weighed by "
             "defaults that may not suit it; `gener finetune decoder "
             "--model DIR --genome G` chooses them on annotated genomes it was not trained on")

    results = []
    started = time.perf_counter()
    with Progress("annotating", total=total, unit="bp") as bar:
        def advance(record_id, bases):
            bar.describe(record_id)
            bar.advance(bases)

        results.extend(annotator.annotate_records(records, progress=advance, on_warning=warn))
    elapsed = time.perf_counter() - started

    if not distributed.is_main():
        return
    info = output.RunInfo(model=model or ann.DEFAULT_MODEL, table=table,
                          mode=selftrain.choose_mode(mode, [r.sequence for r in records]),
                          headers={r.id: f"{r.id} {r.description}".strip() for r in records})
    with contextlib.ExitStack() as stack:  # all outputs renamed into place together, or none
        output.write_genes_table(stack.enter_context(atomic_write(table_out)), results, fmt, info=info,
                                 circular=[r.id for r in records if r.circular])
        if proteins is not None:
            output.write_proteins(stack.enter_context(atomic_write(proteins)), results)
        if genes is not None:
            output.write_genes(stack.enter_context(atomic_write(genes)), results)
    n_genes = sum(len(g) for _, _, g in results)
    partial = sum(1 for _, _, gs in results for g in gs if g.partial != "00")
    say(f"[green]{n_genes:,} genes[/] ({partial:,} partial) on {len(results):,} sequence(s), {total:,} bp "
        f"in {elapsed:.1f} s ({total / max(elapsed, 1e-9):,.0f} bp/s) -> {escape(str(table_out))}")


@contextlib.contextmanager
def _input_file(source: Optional[Path]):
    """The input as a path: the file itself, or stdin copied to a temp file (``-`` or no
    input, as Prodigal reads stdin), since records are read twice (GenBank topology)."""
    import shutil
    import sys
    import tempfile

    if source is not None and str(source) != "-":
        if not source.is_file():
            raise GenerInputError("no such file" if not source.exists() else "not a file", path=source)
        yield source
        return
    if sys.stdin is None or sys.stdin.isatty():
        raise GenerInputError("no input: give a FASTA / GenBank / GFF3 file (or -i FILE, or pipe one in)")
    with tempfile.NamedTemporaryFile(prefix="gener-stdin-") as copy:
        shutil.copyfileobj(sys.stdin.buffer, copy)
        copy.flush()
        try:
            yield Path(copy.name)
        except GenerInputError as exc:  # name what the user gave, not the copy
            raise GenerInputError(str(exc).replace(copy.name, "stdin")) from None


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
