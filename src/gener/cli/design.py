"""Applications built on CLM fine-tuning: `gener dogma` (protein families) and `gener design` (control tokens)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from gener.cli import DEFAULT_GENERATOR, app, check_output, console, friendly_errors, parse_overrides, say


@app.command("dogma")
@friendly_errors
def dogma_cmd(
    family: str = typer.Option(..., "--family", help="FASTA of CDS, or a family name (p450, histone, all) built from --source."),
    model: str = typer.Option(DEFAULT_GENERATOR, "--model", help="Causal GENERator to fine-tune (or a generator-* preset)."),
    out: Path = typer.Option(Path("runs/dogma"), "--out", "-o", help="Directory: family.fa, model/, generated.fa/.faa, dogma.json, dogma.png."),
    source: str = typer.Option("umaydis", "--source", help="Annotated genome or dataset for a named family."),
    table: int = typer.Option(1, "--table", help="Translation table (1 standard, 11 bacterial, 4 Mycoplasma...)."),
    num_samples: int = typer.Option(64, "-n", "--num-samples", min=1, help="Sequences to generate."),
    max_new_bp: Optional[int] = typer.Option(None, "--max-new-bp", help="Bases per sample at most (default 1.25 x the longest CDS)."),
    temperature: float = typer.Option(1.0, "--temperature", min=0.0),
    top_p: float = typer.Option(1.0, "--top-p", min=0.0, max=1.0),
    top_k: int = typer.Option(0, "--top-k", min=0),
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

    check_output(out, directory=True)
    overrides = parse_overrides(set_)
    report = run_dogma(
        model, family, out, source=source, table=table, max_members=max_members, max_length=max_length,
        num_samples=num_samples, max_new_bp=max_new_bp, temperature=temperature, top_p=top_p, top_k=top_k,
        min_aa=min_aa, steps=steps, epochs=epochs, batch_size=batch_size, learning_rate=lr, loss=loss, seed=seed,
        control_size=control_size, generate_batch=gen_batch, model_overrides=overrides,
        log=lambda text: say(escape(text)),
    )
    table_ = Table(title=f"central dogma: {report['family']['origin']}")
    for col in ("group", "sequences", "complete ORFs", "kept", "protein aa (median)", "identity (median)"):
        table_.add_column(col)
    for name, g in report["groups"].items():
        table_.add_row(name, str(g["sequences"]), f"{g['complete_orfs']} ({g['complete_fraction']:.0%})", str(g["kept"]),
                       str(g["protein_length"].get("median", "-")), str(g["identity"].get("median", "-")))
    console.print(table_)
    say(f"report {escape(str(out / 'dogma.json'))}, plot {escape(str(out / 'dogma.png'))}")


@app.command("design")
@friendly_errors
def design_cmd(
    model: str = typer.Option(DEFAULT_GENERATOR, "--model", help="Base GENERator for the generator and the judge (or a generator-* preset)."),
    data: str = typer.Option("pombe-utr3", "--data", help="Measured set: dataset name, or CSV/TSV/parquet with --sequence-col and --activity-col."),
    out: Path = typer.Option(Path("runs/design"), "--out", "-o", help="Directory: generator/, generated_high.fa, generated_low.fa, design.json, design.png."),
    sequence_col: str = typer.Option("seq", "--sequence-col"),
    activity_col: str = typer.Option("hlt", "--activity-col", help="Measured activity (pombe-utr3: hlt, the mRNA half-life)."),
    max_bp: int = typer.Option(600, "--max-bp", help="Leave out sequences longer than this."),
    max_sequences: Optional[int] = typer.Option(None, "--max-sequences", help="Use a seeded random subset of this size (CPU runs)."),
    test_fraction: float = typer.Option(0.2, "--test-fraction", help="Held-out natural sequences for the judge and the natural reference."),
    num_samples: int = typer.Option(64, "-n", "--num-samples", min=1, help="Sequences generated per label."),
    max_new_bp: Optional[int] = typer.Option(None, "--max-new-bp", help="Bases per sample at most (default: the longest natural sequence)."),
    temperature: float = typer.Option(1.0, "--temperature", min=0.0),
    top_p: float = typer.Option(1.0, "--top-p", min=0.0, max=1.0),
    top_k: int = typer.Option(0, "--top-k", min=0),
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

    check_output(out, directory=True)
    overrides = parse_overrides(set_)
    report = run_design(
        model, out, data=data, sequence_col=sequence_col, activity_col=activity_col, max_bp=max_bp,
        max_sequences=max_sequences, test_fraction=test_fraction, num_samples=num_samples, max_new_bp=max_new_bp,
        temperature=temperature, top_p=top_p, top_k=top_k, gen_steps=gen_steps, gen_epochs=gen_epochs, gen_lr=gen_lr,
        judge_epochs=judge_epochs, judge_lr=judge_lr, batch_size=batch_size, judge_batch=judge_batch,
        generate_batch=gen_batch, loss=loss, seed=seed, model_overrides=overrides,
        log=lambda text: say(escape(text)),
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
    say(f"report {escape(str(out / 'design.json'))}, plot {escape(str(out / 'design.png'))}")
