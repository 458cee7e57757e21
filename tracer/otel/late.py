"""Abandoned work: what a request's app still did after the request ended for its client.

A request can have two ``request.end`` events: its client's (a timeout, a stop) and then its
app's. The span model (``tracer.otel.spans``) emits the request at the first; the events that
come after it are kept as ``LateWork`` until the app's own end, and ``abandoned_span`` makes
them a child span of the request, from the first end to the app's. Of that first end only an
``EndRecord`` is kept (its time, its error, who sent the request), not the event: the model
keeps one for each recent request it emitted. Imports the spine and
``tracer.otel``'s attributes and renderers; never a shim, server model or the UI.
"""

from __future__ import annotations

from typing import NamedTuple

from tracer import events as K
from tracer.events import Event
from tracer.otel import attributes as A
from tracer.otel.parts import dropped_span_events, render, totals
from tracer.otel.spec import Key, SpanSpec, by_time

__all__ = ["ABANDONED", "NOT_WORK", "EndRecord", "LateWork", "abandoned_span"]

ABANDONED = "abandoned work"
"""Name of the span of what a request's app still did after the request ended for its client
(a timeout, a stop): from that end to the app's own ``request.end``, a child of the request."""

_APP_END = {"app_status_code": "status", "bytes_in": "bytes_in", "bytes_out": "bytes_out"}
"""``tracer.*`` attribute of the abandoned work -> what the app's own ``request.end`` says."""

NOT_WORK = frozenset({K.REQUEST_QUEUED, K.REQUEST_START, K.CLIENT_SEND, K.CLIENT_RESPONSE})
"""Late events that are no work of the app: the request's arrival and its client's side."""


class EndRecord(NamedTuple):
    """What work after a request's end needs of that end, kept in place of the event (a
    tuple of three, where the event holds its data, thread and times)."""

    at: int
    """When the request ended (relative ns: the end's ``t + dur``), where the work begins."""
    ended_by: str | None
    """What ended it (the end's ``error``: ``timeout``...), None for a plain end."""
    sender: int | None
    """The load generator's pid when its client sent the request, whose own stand-in end
    closes no work."""

    @classmethod
    def of(cls, end: Event, sender: int | None) -> EndRecord:
        """The record of ``end``, the first ``request.end`` of a request ``sender`` sent."""
        error = end.data.get("error")
        return cls(end.end, str(error) if error else None, sender)


class LateWork:
    """The work a request's app still did after the request ended for its client (the
    events after its first ``request.end``), until the app's own ``request.end``.

    Kept from the first late event on, whether the request is still held for its client's
    answer or already emitted: at most ``limit`` events, the rest counted."""

    __slots__ = ("first", "events", "dropped", "dropped_kinds", "end")

    def __init__(self, first: EndRecord) -> None:
        self.first = first
        self.events: list[Event] = []
        self.dropped = 0
        self.dropped_kinds: dict[str, int] = {}  # the events not kept, by kind
        self.end: Event | None = None  # the app's own end, while the request is held

    def add(self, event: Event, limit: int) -> bool:
        """Keep ``event``; True when it is the app's own ``request.end``, which closes the
        work (the load generator's stand-in end, after the app's, abandons nothing)."""
        if event.kind != K.REQUEST_END:
            if len(self.events) < limit:
                self.events.append(event)
            else:
                self.dropped += 1
                self.dropped_kinds[event.kind] = self.dropped_kinds.get(event.kind, 0) + 1
            return False
        sender = self.first.sender
        return sender is None or event.pid != sender


def abandoned_span(
    key: Key, late: LateWork, end: Event, *, base_ns: int, as_spans: bool
) -> SpanSpec:
    """The span of what the app did between request ``key``'s end and its own ``end``: a
    child of the request span, its calls as span events (child spans with ``as_spans``)."""
    base = base_ns
    first = late.first
    spec = SpanSpec(
        name=ABANDONED,
        start=base + first.at,
        end=base + max(first.at, end.end),
        pid=end.pid or None,
        parent=key,
    )
    attributes = spec.attributes
    attributes.update(
        {
            A.ATTR_PREFIX + "request_id": key,
            "thread.id": end.tid or None,
            "thread.name": end.thread,
            "process.pid": end.pid or None,
        }
    )
    if first.ended_by is not None:
        attributes[A.ATTR_PREFIX + "ended_by"] = first.ended_by
    data = end.data
    for name, recorded in _APP_END.items():
        if type(data.get(recorded)) is int:
            attributes[A.ATTR_PREFIX + name] = data[recorded]
    attributes = spec.attributes = {k: v for k, v in attributes.items() if v is not None}
    parts = render(spec, late.events, base=base, as_spans=as_spans, start_tid=end.tid)
    totals(spec, parts)
    if late.dropped:
        attributes[A.ATTR_PREFIX + "dropped_events"] = late.dropped
        spec.dropped_events = dropped_span_events(late.dropped_kinds, as_spans=as_spans)
    if spec.error is None and data.get("error"):
        spec.error = str(data["error"])
    # A call that began before the request ended is drawn at the span's start (an event
    # before its span's start is drawn outside it by every backend).
    spec.events = sorted(((n, max(at, spec.start), a) for n, at, a in spec.events), key=by_time)
    return spec
