"""``trace run --headless`` (and any run off a terminal): the load under a progress bar.

The run goes on a worker thread while the main thread draws rich's progress bar on stderr and
takes Ctrl-C: the first one stops the load and keeps the recording, a second one interrupts.
The bar's line fits the terminal's width: as it narrows, the bar goes first, then the
unanswered count, the title and the failed responses; requests done (or seconds run) and the
time elapsed stay. Imports rich and ``tracer.run`` when it runs, never Textual.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from tracer.cli.signals import ctrl_c_sets

__all__ = ["run_headless", "progress_bar"]


def run_headless(
    config: Any,
    recorder: Any,
    server: Any,
    err: Any,
    begin: Any,
    *,
    stop: threading.Event | None = None,
    on_app_exit: Callable[[int], None] | None = None,
) -> Any:
    """Run on a worker thread with a progress bar; Ctrl-C (or ``stop``, set) stops the load but
    keeps the recording. ``on_app_exit`` goes to ``run``."""
    from tracer.run import run

    stop = threading.Event() if stop is None else stop
    outcome: dict[str, Any] = {}
    total = config.requests if config.duration is None else config.duration
    with progress_bar(err, total, seconds=config.duration is not None) as bar:
        task = bar.task_ids[0]

        def progress(stats: Any) -> None:
            done = stats.done if config.duration is None else min(stats.elapsed, config.duration)
            bar.update(
                task,
                completed=done,
                unanswered=stats.in_flight,
                errors=stats.errors + stats.timeouts,
            )

        def work() -> None:
            try:
                begin()
                outcome["result"] = run(
                    config,
                    recorder,
                    server=server,
                    stop=stop,
                    progress=progress,
                    on_app_exit=on_app_exit,
                )
            except BaseException as exc:  # re-raised on the main thread
                outcome["error"] = exc
            finally:
                finished.set()

        # Wait on an Event, not Thread.join: a join interrupted by Ctrl-C may return early,
        # while the run is still writing its last events.
        finished = threading.Event()
        with ctrl_c_sets(stop):
            threading.Thread(target=work, name="trace-run", daemon=True).start()
            while not finished.wait(0.1):
                if stop.is_set():
                    err.print("stopping: finishing the recording…")
                    finished.wait(10.0)
                    break
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


BAR_MIN = 10
"""Fewer cells than this left for the bar: no bar (it would say nothing a count does not)."""
BAR_MAX = 40
"""The bar's widest, as rich's own default."""


def progress_bar(console: Any, total: float, *, seconds: bool = False) -> Any:
    """A progress display on ``console`` with one task, ``total`` requests (or ``seconds``),
    and the fields ``unanswered`` and ``errors``, whose line fits the console's width."""
    from rich.measure import Measurement
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        Task,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.table import Table

    done = (
        TextColumn("{task.completed:.0f}/{task.total:.0f} s") if seconds else MofNCompleteColumn()
    )
    # Most wanted first: what the line keeps longest as the terminal narrows.
    parts = [
        ("done", done),
        ("elapsed", TimeElapsedColumn()),
        ("title", TextColumn("[bold]trace run")),
        # What the clients saw fail; the report's errors add what the app raised after its
        # response was complete (its client had the answer): two different counts.
        ("failed", TextColumn("failed responses {task.fields[errors]}")),
        # What the clients have sent and not had answered: not "in flight", which in the
        # report and on the dashboard is in the app (4 threads, 50 clients: 4 in flight, 50
        # unanswered).
        ("unanswered", TextColumn("unanswered {task.fields[unanswered]}")),
    ]
    order = ("title", "bar", "done", "elapsed", "unanswered", "failed")  # on the line

    class FittedProgress(Progress):
        """Rich's progress display, its line made of the parts the width has room for."""

        def make_tasks_table(self, tasks: Any) -> Table:
            """One row per visible task, of the parts that fit (``Progress``' own table
            squeezes every column instead, cutting the counts and the time)."""
            table = Table.grid(padding=(0, 1))
            rows = [self._row(task) for task in tasks if task.visible]
            for _ in range(max((len(row) for row in rows), default=0)):
                table.add_column(no_wrap=True)
            for row in rows:
                table.add_row(*row)
            return table

        def _row(self, task: Task) -> list[Any]:
            width = self.console.width
            shown: dict[str, Any] = {}
            used = -1  # a space between two parts
            for name, column in parts:
                text = column(task)
                size = Measurement.get(self.console, self.console.options, text).maximum + 1
                if used + size > width:
                    break
                shown[name] = text
                used += size
            room = min(BAR_MAX, width - used - 1)
            if len(shown) == len(parts) and room >= BAR_MIN:
                shown["bar"] = BarColumn(bar_width=room)(task)
            return [shown[name] for name in order if name in shown]

    bar = FittedProgress(console=console, transient=False)
    bar.add_task("run", total=total, unanswered=0, errors=0)
    return bar
