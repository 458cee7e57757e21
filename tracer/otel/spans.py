"""The span model: a request's recorded events become OpenTelemetry spans.

One SERVER span per request (``METHOD path``) with the stable HTTP semantic conventions;
protocol calls as span events (``detail="events"``) or child INTERNAL spans
(``detail="spans"``, where a send span covers the time inside ``await send()``); scheduling
as child spans (time queued, thread hops); coroutine steps as totals and the longest one on the
request span (each a child span too with ``detail="spans"``);
``loop.blocked`` as an event on the culprit and a link from each request it delayed; a
websocket session as one span with message events; lifespan startup/shutdown as spans.

``SpanModel`` consumes events in recording order — a whole ``Recording`` or the live batches
of a ``Recorder`` — and hands finished ``SpanSpec`` trees to a ``SpanSink`` (``tracer.otel.sink``)
that turns them into real spans. Times are wall-clock ns: the header's ``clock.unix_ns`` + t.
A request the load generator's client sent (real servers) waits for its ``client.response``:
the span's status code, response body size and error are what the client got (the server may
have answered for an app that raised, or cut or dropped a response the app sent).
Imports the spine only; never a shim, server model or the UI.
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Protocol

from tracer import events as K
from tracer.errors import UsageError
from tracer.events import Event
from tracer.otel import attributes as A
from tracer.phases import kept_from_starting

__all__ = ["DETAILS", "SpanSpec", "SpanSink", "SpanModel", "Key"]

log = logging.getLogger("tracer")

DETAILS = ("events", "spans")
"""Choices of ``--otel-detail``: protocol calls as span events, or as child spans."""

Key = Hashable
"""What the sink knows a span tree by: the request id (unique in a recording, across processes:
the load generator and the server share it), or ``("lifespan", req, phase)``."""


@dataclass(slots=True)
class SpanSpec:
    """A span to be made: everything but its ids, which the sink assigns."""

    name: str
    """Span name (``GET /items``, ``asgi.send http.response.body``, ``queued``...)."""
    start: int
    """Wall-clock start, ns since the Unix epoch."""
    end: int
    """Wall-clock end, ns since the Unix epoch."""
    server: bool = False
    """SERVER kind (the request) rather than INTERNAL (its parts)."""
    attributes: dict[str, Any] = field(default_factory=dict)
    """OpenTelemetry attributes (never None values)."""
    events: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    """Span events: (name, wall ns, attributes)."""
    children: list[SpanSpec] = field(default_factory=list)
    """Child spans, INTERNAL."""
    links: list[tuple[Key, dict[str, Any]]] = field(default_factory=list)
    """Links to the server spans of other requests (by key), with link attributes."""
    error: str | None = None
    """Status description when the span failed (status ERROR), else None; ``""`` is ERROR
    with no description (a 5xx: its status code says why)."""
    carrier: dict[str, str] | None = None
    """Request headers that carry an incoming trace context (``traceparent``), if any."""


class SpanSink(Protocol):
    """Where finished span trees go: assigns ids, samples, hands spans to the SDK."""

    def begin(self, key: Key, spec: SpanSpec) -> None:
        """A request started: fix its server span's identity (so others can link to it)."""

    def finish(self, key: Key, spec: SpanSpec) -> None:
        """The request is over: emit ``spec`` and its children (``begin`` may be skipped)."""


_at = itemgetter(1)


class _Request:
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
        "lifespan",
        "sent",
        "sender",
        "answer",
        "ended",
        "never_started",
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
        self.lifespan: tuple[str, int] | None = None  # phase name, wall start
        self.sent = False  # the load generator's client sent it: its answer will be recorded
        self.sender: int | None = None  # the load generator's pid, then
        self.answer: Event | None = None  # the client's client.response
        self.ended: Event | None = None  # a request.end held until that answer
        self.never_started = False  # no request.start: the span is named from the queue


class SpanModel:
    """Turns events, fed in recording order, into span trees for ``sink``.

    Memory stays bounded: a request's state is dropped at its ``request.end``; at most
    ``max_open`` requests are held (the oldest is then emitted as incomplete) and at most
    ``max_events`` events per request (the rest are counted, not kept).
    """

    def __init__(
        self,
        sink: SpanSink,
        *,
        base_ns: int,
        detail: str = "events",
        max_open: int = 10_000,
        max_events: int = 1_000,
    ) -> None:
        if detail not in DETAILS:
            raise UsageError(
                f'Unknown OpenTelemetry detail "{detail}"; choose one of: {", ".join(DETAILS)}.'
            )
        self.sink = sink
        self.base_ns = base_ns
        self.spans_detail = detail == "spans"
        self.max_open = max_open
        self.max_events = max_events
        self._open: dict[int, _Request] = {}
        # Requests already emitted: late events for them are ignored, not resurrected.
        self._ended: OrderedDict[int, None] = OrderedDict()
        # Blocks naming requests not started yet (the simulator lists arrivals during the
        # block), kept until those requests appear; and the recent blocks of each loop, for
        # requests still queued while a block held the loop they then started on.
        self._pending: OrderedDict[int, list[tuple[Key | None, Event]]] = OrderedDict()
        self._recent_blocks: dict[tuple[int | None, int | None], deque[Event]] = {}
        self.failures = 0
        """Requests skipped because their events could not be made into spans."""

    @property
    def open_requests(self) -> int:
        """How many requests have started and not yet ended."""
        return len(self._open)

    def feed(self, events: Iterable[Event]) -> None:
        """Consume events in recording order; emit each request when it ends.

        An event that cannot be turned into a span (malformed data) costs only its own
        request, which is dropped and logged once; the rest of the batch goes on.
        """
        for event in events:
            try:
                self._feed_one(event)
            except Exception:
                self.failures += 1
                if self.failures == 1:
                    log.exception("a request could not be made into spans; it is skipped")
                if event.req is not None:  # and ignore what else comes for it
                    self._open.pop(event.req, None)
                    self._ended[event.req] = None

    def _feed_one(self, event: Event) -> None:
        req = event.req
        if req is None:
            if event.kind == K.LOOP_BLOCKED:
                self._blocked(event, None)
            return
        opened = self._open
        # One request may span processes (client events from the load generator, the rest
        # from a server worker): the request id alone identifies it.
        key = req
        state = opened.get(key)
        if state is None:
            if key in self._ended:
                return
            state = opened[key] = _Request(key)
            state.delays.extend(self._pending.pop(key, ()))
            if len(opened) > self.max_open:
                oldest = opened[next(iter(opened))]
                self._finish(oldest, oldest.ended)
        kind = event.kind
        if kind == K.REQUEST_END:
            if state.ended is not None:
                return  # held already: the first end counts
            if state.sent and state.answer is None:
                # The client's view is the request's outcome (the server answered 500 for an
                # app that raised, or a response was cut or dropped on the way): wait for it.
                state.ended = event
            else:
                self._finish(state, event)
        elif kind == K.REQUEST_START:
            state.start = event
            state.scope = event.data.get("scope_type")
            self._begin(state)
            self._queued_behind(state, event)
        elif kind == K.REQUEST_QUEUED:
            state.queued = event
        else:
            if state.ended is not None and kind != K.CLIENT_RESPONSE:
                return  # it ended; only the client's answer is awaited, not a late event
            if len(state.events) < self.max_events:
                state.events.append(event)
            else:
                state.dropped += 1
            if kind == K.LOOP_BLOCKED:
                self._blocked(event, key)
            elif state.scope == "lifespan":
                self._lifespan(state, event)
            elif kind == K.CLIENT_SEND:
                state.sent = True
                state.sender = event.pid
            elif kind == K.CLIENT_RESPONSE and state.answer is None:
                state.answer = event
                if state.ended is not None:
                    self._finish(state, state.ended)

    def finish_all(self) -> None:
        """Emit every request still open: those with no end marked incomplete (the run
        stopped, or the recording was cut, before it ended)."""
        for state in list(self._open.values()):
            self._finish(state, state.ended)

    # -- building -----------------------------------------------------------------------------

    def _begin(self, state: _Request) -> None:
        start = state.start
        assert start is not None
        if state.scope == "lifespan":
            return
        arrived = state.queued.t if state.queued is not None else start.t
        headers = A.header_map(start.data.get("headers"))
        spec = SpanSpec(
            name=A.span_name(start.data),
            start=self.base_ns + arrived,
            end=self.base_ns + start.t,
            server=True,
            attributes=A.request_attributes(start, headers),
        )
        if "traceparent" in headers:
            spec.carrier = headers
        state.root = spec
        self.sink.begin(state.key, spec)

    def _blocked(self, event: Event, culprit: Key | None) -> None:
        recent = self._recent_blocks.setdefault((event.pid, event.tid), deque(maxlen=256))
        recent.append(event)
        for delayed in event.data.get("delayed") or ():
            if not isinstance(delayed, int) or delayed == culprit or delayed in self._ended:
                continue
            state = self._open.get(delayed)
            if state is None:  # named before it arrived: linked when it does
                self._pending.setdefault(delayed, []).append((culprit, event))
                while len(self._pending) > self.max_open:
                    self._pending.popitem(last=False)
            elif len(state.delays) < self.max_events:
                state.delays.append((culprit, event))

    def _queued_behind(self, state: _Request, start: Event) -> None:
        """Blocks that held the loop ``start`` ran on while the request was still queued:
        the shim cannot list it in ``delayed`` (it was not running yet), the recording shows
        it (queued before the block ended, started after it; as the replay does)."""
        recent = self._recent_blocks.get((start.pid, start.tid))
        if not recent or state.scope == "lifespan":
            return
        arrived = state.queued.t if state.queued is not None else start.t
        known = {id(block) for _, block in state.delays}
        for block in recent:
            if (
                block.req != state.key
                and kept_from_starting(block, arrived, start)
                and id(block) not in known
                and len(state.delays) < self.max_events
            ):
                state.delays.append((block.req, block))

    def _lifespan(self, state: _Request, event: Event) -> None:
        message_type = str(event.data.get("type") or "")
        if event.kind == K.ASGI_RECEIVE and message_type in (
            "lifespan.startup",
            "lifespan.shutdown",
        ):
            state.lifespan = (message_type.rpartition(".")[2], self.base_ns + event.end)
        elif event.kind == K.ASGI_SEND and state.lifespan is not None:
            phase, begun = state.lifespan
            if message_type.startswith(f"lifespan.{phase}."):
                failed = message_type.endswith(".failed")
                message = event.data.get("message")
                self._emit_phase(state, phase, begun, self.base_ns + event.end, failed, message)

    def _emit_phase(
        self, state: _Request, phase: str, begun: int, ended: int, failed: bool, message: Any
    ) -> None:
        state.lifespan = None
        spec = SpanSpec(name=f"lifespan {phase}", start=begun, end=max(begun, ended))
        if state.start is not None:
            spec.attributes = {"thread.id": state.start.tid, A.NS + "request_id": state.key}
        if failed:
            spec.error = str(message or f"lifespan {phase} failed")
        self.sink.finish(("lifespan", state.key, phase), spec)

    def _finish(self, state: _Request, end: Event | None) -> None:
        self._open.pop(state.key, None)
        self._ended[state.key] = None
        if len(self._ended) > 4 * self.max_open:
            self._ended.popitem(last=False)
        if state.scope == "lifespan":
            if state.lifespan is not None:  # the app returned or raised mid-phase
                phase, begun = state.lifespan
                error = next((e for e in state.events if e.kind == K.ERROR), None)
                message = error.data.get("message") if error is not None else None
                ended = self.base_ns + (end.end if end is not None else begun - self.base_ns)
                self._emit_phase(state, phase, begun, ended, True, message or "unsupported")
            return
        if state.root is None:
            first = state.queued or (state.events[0] if state.events else end)
            if first is None:
                return
            # The server never started it (or the recording was cut): report what there is,
            # named by what the client asked for.
            known = state.queued.data if state.queued is not None else {}
            state.queued = None  # it never left the queue: the whole span is that wait
            state.never_started = True
            state.start = Event(
                seq=0,
                t=first.t,
                kind=K.REQUEST_START,
                req=state.key,
                pid=first.pid,
                data=_asked(known),
            )
            self._begin(state)
        spec = state.root
        assert spec is not None
        self._fill(state, spec, end)
        self.sink.finish(state.key, spec)

    def _fill(self, state: _Request, spec: SpanSpec, end: Event | None) -> None:
        base = self.base_ns
        websocket = state.scope == "websocket"
        as_spans = self.spans_detail and not websocket
        children = spec.children
        events = spec.events
        error_type: str | None = None
        steps = loop_ns = cpu_ns = on_thread_ns = 0
        longest: Event | None = None
        file_sent = False
        response_headers: Any = None
        sent: dict[str, Any] | None = None
        start_tid = state.start.tid if state.start is not None else None
        messages = A.MESSAGE_KINDS
        message_attributes = A.message_attributes
        if state.queued is not None and state.start is not None:
            children.append(SpanSpec("queued", base + state.queued.t, base + state.start.t))
        for event in state.events:
            kind = event.kind
            at = base + event.t
            if kind in messages:
                attrs = message_attributes(event)
                if kind == K.ASGI_SEND and event.data.get("type") in A.FILE_SENDS:
                    file_sent = True
                elif kind == K.WSGI_START_RESPONSE:
                    response_headers = event.data.get("headers")
                if as_spans:
                    children.append(
                        SpanSpec(A.message_name(event), at, at + (event.dur or 0), attributes=attrs)
                    )
                else:
                    events.append((A.message_name(event), at, attrs))
            elif kind == K.SCHED_STEP:
                # Steps are many and cheap to sum: totals and the longest one on the server
                # span; one child span each only when spans were asked for.
                steps += 1
                dur = event.dur or 0
                loop_ns += dur
                cpu_ns += event.data.get("cpu_ns") or 0
                if longest is None or dur > (longest.dur or 0):
                    longest = event
                if as_spans:
                    children.append(
                        SpanSpec(kind, at, at + dur, attributes=A.step_attributes(event))
                    )
            elif kind == K.SCHED_THREAD:
                if start_tid == event.tid and not any(
                    other.kind == K.SCHED_STEP for other in state.events
                ):
                    # A WSGI request on its own worker thread: the server span already says
                    # which thread; a child span would only repeat it, so keep the numbers.
                    on_thread_ns += event.dur or 0
                    cpu_ns += event.data.get("cpu_ns") or 0
                    continue
                name = f"thread {event.thread or event.tid}"
                children.append(
                    SpanSpec(name, at, at + (event.dur or 0), attributes=A.thread_attributes(event))
                )
            elif kind == K.LOOP_BLOCKED:
                attrs = {
                    A.NS + "dur_ns": event.dur or 0,
                    A.NS + "delayed": len(event.data.get("delayed") or ()),
                }
                attrs.update(A.location_attributes(event.data.get("location")))
                events.append((kind, at, attrs))
            elif kind == K.ERROR:
                data = event.data
                error_type = str(data.get("type") or "Exception")
                attrs = {
                    "exception.type": error_type,
                    "exception.message": str(data.get("message") or ""),
                }
                attrs.update(A.location_attributes(data.get("where")))
                events.append(("exception", at, attrs))
                spec.error = f"{error_type}: {data.get('message') or ''}".rstrip(": ")
            elif kind == K.VIOLATION:
                events.append(
                    (
                        kind,
                        at,
                        {
                            A.NS + "rule": str(event.data.get("rule") or ""),
                            A.NS + "message": str(event.data.get("message") or ""),
                            # Self-describing in a trace viewer, as in the recording.
                            **{
                                A.NS + key: str(event.data[key])
                                for key in ("severity", "hint", "location")
                                if event.data.get(key)
                            },
                        },
                    )
                )
            elif kind == K.MARK:
                events.append((kind, at, {A.NS + "label": str(event.data.get("label") or "")}))
            elif kind == K.CLIENT_SEND:
                sent = event.data
        for culprit, blocked in state.delays:
            attrs = {A.NS + "dur_ns": blocked.dur or 0}
            if blocked.req is not None:
                attrs[A.NS + "culprit"] = blocked.req
            attrs.update(A.location_attributes(blocked.data.get("location")))
            # At the block's start, or the span's when the request arrived during the block:
            # an event before its span's start is drawn outside it by every backend.
            events.append(("loop.delayed", max(base + blocked.t, spec.start), attrs))
            if culprit is not None:
                spec.links.append((culprit, {A.NS + "link": "delayed by loop.blocked"}))
        events.sort(key=_at)
        answer = state.answer.data if state.answer is not None else None
        start_data = state.start.data if state.start is not None else None
        declared = None
        if file_sent or (end is not None and end.data.get("file_wrapper")):
            # A file the server sent itself: its declared length is all that is known of it.
            declared = A.declared_length(response_headers)
        if end is not None and state.sender is not None and end.pid == state.sender:
            # The load generator ended it (its client gave up): its stand-in request.end knows
            # nothing of what the app read, produced or sent; the app's own end came later.
            end = end._replace(data={"error": end.data.get("error")})
        end_attrs = A.end_attributes(
            end,
            error_type,
            _status_sent(state, end),
            answer=answer,
            request=start_data,
            headers=spec.carrier,
            sent=sent,
            file_sent=file_sent,
            declared=declared,
        )
        if end is None and answer is not None and state.never_started:
            # The server answered it without the app (uvicorn's 503 past its limit): it has
            # no request.end, yet nothing is missing.
            end_attrs.pop(A.NS + "incomplete", None)
        spec.attributes.update(end_attrs)
        route = end_attrs.get("http.route")
        if route and state.start is not None:
            spec.name = A.span_name(state.start.data, route)
        if steps:
            spec.attributes[A.NS + "steps"] = steps
            spec.attributes[A.NS + "loop_ns"] = loop_ns
        if longest is not None:
            spec.attributes[A.NS + "longest_step_ns"] = longest.dur or 0
            where = longest.data.get("location")
            if where:
                spec.attributes[A.NS + "longest_step_at"] = str(where)
        if on_thread_ns:
            spec.attributes[A.NS + "thread_ns"] = on_thread_ns
        if steps or on_thread_ns:
            spec.attributes[A.NS + "cpu_ns"] = cpu_ns
        if state.queued is not None and state.start is not None:
            spec.attributes[A.NS + "queued_ns"] = state.start.t - state.queued.t
        if state.dropped:
            spec.attributes[A.NS + "dropped_events"] = state.dropped
        if end is not None:
            spec.end = base + end.end
        else:  # never ended: as far as its events go
            spec.end = max([spec.end] + [base + e.t + (e.dur or 0) for e in state.events])
        failure = answer.get("error") if answer is not None else None
        if spec.error is None and failure and end_attrs.get("error.type") == str(failure):
            # What the client saw go wrong (no response, a response cut short, a timeout).
            message = answer.get("message") if answer is not None else None
            spec.error = f"{failure}: {message}" if message else str(failure)
        if spec.error is None and "error.type" in end_attrs:
            # ERROR with no description: the HTTP conventions leave it out when the status
            # code (error.type) says why; an exception's message, above, says more.
            spec.error = ""


def _asked(queued: dict[str, Any]) -> dict[str, Any]:
    """``request.start``-like data of a request the app never started, from what was asked:
    the method, and the path apart from its query (a real server's client records the
    request target, ``/items?page=2``; the span is named after the path alone)."""
    path = queued.get("path")
    data: dict[str, Any] = {"method": queued.get("method"), "path": path}
    if isinstance(path, str) and "?" in path:
        data["path"], _, data["query"] = path.partition("?")
    return data


def _status_sent(state: _Request, end: Event | None) -> int | None:
    """For a request with no end, the status its app's response start gave (what the client
    got, when there is a ``client.response``, is the span's status anyway)."""
    if end is None:
        for event in state.events:
            if event.kind in A.MESSAGE_KINDS:
                sent = A.message_attributes(event).get("http.response.status_code")
                if type(sent) is int:
                    return sent
    return None
