"""The ``gener`` command line: one verb per workflow, used as a Unix tool.

- Results go to stdout or to ``-o`` (``-o -`` is stdout); progress, warnings, summaries
  and errors go to stderr (:mod:`gener.progress`), the same for every verb.
- Bad input, a bad option value or an output that cannot be written is one
  ``error: ...`` line on stderr and exit code 2, never a traceback; outputs are checked
  before any model loads, and a failed run leaves no half-written file (SIGTERM and
  SIGINT included).
- Every verb takes ``-q`` (no progress, no summary) and ``-v`` (show the loading bars of
  transformers and huggingface_hub).
"""

from __future__ import annotations

import functools
import inspect
import os
import signal
import sys
import warnings
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

try:  # typer >= 0.20 vendors click
    from typer._click import exceptions as _click_errors
except ImportError:  # pragma: no cover - older typer on click itself
    from click import exceptions as _click_errors

import gener
from gener import distributed, progress
from gener.errors import GenerInputError


def _error(message: str) -> None:
    progress.stderr.print(f"[bold red]error:[/] {escape(message)}", highlight=False)


def _terminate(signum, frame):
    # SIGTERM as an exception, so that atomic writes and run directories clean up on the way out.
    raise SystemExit(128 + signum)


class _Gener(TyperGroup):
    """The top-level command: a usage error (unknown option, bad value) is one line too."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        code = _run(lambda: super(_Gener, self).main(args=args, prog_name=prog_name, complete_var=complete_var,
                                                     standalone_mode=False, **extra))
        if standalone_mode:
            sys.exit(code)
        return code


def _run(call) -> int:
    handler = None
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        try:
            handler = signal.signal(signal.SIGTERM, _terminate)
        except ValueError:  # not the main thread (an embedding application): leave signals alone
            pass
    try:
        with warnings.catch_warnings():  # Python warnings (gener's, a library's) as one line each
            warnings.showwarning = lambda message, *args, **kwargs: warn(str(message))
            rv = call()
        return rv if isinstance(rv, int) else 0
    except _click_errors.NoArgsIsHelpError as exc:
        from typer import rich_utils

        rich_utils.rich_format_error(exc)
        return 2
    except _click_errors.UsageError as exc:
        where = f" (see {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
        _error(exc.format_message().replace("\n", " ") + where)
        return 2
    except _click_errors.ClickException as exc:
        _error(exc.format_message())
        return exc.exit_code
    except typer.Abort:
        return 130
    except GenerInputError as exc:  # raised by an option callback, before a verb runs
        _error(str(exc))
        return 2
    except BrokenPipeError:  # `gener ... | head`: the reader has what it wanted
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), sys.stdout.fileno())
        return 141
    finally:
        if handler is not None:
            signal.signal(signal.SIGTERM, handler)


app = typer.Typer(
    name="gener",
    cls=_Gener,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
data_app = typer.Typer(help="Reference data: fetch, list; gene regions: regions, stats, tokenize; family (CDS of a protein family); task (labelled sets).", no_args_is_help=True)
app.add_typer(data_app, name="data")
finetune_app = typer.Typer(help="Fine-tune a model for one job: annotator, clm, classify.", no_args_is_help=True)
app.add_typer(finetune_app, name="finetune")

# Under torchrun only rank 0 speaks; the other ranks share the work and stay quiet.
console = Console(quiet=not distributed.is_main())  # results: stdout
err_console = progress.stderr  # everything else
say = progress.info  # a summary or log line on stderr, silent with -q


def warn(message: str) -> None:
    err_console.print(f"[yellow]warning:[/] {escape(message)}")


_COMMON = (
    inspect.Parameter("quiet", inspect.Parameter.KEYWORD_ONLY, annotation="bool",
                      default=typer.Option(False, "-q", "--quiet", help="No progress and no summary on stderr (warnings and errors stay).")),
    inspect.Parameter("verbose", inspect.Parameter.KEYWORD_ONLY, annotation="bool",
                      default=typer.Option(False, "-v", "--verbose", help="Also show the model-loading bars of transformers / huggingface_hub.")),
)


def friendly_errors(fn):
    """Give a verb ``-q``/``-v`` and print bad-input errors as one line instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, quiet: bool = False, verbose: bool = False, **kwargs):
        progress.configure(quiet=quiet, verbose=verbose)
        try:
            return fn(*args, **kwargs)
        except GenerInputError as exc:
            _error(str(exc))
            raise typer.Exit(2) from None

    signature = inspect.signature(fn)
    wrapper.__signature__ = signature.replace(parameters=[*signature.parameters.values(), *_COMMON])
    wrapper.__annotations__ = {**fn.__annotations__, "quiet": "bool", "verbose": "bool"}
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
    """GENERator / GENERanno genomic foundation models: real genomes in, genes and sequences
    out, with the published checkpoints or the small embedded models.

    [bold]Main entry points[/]

    gener annotate genome.fna > genes.gff3   (Prodigal's flags: -i -o -a -d -f -g -p -c -m -q)

    gener generate --prompt ATG... -o new.fa  |  gener score seqs.fa  |  gener embed seqs.fa -o emb.parquet

    gener finetune classify --data task.csv -o run/  |  gener pretrain --preset generator-tiny ...

    In Python: help(gener) lists them (gener.load, the Annotator, the tokenizers, gener.io).

    Results go to stdout or -o (-o - is stdout); progress, summaries and errors to stderr.
    """


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
    """``--set KEY=VALUE`` items as config overrides. Values are JSON (numbers, true/false,
    lists) or else strings; a key that is no config field of GENERator or GENERanno, or a
    string where the field holds a number or a flag, is refused here rather than when the
    model is built (or never)."""
    import json

    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise GenerInputError(f"--set {item!r}: expected KEY=VALUE (e.g. num_hidden_layers=2)")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
        _check_override(key, out[key], item)
    return out


@functools.cache
def _config_defaults() -> dict:
    from gener.modeling.presets import PRESETS, build_config

    defaults: dict = {}
    for name in PRESETS:
        for key, value in build_config(name).to_dict().items():
            defaults.setdefault(key, value)
    return defaults


def _check_override(key: str, value, item: str) -> None:
    defaults = _config_defaults()
    if key not in defaults:
        raise GenerInputError(f"--set {item!r}: {key!r} is not a model config field (e.g. num_hidden_layers, "
                              "hidden_size, intermediate_size, num_attention_heads)")
    default = defaults[key]
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, (int, float)):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = ok and (isinstance(default, float) or float(value).is_integer())
    else:
        return
    if not ok:
        kind = "true or false" if isinstance(default, bool) else ("a number" if isinstance(default, float) else "an integer")
        raise GenerInputError(f"--set {item!r}: {key} must be {kind}")


def check_device(value: Optional[str]) -> Optional[str]:
    """``--device``: a torch device name this machine has (checked before any model loads)."""
    if value is not None:
        from gener.modeling.loading import check_device as _check

        _check(value)
    return value


def device_option(help: str = "torch device (default: cuda if available, else cpu).") -> Optional[str]:
    """The ``--device`` option of every verb that runs a model."""
    return typer.Option(None, "--device", help=help, callback=_device_callback)


def _device_callback(value: Optional[str]) -> Optional[str]:
    try:
        return check_device(value)
    except GenerInputError as exc:
        raise typer.BadParameter(str(exc).removeprefix(f"--device {value!r}: ")) from None


DEFAULT_GENERATOR = "gener-generator-tiny"


def check_output(out, *inputs, directory: bool = False) -> None:
    """An output before any work (see :func:`gener.io._files.check_output`)."""
    from gener.io._files import check_output as check

    check(out, inputs=inputs, directory=directory)


def check_outputs(outputs, *inputs) -> None:
    """Several file outputs of one verb: each writable, none an input, all different."""
    from gener.io._files import check_distinct

    for out in outputs:
        if out is not None:
            check_output(out, *inputs)
    check_distinct(outputs)


def to_stdout(out) -> bool:
    """True when ``-o`` is stdout: the verb's report then goes to stderr."""
    return out is not None and os.fspath(out) == "-"


def report_console(out) -> Console:
    """Where a verb's report (table, JSON) goes: stdout, unless stdout carries ``-o -``."""
    return err_console if to_stdout(out) else console


# The verbs live in one module per workflow; importing them registers them on ``app``, in
# the order `gener --help` lists them.
from gener.cli import annotation  # noqa: E402,F401,I001
from gener.cli import generation  # noqa: E402,F401
from gener.cli import design  # noqa: E402,F401
from gener.cli import training  # noqa: E402,F401
from gener.cli import data  # noqa: E402,F401
