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
data_app = typer.Typer(help="Reference genomes and labelled sets: fetch, list.", no_args_is_help=True)
app.add_typer(data_app, name="data")

console = Console()
err_console = Console(stderr=True)


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
    version: Optional[bool] = typer.Option(
        None, "--version", callback=_version_callback, is_eager=True, help="Show the version and exit."
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
    """Download the reference genomes and labelled sets of shared/docs/data.md into the cache."""
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


if __name__ == "__main__":  # pragma: no cover
    app()
