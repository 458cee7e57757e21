"""Whether a command can show its terminal UI: Textual draws on standard error and reads keys
from standard input, so both must be a terminal. Imports nothing of ours."""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["is_tty", "can_draw", "on_terminal", "in_foreground", "dumb_terminal"]


def is_tty(stream: Any) -> bool:
    """Whether ``stream`` is an open terminal (None, a pipe, a file or a closed stream is
    not: an app may close ``sys.stdout`` as it is imported)."""
    try:
        return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())
    except (OSError, ValueError):  # closed, or its descriptor is gone
        return False


def dumb_terminal() -> bool:
    """``TERM=dumb``: a terminal that cannot move its cursor (an editor's shell buffer, some
    CI consoles), where a full-screen UI would be a stream of escape codes."""
    return os.environ.get("TERM", "") == "dumb"


def can_draw() -> bool:
    """Standard input and the process's standard error are terminals, and not dumb ones: the
    UI can run. (A command that also prints a report chooses its UI only when standard output
    is one too.)"""
    return is_tty(sys.stdin) and is_tty(sys.__stderr__) and not dumb_terminal()


def in_foreground() -> bool:
    """Whether this process is in its terminal's foreground process group. Not when started in
    the background (``trace run ... &``, or by ``timeout`` in a script: without job control it
    puts its command in a group of its own): there the UI's first change to the terminal
    stops the process (SIGTTOU) until it is brought to the foreground, which may never come."""
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (AttributeError, OSError, ValueError):  # not our controlling terminal: no job control
        return True


def on_terminal() -> bool:
    """Standard output is a terminal as well, and the process is in the terminal's foreground:
    a command that prints a report (``trace run``, ``sim``, ``demo``) shows its UI first. With
    output redirected, standard error (where the UI would draw) redirected, or started in the
    background, it runs headless instead."""
    return is_tty(sys.stdout) and can_draw() and in_foreground()
