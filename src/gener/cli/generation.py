"""GENERator at work: `gener generate`, `score`, `embed`, `recover`, `variants`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

import gener
from gener import distributed
from gener.cli import (
    DEFAULT_GENERATOR,
    app,
    check_output,
    device_option,
    friendly_errors,
    report_console,
    say,
    to_stdout,
)
from gener.errors import GenerInputError


@app.command("generate")
@friendly_errors
def generate_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="FASTA of the new DNA (>PROMPT_SAMPLE prompt_bp= new_bp= finished=); - for stdout."),
    prompt: Optional[str] = typer.Option(None, "--prompt", help="One prompt sequence (6-mer aligned by dropping its first len%6 bases)."),
    prompts: Optional[Path] = typer.Option(None, "--prompts", help="FASTA of prompts (one sample set per record)."),
    model: str = typer.Option(DEFAULT_GENERATOR, "--model", help="Causal GENERator: directory, embedded name or hub id."),
    num_samples: int = typer.Option(1, "-n", "--num-samples", min=1, help="Samples per prompt."),
    max_new_bp: int = typer.Option(600, "--max-new-bp", min=1, help="New bases per sample at most (fewer when </s> comes first)."),
    temperature: float = typer.Option(1.0, "--temperature", min=0.0, help="Sampling temperature; 0 = greedy."),
    top_p: float = typer.Option(1.0, "--top-p", min=0.0, max=1.0, help="Nucleus sampling mass (1 = off)."),
    top_k: int = typer.Option(0, "--top-k", min=0, help="Keep the K most likely tokens (0 = off)."),
    control: Optional[str] = typer.Option(None, "--control", help="Control label from the model's control_tokens.json; allows an empty prompt."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed (same inputs + seed + batch size = same samples)."),
    batch_size: int = typer.Option(16, "--batch-size", min=1, help="Samples per forward pass."),
    with_prompt: bool = typer.Option(False, "--with-prompt", help="Write the aligned prompt before the new DNA."),
    device: Optional[str] = device_option(),
):
    """Generate DNA with a causal GENERator (KV cache, left-padded batches, DNA tokens only)."""
    import time

    from gener.tasks.generate import (
        check_control,
        generate,
        load_control_tokens,
        read_prompts,
        write_generated,
    )

    check_output(out, prompts)
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
    say(f"[green]{len(results):,} samples[/] ({done:,} ended with </s>), {bp:,} bp in {elapsed:.1f} s "
        f"-> {escape(str(out))}")


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


def _total_bases(path) -> int | None:
    """Bases in a sequence file, for a progress total: one quick pass over an uncompressed
    FASTA, else None (the progress then shows what is done, without an ETA)."""
    from gener.io import detect_format
    from gener.io._files import is_compressed

    if detect_format(path) != "fasta" or is_compressed(path):
        return None
    with open(path, "rb") as fh:
        return sum(len(line.rstrip()) for line in fh if not line.startswith(b">"))


def _check_stride(window: Optional[int], stride: Optional[int]) -> None:
    if window is not None and stride is not None and stride > window:
        raise GenerInputError(f"--stride {stride} is longer than the window ({window} tokens): bases between "
                              "windows would never be scored")


@app.command("score")
@friendly_errors
def score_cmd(
    input: Path = typer.Argument(..., help="Sequences: FASTA, GenBank or GFF3+##FASTA (plain or compressed)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="TSV (id, length, scored_bp, log_likelihood, per_bp, mode); default: stdout."),
    model: str = typer.Option(DEFAULT_GENERATOR, "--model", help="GENERator (log-likelihood) or GENERanno (pseudo-log-likelihood) checkpoint."),
    per_base: bool = typer.Option(False, "--per-base", help="GENERator: sum of per-base marginal log-probs (the v2 objective) instead of 6-mer tokens."),
    window: Optional[int] = typer.Option(None, "--window", min=2, help="Window in tokens (default: the model's context)."),
    stride: Optional[int] = typer.Option(None, "--stride", min=1, help="Step between windows in tokens, at most a window (default: half a window)."),
    mask_spacing: Optional[int] = typer.Option(None, "--mask-spacing", min=1, help="GENERanno: mask every D-th base at once (D passes per window) instead of one pass per base."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Windows per forward pass."),
    device: Optional[str] = device_option(),
):
    """Log-likelihood of each sequence, total and per bp (natural log), windowed for long sequences."""
    import time

    from gener.progress import Progress

    from gener.io import read_sequences
    from gener.tasks.score import score_sequences, write_scores
    from gener.tasks.windows import family_of_model

    if out is not None:
        check_output(out, input)
    _check_stride(window, stride)
    distributed.join()  # under torchrun: the ranks share the windows, rank 0 writes
    lm, tokenizer = _load_for(model, "lm", device)
    _check_stride(window or lm.config.max_position_embeddings, stride)
    family = family_of_model(lm)
    if per_base and family != "generator":
        raise GenerInputError("--per-base is for 6-mer GENERator models")
    mode = "pll" if family == "generanno" else ("per-base" if per_base else "token")
    started = time.perf_counter()
    with Progress("scoring", total=_total_bases(input), unit="bp") as bar:
        scores = score_sequences(lm, tokenizer, ((r.id, r.sequence) for r in read_sequences(input)), per_base=per_base,
                                 window=window, stride=stride, batch_size=batch_size, mask_spacing=mask_spacing,
                                 progress=bar.advance)
        if not distributed.is_main():
            n = sum(1 for _ in scores)  # this rank's share of the windows; it yields nothing
        else:
            target = out if out is not None else Path("-")
            # stdout cannot be taken back: every sequence is scored before its first row is written
            n = write_scores(target, list(scores) if to_stdout(target) else scores, mode=mode)
        bases = bar.done
    elapsed = time.perf_counter() - started
    say(f"[green]{n:,} sequences[/] scored ({mode}), {bases:,.0f} bp in {elapsed:.1f} s "
        f"({bases / max(elapsed, 1e-9) / 1e3:,.1f} kbp/s) -> {escape(str(out or '-'))}")


@app.command("embed")
@friendly_errors
def embed_cmd(
    input: Path = typer.Argument(..., help="Sequences: FASTA, GenBank or GFF3+##FASTA (plain or compressed)."),
    out: Path = typer.Option(..., "--out", "-o", help="Parquet: id, length, windows, pool, embedding (float32 list); - for stdout."),
    model: str = typer.Option(DEFAULT_GENERATOR, "--model", help="GENERator or GENERanno checkpoint (the body's hidden states are used)."),
    pool: Optional[str] = typer.Option(None, "--pool", help="first | last | mean (default: last for GENERator, first for GENERanno)."),
    window: Optional[int] = typer.Option(None, "--window", min=3, help="Window in tokens (default: the model's context)."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Windows per forward pass."),
    device: Optional[str] = device_option(),
):
    """One embedding vector per sequence (published pooling), windowed, streamed to parquet."""
    import time

    from gener.progress import Progress

    from gener.io import read_sequences
    from gener.tasks.embed import POOLS, default_pool, embed_sequences, write_embeddings

    check_output(out, input)
    if pool is not None and pool not in POOLS:
        raise GenerInputError(f"unknown --pool {pool!r}; choose one of {', '.join(POOLS)}")
    distributed.join()  # under torchrun: the ranks share the windows, rank 0 writes
    body, tokenizer = _load_for(model, "base", device)
    pool = pool or default_pool(body)
    started = time.perf_counter()
    with Progress("embedding", total=_total_bases(input), unit="bp") as bar:
        rows = embed_sequences(body, tokenizer, ((r.id, r.sequence) for r in read_sequences(input)), pool=pool,
                               window=window, batch_size=batch_size, progress=bar.advance)
        if distributed.is_main():
            n = write_embeddings(out, rows, pool=pool)
        else:
            n = sum(1 for _ in rows)  # this rank's share of the windows; it yields nothing
        bases = bar.done
    elapsed = time.perf_counter() - started
    say(f"[green]{n:,} embeddings[/] ({pool} pooling, dim {body.config.hidden_size}), {bases:,.0f} bp in "
        f"{elapsed:.1f} s ({bases / max(elapsed, 1e-9) / 1e3:,.1f} kbp/s) -> {escape(str(out))}")


@app.command("recover")
@friendly_errors
def recover_cmd(
    data: Path = typer.Option(..., "--data", help="Sequences: FASTA, or parquet/CSV/TSV with sequence [id, type|gene_type] columns (e.g. gener data regions)."),
    seq_col: Optional[str] = typer.Option(None, "--seq-col", help="Sequence column of a table (default: sequence, seq, dna_sequence, ...)."),
    model: str = typer.Option(DEFAULT_GENERATOR, "--model", help="GENERator (greedy 6-mers) or GENERanno (autoregressive mask) checkpoint."),
    context_bp: int = typer.Option(6144, "--context-bp", min=1, help="Context before the cut, at most (rightmost bases; 6-mer aligned for GENERator)."),
    predict_bp: int = typer.Option(30, "--predict-bp", min=1, help="Bases to predict after the cut."),
    per_base: bool = typer.Option(False, "--per-base", help="GENERator: argmax of each base's marginal instead of the argmax 6-mer."),
    cut: str = typer.Option("first", "--cut", help="first: cut at min(context, length - predict); random: a seeded random cut."),
    min_context_bp: int = typer.Option(60, "--min-context-bp", min=1, help="Skip sequences with less context than this."),
    seed: int = typer.Option(0, "--seed", help="Seed for --cut random."),
    batch_size: int = typer.Option(16, "--batch-size", min=1, help="Samples per forward pass."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Per-sample TSV (id, type, context_bp, target, predicted, accuracy); - for stdout (the report then goes to stderr)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    device: Optional[str] = device_option(),
):
    """Sequence recovery (next-k-mer prediction): accuracy of the predicted bases after a context,
    overall and per type, with the published protocol of the model's family."""
    import json
    import time

    from gener.tasks.recovery import (
        accuracy_report,
        cut_samples,
        read_table_records,
        recover,
        write_predictions,
    )

    if out is not None:
        check_output(out, data)
    samples, skipped = cut_samples(read_table_records(data, seq_col), context_bp, predict_bp, cut=cut,
                                   min_context_bp=min_context_bp, seed=seed)
    if not samples:
        raise GenerInputError(f"no sequence is long enough ({min_context_bp} + {predict_bp} bp)", path=data)
    lm, tokenizer = _load_for(model, "lm", device)
    started = time.perf_counter()
    from gener.progress import Progress

    with Progress("recovering", total=len(samples), unit="samples") as bar:
        predictions = recover(lm, tokenizer, samples, predict_bp, per_base=per_base, batch_size=batch_size,
                              progress=bar.advance)
    report = accuracy_report(samples, predictions, skipped)
    elapsed = time.perf_counter() - started
    if out is not None:
        write_predictions(out, samples, predictions)
    shown = report_console(out)
    if as_json:
        shown.print_json(json.dumps({"model": model, "data": str(data), "context_bp": context_bp, "predict_bp": predict_bp,
                                     "per_base": per_base, "cut": cut, **report.to_dict(), "seconds": round(elapsed, 2)}))
        return
    table = Table(title=f"Sequence recovery, {predict_bp} bp after up to {context_bp:,} bp ({escape(model)})")
    for col in ("type", "samples", "accuracy"):
        table.add_column(col, justify="left" if col == "type" else "right")
    for t, (acc, n) in sorted(report.per_type.items()):
        table.add_row(escape(t), f"{n:,}", f"{acc:.4f}")
    table.add_section()
    table.add_row("all", f"{report.n:,}", f"{report.accuracy:.4f}", style="bold")
    shown.print(table)
    say(f"{skipped:,} sequence(s) skipped (too short or ambiguous target); {elapsed:.1f} s")


@app.command("variants")
@friendly_errors
def variants_cmd(
    vcf: Path = typer.Option(..., "--vcf", help="VCF (plain or compressed); SNVs are scored, other records skipped."),
    fasta: Path = typer.Option(..., "--fasta", help="Reference sequences (FASTA, GenBank, GFF3+##FASTA) named as the VCF's CHROM."),
    out: Path = typer.Option(..., "--out", "-o", help="TSV: chrom, pos, id, ref, alt, label, upstream_score, window_score; - for stdout (the summary then goes to stderr)."),
    model: str = typer.Option(DEFAULT_GENERATOR, "--model", help="Causal GENERator checkpoint."),
    context_bp: int = typer.Option(8192, "--context-bp", min=1, help="Upstream context of the published score."),
    window_bp: int = typer.Option(6144, "--window-bp", min=0, help="Window centred on the variant for the second score (0 = skip it)."),
    label_key: str = typer.Option("LABEL", "--label", help="INFO key holding the label (1/0, pathogenic/benign, ...) for AUROC / AUPRC."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Sequences per forward pass."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary (counts, AUROC / AUPRC) as JSON."),
    device: Optional[str] = device_option(),
):
    """Score SNVs: the published upstream-context score log p(ref) - log p(alt), and the
    log-likelihood ratio of a window around the variant (higher = ALT less likely)."""
    import json
    import time

    from gener.io import read_sequences
    from gener.progress import Progress
    from gener.tasks import variants as var
    from gener.tasks.generate import check_causal

    check_output(out, vcf, fasta)
    variants, skipped = var.read_vcf(vcf, label_key=label_key)
    if not variants:
        raise GenerInputError(f"no SNV to score ({skipped} record(s)/allele(s) skipped: indels or symbolic)", path=vcf)
    genome = {r.id: r.sequence for r in read_sequences(fasta)}
    var.check_reference(variants, genome, vcf)
    lm, tokenizer = _load_for(model, "lm", device)
    check_causal(lm, "variant scoring")
    started = time.perf_counter()
    with Progress("upstream score", total=len(variants), unit="SNVs") as bar:
        var.score_upstream(lm, tokenizer, variants, genome, context_bp=context_bp, batch_size=batch_size,
                           progress=bar.advance)
    if window_bp:
        with Progress("window score", total=len(variants), unit="SNVs") as bar:
            var.score_window(lm, tokenizer, variants, genome, window_bp=window_bp, batch_size=batch_size,
                             progress=bar.advance)
    var.write_variants(out, variants)
    summary = {"variants": len(variants), "skipped": skipped, **var.metrics(variants),
               "seconds": round(time.perf_counter() - started, 2)}
    shown = report_console(out)
    if as_json:
        shown.print_json(json.dumps(summary))
        return
    say(f"[green]{len(variants):,} SNVs[/] scored ({skipped:,} skipped) in {summary['seconds']:.1f} s -> {escape(str(out))}")
    for name in ("upstream", "window"):
        if name in summary:
            m = summary[name]
            shown.print(f"{name:8s} AUROC {m['auroc']:.4f}  AUPRC {m['auprc']:.4f}  "
                          f"({summary['labelled']['n']:,} labelled, {summary['labelled']['positives']:,} positive)")
