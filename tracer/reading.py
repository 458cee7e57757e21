"""Reading a recording's lines back: from text to events, tolerant of a crash's last line.

``open_text`` opens a recording file (gzip-compressed or not); ``lines_until_eof`` gives its
lines, ending in one broken line where a gzip stream or a character is cut; the lines after
the header become ``Event``s through ``EventLines`` (one at a time, for streaming readers) or
``read_events`` (all at once, for ``tracer.recording.load``), ``parse_line`` and
``parse_event`` doing one line. The header, the ``Recording`` and the writer are
``tracer.recording``'s, which re-exports the public names of this module.

Read-only data: ``read_events`` (so ``tracer.load``) gives the events of one recording whose
``data`` are equal (as JSON) the same dict, and their equal strings the same string; a
loaded event's ``data``, and what it holds, must be treated as read-only (copy it, as
``dict(event.data)``, to change it). No two recordings share a dict.

Part of the spine: imports only ``tracer.events`` and ``tracer.errors`` (not
``tracer.recording``, which imports it).
"""

from __future__ import annotations

import gzip
import io
import json
import math
import operator
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import orjson

from tracer.errors import RecordingFormatError
from tracer.events import FIELDS, Event

__all__ = [
    "EventLines",
    "parse_event",
    "parse_line",
    "event_problem",
    "read_events",
    "time_order",
    "open_text",
    "is_gzip",
    "lines_until_eof",
    "UNREADABLE",
    "unreadable",
    "JSON_TYPES",
    "json_type",
    "lone_surrogate",
]


JSON_TYPES: dict[type, str] = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}
"""How an error message names each JSON type (as parsed: ``dict`` is an object...)."""


def json_type(value: Any) -> str:
    """How an error message names the JSON type of a parsed ``value`` ("an integer")."""
    return JSON_TYPES.get(type(value), type(value).__name__)


# orjson.JSONDecodeError is a json.JSONDecodeError, so the reader's error handling is unchanged.
_loads = orjson.loads


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
        raise _BadEvent(f"it is {json_type(obj)}, not an object")
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
            allowed = " or ".join(JSON_TYPES[kind] for kind in kinds)
            raise _BadEvent(f'"{name}" is {json_type(value)}, not {allowed}')
        elif name == "dur" and value < 0:
            raise _BadEvent(f'"dur" is negative ({value})')
        elif name in ("t", "dur") and value > _MAX_NS:
            raise _BadEvent(f'"{name}" is past 2**63 - 1 ns, the longest a recording holds')
        fixed.append(value)
    return tuple(fixed)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = "{}, the escape of a lone surrogate, not UTF-8 text"


def lone_surrogate(line: str, exc: json.JSONDecodeError) -> str | None:
    """What orjson refused ``line`` for when it is the escape of a lone surrogate, in words
    (``\\udcff, the escape of a lone surrogate, not UTF-8 text``); None when it failed for
    another reason. Valid JSON (the stdlib's ``json.dumps`` writes it), but a lone surrogate is
    no character: UTF-8 cannot encode it, and the readers never see one (the writer spells them
    out). orjson points ``exc.pos`` at the escape of the unpaired half."""
    escape = line[exc.pos : exc.pos + 6]
    return _LONE_SURROGATE.format(escape) if _SURROGATE_ESCAPE.fullmatch(escape) else None


def _whole_json(line: str) -> bool:
    """Whether ``line`` parses with the stdlib reader, which takes lone surrogates: a line
    orjson refuses for one that is otherwise whole (a last line without its newline)."""
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


_MAX_DEPTH = 1024
"""How deep orjson, which every reader parses lines with, reads nested arrays and objects."""

_TOO_DEEP = f"nested deeper than {_MAX_DEPTH:,} levels, the most the readers take"


def _too_deep(exc: json.JSONDecodeError) -> bool:
    """Whether orjson refused a line for its nesting, not its syntax."""
    return exc.msg.startswith("depth limit") or exc.msg.startswith("recursion limit")


def _not_json(line: str, exc: json.JSONDecodeError, number: int, path: str) -> str:
    """Why line ``number``, which orjson refused, is not an event; ``RecordingFormatError``
    when it was written whole (see ``EventLines``) and holds a lone surrogate's escape or is
    nested too deep: JSON, but none a reader takes."""
    surrogate = lone_surrogate(line, exc)
    if surrogate is not None:
        why = f"it holds {surrogate}"
        whole = line.endswith("\n") or _whole_json(line)
    elif _too_deep(exc):
        # orjson stops at the level past its limit, whether or not the line goes on to
        # close it: only its newline says it was written whole (the stdlib reader, which
        # could say so, recurses and fails at that depth too).
        why, whole = _TOO_DEEP, line.endswith("\n")
    else:
        return "not JSON"
    if whole:
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
    ends with its newline, or is JSON but for that): corruption even as the last line, as is
    one nested deeper than orjson reads that ends with its newline. Blank lines are
    skipped."""

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


def time_order(event: Event) -> tuple[int, int]:
    """The key events are sorted by: time, ties broken by recording order."""
    return (event.t, event.seq)


_BY_TIME = operator.itemgetter(1)  # an event's ``t``


def read_events(
    lines: Iterable[str], path: str
) -> tuple[list[Event], bool, Callable[[Event], Any] | None]:
    """The events of a recording's lines after its header, whether its last line was cut
    short, and the key to sort them by (None: they are in time order already).

    ``list(EventLines(lines, path))`` in one loop, with the same verdict on every line, for
    ``tracer.recording.load``, which keeps every event (bench/load_speed.py has the figures):

    - ``parse_event``'s fast path inlined, no generator or call per line (its slow path, for
      lines with null or absent fields or wrong types, is called as it is);
    - equal strings and integers stored once: kinds, thread and task names, pids, thread
      idents, request ids and the string values of ``data`` repeat over and over, and each
      parsed line holds new copies of them (a third of the memory of the events);
    - equal ``data`` stored once, the same dict for every event whose ``data`` has the same
      JSON text (so ``1``, ``1.0`` and ``true`` stay apart, as do the same keys in another
      order): a recording repeats a few contents over most of its events (a route's
      ``request.start``, every response start), which were half of what its events kept.
      The table is this call's own: no dict is shared with another recording.
    - the order checked as the events come: a recording already in ``(t, seq)`` order (a
      simulation writes one) is not sorted, and one in ``seq`` order (one process's file) is
      sorted by ``t`` alone, a stable sort that keeps ``seq`` order among equal times, with
      no ``(t, seq)`` key made per event.
    """
    events: list[Event] = []
    append = events.append
    shared: dict[Any, Any] = {}  # one object of each equal string or integer
    share = shared.setdefault
    datas: dict[bytes, dict[str, Any]] = {}  # one dict of each equal data, by its JSON text
    dumps = orjson.dumps
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
        try:
            # The JSON text tells equal data apart where == does not (1, 1.0 and true).
            same: bytes | None = dumps(data)
        except orjson.JSONEncodeError:  # nested past the depth orjson writes: a dict of its own
            same = None
        known = None if same is None else datas.get(same)
        if known is None:
            for key, value in data.items():
                if type(value) is str:
                    data[key] = share(value, value)  # a value replaced: the dict keeps its size
            if same is not None:
                # A copy: orjson's own bytes keep the room it wrote them in (kilobytes).
                datas[bytes(memoryview(same))] = data
        else:
            data = known
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
        order = _BY_TIME if by_seq else time_order
    return events, pending is not None, order


_GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: str | os.PathLike[str]) -> bool:
    """Whether the file starts as a gzip stream does (whatever its name says)."""
    with open(path, "rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def open_text(path: str | os.PathLike[str]) -> IO[str]:
    """Open a recording for reading text, gzip-decompressed when it is compressed.

    The file's first bytes decide, not its name: a compressed recording renamed to ``.jsonl``
    (or a plain one to ``.gz``) still reads. (``RecordingWriter`` opens files for writing.)
    """
    if is_gzip(path):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="\n")
    return open(path, encoding="utf-8", newline="\n")


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
