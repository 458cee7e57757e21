"""One request's state in the span model, and its server span once it is over.

``RequestState`` is what the span model (``tracer.otel.spans``) holds of a request between
its first event and its ``request.end`` (or its client's answer); ``fill_request_span``
writes what the request's events say onto its server span: its parts (``tracer.otel.parts``),
the loop blocks that delayed it, its status, sizes, route and end. Imports the spine and
``tracer.otel``'s attributes and renderers; never a shim, server model or the UI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracer.events import Event
from tracer.otel import attributes as A
from tracer.otel.parts import dropped_span_events, render, totals
from tracer.otel.spec import Key, SpanSpec, by_time

if TYPE_CHECKING:
    from tracer.otel.late import LateWork

__all__ = ["RequestState", "fill_request_span", "asked", "SCHEMES"]


class RequestState:
    """Per-request state between its first event and ``request.end``; dropped at the end."""

    __slots__ = (
        "key",
        "queued",
        "start",
        "scope",
        "root",
        "events",
        "delays",
        "dropped",
        "dropped_kinds",
        "lifespan",
        "sent",
        "sender",
        "answer",
        "ended",
        "never_started",
        "late",
        "headers",
    )

    def __init__(self, key: int) -> None:
        self.key = key
        self.queued: Event | None = None
        self.start: Event | None = None
        self.scope: str | None = None
        self.root: SpanSpec | None = None
        self.events: list[Event] = []
        self.delays: list[tuple[Key | None, Event]] = []
        self.dropped = 0
        self.dropped_kinds: dict[str, int] | None = None  # made at the first event not kept
        self.lifespan: tuple[str, int] | None = None  # phase name, wall start
        self.sent = False  # the load generator's client sent it: its answer will be recorded
        self.sender: int | None = None  # the load generator's pid, then
        self.answer: Event | None = None  # the client's client.response
        self.ended: Event | None = None  # a request.end held until that answer
        self.never_started = False  # no request.start: the span is named from the queue
        self.late: LateWork | None = None  # what came after a held end (abandoned work)
        self.headers: dict[str, str] | None = None  # its request.start's, by lower-case name

    def drop(self, kind: str) -> None:
        """Count an event of ``kind`` not kept (past the span model's bound)."""
        self.dropped += 1
        kinds = self.dropped_kinds
        if kinds is None:
            kinds = self.dropped_kinds = {}
        kinds[kind] = kinds.get(kind, 0) + 1


def fill_request_span(
    state: RequestState,
    spec: SpanSpec,
    end: Event | None,
    *,
    base_ns: int,
    spans_detail: bool,
    closing_at: int | None,
) -> None:
    """Write what request ``state`` recorded onto its server span ``spec``, ending at ``end``
    (None: it never ended; ``closing_at``, when the recording is over, is where it then ends).

    ``spans_detail``: protocol calls and steps as child spans (never for a websocket session,
    whose messages stay events); ``base_ns``: the wall clock at the recording's t=0.
    """
    base = base_ns
    as_spans = spans_detail and state.scope != "websocket"
    events = spec.events
    if state.queued is not None and state.start is not None:
        spec.children.append(SpanSpec("queued", base + state.queued.t, base + state.start.t))
    start_tid = state.start.tid if state.start is not None else None
    parts = render(spec, state.events, base=base, as_spans=as_spans, start_tid=start_tid)
    for culprit, blocked in state.delays:
        attrs = {A.ATTR_PREFIX + "dur_ns": blocked.dur or 0}
        if blocked.req is not None:
            attrs[A.ATTR_PREFIX + "culprit"] = blocked.req
        attrs.update(A.location_attributes(blocked.data.get("location")))
        # At the block's start, or the span's when the request arrived during the block:
        # an event before its span's start is drawn outside it by every backend.
        events.append(("loop.delayed", max(base + blocked.t, spec.start), attrs))
        if culprit is not None:
            spec.links.append((culprit, {A.ATTR_PREFIX + "link": "delayed by loop.blocked"}))
    events.sort(key=by_time)
    answer = state.answer.data if state.answer is not None else None
    start_data = state.start.data if state.start is not None else None
    declared = None
    if parts.file_sent or (end is not None and end.data.get("file_wrapper")):
        # A file the server sent itself: its declared length is all that is known of it.
        declared = A.declared_length(parts.response_headers)
    if end is not None and state.sender is not None and end.pid == state.sender:
        # The load generator ended it (its client gave up): its stand-in request.end knows
        # nothing of what the app read, produced or sent; the app's own end came later.
        end = end._replace(data={"error": end.data.get("error")})
    end_attrs = A.end_attributes(
        end,
        parts.error_type,
        _status_sent(state, end),
        answer=answer,
        request=start_data,
        headers=state.headers,  # read once, at its start
        sent=parts.sent,
        file_sent=parts.file_sent,
        declared=declared,
    )
    if end is None and answer is not None and state.never_started:
        # The server answered it without the app (uvicorn's 503 past its limit): it has
        # no request.end, yet nothing is missing.
        end_attrs.pop(A.ATTR_PREFIX + "incomplete", None)
    spec.attributes.update(end_attrs)
    route = end_attrs.get("http.route")
    if route and state.start is not None:
        spec.name = A.span_name(state.start.data, route)
    totals(spec, parts)
    if state.queued is not None and state.start is not None:
        spec.attributes[A.ATTR_PREFIX + "queued_ns"] = state.start.t - state.queued.t
    if state.dropped:
        spec.attributes[A.ATTR_PREFIX + "dropped_events"] = state.dropped
        spec.dropped_events = dropped_span_events(state.dropped_kinds, as_spans=as_spans)
    if end is not None:
        spec.end = base + end.end
    else:  # never ended: as far as its events go, or the recording when it is over
        spec.end = max([spec.end] + [base + e.t + (e.dur or 0) for e in state.events])
        if closing_at is not None and A.ATTR_PREFIX + "incomplete" in end_attrs:
            # Still waiting or running when the recording ends (not one a server
            # answered without its app: its client's answer ended it).
            spec.end = max(spec.end, base + closing_at)
    failure = answer.get("error") if answer is not None else None
    if spec.error is None and failure and end_attrs.get("error.type") == str(failure):
        # What the client saw go wrong (no response, a response cut short, a timeout).
        message = answer.get("message") if answer is not None else None
        spec.error = f"{failure}: {message}" if message else str(failure)
    if spec.error is None and "error.type" in end_attrs:
        # ERROR with no description: the HTTP conventions leave it out when the status
        # code (error.type) says why; an exception's message, above, says more.
        spec.error = ""


SCHEMES = frozenset({"http", "https"})
"""The ``url.scheme`` values a request that never started can take from one that did."""


def asked(queued: dict[str, Any], scheme: str | None, server: list[Any] | None) -> dict[str, Any]:
    """``request.start``-like data of a request the app never started, from what was asked:
    the method, and the path apart from its query (a real server's client records the
    request target, ``/items?page=2``; ``url.path`` holds the path alone).

    ``url.scheme`` is required on a server span: the scheme the recording's requests came
    with (``scheme``, the last one started), else ``http``, the only one the load generator
    and the server models speak. ``server``: the ``[server.address, server.port]`` of the
    last one started (the load generator sends every request to one server, with the same
    headers), None when none has."""
    path = queued.get("path")
    data: dict[str, Any] = {
        "method": queued.get("method"),
        "path": path,
        "scheme": scheme or "http",
    }
    if server is not None:
        data["server"] = server
    if isinstance(path, str) and "?" in path:
        data["path"], _, data["query"] = path.partition("?")
    return data


def _status_sent(state: RequestState, end: Event | None) -> int | None:
    """For a request with no end, the status its app's response start gave (what the client
    got, when there is a ``client.response``, is the span's status anyway)."""
    if end is None:
        for event in state.events:
            if event.kind in A.MESSAGE_KINDS:
                sent = A.message_attributes(event).get("http.response.status_code")
                if type(sent) is int:
                    return sent
    return None
