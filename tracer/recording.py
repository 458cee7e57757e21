"""Recordings on disk: the header, the JSON Lines writer and the tolerant reader.

A recording is one header line followed by one event per line (docs/recording-format.md).
This module imports only ``tracer.events``, ``tracer.errors`` and the version, so the simulator
and every reader can use it.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import math
import operator
import os
import platform
import re
import stat
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from tracer._version import __version__
from tracer.errors import RecordingFormatError, RecordingNotFound
from tracer.events import FIELDS, Event
from tracer.gc_pause import paused_gc

__all__ = [
    "FORMAT",
    "VERSION",
    "Recording",
    "EventLines",
    "RecordingWriter",
    "RecordingBusy",
    "make_header",
    "usable_cpus",
    "load",
    "parse_event",
    "parse_line",
    "open_text",
    "view_start",
    "LATE_START",
]

FORMAT = "gateway-trace"
VERSION = 1


def usable_cpus() -> int:
    """The cores this process may run on: its CPU affinity where the platform has one (a
    ``taskset`` or a container's cpuset), else every core of the machine."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


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
            "cpus": usable_cpus(),
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
        return int((self.header.get("clock") or {}).get("unix_ns", 0)) + t

    def requests(self) -> dict[int, list[Event]]:
        """Events grouped by request id (events without a request are left out)."""
        grouped: dict[int, list[Event]] = {}
        for event in self.events:
            if event.req is not None:
                grouped.setdefault(event.req, []).append(event)
        return grouped

    def title_in(self, lang: str = "en") -> str:
        """``title`` with "(simulated)" and the colon after a demo's label said in ``lang``
        (``en`` or ``zh``: "（模拟）", "："); the app and the server model stay as typed."""
        title = self.title
        if lang == "en":
            return title
        if self.header.get("source") == "simulated":
            title = title.removesuffix(SIMULATED["en"]) + SIMULATED.get(lang, SIMULATED["en"])
        label = self.header.get("label")
        if lang == "zh" and isinstance(label, str) and label:
            title = f"{label}：{title.removeprefix(f'{label}: ')}"
        return title

    @property
    def title(self) -> str:
        """A short human label: app, server model and interface."""
        server = self.header.get("server") or {}
        # What is not known is left out (a library recording has no server model).
        how = " ".join(
            str(part)
            for part in ((self.header.get("interface") or "").upper(), server.get("model"))
            if part
        )
        source = SIMULATED["en"] if self.header.get("source") == "simulated" else ""
        app = self.header.get("app") or "?"
        label = self.header.get("label")  # a demo names its sides ("WSGI, 4 threads")
        prefix = f"{label}: " if isinstance(label, str) and label else ""
        return f"{prefix}{app}{' · ' + how if how else ''}{source}"


SIMULATED: dict[str, str] = {"en": " (simulated)", "zh": "（模拟）"}
"""How a title says that a recording was simulated, per language."""

LATE_START = 0.05
"""A timeline whose first event comes later than this share of its length begins there."""


def view_start(first_event: int, t_max: int) -> int:
    """Where a timeline of recordings ending at ``t_max`` begins: at 0, or at the first event
    when that comes late (``LATE_START``), as when a real server or worker processes took a
    while to start: the view would otherwise open on a stretch of nothing."""
    return first_event if first_event > LATE_START * t_max else 0


def _time_order(event: Event) -> tuple[int, int]:
    return (event.t, event.seq)


_GZIP_MAGIC = b"\x1f\x8b"


def _is_gzip(path: str | os.PathLike[str]) -> bool:
    """Whether the file starts as a gzip stream does (whatever its name says)."""
    with open(path, "rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def open_text(path: str | os.PathLike[str]) -> IO[str]:
    """Open a recording for reading text, gzip-decompressed when it is compressed.

    The file's first bytes decide, not its name: a compressed recording renamed to ``.jsonl``
    (or a plain one to ``.gz``) still reads. (``RecordingWriter`` opens files for writing.)
    """
    if _is_gzip(path):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="\n")
    return open(path, encoding="utf-8", newline="\n")


def _default(value: Any) -> str:
    """What a value JSON has no type for is written as: its ``str()``, so a stray bytes or
    enum does not lose the whole line, and a placeholder when even ``str()`` raises."""
    try:
        return str(value)
    except Exception:
        return f"<unprintable {type(value).__name__} object>"


# One encoder for every line: json.dumps with options builds a new encoder per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_default)

# A lone surrogate inside a JSON string, as the stdlib encoder leaves it with ensure_ascii off.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _spelled_out(match: re.Match[str]) -> str:
    # An escaped backslash, then the code point's digits: the line reads back as the text
    # ``\udcff`` that ``tracer.events.encodable`` makes, not as the surrogate itself.
    return f"\\\\u{ord(match.group()):04x}"


def _dumps(obj: dict[str, Any]) -> str:
    """One event or header as a compact JSON line that UTF-8 can always encode."""
    # orjson writes the same compact line as the stdlib encoder, about six times faster; the
    # stdlib takes over for what orjson refuses: an int past 64 bits, or a lone surrogate
    # (which would stop the file at this line, since the writer is strict UTF-8), spelled out.
    try:
        return orjson.dumps(obj, default=_default, option=orjson.OPT_NON_STR_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):
        return _SURROGATE.sub(_spelled_out, _ENCODER.encode(obj))


# orjson.JSONDecodeError is a json.JSONDecodeError, so the reader's error handling is unchanged.
_loads = orjson.loads


class RecordingBusy(OSError):
    """Another live process is writing the recording at this path (its lock is held)."""


def _lock(handle: IO[bytes]) -> bool:
    """Take the advisory write lock of an open recording; False when another process has it.

    A lock, not a check for the file's existence: a server's worker processes that each
    import the app (gunicorn ``-w 2``) would otherwise truncate and interleave one file.
    """
    try:
        import fcntl
    except ImportError:  # no advisory locks here (Windows): the first writer is not protected
        return True
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class RecordingWriter:
    """Writes a recording line by line, so a crash loses at most the line being written.

    A regular file is locked while open (``RecordingBusy`` when another live process holds
    it) and truncated only once the lock is taken; anything else (``/dev/null``, a pipe) is
    written as it is. A ``.gz`` file is a gzip stream of one member per ``checkpoint()``.
    """

    def __init__(self, path: str | os.PathLike[str], header: dict[str, Any]) -> None:
        self.path = str(path)
        parent = Path(self.path).parent
        parent.mkdir(parents=True, exist_ok=True)
        raw = open(self.path, "ab")  # appending: nothing is cut before the lock is ours
        self._raw = raw
        self._gzip = self.path.endswith(".gz")
        self._file: io.TextIOWrapper | None = None
        self.count = 0
        try:
            # A device cannot be truncated (EINVAL), and its lock is no file's: two processes
            # writing /dev/null would send the second to a /dev/null.<pid> it cannot create.
            if stat.S_ISREG(os.fstat(raw.fileno()).st_mode):
                if not _lock(raw):
                    raise RecordingBusy(f"{self.path} is being written by another process")
                raw.truncate(0)
            file = self._text()
            file.write(_dumps(header) + "\n")
            file.flush()
        except BaseException:
            # No file object left for the garbage collector to close (a ResourceWarning) or
            # to flush into a closed file.
            with contextlib.suppress(Exception):
                self.close()
            raise

    def _text(self) -> io.TextIOWrapper:
        """The text stream lines go to; for ``.gz``, a new gzip member after a checkpoint."""
        file = self._file
        if file is None:
            binary: IO[bytes] = self._raw
            if self._gzip:
                # No time or name in the member's header (``gzip -n``): the same run (a seeded
                # simulation) gives the same bytes, wherever and whenever it is written.
                binary = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0)  # type: ignore[assignment]
            file = self._file = io.TextIOWrapper(binary, encoding="utf-8", newline="\n")
        return file

    def write(self, events: Iterable[Event]) -> None:
        """Append events and flush them to the OS."""
        lines = [_dumps(event.to_dict()) for event in events]
        if lines:
            file = self._text()
            file.write("\n".join(lines) + "\n")
            file.flush()
            self.count += len(lines)

    def checkpoint(self) -> None:
        """Leave the file complete as it stands, for a process that may end without closing it
        (uvicorn re-raises its stop signal after the lifespan's end, so no atexit runs).

        A ``.gz`` stream's current member gets its trailer; the next write, if any, begins
        another (gzip readers read the members of a file as one stream). Rare by design: a
        member costs ~20 bytes and restarts the compressor's window. A plain file is complete
        after every write already.
        """
        if self._gzip and self._file is not None:
            file, self._file = self._file, None
            file.close()  # the member's trailer; a GzipFile leaves the file it was given open
            self._raw.flush()

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        try:
            if self._file is not None and not self._file.closed:
                self._file.close()
        finally:
            self._raw.close()  # a GzipFile leaves the file it was given open

    def abandon(self) -> None:
        """Never write again, not even buffered bytes: for a forked child, whose copy of the
        writer shares the parent's file. Its descriptor now points at the null device, so the
        copy's buffers, flushed whenever they are collected, go nowhere."""
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._raw.fileno())
        finally:
            os.close(devnull)


_JSON_TYPES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


# Header fields the readers use, and the JSON type each must have when present and not null
# (docs/recording-format.md, "What tracer.load checks"). Others are not checked.
_HEADER_FIELDS: tuple[tuple[str, type], ...] = (
    ("app", str),
    ("interface", str),
    ("source", str),
    ("label", str),
    ("server", dict),
    ("load", dict),
    ("clock", dict),
    ("host", dict),
    ("demo", dict),
)
# Fields inside those objects that are read: (object, field, type); present ones must be it.
_HEADER_SUBFIELDS: tuple[tuple[str, str, type], ...] = (
    ("clock", "unix_ns", int),
    ("clock", "monotonic_ns", int),
    ("demo", "lang", str),
)


def _header_problem(header: dict[str, Any]) -> str | None:
    """What is wrong with the shape of a version-1 header, or None."""
    for name, kind in _HEADER_FIELDS:
        value = header.get(name)
        if value is not None and type(value) is not kind:
            return f'"{name}" is {_json_type(value)}, not {_JSON_TYPES[kind]}'
    for outer, name, kind in _HEADER_SUBFIELDS:
        holder = header.get(outer)
        if holder is not None and name in holder and type(holder[name]) is not kind:
            return f'"{outer}.{name}" is {_json_type(holder[name])}, not {_JSON_TYPES[kind]}'
    return None


class _BadEvent(ValueError):
    """A line that is JSON but not an event; the message says why."""


_ROW = operator.itemgetter(*FIELDS)
_new = tuple.__new__
# The JSON type(s) each event field may have, in FIELDS order, for the slow path of
# parse_event (null of pid, tid, thread and data stands for their default).
_FIELD_TYPES: tuple[tuple[str, tuple[type, ...]], ...] = (
    ("seq", (int,)),
    ("t", (int,)),
    ("kind", (str,)),
    ("req", (int, type(None))),
    ("pid", (int,)),
    ("tid", (int,)),
    ("thread", (str,)),
    ("task", (str, type(None))),
    ("dur", (int, type(None))),
    ("data", (dict,)),
)
_DEFAULTS: dict[str, Any] = {"pid": 0, "tid": 0, "thread": ""}
_MAX_NS = 2**63 - 1
"""The latest ``t`` and the longest ``dur``: a signed 64-bit count of nanoseconds (~292 years),
as the monotonic clock and every export format keep time (past it, a conversion to wall
time or to OTLP's unsigned nanoseconds overflows)."""


def parse_event(obj: Any) -> Event:
    """The ``Event`` of one parsed recording line; ``ValueError`` saying why when it is none.

    An event is a JSON object with ``seq``, ``t`` (integers) and ``kind`` (a string); ``req``
    and ``dur`` are integers or null, ``task`` a string or null, ``pid``/``tid`` integers,
    ``thread`` a string and ``data`` an object (null or absent: 0, 0, "" and {}). Exact type
    checks (``true`` is not an integer, ``1.0`` neither): the readers rely on these types.
    """
    if type(obj) is not dict:
        raise _BadEvent(f"it is {_json_type(obj)}, not an object")
    try:
        row = _ROW(obj)
    except KeyError:
        row = tuple(obj.get(name) for name in FIELDS)
    seq, t, kind, req, pid, tid, thread, task, dur, data = row
    # The fast path: every field present and of its type (what every producer writes).
    if (
        type(t) is int
        and t <= _MAX_NS
        and type(seq) is int
        and type(kind) is str
        and type(data) is dict
        and type(pid) is int
        and type(tid) is int
        and type(thread) is str
        and (req is None or type(req) is int)
        and (dur is None or (type(dur) is int and 0 <= dur <= _MAX_NS))
        and (task is None or type(task) is str)
    ):
        return _new(Event, row)
    return _new(Event, _checked(row))


def parse_line(line: str) -> Event:
    """The ``Event`` of one recording line, read as every reader reads it (orjson: no
    integer past 64 bits, no nesting past its depth limit); ``json.JSONDecodeError`` when the
    line is not JSON, ``ValueError`` (see ``event_problem``) when it is no event."""
    return parse_event(_loads(line))


def event_problem(exc: Exception) -> str:
    """Why a parsed line is not an event, from what ``parse_event`` raised."""
    return str(exc) if isinstance(exc, _BadEvent) else "not an event"


def _checked(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """``row`` with defaults for null optional fields, or ``_BadEvent`` naming a bad field."""
    fixed = []
    for (name, kinds), value in zip(_FIELD_TYPES, row, strict=True):
        if value is None:
            if name in ("seq", "t", "kind"):
                raise _BadEvent(f'no "{name}"')
            if name == "data":
                value = {}
            else:
                value = _DEFAULTS.get(name)
        elif type(value) not in kinds:
            allowed = " or ".join(_JSON_TYPES[kind] for kind in kinds)
            raise _BadEvent(f'"{name}" is {_json_type(value)}, not {allowed}')
        elif name == "dur" and value < 0:
            raise _BadEvent(f'"dur" is negative ({value})')
        elif name in ("t", "dur") and value > _MAX_NS:
            raise _BadEvent(f'"{name}" is past 2**63 - 1 ns, the longest a recording holds')
        fixed.append(value)
    return tuple(fixed)


def _parse_lines(lines: Iterator[str], path: str) -> Recording:
    try:
        first = next(lines)
    except StopIteration:
        raise RecordingFormatError(f'"{path}" is empty: not a gateway-trace recording.') from None
    try:
        header = _loads(first)
    except json.JSONDecodeError as exc:
        escape = _lone_surrogate(first, exc)
        if escape is not None:
            raise RecordingFormatError(
                f'"{path}" is not a valid gateway-trace recording: its header holds '
                f"{_LONE_SURROGATE.format(escape)}."
            ) from None
        raise RecordingFormatError(
            f'"{path}" is not a gateway-trace recording (its first line is not JSON).'
        ) from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise RecordingFormatError(
            f'"{path}" is not a gateway-trace recording (no "format": "{FORMAT}" header).'
        )
    version = header.get("version")
    if type(version) is not int or version < 1:
        shape = "no" if version is None else f"{_json_type(version)} as its"
        raise RecordingFormatError(
            f'"{path}" is not a valid gateway-trace recording: its header has {shape} '
            '"version" (a positive integer).'
        )
    if version > VERSION:
        raise RecordingFormatError(
            f'"{path}" is a version {version} recording; this gateway-tracer reads up to '
            f"version {VERSION}. Upgrade gateway-tracer to read it."
        )
    problem = _header_problem(header)
    if problem is not None:
        raise RecordingFormatError(
            f'"{path}" is not a valid gateway-trace recording: in its header, {problem}.'
        )
    with paused_gc():  # millions of objects that all live on: nothing to collect
        events, truncated, order = _read_events(lines, path)
        if order is not None:
            events.sort(key=order)
    return Recording(header=header, events=events, truncated=truncated, path=path)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = "{}, the escape of a lone surrogate, not UTF-8 text"


def _lone_surrogate(line: str, exc: json.JSONDecodeError) -> str | None:
    """The ``\\udcff`` escape orjson refused ``line`` for, or None when it failed for another
    reason. Valid JSON (the stdlib's ``json.dumps`` writes it), but a lone surrogate is no
    character: UTF-8 cannot encode it, and the readers never see one (the writer spells them
    out). orjson points ``exc.pos`` at the escape of the unpaired half."""
    escape = line[exc.pos : exc.pos + 6]
    return escape if _SURROGATE_ESCAPE.fullmatch(escape) else None


def _whole_json(line: str) -> bool:
    """Whether ``line`` parses with the stdlib reader, which takes lone surrogates: a line
    orjson refuses for one that is otherwise whole (a last line without its newline)."""
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def _not_json(line: str, exc: json.JSONDecodeError, number: int, path: str) -> str:
    """Why line ``number``, which orjson refused, is not an event; ``RecordingFormatError``
    when it holds a lone surrogate's escape and was written whole (see ``EventLines``)."""
    escape = _lone_surrogate(line, exc)
    if escape is None:
        return "not JSON"
    why = f"it holds {_LONE_SURROGATE.format(escape)}"
    if line.endswith("\n") or _whole_json(line):
        # Written whole, so not cut short by a crash: wherever it stands, the line is one no
        # reader can take, not a truncation.
        raise RecordingFormatError(
            f'"{path}": line {number} is not a valid event ({why}).'
        ) from None
    return why


class EventLines:
    """The events of a recording's lines after its header, parsed one by one as they are
    iterated. A bad line that is not the last one is corruption (``RecordingFormatError``); a
    bad last line was cut short by a crash: it is skipped and ``truncated`` is set once the
    iteration ends. A line refused only for a lone surrogate's escape was written whole (it
    ends with its newline, or is JSON but for that): corruption even as the last line. Blank
    lines are skipped."""

    def __init__(self, lines: Iterable[str], path: str) -> None:
        self.lines = lines
        self.path = path
        self.truncated = False

    def __iter__(self) -> Iterator[Event]:
        pending: str | None = None  # why the previous line is not an event
        number = 1
        for line in self.lines:
            number += 1
            if pending is not None:
                raise RecordingFormatError(
                    f'"{self.path}": line {number - 1} is not a valid event ({pending}).'
                )
            if not line.strip():
                continue
            try:
                event = parse_line(line)
            except json.JSONDecodeError as exc:
                pending = _not_json(line, exc, number, self.path)
                continue
            except (KeyError, TypeError, ValueError) as exc:
                pending = event_problem(exc)
                continue
            yield event
        self.truncated = pending is not None


_BY_TIME = operator.itemgetter(1)  # an event's ``t``


def _read_events(
    lines: Iterable[str], path: str
) -> tuple[list[Event], bool, Callable[[Event], Any] | None]:
    """The events of a recording's lines after its header, whether its last line was cut
    short, and the key to sort them by (None: they are in time order already).

    ``list(EventLines(lines, path))`` in one loop, with the same verdict on every line, for
    ``load``, which keeps every event (bench/load_speed.py has the figures):

    - ``parse_event``'s fast path inlined, no generator or call per line (its slow path, for
      lines with null or absent fields or wrong types, is called as it is);
    - equal strings and integers stored once: kinds, thread and task names, pids, thread
      idents, request ids and the string values of ``data`` repeat over and over, and each
      parsed line holds new copies of them (a third of the memory of the events);
    - the order checked as the events come: a recording already in ``(t, seq)`` order (a
      simulation writes one) is not sorted, and one in ``seq`` order (one process's file) is
      sorted by ``t`` alone, a stable sort that keeps ``seq`` order among equal times, with
      no ``(t, seq)`` key made per event.
    """
    events: list[Event] = []
    append = events.append
    shared: dict[Any, Any] = {}  # one object of each equal string or integer
    share = shared.setdefault
    loads = _loads
    row_of = _ROW
    new = _new
    max_ns = _MAX_NS
    pending: str | None = None  # why the previous line is not an event
    number = 1
    in_order = by_seq = True
    last_t: float = -math.inf  # before any event
    last_seq: float = -math.inf
    for line in lines:
        number += 1
        if pending is not None:
            raise RecordingFormatError(
                f'"{path}": line {number - 1} is not a valid event ({pending}).'
            )
        try:
            obj = loads(line)
        except json.JSONDecodeError as exc:
            if line.strip():  # blank lines are skipped (orjson refuses them too)
                pending = _not_json(line, exc, number, path)
            continue
        try:
            seq, t, kind, req, pid, tid, thread, task, dur, data = row_of(obj)
        except (KeyError, TypeError):  # a field absent, or no object: parse_event says which
            seq = t = None
        if not (
            type(t) is int
            and t <= max_ns
            and type(seq) is int
            and type(kind) is str
            and type(data) is dict
            and type(pid) is int
            and type(tid) is int
            and type(thread) is str
            and (req is None or type(req) is int)
            and (dur is None or (type(dur) is int and 0 <= dur <= max_ns))
            and (task is None or type(task) is str)
        ):
            try:
                seq, t, kind, req, pid, tid, thread, task, dur, data = parse_event(obj)
            except (KeyError, TypeError, ValueError) as exc:
                pending = event_problem(exc)
                continue
        for key, value in data.items():
            if type(value) is str:
                data[key] = share(value, value)  # a value replaced: the dict keeps its size
        append(
            new(
                Event,
                (
                    seq,
                    t,
                    share(kind, kind),
                    req if req is None else share(req, req),
                    share(pid, pid),
                    share(tid, tid),
                    share(thread, thread),
                    task if task is None else share(task, task),
                    dur,
                    data,
                ),
            )
        )
        if t < last_t or (t == last_t and seq < last_seq):
            in_order = False
            by_seq = by_seq and seq >= last_seq
        elif seq < last_seq:
            by_seq = False
        last_t = t
        last_seq = seq
    if in_order:
        order = None
    else:
        order = _BY_TIME if by_seq else _time_order
    return events, pending is not None, order


# What the UTF-8 decoder says when the data ends inside a character (only at the very end:
# mid-stream, a broken sequence is an "invalid continuation byte" or "invalid start byte").
_CUT_IN_CHARACTER = "unexpected end of data"
# What gzip says when a file ends one byte into the next member's two-byte magic number.
_CUT_IN_MAGIC = "Not a gzipped file (b'\\x1f')"


def lines_until_eof(handle: IO[str]) -> Iterator[str]:
    """The lines of a recording file, ending in one broken line where its gzip stream is cut."""
    # A gzip stream cut short by a crash raises EOFError at its end: keep what came before it,
    # and hand the parser a broken last line so the recording is marked truncated. A cut one
    # byte into the header of a later member (the writer starts one at every checkpoint) is
    # the same crash, but gzip reports it as a foreign file; anywhere else it is one.
    lines = 0
    try:
        for line in handle:
            lines += 1
            yield line
    except EOFError:
        yield "\x00truncated"
    except UnicodeDecodeError as exc:
        # A crash can cut the last line inside a multi-byte character: the decoder finds the
        # character unfinished only at the end of the file. That is a truncated last line like
        # any other; a bad byte anywhere else (or a sequence broken before the end) is not.
        if exc.reason != _CUT_IN_CHARACTER:
            raise
        yield "\x00truncated"
    except gzip.BadGzipFile as exc:
        if lines == 0 or str(exc) != _CUT_IN_MAGIC:
            raise
        yield "\x00truncated"


UNREADABLE = (UnicodeDecodeError, gzip.BadGzipFile, zlib.error, EOFError, OSError)
"""What reading a recording's bytes can raise besides its own checks (see ``unreadable``)."""


def unreadable(name: str, exc: BaseException) -> RecordingFormatError:
    """The error for a file whose bytes cannot be read as a recording, saying why in words."""
    if isinstance(exc, UnicodeDecodeError):
        why = "it is not UTF-8 text"
    elif isinstance(exc, gzip.BadGzipFile | zlib.error | EOFError):
        why = "its gzip stream is broken"
    else:
        why = getattr(exc, "strerror", None) or type(exc).__name__
    return RecordingFormatError(f'"{name}" is not a readable gateway-trace recording ({why}).')


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
        with open_text(name) as handle:
            return _parse_lines(lines_until_eof(handle), name)
    except UNREADABLE as exc:
        if isinstance(exc, FileNotFoundError):
            raise RecordingNotFound(f'Recording "{name}" does not exist.') from None
        raise unreadable(name, exc) from None


def loads(text: str, path: str = "<string>") -> Recording:
    """Parse a recording held in a string (tests, pipes)."""
    return _parse_lines(iter(text.splitlines()), path)
