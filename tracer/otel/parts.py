"""What a request's recorded events put on a span: span events, child spans and totals.

``render`` turns a list of one request's events (protocol calls, coroutine steps, thread hops,
loop blocks, errors, violations, marks) into the events and children of a ``SpanSpec`` and
returns the totals (``Parts``) that ``totals`` then writes as attributes. The request span
(``tracer.otel.request``) and the span of a request's abandoned work (``tracer.otel.late``)
are both made this way. Imports the spine, ``tracer.otel.attributes`` and ``tracer.otel.spec``;
never a shim, server model or the UI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracer import events as K
from tracer.events import Event
from tracer.otel import attributes as A
from tracer.otel.spec import SpanSpec

__all__ = ["Parts", "render", "totals", "dropped_span_events"]


@dataclass(slots=True)
class Parts:
    """What ``render`` found besides the span events and children it added."""

    error_type: str | None = None
    """The type of the last exception recorded (``error`` events), if any."""
    steps: int = 0
    """Coroutine steps (``sched.step``)."""
    loop_ns: int = 0
    """Time those steps held the event loop."""
    cpu_ns: int = 0
    """CPU time of the steps and of the request's own worker thread."""
    on_thread_ns: int = 0
    """Time on its own worker thread (a WSGI request's ``sched.thread``)."""
    longest: Event | None = None
    """The longest step."""
    file_sent: bool = False
    """The app handed the server a file to send (``http.response.pathsend``...)."""
    response_headers: Any = None
    """The headers of a WSGI ``start_response``."""
    sent: dict[str, Any] | None = None
    """The load generator's ``client.send`` data."""


def render(
    spec: SpanSpec, events: list[Event], *, base: int, as_spans: bool, start_tid: int | None
) -> Parts:
    """Add ``events`` to ``spec`` (wall-clock times: ``base`` + t) and return their totals.

    ``as_spans``: protocol calls and steps as child spans rather than span events;
    ``start_tid``: the thread the request started on, whose own time is a total, not a child.
    """
    parts = Parts()
    children = spec.children
    out = spec.events
    messages = A.MESSAGE_KINDS
    message_attributes = A.message_attributes
    for event in events:
        kind = event.kind
        at = base + event.t
        if kind in messages:
            attrs = message_attributes(event)
            if kind == K.ASGI_SEND and event.data.get("type") in A.FILE_SENDS:
                parts.file_sent = True
            elif kind == K.WSGI_START_RESPONSE:
                parts.response_headers = event.data.get("headers")
            if as_spans:
                children.append(
                    SpanSpec(A.message_name(event), at, at + (event.dur or 0), attributes=attrs)
                )
            else:
                out.append((A.message_name(event), at, attrs))
        elif kind == K.SCHED_STEP:
            # Steps are many and cheap to sum: totals and the longest one on the span; one
            # child span each only when spans were asked for.
            parts.steps += 1
            dur = event.dur or 0
            parts.loop_ns += dur
            parts.cpu_ns += A.count(event.data.get("cpu_ns"))
            if parts.longest is None or dur > (parts.longest.dur or 0):
                parts.longest = event
            if as_spans:
                children.append(SpanSpec(kind, at, at + dur, attributes=A.step_attributes(event)))
        elif kind == K.SCHED_THREAD:
            if start_tid == event.tid and not any(other.kind == K.SCHED_STEP for other in events):
                # A WSGI request on its own worker thread: the server span already says which
                # thread; a child span would only repeat it, so keep the numbers.
                parts.on_thread_ns += event.dur or 0
                parts.cpu_ns += A.count(event.data.get("cpu_ns"))
                continue
            name = f"thread {event.thread or event.tid}"
            children.append(
                SpanSpec(name, at, at + (event.dur or 0), attributes=A.thread_attributes(event))
            )
        elif kind == K.LOOP_BLOCKED:
            attrs = {
                A.ATTR_PREFIX + "dur_ns": event.dur or 0,
                A.ATTR_PREFIX + "delayed": len(A.listed(event.data.get("delayed"))),
            }
            if event.data.get("delayed_complete") is False:
                # uvloop hides its timers: the count is a lower bound
                attrs[A.ATTR_PREFIX + "delayed_complete"] = False
            attrs.update(A.location_attributes(event.data.get("location")))
            out.append((kind, at, attrs))
        elif kind == K.ERROR:
            data = event.data
            parts.error_type = str(data.get("type") or "Exception")
            attrs = {
                "exception.type": parts.error_type,
                "exception.message": str(data.get("message") or ""),
            }
            attrs.update(A.location_attributes(data.get("where")))
            out.append(("exception", at, attrs))
            spec.error = f"{parts.error_type}: {data.get('message') or ''}".rstrip(": ")
        elif kind == K.VIOLATION:
            data = event.data
            attrs = {
                A.ATTR_PREFIX + "rule": str(data.get("rule") or ""),
                A.ATTR_PREFIX + "message": str(data.get("message") or ""),
                # Self-describing in a trace viewer, as in the recording.
                **{
                    A.ATTR_PREFIX + key: str(data[key])
                    for key in ("severity", "hint", "location")
                    if data.get(key)
                },
            }
            out.append((kind, at, attrs))
        elif kind == K.MARK:
            out.append((kind, at, {A.ATTR_PREFIX + "label": str(event.data.get("label") or "")}))
        elif kind == K.CLIENT_SEND:
            parts.sent = event.data
    return parts


_ALWAYS_EVENTS = frozenset({K.LOOP_BLOCKED, K.ERROR, K.VIOLATION, K.MARK})
"""Kinds ``render`` always makes span events of (keep in step with it); protocol calls are
events unless spans were asked for."""


def dropped_span_events(kinds: dict[str, int] | None, *, as_spans: bool) -> int:
    """How many of the events not kept (counted by kind, ``kinds``) ``render`` would have made
    span events of, with ``as_spans`` as it is given."""
    if not kinds:
        return 0
    messages = () if as_spans else A.MESSAGE_KINDS
    return sum(n for kind, n in kinds.items() if kind in _ALWAYS_EVENTS or kind in messages)


def totals(spec: SpanSpec, parts: Parts) -> None:
    """Write the step and thread totals of ``parts`` as ``tracer.*`` attributes of ``spec``."""
    attributes = spec.attributes
    if parts.steps:
        attributes[A.ATTR_PREFIX + "steps"] = parts.steps
        attributes[A.ATTR_PREFIX + "loop_ns"] = parts.loop_ns
    longest = parts.longest
    if longest is not None:
        attributes[A.ATTR_PREFIX + "longest_step_ns"] = longest.dur or 0
        where = longest.data.get("location")
        if where:
            attributes[A.ATTR_PREFIX + "longest_step_at"] = str(where)
    if parts.on_thread_ns:
        attributes[A.ATTR_PREFIX + "thread_ns"] = parts.on_thread_ns
    if parts.steps or parts.on_thread_ns:
        attributes[A.ATTR_PREFIX + "cpu_ns"] = parts.cpu_ns
