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
from gener import distributed
from gener.errors import GenerInputError

app = typer.Typer(
    name="gener",
    help="GENERator / GENERanno genomic foundation models: annotate, generate, score, train.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
data_app = typer.Typer(help="Reference data: fetch, list; gene regions: regions, stats, tokenize; family (CDS of a protein family); task (labelled sets).", no_args_is_help=True)
app.add_typer(data_app, name="data")
finetune_app = typer.Typer(help="Fine-tune a model for one job: annotator, clm, classify.", no_args_is_help=True)
app.add_typer(finetune_app, name="finetune")

# Under torchrun only rank 0 speaks; the other ranks share the work and stay quiet.
console = Console(quiet=not distributed.is_main())
err_console = Console(stderr=True, soft_wrap=True, quiet=not distributed.is_main())  # an error stays one line


def friendly_errors(fn):
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
@friendly_errors
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


def parse_overrides(items: Optional[list[str]]) -> dict:
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


DEFAULT_GENERATOR = "gener-generator-tiny"


def check_output(out: Path, *inputs) -> None:
    if not out.parent.is_dir():
        raise GenerInputError("output directory does not exist", path=out)
    for p in inputs:
        if p is not None and Path(p).exists() and out.resolve() == Path(p).resolve():
            raise GenerInputError("output would overwrite an input", path=out)


# The verbs live in one module per workflow; importing them registers them on ``app``, in
# the order `gener --help` lists them.
from gener.cli import annotation  # noqa: E402,F401,I001
from gener.cli import generation  # noqa: E402,F401
from gener.cli import design  # noqa: E402,F401
from gener.cli import training  # noqa: E402,F401
from gener.cli import data  # noqa: E402,F401
