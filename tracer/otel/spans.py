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
Here is the routing of events to requests and their lifecycle; a request's state and server
span are in ``request``, its abandoned work in ``late``, recent loop blocks in ``blocks``, the
span trees and the sink protocol in ``spec`` (re-exported here).
Imports the spine only; never a shim, server model or the UI.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from tracer import events as K
from tracer.errors import UsageError
from tracer.events import Event
from tracer.otel import attributes as A
from tracer.otel.blocks import RecentBlocks
from tracer.otel.clean import WARNINGS, CleanSink
from tracer.otel.ended import EndedRequests
from tracer.otel.late import ABANDONED, NOT_WORK, EndRecord, LateWork, abandoned_span
from tracer.otel.request import SCHEMES, RequestState, asked, fill_request_span
from tracer.otel.spec import Key, SpanSink, SpanSpec
from tracer.phases import kept_from_starting

__all__ = ["ABANDONED", "DETAILS", "SpanSpec", "SpanSink", "SpanModel", "Key"]

log = logging.getLogger(WARNINGS)

DETAILS = ("events", "spans")
"""Choices of ``--otel-detail``: protocol calls as span events, or as child spans."""


class SpanModel:
    """Turns events, fed in recording order, into span trees for ``sink``.

    Memory stays bounded: a request's state is dropped at its ``request.end``; at most
    ``max_open`` requests are held (the oldest is then emitted as incomplete) and at most
    ``max_events`` events per request (the rest are counted, not kept). Of the requests
    emitted, the ids stay known as runs and a compact record of the end is kept for the
    ``max_open`` most recent (``tracer.otel.ended``): flat over a long live run.
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
        self._open: dict[int, RequestState] = {}
        # Requests already emitted: their ids, and for the most recent a record of the end
        # they were emitted at (not the event, nor the request's state). What their app does
        # after that end becomes an "abandoned work" span once the app ends it too; other
        # late events are ignored, never resurrect the request.
        self._ended = EndedRequests(max_open)
        # Blocks naming requests not started yet (the simulator lists arrivals during the
        # block), kept until those requests appear; and the recent blocks of each loop, for
        # requests still queued while a block held the loop they then started on.
        self._pending: OrderedDict[int, list[tuple[Key | None, Event]]] = OrderedDict()
        self._recent_blocks: dict[tuple[int | None, int | None], RecentBlocks] = {}
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
        request, which is dropped and logged once; the rest of the batch goes on. An event of
        a kind this release does not know is ignored, as every reader ignores it: it neither
        makes a request nor joins one (nor marks where the recording ends).
        """
        known = K.KINDS
        for event in events:
            if event.kind not in known:
                continue
            try:
                self._seen(event)
                self._feed_one(event)
            except Exception as exc:
                self._failed(exc)
                if event.req is not None:  # and ignore what else comes for it
                    self._open.pop(event.req, None)
                    self._ended.add(event.req)

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
            state = opened[key] = RequestState(key)
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
                state.drop(kind)
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
        self._ended.drop_work()

    def forget(self, req: int) -> None:
        """Let go of what is kept of request ``req``, which will have no more events (its
        last was fed): the end it was emitted at, kept in case abandoned work follows, and
        the work after that end still waiting for the app's own end (which ``finish_all``
        would drop, as it is here). Its id stays known as ended, so a block naming it is no
        pending link. Spans already handed to the sink are as they were; a request still open
        is left to ``finish_all``.

        What a streamed export calls at each request's last event: ``max_open`` bounds the
        ends kept for work after them, and an export sets it past the events of the run so
        that no end is dropped early.
        """
        self._ended.settle(req)

    # -- building -----------------------------------------------------------------------------

    def _begin(self, state: RequestState) -> None:
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
            if scheme in SCHEMES:
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
            recent = self._recent_blocks[(event.pid, event.tid)] = RecentBlocks()
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

    def _queued_behind(self, state: RequestState, start: Event) -> None:
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

    def _lifespan(self, state: RequestState, event: Event) -> None:
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
        self, state: RequestState, phase: str, begun: int, ended: int, failed: bool, message: Any
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

    def _finish(self, state: RequestState, end: Event | None) -> None:
        self._open.pop(state.key, None)
        self._ended.add(state.key)  # from here on, whatever happens to its spans
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
                data=asked(known, self._scheme, self._server),
            )
            self._begin(state)
        spec = state.root
        assert spec is not None
        fill_request_span(
            state,
            spec,
            end,
            base_ns=self.base_ns,
            spans_detail=self.spans_detail,
            closing_at=self._closing_at,
        )
        self.sink.finish(state.key, spec)
        if end is None:
            return
        late = state.late
        if late is None:  # work after the end may still come: keep what it will need
            self._ended.remember(state.key, EndRecord.of(end, state.sender))
        elif late.end is not None:  # what the app did while the request was held, closed
            self._emit_abandoned(state.key, late, late.end)
        else:
            self._ended.keep(state.key, late)

    # -- abandoned work -----------------------------------------------------------------------

    def _held_late(self, state: RequestState, event: Event) -> None:
        """An event of a request held for its client's answer after its end: kept, as
        ``_late_event`` keeps one of a request already emitted, until the request is."""
        late = state.late
        if event.kind in NOT_WORK or (late is not None and late.end is not None):
            return  # no work of the app, or after its own end: ignored, as once emitted
        if late is None:
            assert state.ended is not None
            late = state.late = LateWork(EndRecord.of(state.ended, state.sender))
        if late.add(event, self.max_events):
            late.end = event

    def _late_event(self, key: int, event: Event) -> None:
        """An event of a request already emitted: kept until its app's own ``request.end``,
        which emits them as the request's abandoned work."""
        kept = self._ended.after(key)
        if kept is None or event.kind in NOT_WORK:
            return
        if isinstance(kept, LateWork):
            late = kept
        else:
            late = LateWork(kept)
            self._ended.keep(key, late)
        if late.add(event, self.max_events):
            self._emit_abandoned(key, late, event)

    def _emit_abandoned(self, key: int, late: LateWork, end: Event) -> None:
        self._ended.settle(key)  # a third end, or anything later, is ignored
        self.sink.finish(
            ("abandoned", key),
            abandoned_span(key, late, end, base_ns=self.base_ns, as_spans=self.spans_detail),
        )
