"""Event kinds and the ``Event`` record: the vocabulary every part of gateway-tracer shares.

This is the only module that spells an event kind as a string. It imports nothing of ours,
so the shims, the simulator, the UI and the exporters can all depend on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Event",
    "FIELDS",
    "from_rows",
    "unpack_row",
    "KINDS",
    "REQUEST_QUEUED",
    "REQUEST_START",
    "REQUEST_END",
    "WSGI_INPUT_READ",
    "WSGI_START_RESPONSE",
    "WSGI_WRITE",
    "WSGI_BODY",
    "WSGI_CLOSE",
    "ASGI_RECEIVE",
    "ASGI_SEND",
    "SCHED_STEP",
    "SCHED_THREAD",
    "LOOP_BLOCKED",
    "ERROR",
    "VIOLATION",
    "CLIENT_SEND",
    "CLIENT_RESPONSE",
    "MARK",
]

REQUEST_QUEUED = "request.queued"
REQUEST_START = "request.start"
REQUEST_END = "request.end"
WSGI_INPUT_READ = "wsgi.input.read"
WSGI_START_RESPONSE = "wsgi.start_response"
WSGI_WRITE = "wsgi.write"
WSGI_BODY = "wsgi.body"
WSGI_CLOSE = "wsgi.close"
ASGI_RECEIVE = "asgi.receive"
ASGI_SEND = "asgi.send"
SCHED_STEP = "sched.step"
SCHED_THREAD = "sched.thread"
LOOP_BLOCKED = "loop.blocked"
ERROR = "error"
VIOLATION = "violation"
CLIENT_SEND = "client.send"
CLIENT_RESPONSE = "client.response"
# A named moment in a recording (a demo bookmark, a run phase); data: label, caption.
MARK = "mark"

KINDS: frozenset[str] = frozenset(
    {
        REQUEST_QUEUED,
        REQUEST_START,
        REQUEST_END,
        WSGI_INPUT_READ,
        WSGI_START_RESPONSE,
        WSGI_WRITE,
        WSGI_BODY,
        WSGI_CLOSE,
        ASGI_RECEIVE,
        ASGI_SEND,
        SCHED_STEP,
        SCHED_THREAD,
        LOOP_BLOCKED,
        ERROR,
        VIOLATION,
        CLIENT_SEND,
        CLIENT_RESPONSE,
        MARK,
    }
)

# Field order of an event, shared by the hot-path tuple form and the JSON form.
FIELDS: tuple[str, ...] = ("seq", "t", "kind", "req", "pid", "tid", "thread", "task", "dur", "data")


@dataclass(frozen=True, slots=True)
class Event:
    """One line of a recording after the header."""

    seq: int
    """Unique within a recording, in the order events were recorded."""
    t: int
    """Nanoseconds since the recording started (monotonic clock)."""
    kind: str
    """One of ``KINDS``; readers ignore kinds they do not know."""
    req: int | None = None
    """The request this event belongs to, or None (loop-wide, process-wide events)."""
    pid: int = 0
    """Process id of the producer."""
    tid: int = 0
    """Thread ident of the producer (``threading.get_ident()``)."""
    thread: str = ""
    """Thread name of the producer."""
    task: str | None = None
    """asyncio task name, when produced inside a task."""
    dur: int | None = None
    """Nanoseconds, for events that span time (they end at ``t + dur``)."""
    data: dict[str, Any] = field(default_factory=dict)
    """Kind-specific fields; see docs/recording-format.md."""

    @property
    def end(self) -> int:
        """When the event ends: ``t + dur`` (or ``t`` for instants)."""
        return self.t + (self.dur or 0)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this event, as written to a recording line."""
        return {
            "seq": self.seq,
            "t": self.t,
            "kind": self.kind,
            "req": self.req,
            "pid": self.pid,
            "tid": self.tid,
            "thread": self.thread,
            "task": self.task,
            "dur": self.dur,
            "data": self.data,
        }

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> Event:
        """Build an event from a parsed recording line (missing optional fields get defaults)."""
        return cls(
            seq=int(obj["seq"]),
            t=int(obj["t"]),
            kind=str(obj["kind"]),
            req=obj.get("req"),
            pid=obj.get("pid") or 0,
            tid=obj.get("tid") or 0,
            thread=obj.get("thread") or "",
            task=obj.get("task"),
            dur=obj.get("dur"),
            data=obj.get("data") or {},
        )

    def as_row(self) -> tuple[Any, ...]:
        """This event as a plain hot-path tuple (fields in ``FIELDS`` order, data a dict)."""
        return (
            self.seq,
            self.t,
            self.kind,
            self.req,
            self.pid,
            self.tid,
            self.thread,
            self.task,
            self.dur,
            self.data,
        )

    @classmethod
    def from_tuple(cls, row: tuple[Any, ...]) -> Event:
        """Build an event from the recorder's hot-path tuple (fields in ``FIELDS`` order)."""
        if cls is not Event:
            return cls(*row)
        return from_rows((row,))[0]


class _Unfrozen:
    """``Event``'s slot layout without the frozen ``__setattr__``: rows are unpacked into one
    of these with plain attribute stores, then its class becomes ``Event`` (same layout, so
    CPython allows the switch). About 4x faster than setting frozen slots one by one, and the
    recorder's drain builds one per event, competing for the GIL with the traced app.
    """

    __slots__ = FIELDS


# id(keys) -> (keys, the function making a packed row's data). The keys are a handful of
# constants of the producers; bounded anyway, in case one makes them afresh.
_DECODERS: dict[int, tuple[tuple[str, ...], Callable[[tuple[Any, ...]], dict[str, Any]]]] = {}
_DECODERS_BY_KEYS: dict[tuple[str, ...], Callable[[tuple[Any, ...]], dict[str, Any]]] = {}
_MAX_DECODERS = 256


def _decoder(keys: tuple[str, ...]) -> Callable[[tuple[Any, ...]], dict[str, Any]]:
    """The function making the data of packed rows with ``keys`` (cached by identity).

    Compiled once per keys, as ``collections.namedtuple`` does: a dict display of the row's
    items is three times faster than ``dict(zip(keys, row[10:]))``, and the drain that runs
    it competes with the traced app for the GIL.
    """
    entry = _DECODERS.get(id(keys))
    if entry is not None and entry[0] is keys:
        return entry[1]
    # Equal keys in another tuple: rows read back from another process (a real server's
    # stream) carry copies of the producers' constants; they share the compiled function.
    known = _DECODERS_BY_KEYS.get(keys)
    if known is not None:
        return known
    items = ", ".join(f"{str(key)!r}: row[{i}]" for i, key in enumerate(keys, 10))
    namespace: dict[str, Any] = {}
    exec(f"def decode(row):\n    return {{{items}}}\n", namespace)  # noqa: S102 - repr()'d names
    decode: Callable[[tuple[Any, ...]], dict[str, Any]] = namespace["decode"]
    if len(_DECODERS) < _MAX_DECODERS:
        _DECODERS[id(keys)] = (keys, decode)
        _DECODERS_BY_KEYS[keys] = decode
    return decode


def unpack_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A hot-path tuple in ``FIELDS`` order, its data a dict (a packed row is unpacked).

    A packed row is ``(seq, t, kind, req, pid, tid, thread, task, dur, keys, *values)`` with
    ``keys`` a tuple of names: data is ``dict(zip(keys, values))``. Made of numbers, strings
    and None only, it holds no container, so the garbage collector stops tracking it at its
    first pass instead of carrying it through its older generations until the recorder
    drains it (with a dict inside, a row stays tracked for as long as it lives); the drain
    makes the dict, off the hot path. See bench/overhead.py.
    """
    keys = row[9]
    if type(keys) is not tuple:
        return row
    return (*row[:9], _decoder(keys)(row))


def from_rows(rows: Iterable[tuple[Any, ...]]) -> list[Event]:
    """``Event`` objects of hot-path tuples (fields in ``FIELDS`` order, or packed), in order."""
    events: list[Event] = []
    append = events.append
    new = object.__new__
    decoders = _DECODERS
    for row in rows:
        event: Any = new(_Unfrozen)
        keys = row[9]
        if type(keys) is tuple:  # packed: the data is made here, off the hot path
            (
                event.seq,
                event.t,
                event.kind,
                event.req,
                event.pid,
                event.tid,
                event.thread,
                event.task,
                event.dur,
            ) = row[:9]
            entry = decoders.get(id(keys))
            event.data = (
                entry[1](row) if entry is not None and entry[0] is keys else _decoder(keys)(row)
            )
        else:
            (
                event.seq,
                event.t,
                event.kind,
                event.req,
                event.pid,
                event.tid,
                event.thread,
                event.task,
                event.dur,
                event.data,
            ) = row
        event.__class__ = Event
        append(event)
    return events
