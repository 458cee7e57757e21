"""Recordings on disk: the header, the JSON Lines writer and the tolerant reader.

A recording is one header line followed by one event per line (docs/recording-format.md).
This module imports only ``tracer.events``, ``tracer.errors`` and the version, so the simulator
and every reader can use it.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import platform
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from tracer._version import __version__
from tracer.errors import RecordingFormatError, RecordingNotFound
from tracer.events import Event

__all__ = [
    "FORMAT",
    "VERSION",
    "Recording",
    "RecordingWriter",
    "make_header",
    "load",
    "open_text",
    "view_start",
    "LATE_START",
]

FORMAT = "gateway-trace"
VERSION = 1


def make_header(
    *,
    source: str = "traced",
    app: str | None = None,
    interface: str | None = None,
    server: dict[str, Any] | None = None,
    load: dict[str, Any] | None = None,
    monotonic_ns: int | None = None,
    unix_ns: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Build a version-1 header; ``monotonic_ns``/``unix_ns`` anchor t=0 to wall time."""
    header: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "source": source,
        "app": app,
        "interface": interface,
        "server": server or {},
        "load": load or {},
        "clock": {
            "monotonic_ns": time.monotonic_ns() if monotonic_ns is None else monotonic_ns,
            "unix_ns": time.time_ns() if unix_ns is None else unix_ns,
        },
        "host": {
            "python": platform.python_version(),
            "platform": sys.platform,
            "cpus": os.cpu_count() or 1,
        },
        "tool_version": __version__,
    }
    header.update(extra)
    return header


@dataclass(slots=True)
class Recording:
    """A header and its events, sorted by ``(t, seq)``."""

    header: dict[str, Any]
    """The first line of the recording (format, version, source, app, server, load, clock...)."""
    events: list[Event] = field(default_factory=list)
    """Every event, in time order."""
    truncated: bool = False
    """True when the last line was cut short (the run was interrupted) and skipped."""
    path: str | None = None
    """Where it was read from, if from a file."""

    def sort(self) -> None:
        """Put the events in time order (ties broken by recording order)."""
        self.events.sort(key=_time_order)

    def wall_ns(self, t: int) -> int:
        """Convert a recording time (ns since start) to nanoseconds since the Unix epoch."""
        return int(self.header.get("clock", {}).get("unix_ns", 0)) + t

    def requests(self) -> dict[int, list[Event]]:
        """Events grouped by request id (events without a request are left out)."""
        grouped: dict[int, list[Event]] = {}
        for event in self.events:
            if event.req is not None:
                grouped.setdefault(event.req, []).append(event)
        return grouped

    @property
    def title(self) -> str:
        """A short human label: app, server model and interface."""
        server = self.header.get("server") or {}
        model = server.get("model", "?")
        interface = (self.header.get("interface") or "?").upper()
        source = " (simulated)" if self.header.get("source") == "simulated" else ""
        app = self.header.get("app") or "?"
        label = self.header.get("label")  # a demo names its sides ("WSGI, 4 threads")
        prefix = f"{label}: " if isinstance(label, str) and label else ""
        return f"{prefix}{app} · {interface} {model}{source}"


LATE_START = 0.05
"""A timeline whose first event comes later than this share of its length begins there."""


def view_start(first_event: int, t_max: int) -> int:
    """Where a timeline of recordings ending at ``t_max`` begins: at 0, or at the first event
    when that comes late (``LATE_START``), as when a real server or worker processes took a
    while to start: the view would otherwise open on a stretch of nothing."""
    return first_event if first_event > LATE_START * t_max else 0


def _time_order(event: Event) -> tuple[int, int]:
    return (event.t, event.seq)


def open_text(path: str | os.PathLike[str], mode: str) -> IO[str]:
    """Open a recording for text I/O, gzip-compressed when the name ends in ``.gz``."""
    if str(path).endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, mode + "b"), encoding="utf-8", newline="\n")  # type: ignore[type-var]
    return open(path, mode, encoding="utf-8", newline="\n")


# default=str keeps a stray non-JSON value (bytes, an enum) from losing the whole line.
# One encoder for every line: json.dumps with options builds a new encoder per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)


def _dumps(obj: dict[str, Any]) -> str:
    # orjson writes the same compact line as the stdlib encoder, about six times faster; the
    # stdlib takes over for what orjson refuses (an int past 64 bits).
    try:
        return orjson.dumps(obj, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):
        return _ENCODER.encode(obj)


# orjson.JSONDecodeError is a json.JSONDecodeError, so the reader's error handling is unchanged.
_loads = orjson.loads


class RecordingWriter:
    """Writes a recording line by line, so a crash loses at most the line being written."""

    def __init__(self, path: str | os.PathLike[str], header: dict[str, Any]) -> None:
        self.path = str(path)
        parent = Path(self.path).parent
        parent.mkdir(parents=True, exist_ok=True)
        self._file = open_text(self.path, "w")
        self._file.write(_dumps(header) + "\n")
        self._file.flush()
        self.count = 0

    def write(self, events: Iterable[Event]) -> None:
        """Append events and flush them to the OS."""
        lines = [_dumps(event.to_dict()) for event in events]
        if lines:
            self._file.write("\n".join(lines) + "\n")
            self._file.flush()
            self.count += len(lines)

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        if not self._file.closed:
            self._file.close()


def _parse_lines(lines: Iterator[str], path: str) -> Recording:
    try:
        first = next(lines)
    except StopIteration:
        raise RecordingFormatError(f'"{path}" is empty: not a gateway-trace recording.') from None
    try:
        header = _loads(first)
    except json.JSONDecodeError:
        raise RecordingFormatError(
            f'"{path}" is not a gateway-trace recording (its first line is not JSON).'
        ) from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise RecordingFormatError(
            f'"{path}" is not a gateway-trace recording (no "format": "{FORMAT}" header).'
        )
    version = header.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise RecordingFormatError(
            f'"{path}" is a version {version} recording; this gateway-tracer reads up to '
            f"version {VERSION}. Upgrade gateway-tracer to read it."
        )
    events: list[Event] = []
    truncated = False
    pending: str | None = None
    number = 1
    for line in lines:
        number += 1
        if pending is not None:
            # A bad line that is not the last one: the file is corrupt, not merely cut short.
            raise RecordingFormatError(f'"{path}": line {number - 1} is not a valid event.')
        if not line.strip():
            continue
        try:
            obj = _loads(line)
            events.append(Event.from_dict(obj))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            pending = line
    if pending is not None:
        truncated = True
    recording = Recording(header=header, events=events, truncated=truncated, path=path)
    recording.sort()
    return recording


def _lines_until_eof(handle: IO[str]) -> Iterator[str]:
    # A gzip stream cut short by a crash raises EOFError at its end: keep what came before it,
    # and hand the parser a broken last line so the recording is marked truncated.
    try:
        yield from handle
    except EOFError:
        yield "\x00truncated"


def load(path: str | os.PathLike[str]) -> Recording:
    """Read a recording (``.jsonl`` or ``.jsonl.gz``), sorted by ``(t, seq)``.

    A truncated last line is skipped (``Recording.truncated``); a foreign, corrupt or newer
    file raises ``RecordingFormatError``; a missing one ``RecordingNotFound``.
    """
    name = os.fspath(path)
    if not os.path.exists(name):
        raise RecordingNotFound(f'Recording "{name}" does not exist.')
    if os.path.isdir(name):
        raise RecordingNotFound(f'"{name}" is a folder, not a recording file.')
    try:
        with open_text(name, "r") as handle:
            return _parse_lines(_lines_until_eof(handle), name)
    except (UnicodeDecodeError, gzip.BadGzipFile, EOFError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise RecordingNotFound(f'Recording "{name}" does not exist.') from None
        raise RecordingFormatError(
            f'"{name}" is not a readable gateway-trace recording ({type(exc).__name__}).'
        ) from None


def loads(text: str, path: str = "<string>") -> Recording:
    """Parse a recording held in a string (tests, pipes)."""
    return _parse_lines(iter(text.splitlines()), path)
