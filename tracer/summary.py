"""``summarize``: the numbers of a run, computed from its recording alone.

The same function serves traced and simulated recordings (a simulation reports simulated
seconds). Its own job is reading a recording into the summary's inputs (its requests, its
wall time, blocking, violations, how long hops waited for a worker thread: ``hop_wait``) and
aligning compared recordings on their first request; the parts it is made of have modules of
their own, and their names are importable from here too: a request's instants and whether
it failed (``tracer.request_span``), the adding up (``tracer.span_tally``) and the arithmetic
of the figures (``tracer.stats``). How WebSocket sessions closed is read here too
(``SessionCloses``, the summary's ``ws_close_codes``).
Imports only ``tracer.events``, ``tracer.errors``, ``tracer.recording`` and those three.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from tracer.errors import UsageError
from tracer.events import (
    ASGI_RECEIVE,
    ASGI_SEND,
    CLIENT_RESPONSE,
    LOOP_BLOCKED,
    REQUEST_END,
    REQUEST_START,
    SCHED_THREAD,
    VIOLATION,
    Event,
    is_server_error,
)
from tracer.recording import Recording, load
from tracer.request_span import SPAN_KINDS, RequestSpan, ends_response, request_spans
from tracer.span_tally import SpanTally, summarize_spans
from tracer.stats import (
    LATENCY_KEYS,
    QUEUE_KEYS,
    Instant,
    offered_s,
    peak_in_flight,
    percentile,
    rate_figure,
    stats_ms,
)

__all__ = [
    "summarize",
    "SessionCloses",
    "CLOSE_KINDS",
    "sample_sizes",
    "lifespan_failure",
    "hop_wait",
    "first_request",
    "alignment",
    "ends_response",
    "summarize_spans",
    "SpanTally",
    "offered_s",
    "load_of",
    "percentile",
    "rate_figure",
    "stats_ms",
    "peak_in_flight",
    "request_spans",
    "RequestSpan",
    "SPAN_KINDS",
    "is_server_error",
    "Instant",
    "LATENCY_KEYS",
    "QUEUE_KEYS",
]


def first_request(recording: Recording) -> int:
    """When the first request arrived (else the first event; 0 for an empty recording).

    What happened before (importing the app, lifespan startup, spawning worker processes)
    is the server starting, not serving: compared recordings are aligned here.
    """
    arrivals = [
        s.arrived for s in request_spans(recording.events).values() if s.arrived is not None
    ]
    if arrivals:
        return max(0, min(arrivals))
    return max(0, min((e.t for e in recording.events), default=0))


def alignment(recordings: Sequence[Recording]) -> list[int]:
    """Per recording, what to subtract from its times to put its first request where the
    first recording's is (0 for the first)."""
    firsts = [first_request(r) for r in recordings]
    return [first - firsts[0] for first in firsts] if firsts else []


def summarize(recording: Recording | Sequence[Event] | Any) -> dict[str, Any]:
    """The summary dict of a run (see DESIGN.md): counts, rps, latency, queueing, blocking.

    Takes a ``Recording``, a list of events, anything with ``.events`` (a ``Recorder``), or
    the path of a recording file (read with ``tracer.load``).
    """
    if isinstance(recording, str | os.PathLike):
        recording = load(recording)
    header: Mapping[str, Any] = {}
    if isinstance(recording, Recording):
        events = recording.events
        header = recording.header
    else:
        source = getattr(recording, "events", recording)
        try:
            events = list(source)
        except TypeError:
            raise UsageError(
                "summarize takes a Recording, a list of events, a Recorder or the path of a "
                f"recording, not {type(recording).__name__}."
            ) from None
        bad = next((e for e in events if not isinstance(e, Event)), None)
        if bad is not None:
            raise UsageError(
                f"summarize takes events (tracer.Event), not {type(bad).__name__} {bad!r:.60}."
            )
        header = getattr(recording, "header", None) or {}
    # The run's wall time spans its requests: a lifespan connection (startup before the first
    # request, shutdown after the last) is not part of the load and would dilute rps.
    lifespan = {
        event.req
        for event in events
        if event.kind == REQUEST_START and event.data.get("scope_type") == "lifespan"
    }
    timed = [event for event in events if event.req not in lifespan] if lifespan else events
    if timed:
        first = min(event.t for event in timed)
        last = max(event.end for event in timed)
    else:
        first = last = 0
    failures = [
        failure
        for event in sorted(
            (event for event in events if event.kind == ASGI_SEND and event.req in lifespan),
            key=lambda event: (event.t, event.seq),
        )
        if (failure := lifespan_failure(event)) is not None
    ]
    closes = SessionCloses()
    for event in events:
        if event.kind in CLOSE_KINDS:
            closes.take(event)
    return summarize_spans(
        request_spans(events),
        first=first,
        last=last,
        # A lifespan connection's blocks are not the load's either (the report says them apart).
        blocked_ns=sum(
            event.dur or 0
            for event in events
            if event.kind == LOOP_BLOCKED and event.req not in lifespan
        ),
        violations=sum(1 for event in events if event.kind == VIOLATION),
        load=load_of(header),
        lifespan_failed=failures,
        ws_close_codes=closes.counts(),
        pool_waits=[
            wait
            for event in events
            if event.kind == SCHED_THREAD
            and event.req not in lifespan
            and (wait := hop_wait(event)) is not None
        ],
    )


def hop_wait(event: Event) -> int | None:
    """How long the work of a hop waited for a worker thread (ns): its ``sched.thread``'s
    ``queued_ns``, from the hand-over to the start. None for another event, a thread's own
    span (``via: "wsgi"``), a hop recorded without it (an older version's),
    and a value that is no time (a recording made elsewhere)."""
    if event.kind != SCHED_THREAD:
        return None
    data = event.data
    wait = data.get("queued_ns")
    if type(wait) is not int or not 0 <= wait < 2**63 or data.get("via") in (None, "wsgi"):
        return None
    return wait


_LIFESPAN_PHASES = {"lifespan.startup.failed": "startup", "lifespan.shutdown.failed": "shutdown"}


def sample_sizes(spans: Mapping[int, RequestSpan]) -> dict[str, int]:
    """How many values ``latency_ms`` and ``queue_ms`` are each of: the requests that
    finished (with an arrival), those that queued, as the report counts them. A percentile is
    given only of a sample that measures it (``tracer.report.measures``)."""
    return {
        "latency_ms": sum(
            1 for s in spans.values() if s.finished is not None and s.arrived is not None
        ),
        "queue_ms": sum(1 for s in spans.values() if s.queue_wait is not None),
    }


def lifespan_failure(event: Event) -> dict[str, Any] | None:
    """What an ``asgi.send`` of a lifespan connection says of a failure: ``{"phase":
    "startup" | "shutdown", "message": the app's words or None, "pid": the process}`` for a
    ``lifespan.startup.failed`` / ``lifespan.shutdown.failed``, else None. The summary's
    ``lifespan_failed`` lists them in recording order (each server process runs its own
    lifespan)."""
    data = event.data
    mtype = data.get("type")
    phase = _LIFESPAN_PHASES.get(mtype) if isinstance(mtype, str) else None
    if phase is None:
        return None
    message = data.get("message")
    return {
        "phase": phase,
        "message": message if isinstance(message, str) else None,
        "pid": event.pid,
    }


def load_of(header: Any) -> Mapping[str, Any] | None:
    """The header's ``load`` when it is an object (a header of another shape, or none, has
    none)."""
    load = header.get("load") if isinstance(header, Mapping) else None
    return load if isinstance(load, Mapping) else None


CLOSE_KINDS = frozenset({ASGI_SEND, ASGI_RECEIVE, CLIENT_RESPONSE, REQUEST_END})
"""The event kinds ``SessionCloses.take`` reads (others it ignores)."""


class SessionCloses:
    """The close code each accepted WebSocket session ended with, from its events in any
    order; ``counts()`` adds them up by code.

    A session is accepted when the app's ``websocket.accept`` went out or the network client
    got status 101 (a rejection, closed before the accept, has a status, not a close code).
    Its code is the one the network client got in the server's close frame (what went over
    the wire: a server may change the app's code), or the ``close_code`` of a ``request.end``
    (the ``loop`` model's end for its client, where the wire says what the app's messages do
    not); without a client's, the earlier of the
    app's own ``websocket.close`` that went out and the ``websocket.disconnect`` the app
    received (the in-process models' sessions, a session the client gave up on). A session
    with none of them is not counted.
    """

    __slots__ = ("_sessions",)

    def __init__(self) -> None:
        # req -> [accepted, client's code, server side's (t, seq) or None, its code]
        self._sessions: dict[int, list[Any]] = {}

    def take(self, event: Event) -> None:
        """Read one event (any kind; only a WebSocket session's close, accept or client
        response counts, and a ``request.end``'s ``close_code``)."""
        kind = event.kind
        if kind not in CLOSE_KINDS or event.req is None:
            return
        data = event.data
        if kind == REQUEST_END:
            code = data.get("close_code")
            if _is_code(code):
                state = self._state(event.req)
                if state[1] is None:
                    state[1] = code
            return
        if kind == CLIENT_RESPONSE:
            code = data.get("close_code")
            accepted = data.get("status") == 101
            if not accepted and not _is_code(code):
                return
            state = self._state(event.req)
            state[0] = state[0] or accepted
            if _is_code(code) and state[1] is None:
                state[1] = code
            return
        mtype = data.get("type")
        if not isinstance(mtype, str) or not mtype.startswith("websocket."):
            return
        if data.get("raised"):  # it did not go out (a send), or no message came (a receive)
            return
        if mtype == "websocket.accept":
            self._state(event.req)[0] = True
        elif mtype == "websocket.close" or mtype == "websocket.disconnect":
            code = data.get("code")
            if not _is_code(code):
                return
            state = self._state(event.req)
            when = (event.t, event.seq)
            if state[2] is None or when < state[2]:
                state[2], state[3] = when, code

    def _state(self, req: int) -> list[Any]:
        state = self._sessions.get(req)
        if state is None:
            state = self._sessions[req] = [False, None, None, None]
        return state

    def counts(self) -> dict[str, int]:
        """Sessions per close code, keys the codes as text in numeric order (``{"1000": 95,
        "4000": 5}``); empty when no session was accepted and closed."""
        tally: dict[int, int] = {}
        for accepted, client_code, _, server_code in self._sessions.values():
            if not accepted:
                continue
            code = client_code if client_code is not None else server_code
            if code is not None:
                tally[code] = tally.get(code, 0) + 1
        return {str(code): tally[code] for code in sorted(tally)}


def _is_code(value: Any) -> bool:
    """A close code is an int (a bool is none)."""
    return isinstance(value, int) and not isinstance(value, bool)
