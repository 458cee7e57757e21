"""Whether a command can show its terminal UI: Textual draws on standard error and reads keys
from standard input, so both must be a terminal. Imports nothing of ours."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["is_tty", "can_draw", "on_terminal"]


def is_tty(stream: Any) -> bool:
    """Whether ``stream`` is an open terminal (None, a pipe or a file is not)."""
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


def can_draw() -> bool:
    """Standard input and the process's standard error are terminals: the UI can run. (A
    command that also prints a report chooses its UI only when standard output is one too.)"""
    return is_tty(sys.stdin) and is_tty(sys.__stderr__)


def on_terminal() -> bool:
    """Standard output is a terminal as well: a command that prints a report (``trace run``,
    ``sim``, ``demo``) shows its UI first. With output redirected, or standard error (where the
    UI would draw), it runs headless instead."""
    return is_tty(sys.stdout) and can_draw()
