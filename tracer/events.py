"""Event kinds and the ``Event`` record: the vocabulary every part of gateway-tracer shares.

This is the only module that spells an event kind as a string. It imports nothing of ours,
so the shims, the simulator, the UI and the exporters can all depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Event",
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

    @classmethod
    def from_tuple(cls, row: tuple[Any, ...]) -> Event:
        """Build an event from the recorder's hot-path tuple (fields in ``FIELDS`` order).

        Sets the slots directly instead of going through the frozen dataclass ``__init__``
        (about 3x faster): the recorder's drain builds one per event, and under the GIL that
        cost is paid by the traced app's threads too (measured in bench/overhead.py).
        """
        if cls is not Event:
            return cls(*row)
        event = _new(Event)
        seq, t, kind, req, pid, tid, thread, task, dur, data = row
        _set_seq(event, seq)
        _set_t(event, t)
        _set_kind(event, kind)
        _set_req(event, req)
        _set_pid(event, pid)
        _set_tid(event, tid)
        _set_thread(event, thread)
        _set_task(event, task)
        _set_dur(event, dur)
        _set_data(event, data)
        return event


_new = object.__new__
(
    _set_seq,
    _set_t,
    _set_kind,
    _set_req,
    _set_pid,
    _set_tid,
    _set_thread,
    _set_task,
    _set_dur,
    _set_data,
) = (getattr(Event, name).__set__ for name in FIELDS)
