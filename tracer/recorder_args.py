"""Checking a ``tracer.Recorder``'s arguments before it changes anything: each mistake is a
``UsageError`` in one line, never a recording ``tracer.load`` then refuses, a thread that dies
or a bare TypeError at the first write. Imports only ``tracer.errors`` and ``tracer.recording``.
"""

from __future__ import annotations

import math
import os
import threading
from typing import Any

from tracer.errors import UsageError
from tracer.recording import header_problem, path_argument

__all__ = ["check_arguments", "check_header", "file_path"]

_OWN_HEADER_FIELDS = ("format", "version", "monotonic_ns", "unix_ns")
"""Header keywords a recorder refuses: the format it writes, and t=0's readings (``start_ns``
and ``wall_clock`` set those)."""


def file_path(path: Any, what: str) -> str:
    """``path`` as text, or ``UsageError`` when it cannot name a file to write: not a path
    (``path_argument``), empty (the working directory) or an existing folder, which failed
    late, at the first write or at exit, with a bare TypeError or IsADirectoryError."""
    name = path_argument(path, what)
    if not name:
        raise UsageError(f'{what} takes the path of a recording file, like "run.jsonl", not "".')
    if os.path.isdir(name):
        raise UsageError(
            f'{what}: "{name}" is a folder; give the path of a file in it, like '
            f'"{os.path.join(name, "run.jsonl")}".'
        )
    return name


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_arguments(
    keep: Any,
    clock: Any,
    wall_clock: Any,
    flush_interval: Any,
    start_ns: Any,
    header: dict[str, Any],
) -> None:
    """``UsageError`` for a ``Recorder`` argument of the wrong kind (the header's values are
    checked once it is built, by ``check_header``)."""
    if keep is not None and not isinstance(keep, bool):
        raise UsageError(f"Recorder: keep must be True, False or None, not {keep!r}.")
    for name, value, example in (
        ("clock", clock, "monotonic_ns"),
        ("wall_clock", wall_clock, "time_ns"),
    ):
        if not callable(value):
            raise UsageError(
                f"Recorder: {name} must be a function returning integer nanoseconds, like "
                f"time.{example}, not {value!r}."
            )
    # The writer thread waits this long between drains: 0 or less would spin it, and past
    # threading.TIMEOUT_MAX (inf) the wait raises OverflowError and the thread dies.
    if not (
        _is_number(flush_interval)
        and math.isfinite(flush_interval)
        and 0 < flush_interval <= threading.TIMEOUT_MAX
    ):
        raise UsageError(
            f"Recorder: flush_interval must be a positive number of seconds, like 0.2, not "
            f"{flush_interval!r}."
        )
    if start_ns is not None and (not isinstance(start_ns, int) or isinstance(start_ns, bool)):
        raise UsageError(
            f"Recorder: start_ns must be an integer clock reading in nanoseconds (or None: "
            f"now), not {start_ns!r}."
        )
    own = [name for name in _OWN_HEADER_FIELDS if name in header]
    if own:
        raise UsageError(
            f"Recorder: {', '.join(own)} cannot be given: the recorder writes format "
            "gateway-trace, version 1, and its clock fields come from start_ns and wall_clock."
        )


def check_header(header: dict[str, Any]) -> None:
    """``UsageError`` when ``tracer.load`` would refuse the header built from the arguments
    (the same rule: ``tracer.recording.header_problem``)."""
    problem = header_problem(header)
    if problem is None:
        return
    if problem.startswith('"clock.'):
        problem += " (clock and wall_clock must return integer nanoseconds)"
    raise UsageError(
        f"Recorder: in the header, {problem}; tracer.load would read the recording without it."
    )
