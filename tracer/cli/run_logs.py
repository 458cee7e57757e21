"""The logs ``trace run`` keeps beside its recording: what the server and the app printed.

A real server's output (its log, the app's prints, the tracebacks it logged) is saved to
``<recording>.server.log``; under the live dashboard, what the app prints in this process goes
to ``<recording>.app.log`` instead of over the dashboard. Each is named on stderr with its number
of lines once the run is over, and removed when it is empty. Imports ``tracer.cli.paths`` only,
when a function needs it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["save_server_output", "open_app_log", "say_app_log"]


def save_server_output(server: Any, path: str) -> None:
    """A real server's output (its log, the app's prints and the tracebacks it logged) goes
    to a file beside the recording, named on stderr: an in-process model's app prints to this
    terminal, but a server's lines, one traceback per failed request, would bury the report."""
    save = getattr(server, "save_output", None)
    if save is None:
        return
    from tracer.cli.paths import beside

    log_path = beside(path, ".server.log")
    who = server.describe().get("model")
    _name_output(
        lambda: save(log_path), log_path, f"{who} printed", " (its log and the app's output)"
    )
    # A server that replaces dying workers serves on, and its log may not say so (uvicorn's
    # does at info level only): the fall in throughput would go unexplained.
    note = getattr(server, "restart_note", None)
    if note:
        # Named only when kept: an empty log is removed (``_name_output``).
        see = f" (see {log_path})" if os.path.exists(log_path) else ""
        print(f"trace: {note}{see}", file=sys.stderr)


def open_app_log(path: str, server: Any) -> tuple[str | None, Any]:
    """The file beside the recording that what the app prints goes to while the dashboard
    draws on the terminal (emptied now: it is this run's), open for appending, and the
    ``processes`` model's children told to write there too. ``(None, None)``, said on stderr,
    when it cannot be opened: the prints are then lost, as Textual's capture drops them."""
    from tracer.cli.paths import beside

    log_path = beside(path, ".app.log")
    try:
        # Appending: the children append to it as well, and no write overwrites another.
        prints = open(log_path, "a", encoding="utf-8", errors="backslashreplace")  # noqa: SIM115
        prints.truncate(0)
    except OSError as exc:
        print(
            f"trace: warning: cannot save what the app prints to {log_path}: "
            f"{exc.strerror or exc}; it is not kept while the dashboard runs.",
            file=sys.stderr,
        )
        return None, None
    if hasattr(server, "app_output"):
        server.app_output = log_path
    return log_path, prints


def say_app_log(log_path: str, prints: Any) -> None:
    """Close the app's output file and name it on stderr, as ``save_server_output`` does."""
    _name_output(prints.close, log_path, "the app printed")


def _name_output(finish: Callable[[], Any], log_path: str, who: str, what: str = "") -> None:
    """``finish`` writing a run's output to ``log_path``, then one line on stderr naming it
    with its number of lines; a file left empty is removed, and nothing said."""
    from tracer.cli.paths import lines_kept

    try:
        finish()
        lines = lines_kept(log_path)
    except OSError as exc:
        print(f"trace: could not save what was printed to {log_path}: {exc}", file=sys.stderr)
        return
    if lines:
        said = "1 line" if lines == 1 else f"{lines:,} lines"
        print(f"{who} {said}{what}: {log_path}", file=sys.stderr)
