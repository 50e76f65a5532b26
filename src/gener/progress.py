"""Progress of long work, the same way for every verb: on stderr, never on stdout.

- On a terminal: a rich bar (done/total, rate, elapsed, time left).
- Off a terminal (a log file, a workflow manager): one plain line about every 10 s,
  ``annotating: 1,203,000/4,641,652 bp (25.9%), 21,410 bp/s, ETA 2m41s``, so a log shows
  that work goes on and how long it will take, without a bar's control characters.
- ``quiet`` (the verbs' ``-q``): no progress and no summary lines; warnings and errors stay.
- Loading bars of transformers and huggingface_hub ("Loading weights") show only when
  ``verbose`` (``-v``).

Under torchrun only rank 0 reports. Verbs set the level once (:func:`configure`); library
code takes progress callbacks and never imports this module's state.
"""

from __future__ import annotations

import os
import sys
import time

from rich.console import Console

from gener import distributed

INTERVAL = 10.0  # seconds between plain progress lines off a terminal

# The one stderr console: progress, warnings, summaries and errors (an error stays one line).
stderr = Console(stderr=True, soft_wrap=True, quiet=not distributed.is_main())
_state = {"quiet": False, "verbose": False}


def configure(*, quiet: bool = False, verbose: bool = False) -> None:
    """Set the verbosity for this process (the CLI calls it before a verb runs)."""
    _state.update(quiet=bool(quiet), verbose=bool(verbose))
    _loading_bars(verbose)


def is_quiet() -> bool:
    return _state["quiet"] or not distributed.is_main()


def info(message: str) -> None:
    """A summary or log line (rich markup allowed); silent with ``-q``."""
    if not is_quiet():
        stderr.print(message)


def _loading_bars(enabled: bool) -> None:
    # huggingface_hub reads the variable when imported and transformers follows it; modules
    # already imported are switched directly (importing transformers here would cost seconds).
    if not enabled:
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if "huggingface_hub" in sys.modules:
        from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

        (enable_progress_bars if enabled else disable_progress_bars)()
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        (hf_logging.enable_progress_bar if enabled else hf_logging.disable_progress_bar)()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def plain_line(label: str, done: float, total: float | None, unit: str, elapsed: float, *,
               resumed: float = 0.0) -> str:
    """``label: done/total unit (pct), rate unit/s, ETA t`` (what a log file gets); the rate
    counts only what was done in ``elapsed``, not the ``resumed`` part done before."""
    rate = (done - resumed) / elapsed if elapsed > 0 else 0.0
    text = f"{label}: {done:,.0f}" + (f"/{total:,.0f}" if total else "") + f" {unit}"
    if total:
        text += f" ({100 * done / total:.1f}%)"
    text += f", {rate:,.1f} {unit}/s" if rate < 100 else f", {rate:,.0f} {unit}/s"
    if total and rate > 0 and done < total:
        text += f", ETA {_duration((total - done) / rate)}"
    return text + f", {_duration(elapsed)} elapsed"


class Progress:
    """``with Progress("annotating", total=n, unit="bp") as p: p.advance(k)``.

    ``total`` may be None (unknown: no percentage or ETA) or set later with
    :meth:`set_total`. ``interval``: seconds between plain lines off a terminal."""

    def __init__(self, label: str, total: float | None = None, unit: str = "bp", *, interval: float = INTERVAL,
                 terminal: bool | None = None):
        self.label, self.total, self.unit, self.interval = label, total, unit, interval
        self.done = 0.0
        self.resumed = 0.0  # done before this run (a resumed training), left out of the rate
        self._terminal = stderr.is_terminal if terminal is None else terminal
        self._bar = None
        self._started = self._last = 0.0

    def __enter__(self) -> Progress:
        self._started = self._last = time.monotonic()
        if not is_quiet() and self._terminal:
            from rich import progress as rp

            columns = [rp.TextColumn("{task.description}"), rp.BarColumn() if self.total else rp.SpinnerColumn(),
                       rp.TextColumn("{task.completed:,.0f}" + ("/{task.total:,.0f}" if self.total else "")
                                     + f" {self.unit}"),
                       rp.TextColumn("{task.fields[rate]}"), rp.TimeElapsedColumn()]
            if self.total:
                columns.append(rp.TimeRemainingColumn())
            self._bar = rp.Progress(*columns, console=stderr, transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total, rate="")
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def set_total(self, total: float | None) -> None:
        self.total = total
        if self._bar is not None:
            self._bar.update(self._task, total=total)

    def describe(self, text: str) -> None:
        """What is being worked on now (a record id...), shown on a terminal."""
        if self._bar is not None:
            from rich.markup import escape

            self._bar.update(self._task, description=escape(text))

    def resume_at(self, done: float) -> None:
        """Start the count at ``done`` (work finished by an earlier run)."""
        self.done = self.resumed = float(done)
        if self._bar is not None:
            self._bar.update(self._task, completed=done)

    def advance(self, n: float = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self._bar is not None:
            elapsed = max(now - self._started, 1e-9)
            self._bar.update(self._task, advance=n, rate=f"{(self.done - self.resumed) / elapsed:,.0f} {self.unit}/s")
        elif not is_quiet() and now - self._last >= self.interval:
            self._last = now
            stderr.print(plain_line(self.label, self.done, self.total, self.unit, now - self._started,
                                    resumed=self.resumed),
                         markup=False, highlight=False)

    def update_to(self, done: float) -> None:
        """Set the count (for callers that know the total so far, e.g. a Trainer's step)."""
        if done > self.done:
            self.advance(done - self.done)


def trainer_callback(label: str = "training"):
    """A transformers ``TrainerCallback`` that reports optimizer steps through :class:`Progress`
    and each log entry as one line of numbers (``step 40/300: loss 1.3862, learning_rate
    3.9e-04, ...``) on stderr. Pass it to a Trainer after :func:`replace_trainer_output`."""
    from transformers import TrainerCallback

    class _Steps(TrainerCallback):
        def __init__(self):
            self.bar = None

        def on_train_begin(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                self.bar = Progress(label, total=state.max_steps or None, unit="steps").__enter__()

        def on_step_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                if not self.bar.done:  # the Trainer loads a resumed run's step after on_train_begin
                    self.bar.resume_at(state.global_step - 1)
                self.bar.update_to(state.global_step)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not state.is_world_process_zero or not logs or is_quiet():
                return
            numbers = ", ".join(f"{k} {_number(v)}" for k, v in logs.items() if k != "total_flos")
            stderr.print(f"step {state.global_step:,}/{state.max_steps:,}: {numbers}", markup=False, highlight=False)

        def on_train_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.__exit__(None, None, None)
                self.bar = None

    return _Steps()


def replace_trainer_output(trainer, label: str = "training") -> None:
    """Remove the Trainer's own tqdm bar and its printer of log dicts (which go to stdout,
    numbers as strings) and report through :func:`trainer_callback` instead."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(ProgressCallback)
    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(trainer_callback(label))


def _number(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.3e}"
    return f"{value:.4f}"

