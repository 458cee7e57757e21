"""Which phase each stretch of a request's life is in: the one rule the replay UI and the figures share.

The rule (DESIGN.md, "How scheduling is seen"), for one request's events:

- ``queued``: from ``request.queued`` to ``request.start`` (waiting for the server: a worker
  thread, a process, the loop); and, for a coroutine, from the end of a step that suspended
  awaiting a thread hop (``awaiting`` one of ``THREAD_HOPS``: ``anyio.to_thread.run_sync``,
  ``asyncio.to_thread``, ...) to the start of that hop's ``sched.thread``, when it started
  later: the hop waited for a thread to run the request's code (a thread-pool token,
  asgiref's one thread, a thread being made), as a WSGI request waits for a worker thread.
  The loop steps in between (anyio's own, while it waits for a token) are drawn over it;
- ``running``: a coroutine step (``sched.step``) that did not hold the loop, or a thread's stretch
  (``sched.thread``) spent mostly on the CPU;
- ``waiting``: a thread's stretch mostly off the CPU (its ``cpu_ns`` under ``CPU_BUSY_SHARE`` of
  its ``dur``: blocked in I/O, on a lock, on the GIL), a timed body read or ``receive``, and,
  under everything, a scheduled request between its steps (a suspended coroutine);
- ``blocked``: a step that held the loop (a ``loop.blocked`` overlaps it, or it ran past the
  threshold), or a ``loop.blocked`` with no step under it;
- ``sending``: a timed ``asgi.send`` / ``wsgi.write`` (time inside the server's send); for a
  WSGI response iterable, the server's time after each chunk (``wsgi.body``'s end to the next
  chunk's start, after the last to ``wsgi.close``: writing it out), while a ``wsgi.body``'s own
  ``dur`` is the app's time producing the chunk, drawn as the thread's stretch under it says
  (running, or waiting with its CPU share); and, with a network client, the response on its
  way after the app was done (``request.end`` to the client's last byte); a request a client
  sent ends at its ``client.response`` when the app never saw it;
- ``waiting`` too, after a client gave up (the first of two ``request.end``: a model's timeout):
  the app's abandoned work, from there to the app's own ``request.end`` (``kind``
  ``request.end``), as the Perfetto and OTLP exports draw it;
- ``error``: an instant (an ``error`` event, a ``request.end`` that carries one, or a
  ``client.response`` saying the client got no response).

A request that is ``unended`` (no ``request.end``, no ``client.response``: the recording was
cut short, or the run is still going) is drawn only as far as its events go: after its last
event it is ``waiting`` (for all anyone knows) up to the end of the recording, even with no
scheduling events at all (a thread's ``sched.thread`` is recorded when the stretch is over, so
a killed run leaves none for the requests it was serving).

``tracer.tui.model`` draws its by-request lanes from ``request_phases`` and the SVG/HTML
exporters their figures, so a slide and the replay never disagree. Part of the spine: imports
only ``tracer.events``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import tracer.events as K
from tracer.events import Event

__all__ = [
    "QUEUED",
    "RUNNING",
    "WAITING",
    "SENDING",
    "BLOCKED",
    "ERROR",
    "PRIORITY",
    "CPU_BUSY_SHARE",
    "THREAD_HOPS",
    "PhaseSpan",
    "cpu_share",
    "event_data",
    "event_dur",
    "held_loop",
    "kept_from_starting",
    "mostly_waiting",
    "thread_phase",
    "thread_waits",
    "step_phase",
    "request_phases",
    "unended",
    "END_KINDS",
]

WAITING = "waiting"
QUEUED = "queued"
RUNNING = "running"
SENDING = "sending"
BLOCKED = "blocked"
ERROR = "error"

PRIORITY: dict[str, int] = {WAITING: 1, QUEUED: 2, RUNNING: 3, SENDING: 4, BLOCKED: 5, ERROR: 6}
"""Phase -> paint priority: where spans overlap, the higher one is drawn on top (as in the UI)."""

CPU_BUSY_SHARE = 0.5
"""A thread span whose on-CPU share is below this is waiting (I/O, a lock, the GIL), not running
(``tracer.tui.lane`` takes it from here)."""

THREAD_HOPS = frozenset(
    {
        "anyio.to_thread.run_sync",
        "asyncio.to_thread",
        "asgiref.sync_to_async",
        "loop.run_in_executor",
    }
)
"""The ``awaiting`` of a ``sched.step`` that handed the request's code to another thread (the
hops whose ``sched.thread`` says ``via``): until that thread starts it, the request is queued
for a thread."""

_SENDS = frozenset({K.ASGI_SEND, K.WSGI_WRITE})
_READS = frozenset({K.WSGI_INPUT_READ, K.ASGI_RECEIVE})
END_KINDS = frozenset({K.REQUEST_END, K.CLIENT_RESPONSE})
"""The kinds that end a request for whoever reads the recording (``unended``)."""


@dataclass(frozen=True, slots=True)
class PhaseSpan:
    """A stretch of one request's life in one phase."""

    start: int
    """Nanoseconds, as the recording's event times."""
    end: int
    """``>= start``; an instant (an error) has ``end == start``."""
    phase: str
    """One of ``QUEUED``, ``RUNNING``, ``WAITING``, ``SENDING``, ``BLOCKED``, ``ERROR``."""
    kind: str | None = None
    """The kind of the event it was drawn from; None for the request's own queued and
    in-flight stretches (derived from its start and end)."""
    cpu: float | None = None
    """On-CPU share (0..1) of a scheduling span, when the recording says."""


def event_data(event: Event) -> dict[str, Any]:
    """``event.data``, or ``{}`` when a hand-edited or foreign line carries something else."""
    return event.data if isinstance(event.data, dict) else {}


def event_dur(event: Event) -> int:
    """``event.dur`` as a positive int, else 0."""
    dur = event.dur
    return dur if isinstance(dur, int) and dur > 0 else 0


def cpu_share(event: Event) -> float | None:
    """``data.cpu_ns / dur`` clamped to 0..1; None when the event does not say."""
    cpu = event_data(event).get("cpu_ns")
    dur = event_dur(event)
    if not isinstance(cpu, (int, float)) or dur <= 0:
        return None
    return max(0.0, min(1.0, cpu / dur))


def mostly_waiting(share: float | None) -> bool:
    """A thread's stretch with this on-CPU share was mostly off the CPU (I/O, a lock, the GIL)."""
    return share is not None and share < CPU_BUSY_SHARE


def thread_phase(event: Event) -> str:
    """A ``sched.thread`` span: ``WAITING`` when mostly off the CPU, else ``RUNNING``."""
    return WAITING if mostly_waiting(cpu_share(event)) else RUNNING


def held_loop(
    t0: int, t1: int, blocked: Iterable[tuple[int, int]], threshold_ns: int | None = None
) -> bool:
    """A step from ``t0`` to ``t1`` held the loop: one of the ``blocked`` intervals (its
    request's ``loop.blocked`` events) overlaps it, or it ran longer than ``threshold_ns``."""
    if threshold_ns is not None and t1 - t0 > threshold_ns:
        return True
    return any(b0 < t1 and t0 < b1 for b0, b1 in blocked)


def step_phase(
    event: Event, blocked: Iterable[tuple[int, int]], threshold_ns: int | None = None
) -> str:
    """A ``sched.step``: ``BLOCKED`` when it held the loop (``held_loop``), else ``RUNNING``.
    A step holds the loop whether or not it computes, so its CPU share is moot."""
    t0 = event.t
    return BLOCKED if held_loop(t0, t0 + event_dur(event), blocked, threshold_ns) else RUNNING


def kept_from_starting(block: Event, arrived: int, start: Event) -> bool:
    """``block`` (a ``loop.blocked``) delayed a request that arrived at ``arrived`` and started
    at ``start`` without being able to name it: the request was still queued while the block
    held the loop it then started on (same process and thread), and started after it."""
    return (
        (block.pid, block.tid) == (start.pid, start.tid)
        and block.t < start.t
        and arrived < block.t + event_dur(block)
    )


def unended(events: Sequence[Event]) -> bool:
    """Nothing ended the request: it has events, and no ``request.end`` or ``client.response``
    among them (the recording stops first: the run was killed, or is still going).
    ``request_phases`` draws such a request only as far as its events go."""
    return bool(events) and not any(e.kind in END_KINDS for e in events)


def _failed_without_error(
    start: Event | None, end: Event | None, client: Event | None
) -> Event | None:
    """The event that ended a request which failed with no error named: its answer (the
    client's, else the server's) was a 5xx (``tracer.events.is_server_error``), or there was
    none. As ``tracer.summary``'s ``RequestSpan.failed`` counts errors, so a marked lane is a
    counted error."""
    outcome = client if client is not None else end
    if outcome is None or (start is not None and event_data(start).get("scope_type") == "lifespan"):
        return None
    status = event_data(outcome).get("status")
    if outcome is client and not isinstance(status, int):
        status = None  # a client's status that is no int is none, as the summary reads it
    if status is None or K.is_server_error(status):
        return outcome
    return None


def request_phases(
    events: Sequence[Event], t_end: int, *, threshold_ns: int | None = None
) -> list[PhaseSpan]:
    """One request's events (in time order) as phase spans, in paint order (lowest priority
    first, then by start). ``t_end`` ends a request that never did."""
    blocked = [(e.t, e.t + event_dur(e)) for e in events if e.kind == K.LOOP_BLOCKED]
    queued = start = end = client = None
    app_end: Event | None = None  # the app's own end after a client gave up (abandoned work)
    chunks: list[Event] = []  # timed wsgi.body: the app's time producing each chunk
    closes: list[Event] = []
    scheduled = False
    asks: list[Event] = []  # steps that suspended awaiting a thread hop
    hops: list[Event] = []  # the request's sched.thread
    spans: list[PhaseSpan] = []
    detected: list[PhaseSpan] = []
    # Error instants: the app's exceptions where they were raised; only without one, where the
    # request ended in error (a raise is also an errored end, a broken response and a client's
    # failure: one mark for one error).
    raised: list[PhaseSpan] = []
    ended: list[PhaseSpan] = []
    for event in events:
        kind = event.kind
        if kind == K.REQUEST_QUEUED and queued is None:
            queued = event
        elif kind == K.REQUEST_START and start is None:
            start = event
        elif kind == K.REQUEST_END and end is None:
            # The first end counts: a client that gave up ended the request.
            end = event
            if event_data(event).get("error"):
                ended.append(PhaseSpan(event.end, event.end, ERROR, kind))
        elif kind == K.REQUEST_END:
            app_end = event  # the last one: how long the app still had it
        elif kind == K.WSGI_BODY:
            if event_dur(event):
                chunks.append(event)
        elif kind == K.WSGI_CLOSE:
            closes.append(event)
        elif kind == K.SCHED_STEP:
            scheduled = True
            if event_data(event).get("awaiting") in THREAD_HOPS:
                asks.append(event)
            phase = step_phase(event, blocked, threshold_ns)
            spans.append(
                PhaseSpan(event.t, event.t + event_dur(event), phase, kind, cpu_share(event))
            )
        elif kind == K.SCHED_THREAD:
            scheduled = True
            hops.append(event)
            spans.append(
                PhaseSpan(
                    event.t, event.t + event_dur(event), thread_phase(event), kind, cpu_share(event)
                )
            )
        elif kind in _SENDS or kind in _READS:
            if event_dur(event):
                phase = SENDING if kind in _SENDS else WAITING
                spans.append(PhaseSpan(event.t, event.t + event_dur(event), phase, kind))
        elif kind == K.LOOP_BLOCKED:
            detected.append(PhaseSpan(event.t, event.t + event_dur(event), BLOCKED, kind))
        elif kind == K.ERROR:
            raised.append(PhaseSpan(event.t, event.t, ERROR, kind))
        elif kind == K.CLIENT_RESPONSE and client is None:
            client = event
            if event_data(event).get("error"):  # no response at all: refused, reset, timed out
                ended.append(PhaseSpan(event.end, event.end, ERROR, kind))
    # A loop.blocked already paints its step; only one with no step under it (a recording made
    # without step tracing) needs a span of its own.
    for block in detected:
        if not any(
            s.phase == BLOCKED and s.start < block.end and block.start < s.end for s in spans
        ):
            spans.append(block)
    spans += _chunks_sent(chunks, closes)
    spans += thread_waits(asks, hops)
    errors = raised or sorted(ended, key=lambda s: s.start)[:1]
    if not errors:
        failed = _failed_without_error(start, end, client)
        if failed is not None:
            errors = [PhaseSpan(failed.end, failed.end, ERROR, failed.kind)]
    spans.extend(errors)
    begin = start.t if start is not None else None
    # A network client's response ends the request for whoever sent it (real servers): one
    # the app never saw (a 503 from the server) is queued until then, not to the end of time.
    finish = end.end if end is not None else client.end if client is not None else t_end
    if queued is not None:
        spans.append(PhaseSpan(queued.t, begin if begin is not None else finish, QUEUED))
    if begin is not None:
        # Between the spans that say what it did, a scheduled request was suspended or parked;
        # one with no scheduling events at all is taken to run the whole time.
        stop = max(begin, finish)
        if scheduled:
            spans.append(PhaseSpan(begin, stop, WAITING))
        else:
            # Nothing says what an unended one did after its last event (a thread's stretch is
            # recorded when it is over, so a killed run leaves none of it): it ran as far as its
            # events go, and is waiting for all anyone knows from there on.
            ran = stop
            if end is None and client is None:  # unended
                ran = max(begin, min(stop, max(e.end for e in events)))
            if ran > begin or ran == stop:  # an unended one that did nothing visible: no bar
                spans.append(PhaseSpan(begin, ran, RUNNING))
            if ran < stop:
                spans.append(PhaseSpan(ran, stop, WAITING))
    if app_end is not None and start is not None and app_end.pid == start.pid:
        # The client gave up; the app went on (suspended, or its thread held) until its own
        # end: abandoned work, not nothing (a lone step at its cancellation). A stand-in end
        # from a load generator in another process abandons nothing.
        if app_end.end > finish:
            spans.append(PhaseSpan(finish, app_end.end, WAITING, K.REQUEST_END))
    if client is not None and begin is not None and client.end > finish:
        # The app was done; the response was still on its way (the server's buffers, the
        # socket): the client's last byte came later.
        spans.append(PhaseSpan(finish, client.end, SENDING, K.CLIENT_RESPONSE))
    spans.sort(key=lambda s: (PRIORITY[s.phase], s.start, s.end))
    return spans


def _chunks_sent(chunks: Sequence[Event], closes: Sequence[Event]) -> list[PhaseSpan]:
    """The server's time with each chunk of a WSGI response iterable, as ``sending``: from a
    ``wsgi.body``'s end (the app handed the chunk over) to the next chunk's start (the server
    asked for more), after the last one to ``wsgi.close``'s start. The chunks' own ``dur`` is
    the app's time and is left to the thread's stretch under it; with no ``wsgi.close`` after
    the last chunk, it gets none."""
    ordered = sorted(chunks, key=lambda e: e.t)
    nexts = [e.t for e in ordered[1:]]
    last = ordered[-1].end if ordered else None
    close = min((e.t for e in closes if last is not None and e.t >= last), default=None)
    if close is not None:
        nexts.append(close)
    return [
        PhaseSpan(chunk.end, max(chunk.end, after), SENDING, K.WSGI_BODY)
        for chunk, after in zip(ordered, nexts, strict=False)
    ]


def thread_waits(asks: Sequence[Event], hops: Sequence[Event]) -> list[PhaseSpan]:
    """A request's waits for a thread to run its code, as ``queued`` (kind ``sched.step``):
    from the end of each step in ``asks`` (one that suspended awaiting a thread hop, its
    ``awaiting`` in ``THREAD_HOPS``) to the start of the hop it awaited, the first of the
    request's ``sched.thread`` (``hops``) to end after it asked, when that one started later.
    One await of a hop can span several steps (anyio's, while it waits for a token): the
    wait runs from the first; a worker may start the hop a moment before the loop records the
    step's end: no wait then."""
    ordered = sorted(hops, key=lambda e: e.t)
    waits: dict[int, PhaseSpan] = {}  # index of the hop in ordered -> its wait, from its first ask
    for ask in sorted(asks, key=lambda e: e.t + event_dur(e)):
        asked = ask.t + event_dur(ask)
        hop = next((i for i, h in enumerate(ordered) if h.t + event_dur(h) > asked), None)
        if hop is not None and hop not in waits:
            waits[hop] = PhaseSpan(asked, max(asked, ordered[hop].t), QUEUED, K.SCHED_STEP)
    return [w for w in waits.values() if w.end > w.start]
