"""The span model: a request's recorded events become OpenTelemetry spans.

One SERVER span per request (``METHOD route``, or ``METHOD`` with no route) with the stable
HTTP semantic conventions; protocol calls as span events (``detail="events"``) or child INTERNAL spans
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
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Protocol

from tracer import events as K
from tracer.errors import UsageError
from tracer.events import Event
from tracer.otel import attributes as A
from tracer.otel.clean import CleanSink
from tracer.otel.parts import render, totals
from tracer.phases import event_dur, kept_from_starting

__all__ = ["ABANDONED", "DETAILS", "SpanSpec", "SpanSink", "SpanModel", "Key"]

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
    pid: int | None = None
    """The process that served it: the sink puts the span and its children under a resource
    with ``process.pid`` (None: no server process is known, as for a request a real server
    answered without its app)."""
    parent: Key | None = None
    """The key of an emitted span this one is a child of (a request's abandoned work), or
    None for a root of its own."""


class SpanSink(Protocol):
    """Where finished span trees go: assigns ids, samples, hands spans to the SDK."""

    def begin(self, key: Key, spec: SpanSpec) -> None:
        """A request started: fix its server span's identity (so others can link to it)."""

    def finish(self, key: Key, spec: SpanSpec) -> None:
        """The request is over: emit ``spec`` and its children (``begin`` may be skipped)."""


_at = itemgetter(1)

ABANDONED = "abandoned work"
"""Name of the span of what a request's app still did after the request ended for its client
(a timeout, a stop): from that end to the app's own ``request.end``, a child of the request."""

_APP_END = {"app_status_code": "status", "bytes_in": "bytes_in", "bytes_out": "bytes_out"}
"""``tracer.*`` attribute of the abandoned work -> what the app's own ``request.end`` says."""

_NOT_WORK = frozenset({K.REQUEST_QUEUED, K.REQUEST_START, K.CLIENT_SEND, K.CLIENT_RESPONSE})
"""Late events that are no work of the app: the request's arrival and its client's side."""


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
        self.lifespan: tuple[str, int] | None = None  # phase name, wall start
        self.sent = False  # the load generator's client sent it: its answer will be recorded
        self.sender: int | None = None  # the load generator's pid, then
        self.answer: Event | None = None  # the client's client.response
        self.ended: Event | None = None  # a request.end held until that answer
        self.never_started = False  # no request.start: the span is named from the queue
        self.late: _Late | None = None  # what came after a held end (abandoned work)
        self.headers: dict[str, str] | None = None  # its request.start's, by lower-case name


class _Late:
    """The work a request's app still did after the request ended for its client (the
    events after its first ``request.end``), until the app's own ``request.end``.

    Kept from the first late event on, whether the request is still held for its client's
    answer or already emitted: at most ``limit`` events, the rest counted."""

    __slots__ = ("first", "sender", "events", "dropped", "end")

    def __init__(self, first: Event, sender: int | None) -> None:
        self.first = first
        self.sender = sender
        self.events: list[Event] = []
        self.dropped = 0
        self.end: Event | None = None  # the app's own end, while the request is held

    def add(self, event: Event, limit: int) -> bool:
        """Keep ``event``; True when it is the app's own ``request.end``, which closes the
        work (the load generator's stand-in end, after the app's, abandons nothing)."""
        if event.kind != K.REQUEST_END:
            if len(self.events) < limit:
                self.events.append(event)
            else:
                self.dropped += 1
            return False
        return self.sender is None or event.pid != self.sender


class _Blocks:
    """The recent ``loop.blocked`` events of one loop (process and thread), at most ``size``,
    in recording order; ``around`` finds those a request may have been queued behind.

    Blocks of one loop follow each other (the loop runs one step at a time), so each starts
    and ends after the one before: the blocks that began before a request started and ended
    after it arrived are then a run found by bisection, nearly always empty, rather than a
    scan of every block for every request. Blocks that do not follow each other (a recording
    from elsewhere) are scanned whole, as they always were.
    """

    __slots__ = ("events", "starts", "ends", "ordered")

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.ordered = True  # times of ints, each block starting and ending after the last

    def add(self, block: Event, size: int = 256) -> None:
        """Keep ``block``, dropping the oldest beyond ``size``."""
        events = self.events
        events.append(block)
        if self.ordered:
            at = block.t
            if type(at) is int:
                end = at + event_dur(block)
                starts, ends = self.starts, self.ends
                if not starts or (at >= starts[-1] and end >= ends[-1]):
                    starts.append(at)
                    ends.append(end)
                else:
                    self.ordered = False
            else:
                self.ordered = False
        if len(events) > size:
            del events[0]
            if self.ordered:
                del self.starts[0]
                del self.ends[0]

    def around(self, arrived: Any, started: Any) -> list[Event]:
        """The blocks that may have kept a request arriving at ``arrived`` and starting at
        ``started`` from starting (``kept_from_starting`` decides): all of them unless they
        follow each other, else those that began before it started and ended after it
        arrived."""
        if not self.ordered or type(arrived) is not int or type(started) is not int:
            return self.events
        last = bisect_left(self.starts, started)  # blocks [0, last) began before the start
        first = bisect_right(self.ends, arrived, 0, last)  # and [first, last) ended after
        return self.events[first:last]


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
        clean: bool = True,
    ) -> None:
        if detail not in DETAILS:
            raise UsageError(
                f'Unknown OpenTelemetry detail "{detail}"; choose one of: {", ".join(DETAILS)}.'
            )
        # Every span is made to fit OTLP on its way out (times, 64-bit integers): a recording
        # read from elsewhere may hold any number, and the encoder would raise on it. Live
        # spans (``clean=False``) come from this process's own shims, whose numbers fit (the
        # one the app chooses, its status, is checked where it becomes an attribute): the
        # check would cost a live request ~15 µs.
        self.sink: SpanSink = CleanSink(sink) if clean else sink
        self.base_ns = base_ns
        self.spans_detail = detail == "spans"
        self.max_open = max_open
        self.max_events = max_events
        self._open: dict[int, _Request] = {}
        # Requests already emitted, with the end they were emitted at and the load
        # generator's pid (None: not one whose later events are kept): what their app does
        # after that end becomes an "abandoned work" span once the app ends it too; other
        # late events are ignored, never resurrect the request.
        self._ended: OrderedDict[int, tuple[Event, int | None] | None] = OrderedDict()
        self._late: OrderedDict[int, _Late] = OrderedDict()
        # Blocks naming requests not started yet (the simulator lists arrivals during the
        # block), kept until those requests appear; and the recent blocks of each loop, for
        # requests still queued while a block held the loop they then started on.
        self._pending: OrderedDict[int, list[tuple[Key | None, Event]]] = OrderedDict()
        self._recent_blocks: dict[tuple[int | None, int | None], _Blocks] = {}
        # The latest instant of the recording seen (relative ns), where ``finish_all`` ends
        # the requests that never ended; and the scheme and server the last request that
        # started was sent to, those of the requests that never started.
        self._last_t = 0
        self._closing_at: int | None = None
        self._scheme: str | None = None
        self._server: list[Any] | None = None
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
                self._seen(event)
                self._feed_one(event)
            except Exception as exc:
                self._failed(exc)
                if event.req is not None:  # and ignore what else comes for it
                    self._open.pop(event.req, None)
                    self._ended[event.req] = None

    def _seen(self, event: Event) -> None:
        # The max, not the last: a call is recorded when it returns, with its start time.
        at, dur = event.t, event.dur
        if type(at) is int:
            at += dur if type(dur) is int and dur > 0 else 0
            if at > self._last_t:
                self._last_t = at

    def _failed(self, exc: Exception) -> None:
        """Count a request skipped for ``exc``; say so once (a line, not a traceback: it is
        the recording's data that is malformed, and the other requests are exported)."""
        self.failures += 1
        if self.failures == 1:
            log.warning(
                "a request could not be made into spans (%s: %s); it is skipped",
                type(exc).__name__,
                exc,
            )

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
                self._late_event(key, event)
                return
            state = opened[key] = _Request(key)
            state.delays.extend(self._pending.pop(key, ()))
            if len(opened) > self.max_open:
                oldest = opened[next(iter(opened))]
                self._finish(oldest, oldest.ended)
        kind = event.kind
        if kind == K.REQUEST_END:
            if state.ended is not None:  # held already: the first end counts
                self._held_late(state, event)
                return
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
                # It ended; only the client's answer is awaited. What the app does meanwhile
                # is abandoned work, shown once the request is emitted.
                self._held_late(state, event)
                return
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
        stopped, or the recording was cut, before it ended), each then ending where the
        recording ends, as the figures draw a request still waiting or running there."""
        self._closing_at = self._last_t
        for state in list(self._open.values()):
            try:
                self._finish(state, state.ended)
            except Exception as exc:  # malformed data, as in ``feed``: only this request
                self._failed(exc)
                self._open.pop(state.key, None)
        # Work after a request's end whose app never ended it too (the run stopped first) is
        # not shown: a lone late event (a send after the end, ASGI-003) is no abandoned work.
        self._late.clear()

    def forget(self, req: int) -> None:
        """Let go of what is kept of request ``req``, which will have no more events (its
        last was fed): the end it was emitted at, kept in case abandoned work follows, and
        the work after that end still waiting for the app's own end (which ``finish_all``
        would drop, as it is here). Its id stays known as ended, so a block naming it is no
        pending link. Spans already handed to the sink are as they were; a request still open
        is left to ``finish_all``.

        What a streamed export calls at each request's last event: ``max_open`` bounds what
        is kept of ended requests, and an export sets it past the events of the run so that
        no end is dropped early.
        """
        if self._ended.get(req) is not None:
            self._ended[req] = None
        self._late.pop(req, None)

    # -- building -----------------------------------------------------------------------------

    def _begin(self, state: _Request) -> None:
        start = state.start
        assert start is not None
        if state.scope == "lifespan":
            return
        arrived = state.queued.t if state.queued is not None else start.t
        headers = state.headers = A.header_map(start.data.get("headers"))
        spec = SpanSpec(
            name=A.span_name(start.data),
            start=self.base_ns + arrived,
            end=self.base_ns + start.t,
            server=True,
            attributes=A.request_attributes(start, headers),
            pid=start.pid or None,
        )
        if state.never_started:
            if state.sent:
                # Named from what the load generator sent: its process is not the server's.
                spec.pid = None
                spec.attributes.pop("process.pid", None)
        else:
            attributes = spec.attributes
            scheme = attributes.get("url.scheme")
            if scheme in _SCHEMES:
                self._scheme = scheme
            if "server.address" in attributes:
                self._server = [attributes["server.address"], attributes.get("server.port")]
        if "traceparent" in headers:
            spec.carrier = headers
        state.root = spec
        self.sink.begin(state.key, spec)

    def _blocked(self, event: Event, culprit: Key | None) -> None:
        recent = self._recent_blocks.get((event.pid, event.tid))
        if recent is None:
            recent = self._recent_blocks[(event.pid, event.tid)] = _Blocks()
        recent.add(event)
        for delayed in A.listed(event.data.get("delayed")):
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
        if recent is None or state.scope == "lifespan":
            return
        arrived = state.queued.t if state.queued is not None else start.t
        candidates = recent.around(arrived, start.t)
        if not candidates:
            return
        known = {id(block) for _, block in state.delays}
        for block in candidates:
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
            spec.attributes = {
                "thread.id": state.start.tid,
                A.ATTR_PREFIX + "request_id": state.key,
            }
            if state.start.pid:
                spec.pid = spec.attributes["process.pid"] = state.start.pid
        if failed:
            spec.error = str(message or f"lifespan {phase} failed")
        self.sink.finish(("lifespan", state.key, phase), spec)

    def _finish(self, state: _Request, end: Event | None) -> None:
        self._open.pop(state.key, None)
        keep = end is not None and state.scope != "lifespan"
        self._ended[state.key] = (end, state.sender) if keep and end is not None else None
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
                data=_asked(known, self._scheme, self._server),
            )
            self._begin(state)
        spec = state.root
        assert spec is not None
        self._fill(state, spec, end)
        self.sink.finish(state.key, spec)
        late = state.late
        if late is not None and keep:  # what the app did while the request was held
            if late.end is not None:
                self._emit_abandoned(state.key, late, late.end)
            else:
                self._keep_late(state.key, late)

    # -- abandoned work -----------------------------------------------------------------------

    def _held_late(self, state: _Request, event: Event) -> None:
        """An event of a request held for its client's answer after its end: kept, as
        ``_late_event`` keeps one of a request already emitted, until the request is."""
        late = state.late
        if event.kind in _NOT_WORK or (late is not None and late.end is not None):
            return  # no work of the app, or after its own end: ignored, as once emitted
        if late is None:
            assert state.ended is not None
            late = state.late = _Late(state.ended, state.sender)
        if late.add(event, self.max_events):
            late.end = event

    def _late_event(self, key: int, event: Event) -> None:
        """An event of a request already emitted: kept until its app's own ``request.end``,
        which emits them as the request's abandoned work."""
        ended = self._ended.get(key)
        if ended is None or event.kind in _NOT_WORK:
            return
        late = self._late.get(key)
        if late is None:
            first, sender = ended
            late = self._keep_late(key, _Late(first, sender))
        if late.add(event, self.max_events):
            del self._late[key]
            self._emit_abandoned(key, late, event)

    def _keep_late(self, key: int, late: _Late) -> _Late:
        """Keep ``late`` until its app's end; bounded: the oldest, never ended, is not shown."""
        self._late[key] = late
        if len(self._late) > self.max_open:
            self._late.popitem(last=False)
        return late

    def _emit_abandoned(self, key: int, late: _Late, end: Event) -> None:
        self._ended[key] = None  # a third end, or anything later, is ignored
        self.sink.finish(("abandoned", key), self._abandoned(key, late, end))

    def _abandoned(self, key: int, late: _Late, end: Event) -> SpanSpec:
        """The span of what the app did between the request's end and its own ``end``."""
        base = self.base_ns
        first = late.first
        spec = SpanSpec(
            name=ABANDONED,
            start=base + first.end,
            end=base + max(first.end, end.end),
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
        if first.data.get("error"):
            attributes[A.ATTR_PREFIX + "ended_by"] = str(first.data["error"])
        data = end.data
        for name, recorded in _APP_END.items():
            if type(data.get(recorded)) is int:
                attributes[A.ATTR_PREFIX + name] = data[recorded]
        attributes = spec.attributes = {k: v for k, v in attributes.items() if v is not None}
        parts = render(spec, late.events, base=base, as_spans=self.spans_detail, start_tid=end.tid)
        totals(spec, parts)
        if late.dropped:
            attributes[A.ATTR_PREFIX + "dropped_events"] = late.dropped
        if spec.error is None and data.get("error"):
            spec.error = str(data["error"])
        # A call that began before the request ended is drawn at the span's start (an event
        # before its span's start is drawn outside it by every backend).
        spec.events = sorted(((n, max(at, spec.start), a) for n, at, a in spec.events), key=_at)
        return spec

    def _fill(self, state: _Request, spec: SpanSpec, end: Event | None) -> None:
        base = self.base_ns
        as_spans = self.spans_detail and state.scope != "websocket"
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
        events.sort(key=_at)
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
        if end is not None:
            spec.end = base + end.end
        else:  # never ended: as far as its events go, or the recording when it is over
            spec.end = max([spec.end] + [base + e.t + (e.dur or 0) for e in state.events])
            if self._closing_at is not None and A.ATTR_PREFIX + "incomplete" in end_attrs:
                # Still waiting or running when the recording ends (not one a server
                # answered without its app: its client's answer ended it).
                spec.end = max(spec.end, base + self._closing_at)
        failure = answer.get("error") if answer is not None else None
        if spec.error is None and failure and end_attrs.get("error.type") == str(failure):
            # What the client saw go wrong (no response, a response cut short, a timeout).
            message = answer.get("message") if answer is not None else None
            spec.error = f"{failure}: {message}" if message else str(failure)
        if spec.error is None and "error.type" in end_attrs:
            # ERROR with no description: the HTTP conventions leave it out when the status
            # code (error.type) says why; an exception's message, above, says more.
            spec.error = ""


_SCHEMES = frozenset({"http", "https"})
"""The ``url.scheme`` values a request that never started can take from one that did."""


def _asked(queued: dict[str, Any], scheme: str | None, server: list[Any] | None) -> dict[str, Any]:
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
