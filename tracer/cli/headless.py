"""``trace run --headless`` (and any run off a terminal): the load under a progress bar.

The run goes on a worker thread while the main thread draws rich's progress bar on stderr and
takes Ctrl-C: the first one stops the load and keeps the recording, a second one interrupts.
Imports rich and ``tracer.run`` when it runs, never Textual.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from tracer.cli.signals import ctrl_c_sets

__all__ = ["run_headless"]


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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tracer.run import run

    stop = threading.Event() if stop is None else stop
    outcome: dict[str, Any] = {}
    total = config.requests if config.duration is None else config.duration
    columns = [
        TextColumn("[bold]trace run"),
        BarColumn(),
        MofNCompleteColumn()
        if config.duration is None
        else TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
        # What the clients have sent and not had answered: not "in flight", which in the report
        # and on the dashboard is in the app (4 threads, 50 clients: 4 in flight, 50 unanswered).
        # What the clients saw fail; the report's errors add what the app raised after its
        # response was complete (its client had the answer): two different counts.
        TextColumn("unanswered {task.fields[unanswered]}  failed responses {task.fields[errors]}"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=err, transient=False) as bar:
        task = bar.add_task("run", total=total, unanswered=0, errors=0)

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
