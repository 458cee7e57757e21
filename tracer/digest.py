"""The digest of a run: what the report shows, reduced from a stream of events.

``Digest`` takes events in batches (a ``Recorder`` subscriber during a run, or lines read back
from a file) and keeps only what the report needs: one small record per request, the
loop-blocking culprits by file:line, busy time per worker thread, errors and violations by kind.
Memory stays small for long runs: no events, a ``RequestSpan`` per request in flight, and
once a request has ended its record packed into 83 bytes (``tracer.span_rows``), from which a
later event of the request (an error after its end, the client's response) unpacks it again;
the client's times to first byte, and each hop's wait for a worker thread, as 8 bytes each,
as the summary keeps latencies; each thread's last few stretches of busy time, so that spans
of one thread that overlap count once; the first and last instant of each process, and the few
requests a process started that had been sent before its first event (``_Takeover``): what
tells the requests that waited for a worker the server started in place of one that ended.
The summary adds the records up with ``tracer.summary.SpanTally``, as ``summarize`` does, so
the numbers agree.
Each request's route is kept as a 2-byte code by request id (``tracer.routes``), and each
loop-blocking place's delayed requests as bits (``tracer.place_delays``).
``tracer.report`` renders it. Imports the spine, ``tracer.span_rows``, ``tracer.routes`` and
``tracer.place_delays`` only.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import os
import re
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import tracer.events as K
from tracer.events import Event
from tracer.gc_pause import paused_gc
from tracer.place_delays import PlaceDelays
from tracer.reading import UNREADABLE, EventLines, lines_until_eof, open_text, unreadable
from tracer.recording import Recording, load, loads
from tracer.routes import (
    FROM_END,
    FROM_QUEUED,
    FROM_START,
    RouteCodes,
    RouteFigures,
    RouteTally,
    route_label,
)
from tracer.span_rows import SpanRows, SpanView
from tracer.summary import (
    CLOSE_KINDS,
    SPAN_KINDS,
    RequestSpan,
    SessionCloses,
    SpanTally,
    hop_wait,
    lifespan_failure,
    load_of,
    stats_ms,
)

__all__ = [
    "Culprit",
    "Digest",
    "ReportDetails",
    "Worker",
    "digest_file",
    "ThreadKey",
    "natural_key",
    "thread_key",
    "thread_names",
]

NS_PER_MS = 1_000_000
REPORT_KEYS = ("mean", "p50", "p90", "p99", "p99.9", "max")
"""The figures of the report's latency table (its time queued and time to first byte too):
more percentiles than the summary's ``queue_ms``."""

KEPT_SPANS = 32
"""The stretches of busy time a thread's tally keeps at least, the last ones (up to twice as
many), to count a span that overlaps them once (``_WorkerTally.busy``)."""

ThreadKey = tuple[int, int, str]
"""What tells one recorded thread apart: ``(pid, tid, name)`` (``thread_key``)."""


def thread_key(event: Event) -> ThreadKey:
    """The thread that recorded ``event``: its pid, its thread id and its name (its id as
    text when it has none).

    The id alone does not tell threads apart: Python gives an ended thread's id to a later
    thread (``threading.get_ident``), and a server that makes a thread per request (Django's
    ASGI handler runs each request's sync code on a one-thread executor of its own) reuses a
    few ids for hundreds of threads. Their names differ: ``threading`` numbers the threads it
    names (``Thread-7``, ``ThreadPoolExecutor-47_0``), and no two live threads share a default
    name. Threads of one custom name that one after the other got the same id still make one
    key: the recording has no instant a thread began, so they cannot be told apart. The report's
    Workers rows and the replay's worker lanes both key threads with this.
    """
    return (event.pid, event.tid, event.thread or str(event.tid))


STARVED_NOTE = "(waiting on other threads: the GIL or a lock)"
"""How a culprit place reads when its steps waited on other threads rather than ran."""

BUSY_MACHINE_NOTE = "(waiting for a CPU: the machine was busy)"
"""How a culprit place reads when its steps waited mostly on a run queue (``descheduled_ns``
over half the step): other processes had the cores, the app did not hold the loop."""

GC_NOTE = "(mostly collecting garbage)"
"""How a culprit place reads when garbage collections on the loop's thread took most of its
steps (``gc_ns`` over half the step): the line only happened to be running when they began."""

CALLBACK_PLACE = "a callback outside any request"
"""How the place of a callback that held the loop outside any request's step reads when the
watchdog saw no app line in it (``outside_step`` without a ``location``)."""


@dataclass(frozen=True, slots=True)
class Culprit:
    """One place (file:line) that held the event loop past the threshold."""

    location: str
    """``file:line`` of the app frame that blocked."""
    count: int
    """How many steps blocked there."""
    total_ms: float
    """Blocked time in all."""
    max_ms: float
    """The longest single block."""
    delayed: int = 0
    """How many distinct requests its blocks delayed: those they name in ``delayed`` (ready
    to run when the block ended) and those they kept queued (``tracer.place_delays``)."""
    delayed_partial: bool = False
    """A block of it could not name every request it delayed (``delayed_complete: false``,
    uvloop): ``delayed`` is a bound from below."""


@dataclass(frozen=True, slots=True)
class Worker:
    """One thread that ran app code (a WSGI worker, the event loop, an offload thread)."""

    name: str
    """Thread name, prefixed with the pid when several processes recorded, and followed by
    ``#n`` when other threads of its process have the same name (``thread_names``)."""
    requests: int
    """Requests started on it, or that handed it work (``asyncio.to_thread``, a def
    endpoint's thread hop, Django's ``sync_to_async``): each request once, however many hops
    it made in a row (a request whose hops on the thread alternate with another request's is
    counted again at each return: ``_WorkerTally.count``)."""
    busy_ms: float
    """Time it ran request code (``sched.thread`` / ``sched.step`` durations) and, on a
    loop's thread, callbacks outside any request's step that held the loop (``loop.blocked``
    with ``outside_step``)."""
    cpu_ms: float
    """Of which on CPU."""
    utilisation: float
    """``busy_ms`` over the run's wall time (0–1)."""
    pid: int = 0
    """Process id of the thread."""
    tid: int = 0
    """Thread id (``threading.get_ident()``), which a later thread may be given once this one
    has ended."""
    thread: str = ""
    """The thread's recorded name (its id as text when it had none): with ``pid`` and ``tid``,
    what tells the thread apart (``key``, ``thread_key``)."""

    @property
    def key(self) -> ThreadKey:
        """``thread_key`` of the events of this thread."""
        return (self.pid, self.tid, self.thread)


@dataclass(slots=True)
class _WorkerTally:
    """What the digest adds up for one thread, on the way to its ``Worker`` row."""

    name: str
    """The thread's recorded name (its id when it had none)."""
    requests: int = 0
    """Requests started on it or that handed it work, each once per run of its events."""
    last_req: int | None = None
    """The request its last counted event belonged to (``count``)."""
    busy_ns: int = 0
    """Time it ran request code, or held its loop in a callback outside any step: each instant
    once (``busy``)."""
    cpu_ns: int = 0
    """Of which on CPU (as its steps and hops measured it: a callback's is not recorded)."""
    first_t: int | None = None
    """When it first ran request code (None: never; it only started requests)."""
    spans: list[int] = field(default_factory=list)
    """The last ``KEPT_SPANS`` (or more) stretches of its busy time, apart and in order, flat
    (``[start, end, cpu_ns, start, end, cpu_ns, ...]``): what a span that overlaps them does
    not add again (``busy``)."""

    def count(self, req: int) -> None:
        """``req`` started on this thread, or handed it work: counted unless the thread's
        last counted event was of ``req`` already. One request's hops on a thread come one
        after the other (Django's three ``sync_to_async`` hops of a view), so this counts
        requests, not hops, keeping one id per thread rather than every id it served (a
        million-request run's loop thread). A request whose hops alternate with another's on
        the same thread is counted once per return: the count is never below the requests
        served, and above it only then."""
        if req != self.last_req:
            self.last_req = req
            self.requests += 1

    def busy(self, t: int, dur: int, cpu_ns: int = 0) -> None:
        """The thread ran from ``t`` for ``dur``, ``cpu_ns`` of it on CPU: what no span
        already counted covers is added.

        One thread runs one thing at a time, yet its spans may overlap: a recording of an
        older version gave a hop nested in another on the same thread a ``sched.thread`` of
        its own (recorded first, as it ended first), and two recorders record the same spans.
        Added up, they made a thread more than 100% busy. The stretches already counted are
        kept, the last ``KEPT_SPANS`` of them at least, each with its time on CPU: spans come
        in about the order they end, so one overlaps the last few, found from the newest back.
        A span that reaches further back than those (an outer hop around more nested hops than
        that) counts that part again.

        Where spans overlap, their CPU time is the smaller of two readings, each one side's
        whole and the other's share (by time) outside it: a nested hop's CPU time is within
        its outer hop's, and the same span twice is its own, whichever came first; never less
        than either side's own."""
        if dur <= 0:
            self.cpu_ns += cpu_ns
            return
        end = t + dur
        spans = self.spans
        if not spans or t >= spans[-2]:  # after all the others: the usual case
            spans += (t, end, cpu_ns)
            self.busy_ns += dur
            self.cpu_ns += cpu_ns
        else:
            first = len(spans) - 3
            while first >= 0 and spans[first + 1] > t:
                first -= 3
            first += 3  # the first stretch that ends after ``t``
            last, start, stop = first, t, end
            shared = had_cpu = cpu_outside = 0
            while last < len(spans) and spans[last] < end:
                was, until, cpu = spans[last], spans[last + 1], spans[last + 2]
                inside = min(until, end) - max(was, t)
                shared += inside
                had_cpu += cpu
                cpu_outside += cpu - cpu * inside // (until - was)
                start, stop = min(start, was), max(stop, until)
                last += 3
            added = dur - shared
            readings = min(cpu_ns + cpu_outside, had_cpu + cpu_ns * added // dur)
            merged = max(had_cpu, cpu_ns, readings)
            spans[first:last] = (start, stop, merged)
            self.busy_ns += added
            self.cpu_ns += merged - had_cpu
        if len(spans) >= 6 * KEPT_SPANS:  # the older half goes, at once
            del spans[: 3 * KEPT_SPANS]


@dataclass(slots=True)
class _PlaceTally:
    """What the digest adds up for one loop-blocking place, on the way to its ``Culprit``."""

    count: int = 0
    """Steps that blocked there."""
    total_ns: int = 0
    """Blocked time in all."""
    worst_ns: int = 0
    """The longest single block."""


@dataclass(slots=True)
class _ErrorTally:
    """The ``error`` events of one type of one request (or of no request)."""

    count: int
    """How many."""
    first: int
    """The order of the first among the digest's errors (its own count of them): the order
    the report lists error types of equal counts in."""


@dataclass(slots=True)
class _Work:
    """What the run's steps, thread hops and loop blocks add up to: the loop's blocked time and
    its places, and each thread's busy time (``Digest._charge`` decides what is the run's)."""

    blocked_ns: int = 0
    """The loop held past the threshold, in all."""
    starved_ns: int = 0
    """Of which by steps that waited on other threads or for a CPU rather than ran."""
    busy_machine_ns: int = 0
    """Of which by steps that waited mostly for a CPU."""
    gc_ns: int = 0
    """Of which garbage collections on the loop's thread took."""
    places: dict[str, _PlaceTally] = field(default_factory=dict)
    """Loop-blocking places, by ``file:line`` (and what the note says of them)."""
    delays: PlaceDelays = field(default_factory=PlaceDelays)
    """The requests each place delayed."""
    threads: dict[ThreadKey, _WorkerTally] = field(default_factory=dict)
    """Each thread's tally, by ``thread_key``."""
    pool_waits: array[int] = field(default_factory=lambda: array("q"))
    """How long each hop that says so waited for a worker thread (``hop_wait``, ns): 8 bytes
    a hop, as the tally keeps latencies."""

    def worker(self, event: Event) -> _WorkerTally:
        """The tally of the thread that recorded ``event`` (made at its first event)."""
        key = thread_key(event)
        worker = self.threads.get(key)
        if worker is None:
            worker = self.threads[key] = _WorkerTally(key[2])
        return worker

    def charge(self, event: Event) -> None:
        """Add a ``sched.step``, ``sched.thread`` or ``loop.blocked`` of the run."""
        t = event.t
        req = event.req
        if event.kind != K.LOOP_BLOCKED:
            worker = self.worker(event)
            if worker.first_t is None or t < worker.first_t:
                worker.first_t = t
            data = event.data
            cpu_ns = data.get("cpu_ns")
            # Any JSON value in a recording read from elsewhere: an int alone is a time.
            worker.busy(t, event.dur or 0, cpu_ns if type(cpu_ns) is int else 0)
            via = data.get("via")
            if via is not None and via != "wsgi" and req is not None:
                worker.count(req)  # work a request handed to this thread (a def endpoint)
            wait = hop_wait(event)
            if wait is not None:
                self.pool_waits.append(wait)
            return
        dur = event.dur or 0
        self.blocked_ns += dur
        outside = event.data.get("outside_step") is True
        if outside:
            # A callback held the loop between steps: no ``sched.step`` has its time,
            # yet the loop's thread was as busy as in a step.
            worker = self.worker(event)
            if worker.first_t is None or t < worker.first_t:
                worker.first_t = t
            worker.busy(t, dur)
        location = event.data.get("location")
        where = str(location or (CALLBACK_PLACE if outside else "?"))
        collected = event.data.get("gc_ns")
        if type(collected) is not int or collected < 0:  # absent, or from elsewhere
            collected = 0
        self.gc_ns += min(collected, dur)
        if event.data.get("starved"):
            # Its thread mostly waited for a CPU (other processes had the cores) or on
            # other threads (their GIL, or a lock they held) rather than ran.
            self.starved_ns += dur
            if 2 * (event.data.get("descheduled_ns") or 0) > dur:
                where = f"{where} {BUSY_MACHINE_NOTE}"
                self.busy_machine_ns += dur
            else:
                where = f"{where} {STARVED_NOTE}"
        elif 2 * collected > dur:
            where = f"{where} {GC_NOTE}"
        place = self.places.get(where)
        if place is None:
            place = self.places[where] = _PlaceTally()
        self.delays.blocked(event, where)
        place.count += 1
        place.total_ns += dur
        if dur > place.worst_ns:
            place.worst_ns = dur


@dataclass(frozen=True, slots=True)
class ReportDetails:
    """What the report shows beyond the summary dict."""

    culprits: list[Culprit] = field(default_factory=list)
    """Loop-blocking places, worst first."""
    starved_ms: float = 0.0
    """Of the loop's blocked time, what starved steps took (``starved``: waiting on other
    threads, or for a CPU)."""
    busy_machine_ms: float = 0.0
    """Of ``starved_ms``, what steps that waited mostly for a CPU took (``descheduled_ns`` over
    half the step)."""
    gc_ms: float = 0.0
    """Of the loop's blocked time, what garbage collections on the loop's thread took
    (``gc_ns``)."""
    workers: list[Worker] = field(default_factory=list)
    """Threads that ran app code, busiest first."""
    timeouts: int = 0
    """Of the summary's errors, the requests the client gave up on (``--json``'s
    ``timeouts``)."""
    resent: int = 0
    """Requests the network client sent again on a new connection (``client.response``'s
    ``resent``): their kept-alive connection closed as they went out."""
    errors: dict[str, int] = field(default_factory=dict)
    """App exceptions by type."""
    violations: dict[str, int] = field(default_factory=dict)
    """Protocol violations by rule."""
    queue_ms: dict[str, float] = field(default_factory=dict)
    """Time queued: mean, p50, p90, p99, p99.9, max (the summary has fewer percentiles)."""
    ttfb_ms: dict[str, float] = field(default_factory=dict)
    """Time to first byte the client measured (``client.response``'s ``ttfb_ns``, a response
    cut short after its first byte included): mean, p50, p90, p99, p99.9, max; empty when no
    response has one (a traced app without the network client, a simulation). For a stream
    (SSE, a long download) the latency is how long it stayed open; this is how soon the
    server answered."""
    latencies: int = 0
    """How many requests the summary's latency figures are of (those that finished)."""
    queued: int = 0
    """How many ``queue_ms`` is of (requests with a time queued)."""
    ttfbs: int = 0
    """How many ``ttfb_ms`` is of."""
    rps: float | None = None
    """Throughput, not rounded: the summary's ``rps`` before its rounding (requests that
    ended, a second, over the time the load took); None when they took no time."""
    loop: bool = True
    """An event loop ran request code (a ``sched.step`` or ``loop.blocked`` was recorded):
    False for a WSGI app's run, whose report then has no loop-blocked line."""
    asgi2_requests: int = 0
    """Requests served as ASGI 2 (their ``request.start`` says ``asgi_version`` 2.0)."""
    replaced_waits: int = 0
    """Requests that waited for a worker the server started in place of one that ended: sent
    by the network client before the process that started them had recorded anything, while
    another server process recorded its last event (uvicorn's ``--limit-max-requests`` worker
    exits, and its supervisor starts the next only seconds later). 0 without a network client."""
    replaced_wait_ms: float = 0.0
    """The longest of those waits, from the send to the start."""
    routes: list[RouteFigures] = field(default_factory=list)
    """The routes that took the most time (``Digest.details``'s ``routes``), the busiest
    first (``tracer.routes``)."""
    route_count: int = 0
    """How many routes the requests had in all (a WebSocket path is a route of its own)."""
    lifespan_blocked_ms: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """How long the lifespan connections' own steps held the loop past the threshold (their
    ``loop.blocked``), left out of the run's blocked time: those that ended before the run's
    first event (the startup), those that began after its last (the shutdown), and the rest
    (tasks the lifespan started, while the load ran)."""


@dataclass(frozen=True, slots=True)
class _Takeover:
    """A request a process started that had been sent before the process's first event so
    far: it may have waited for a worker started in place of one that ended (``Digest``)."""

    queued: int
    """When it was sent (its ``request.queued``, which the network client records with its
    ``client.send``, at the same instant)."""
    start: int
    """When the process started it."""
    pid: int
    """The process that started it."""


@dataclass(frozen=True, slots=True)
class _Pass:
    """What one read of every request gives the summary and the report details."""

    tally: SpanTally
    """The summary's figures."""
    timeouts: int
    """Requests the client gave up on (``_timed_out``), each an error of the summary's."""
    error_types: Counter[str]
    """The summary's other errors, each request once: by the type of its first ``error``
    event, else by how it failed (``_failure_kind``). With ``timeouts`` they add up to the
    summary's ``errors`` (``Digest.for_json``)."""
    failures: dict[str, tuple[int, int]]
    """Failed requests the app did not raise on, by how they failed: how many, and the
    order of the first (the order the digest first saw the requests in, which is the
    order the report lists kinds of equal counts in)."""
    errors: dict[str, tuple[int, int]]
    """The errors kept in packed rows (a request's one ``error`` event), by type: how many,
    and the order of the first among the digest's errors."""
    routes: RouteTally
    """The requests added up by route."""


class Digest:
    """Reduces a stream of events to the summary and the report details."""

    def __init__(self, header: Mapping[str, Any] | None = None) -> None:
        """``header``: the recording's header, read when the summary is made (a run fills in
        its ``load`` after the digest subscribed): an open loop's throughput is taken over the
        time its arrivals were offered in, as ``tracer.summarize`` does."""
        self._header = header
        # Requests, and apart from them lifespan connections (known once their start is
        # seen). A request that has ended leaves ``_spans`` for a packed row; each request
        # keeps the order the digest first saw it in (``_order``, then in its row), which is
        # the order the report lists failures of equal counts in. A request that raised is
        # listed by its errors instead, so when its one error packs with it (``_pack``) its
        # row keeps that error's order in the place of its own.
        self._spans: dict[int, RequestSpan] = {}
        self._lifespan: dict[int, RequestSpan] = {}
        self._rows = SpanRows()
        self._order: dict[int, int] = {}
        self._orders = itertools.count()
        self._pass: _Pass | None = None
        # The run's time extent (first t, last end): the wall time leaves out lifespan
        # connections, known only once their start is seen. Events without a request and
        # those of requests started (not lifespan) count at once; a request not started yet
        # keeps its own extent until it is (one per request in flight, not per request run:
        # 12 MB of a 100,000-request run's peak memory), as does a lifespan connection.
        self._first: int | None = None
        self._last: int | None = None
        self._extent: dict[int, list[int]] = {}
        # The run's steps, hops and loop blocks (``_Work``). Those of a lifespan connection
        # are not the load's: its blocks are kept apart, as ``(end, dur)``, its steps left out.
        # Those of a request whose start is not seen yet wait for it (none in a run fed in
        # order: a request's start comes before its steps end).
        self._work = _Work()
        self._lifespan_blocks: array[int] = array("q")
        self._held: dict[int, list[Event]] = {}
        # Each request's route as a code by request id: 2 bytes a request, packed or not.
        self._routes = RouteCodes()
        self._violations: Counter[str] = Counter()
        # ``error`` events by request (None: of none) and type: a lifespan connection's are
        # left out once its start is known, which may be after the request ended.
        self._errors: dict[int | None, dict[str, _ErrorTally]] = {}
        self._error_orders = itertools.count()
        self._pids: set[int] = set()
        self._resent = 0
        # The client's time to first byte of each response that has one: 8 bytes a request,
        # as the tally keeps latencies.
        self._ttfbs: array[int] = array("q")
        self._loop = False
        self._asgi2 = 0
        # What each failed lifespan startup or shutdown said (``lifespan_failure``), with its
        # send's (t, seq) and connection: the summary lists those of lifespan connections (a
        # connection's start, which says so, may come later) in recording order.
        self._lifespan_failures: list[tuple[int, int, int, dict[str, Any]]] = []
        # How each WebSocket session closed (the summary's ws_close_codes): a few fields per
        # session, nothing for an HTTP request.
        self._closes = SessionCloses()
        # Each process's first event time and last event end, by pid (a few processes), and
        # the pids of the network client (those that record ``client.send``): with the
        # ``_Takeover`` requests, they tell the requests that waited for a worker the server
        # started in place of one that ended. A request is kept only when its process's first
        # event so far came after its send, which the events of a run say of a process's first
        # requests at most: an earlier event of the process, fed later, only moves its first
        # event earlier, so a request left out never needs keeping.
        self._lives: dict[int, tuple[int, int]] = {}
        self._client_pids: set[int] = set()
        self._takeovers: dict[int, _Takeover] = {}
        # Requests started before their send was fed, with the network client known to be
        # there: their start and pid until the send comes (none in a run fed in order).
        self._unsent: dict[int, tuple[int, int]] = {}
        # Requests one side of which ended in the last batch, the other's end not fed yet
        # (with a network client, its response and the server's end come through different
        # paths: in ``trace run --server uvicorn`` the server's rows a batch or two after the
        # client's). They pack at the next batch's end rather than at once: a record packed
        # and unpacked again at its other end cost more than the rest of its request's
        # events. One batch's worth of records at most, so memory stays as it was.
        self._unpaired: list[int] = []
        # The highest request id packed so far: an event of a request above it (a new
        # request's first, with ids counted up) has no row to look for.
        self._packed_top = -1

    def feed(self, batch: Iterable[Event]) -> None:
        """Take a batch of events (any order); usable as a ``Recorder`` subscriber."""
        spans = self._spans
        lifespan = self._lifespan
        extents = self._extent
        rows = self._rows
        self._pass = None
        # Requests whose record may pack at the end of the batch (more of their events
        # often follow in the same batch: a send after the end, the client's response).
        ended: list[int] = []
        lives = self._lives
        closes = self._closes
        # The current run of one process's events: its pid, first event time and last event
        # end so far, kept in locals and stored in ``_lives`` when another process's comes.
        pid: int | None = None
        first = last = 0
        packed_top = self._packed_top  # (rows are packed only after the loop)
        for event in batch:
            t, dur = event.t, event.dur
            end = t + dur if dur else t  # ``event.end``, without a call for every event
            kind = event.kind
            req = event.req
            if kind in CLOSE_KINDS:
                closes.take(event)
            if event.pid != pid:  # most events come in runs of one process
                if pid is not None:
                    lives[pid] = (first, last)
                pid = event.pid
                first, last = lives.get(pid, (t, end))
            if t < first:
                first = t
            if end > last:
                last = end
            if (
                req is not None
                and req <= packed_top
                and req not in spans
                and rows.held
                and req not in lifespan
            ):
                self._unpack(req, ended)
            extent = None if req is None else extents.get(req)
            if extent is not None:
                if t < extent[0]:
                    extent[0] = t
                if end > extent[1]:
                    extent[1] = end
            elif req is None or ((known := spans.get(req)) is not None and known.start is not None):
                # Of no request, or of one started (a lifespan connection's record is apart).
                if self._first is None or t < self._first:
                    self._first = t
                if self._last is None or end > self._last:
                    self._last = end
            else:
                extents[req] = [t, end]
            if kind in SPAN_KINDS:
                if req is None:
                    if kind == K.ERROR:
                        self._error(None, event)
                    continue
                # The request's record is built as tracer.summary.request_spans builds it.
                span = spans.get(req) or lifespan.get(req) or self._new(req)
                if kind == K.REQUEST_START:
                    started = span.start
                    span.take(event)
                    if span.start != started:  # the earliest start so far: it says the scope
                        self._settle(req, span)
                    self._pids.add(event.pid)
                    if span.scope_type != "lifespan":
                        self._work.worker(event).count(req)
                        if event.data.get("asgi_version") == "2.0":
                            self._asgi2 += 1
                        self._started(req, span, t, pid, first)
                        data = event.data
                        self._routes.note(req, data.get("path"), FROM_START, data.get("method"))
                        if span.start == t and span.queued is not None:
                            self._work.delays.started(req, span.queued, event)
                    continue
                span.take(event)
                if kind == K.REQUEST_QUEUED:
                    data = event.data
                    self._routes.note(req, data.get("path"), FROM_QUEUED, data.get("method"))
                    if self._unsent:
                        lives[pid] = (first, last)  # ``_sent`` reads them
                        self._sent(req, span)
                elif kind == K.REQUEST_END:
                    # A template: Starlette's and FastAPI's, Litestar's, Bottle's rule.
                    route = event.data.get("route")
                    if route is not None:
                        self._routes.note(req, route, FROM_END)
                    ended.append(req)
                elif kind == K.CLIENT_RESPONSE:
                    ended.append(req)
                    data = event.data
                    if data.get("resent"):
                        self._resent += 1
                    ttfb = data.get("ttfb_ns")
                    # An int in range only: any JSON value in a recording read from elsewhere.
                    if type(ttfb) is int and 0 <= ttfb < 2**63:
                        self._ttfbs.append(ttfb)
                elif kind == K.ERROR:
                    self._error(req, event)
                elif kind == K.ASGI_SEND:
                    failure = lifespan_failure(event)
                    if failure is not None:
                        self._lifespan_failures.append((event.t, event.seq, req, failure))
            elif kind in (K.SCHED_STEP, K.SCHED_THREAD, K.LOOP_BLOCKED):
                if kind != K.SCHED_THREAD:
                    self._loop = True
                if req is None or (
                    (known := spans.get(req)) is not None and known.start is not None
                ):
                    self._work.charge(event)
                elif req in lifespan:
                    self._lifespan_work(event)
                else:
                    self._held.setdefault(req, []).append(event)
            elif kind == K.VIOLATION:
                self._violations[str(event.data.get("rule") or "?")] += 1
            elif kind == K.CLIENT_SEND:
                self._client_pids.add(event.pid)
        if pid is not None:
            lives[pid] = (first, last)
        self._pack_ended(ended)

    def _pack_ended(self, ended: list[int]) -> None:
        """At a batch's end: pack the records of the requests that ended in it, and of those
        left unpaired by the last one. With a network client, a request one side of which has
        not ended yet waits for the next batch (``_unpaired``)."""
        unpaired, self._unpaired = self._unpaired, []
        if self._client_pids:
            spans = self._spans
            waiting = set(unpaired)
            for req in ended:
                span = spans.get(req)
                if (
                    span is not None
                    and (span.end is None or span.client_end is None)
                    and req not in waiting
                ):
                    waiting.add(req)
                    self._unpaired.append(req)
                else:
                    self._pack(req)
        else:
            for req in ended:
                self._pack(req)
        for req in unpaired:
            self._pack(req)

    def _started(self, req: int, span: RequestSpan, t: int, pid: int, first: int) -> None:
        """``req`` started at ``t`` on process ``pid``, whose first event so far is at
        ``first``: kept as a ``_Takeover`` when it was sent before that (its send not fed yet:
        until it is, when a network client is there to send it).

        Only its earliest start counts, as for its time queued: a request sent again may have
        started on a worker that ended, then on the one in its place."""
        if span.start != t:
            return
        self._takeovers.pop(req, None)
        queued = span.queued
        if queued is None:
            if self._client_pids:
                self._unsent[req] = (t, pid)
            return
        if first > queued:
            self._takeovers[req] = _Takeover(queued, t, pid)

    def _sent(self, req: int, span: RequestSpan) -> None:
        """``req``'s ``request.queued`` came after its start: the start is judged now."""
        found = self._unsent.pop(req, None)
        if found is not None:
            t, pid = found
            self._started(req, span, t, pid, self._lives[pid][0])

    def _replaced_waits(self) -> tuple[int, int]:
        """How many requests waited for a worker the server started in place of one that
        ended, and the longest wait (ns).

        A request counts when the network client sent it before the process that started it
        recorded its first event, and another server process (not the client's) recorded its
        last event between the send and the start: a worker ended, and the request waited for
        the one started in its place (uvicorn's supervisor checks its workers every 0.5 s and
        waits up to 5 s for one that exits to answer before it starts the next)."""
        if not self._client_pids or not self._takeovers:
            return 0, 0
        lives = self._lives
        lasts = [(pid, last) for pid, (_, last) in lives.items() if pid not in self._client_pids]
        count = longest = 0
        for taken in self._takeovers.values():
            queued, start, pid = taken.queued, taken.start, taken.pid
            if lives[pid][0] <= queued:  # an earlier event of the process was fed later
                continue
            if any(other != pid and queued < last < start for other, last in lasts):
                count += 1
                longest = max(longest, start - queued)
        return count, longest

    def _new(self, req: int) -> RequestSpan:
        """A record for ``req``, at its first event."""
        span = self._spans[req] = RequestSpan(req)
        self._order[req] = next(self._orders)
        return span

    def _error(self, req: int | None, event: Event) -> None:
        """An ``error`` event of ``req`` (None: of no request), counted by its type."""
        kind = str(event.data.get("type") or "?")
        kinds = self._errors.get(req)
        if kinds is None:
            kinds = self._errors[req] = {}
        tally = kinds.get(kind)
        if tally is None:
            kinds[kind] = _ErrorTally(1, next(self._error_orders))
        else:
            tally.count += 1

    def _pack(self, req: int) -> None:
        """Pack ``req``'s record if it has ended (not a lifespan connection's).

        A request with one ``error`` event packs it too: its type is the record's ``raised``
        and the row keeps the error's order (see ``__init__``), so the digest holds nothing
        else for it. Errors that ``raised`` does not tell (several, or one of no type) stay
        in ``_errors``."""
        span = self._spans.get(req)
        if span is None or (span.end is None and span.client_end is None):
            return
        order, kinds = self._order[req], self._errors.get(req)
        lone = kinds.get(span.raised) if kinds and len(kinds) == 1 and span.raised else None
        if lone is not None and lone.count == 1:
            order = lone.first
        else:
            lone = None
        if self._rows.put(req, span, order):
            if req > self._packed_top:
                self._packed_top = req
            del self._spans[req], self._order[req]
            if lone is not None:
                del self._errors[req]

    def _unpack(self, req: int, ended: list[int]) -> None:
        """An event of ``req``: its record back as a ``RequestSpan`` if it was packed, with
        the error its row kept."""
        found = self._rows.pop(req)
        if found is not None:
            order, span = found
            self._spans[req], self._order[req] = span, order
            if span.raised is not None and req not in self._errors:
                self._errors[req] = {span.raised: _ErrorTally(1, order)}
            ended.append(req)

    def _settle(self, req: int, span: RequestSpan) -> None:
        """``req``'s start is known: a lifespan connection goes apart, with its extent; a
        request's extent so far joins the run's."""
        held = self._held.pop(req, ())
        if span.scope_type == "lifespan":
            if self._spans.pop(req, None) is not None:
                self._lifespan[req] = span
                del self._order[req]
            for event in held:
                self._lifespan_work(event)
            return
        if self._lifespan.pop(req, None) is not None:  # an earlier start said otherwise
            self._spans[req] = span
            self._order[req] = next(self._orders)
        for event in held:
            self._work.charge(event)
        extent = self._extent.pop(req, None)
        if extent is not None:
            t, end = extent
            if self._first is None or t < self._first:
                self._first = t
            if self._last is None or end > self._last:
                self._last = end

    def _lifespan_work(self, event: Event) -> None:
        """A step, hop or loop block of a lifespan connection: not the load's (its blocks
        are kept apart, for ``ReportDetails.lifespan_blocked_ms``)."""
        if event.kind == K.LOOP_BLOCKED and event.dur:
            self._lifespan_blocks.extend((event.end, event.dur))

    def _run_work(self) -> _Work:
        """The run's ``_Work``, with the steps of requests whose start never came (a
        recording cut short) counted in, as the wall time counts their events."""
        if not self._held:
            return self._work
        work = copy.deepcopy(self._work)
        for events in self._held.values():
            for event in events:
                work.charge(event)
        return work

    def _lifespan_blocked(self, first: int, last: int) -> tuple[float, float, float]:
        """The lifespan connections' blocked time (ms) before the run's window ``first`` to
        ``last``, after it, and during it."""
        before = after = during = 0
        blocks = self._lifespan_blocks
        for i in range(0, len(blocks), 2):
            end, dur = blocks[i], blocks[i + 1]
            if end <= first or last <= first:  # (no load at all: a startup's, most likely)
                before += dur
            elif end - dur >= last:
                after += dur
            else:
                during += dur
        return (
            round(before / NS_PER_MS, 3),
            round(after / NS_PER_MS, 3),
            round(during / NS_PER_MS, 3),
        )

    def requests(self) -> Mapping[int, RequestSpan]:
        """Per-request lifecycle instants, lifespan scopes left out (as ``request_spans``).

        A view of the digest's records: an ended request is unpacked at each read, as a copy
        (changing it changes nothing)."""
        return SpanView(self._spans, self._rows)

    def _read(self) -> _Pass:
        """Every request read once (again only after more events): the summary's tally, the
        timeouts, and the failures and the errors kept in rows that the report shows."""
        if self._pass is not None:
            return self._pass
        tally = SpanTally()
        routes = RouteTally()
        named = self._routes.named
        timeouts = 0
        error_types: Counter[str] = Counter()
        failures: dict[str, tuple[int, int]] = {}
        packed: dict[str, tuple[int, int]] = {}
        order = self._order
        errors = self._errors
        spans = itertools.chain(
            ((order[req], span) for req, span in self._spans.items()), self._rows.spans()
        )
        for first, span in spans:
            tally.add(span)
            route, method = named(span.req)
            if span.scope_type == "websocket":
                # It opens with GET whatever its path's HTTP methods: a route of its own.
                method = None
            routes.add(route_label(route, span.scope_type), span, method)
            # The other errors of the summary's count, by what the client saw: a 503 the app
            # never saw, a refused connection, a timeout, a response that never came. A
            # request with an ``error`` event is counted by its events' types instead (an
            # ``error`` event makes a request failed: ``RequestSpan.failed``).
            kind = span.raised
            if kind is None:
                if span.failed:
                    kind = _failure_kind(span)
                    _add(failures, kind, 1, first)
            elif span.req not in errors:  # its one error packed with it: ``first`` is its order
                _add(packed, kind, 1, first)
            if kind is not None:  # one of the summary's errors: a timeout, or of its kind
                if _timed_out(span):
                    timeouts += 1
                else:
                    error_types[kind] += 1
        _ = tally.max_in_flight  # its instants freed before the pass is kept
        self._pass = _Pass(tally, timeouts, error_types, failures, packed, routes)
        return self._pass

    def window(self) -> tuple[int, int]:
        """First event and last event end of the run, lifespan connections left out (ns)."""
        first, last = self._first, self._last
        for req, (t, end) in self._extent.items():
            if req not in self._lifespan:
                first = t if first is None or t < first else first
                last = end if last is None or end > last else last
        return (first, last) if first is not None and last is not None else (0, 0)

    def summary(self) -> dict[str, Any]:
        """The summary dict of DESIGN.md, as ``summarize`` computes it from the full events."""
        first, last = self.window()
        work = self._run_work()
        return self._read().tally.summary(
            first=first,
            last=last,
            blocked_ns=work.blocked_ns,
            violations=sum(self._violations.values()),
            load=load_of(self._header),
            lifespan_failed=[
                failure
                for _, _, req, failure in sorted(self._lifespan_failures, key=_time_and_seq)
                if req in self._lifespan
            ],
            ws_close_codes=self._closes.counts(),
            pool_waits=work.pool_waits,
        )

    def _culprits(self, work: _Work, top: int | None) -> list[Culprit]:
        """The ``top`` places that held the loop longest in all (None: every one), worst
        first."""
        culprits = [
            Culprit(
                place,
                tally.count,
                round(tally.total_ns / NS_PER_MS, 3),
                round(tally.worst_ns / NS_PER_MS, 3),
            )
            for place, tally in work.places.items()
        ]
        culprits.sort(key=lambda c: (-c.total_ms, c.location))
        # Counted for the places shown only; a lifespan connection is no request delayed.
        return [
            dataclasses.replace(
                culprit,
                delayed=work.delays.count(culprit.location, self._lifespan),
                delayed_partial=work.delays.partial(culprit.location),
            )
            for culprit in culprits[:top]
        ]

    def for_json(self, summary: dict[str, Any]) -> dict[str, Any]:
        """``summary`` (this digest's) as ``--json`` prints it, with what the report shows
        beside the summary's figures, each key only when there are any: what the errors were
        (``error_types``, ``timeouts``: ``_error_keys``) and the places that blocked the loop
        (``loop_blocked_places``, the report's by-place table with every place, worst first).

        Not keys of ``summary`` itself, which is ``tracer.summarize``'s dict and the
        simulator's: counting the requests each place delayed takes the digest's reading."""
        extra = self._error_keys()
        places = self._culprits(self._run_work(), None)
        if places:
            extra["loop_blocked_places"] = [
                {
                    "place": place.location,
                    "count": place.count,
                    "total_ms": place.total_ms,
                    "max_ms": place.max_ms,
                    "delayed": place.delayed,
                    "delayed_partial": place.delayed_partial,
                }
                for place in places
            ]
        return {**summary, **extra} if extra else summary

    def _error_keys(self) -> dict[str, Any]:
        """The summary's ``errors`` told apart, each request once: ``error_types``, those
        the client did not give up on by the type of the app's first exception (as its
        ``error`` event names it), else by how they failed in the report's words (``HTTP
        503``, ``no response``, the network client's error), most first, equal counts by
        name; ``timeouts``, those the client gave up on, whatever the app did. ``errors`` is
        ``timeouts`` plus the counts of ``error_types``."""
        read = self._read()
        keys: dict[str, Any] = {}
        if read.error_types:
            ranked = sorted(read.error_types.items(), key=lambda item: (-item[1], item[0]))
            keys["error_types"] = dict(ranked)
        if read.timeouts:
            keys["timeouts"] = read.timeouts
        return keys

    def details(self, *, top: int = 5, routes: int = 10) -> ReportDetails:
        """Culprits (the ``top`` worst places), workers, timeouts, errors, violations, and
        the ``routes`` routes that took the most time."""
        first, last = self.window()
        wall = last - first
        work = self._run_work()
        names = thread_names(
            {key: (tally.name, tally.first_t) for key, tally in work.threads.items()},
            several=len(self._pids) > 1,
        )
        workers = [
            Worker(
                name=names[key],
                requests=tally.requests,
                busy_ms=round(tally.busy_ns / NS_PER_MS, 3),
                cpu_ms=round(tally.cpu_ns / NS_PER_MS, 3),
                utilisation=round(min(1.0, tally.busy_ns / wall), 4) if wall > 0 else 0.0,
                pid=key[0],
                tid=key[1],
                thread=key[2],
            )
            for key, tally in work.threads.items()
            if tally.busy_ns or tally.requests
        ]
        # Ties in natural order (worker-2 before worker-10), then by the name itself.
        workers.sort(key=lambda w: (-w.busy_ms, natural_key(w.name), w.name, w.tid))
        culprits = self._culprits(work, top)
        read = self._read()
        tally = read.tally
        raised = dict(read.errors)
        for req, kinds in self._errors.items():
            if req not in self._lifespan:
                for kind, error in kinds.items():
                    _add(raised, kind, error.count, error.first)
        # Types of equal counts are listed in the order of their first errors, then the
        # failures' kinds in the order their requests were first seen.
        errors: Counter[str] = Counter()
        for tallies in (raised, read.failures):
            for kind, (count, _) in sorted(tallies.items(), key=lambda item: item[1][1]):
                errors[kind] += count
        waits, longest_wait = self._replaced_waits()
        return ReportDetails(
            culprits=culprits,
            starved_ms=round(work.starved_ns / NS_PER_MS, 3),
            busy_machine_ms=round(work.busy_machine_ns / NS_PER_MS, 3),
            gc_ms=round(work.gc_ns / NS_PER_MS, 3),
            workers=workers,
            timeouts=read.timeouts,
            resent=self._resent,
            errors=dict(errors.most_common()),
            violations=dict(self._violations.most_common()),
            queue_ms=stats_ms(tally.queues, REPORT_KEYS) if tally.queues else {},
            ttfb_ms=stats_ms(self._ttfbs, REPORT_KEYS) if self._ttfbs else {},
            latencies=len(tally.latencies),
            queued=len(tally.queues),
            ttfbs=len(self._ttfbs),
            # Unrounded: the report's figures made from it (the requests out at once) would be a
            # fifth short for five streams over 20 s from the summary's 0.2 (true 0.25).
            rps=read.tally.rate(first=first, last=last, load=load_of(self._header)),
            loop=self._loop,
            asgi2_requests=self._asgi2,
            replaced_waits=waits,
            replaced_wait_ms=round(longest_wait / NS_PER_MS, 3),
            routes=read.routes.busiest(routes),
            route_count=len(read.routes),
            lifespan_blocked_ms=self._lifespan_blocked(first, last),
        )


_Key = TypeVar("_Key", tuple[int, int], ThreadKey)


def thread_names(
    threads: Mapping[_Key, tuple[str, int | None]], *, several: bool = False
) -> dict[_Key, str]:
    """The name each thread is shown by, keyed like ``threads``: by ``thread_key`` (or by
    ``(pid, tid)``, the pid and thread id first either way).

    ``threads`` gives each thread's recorded name and when it first ran request code (None:
    never; it only started requests). Threads of one process often share a name (every anyio
    worker is "AnyIO worker thread", every thread of a pool may be "worker"): those get ``#1``,
    ``#2``... in the order they first ran, then by thread id, so the report's Workers rows and
    the replay's worker lanes, which both name threads with this, tell them apart the same
    way. ``several``: several processes recorded, each name starts with its pid (``12/…``).
    """
    groups: dict[tuple[int, str], list[_Key]] = {}
    for key, (name, _) in threads.items():
        groups.setdefault((key[0], name), []).append(key)

    def first_run(key: _Key) -> tuple[bool, int, int]:
        ran = threads[key][1]
        return (ran is None, ran or 0, key[1])

    shown: dict[_Key, str] = {}
    for (pid, name), keys in groups.items():
        base = f"{pid}/{name}" if several else name
        if len(keys) == 1:
            shown[keys[0]] = base
            continue
        for number, key in enumerate(sorted(keys, key=first_run), 1):
            shown[key] = f"{base} #{number}"
    return shown


_DIGITS = re.compile(r"([0-9]+)")


def natural_key(name: str) -> tuple[str | int, ...]:
    """``name`` with its runs of digits as numbers: ``worker-2`` sorts before ``worker-10``,
    as people count threads and pids. Splitting on a group puts text at even places and
    numbers at odd ones, so two keys always compare like with like."""
    return tuple(int(part) if i % 2 else part for i, part in enumerate(_DIGITS.split(name)))


def _add(tallies: dict[str, tuple[int, int]], kind: str, count: int, first: int) -> None:
    """``count`` more of ``kind``, the first of them at ``first``."""
    had, seen = tallies.get(kind, (0, first))
    tallies[kind] = (had + count, min(seen, first))


def _time_and_seq(failure: tuple[int, int, int, dict[str, Any]]) -> tuple[int, int]:
    """A lifespan failure's place in the recording: its send's ``(t, seq)``."""
    return failure[0], failure[1]


def _timed_out(span: RequestSpan) -> bool:
    """The client gave up on the request: ``timeout``, a model's client; ``TimeoutError``,
    the network client. Either side's word counts: the app may have raised and the client
    then waited in vain (waitress never answers an app's SystemExit)."""
    return span.error == "timeout" or span.client_error in ("timeout", "TimeoutError")


def _failure_kind(span: RequestSpan) -> str:
    """How a request the app did not raise on failed, in the report's words."""
    if span.outcome_error:
        return str(span.outcome_error)
    status = span.outcome_status
    return f"HTTP {status}" if status is not None else "no response"


def digest_file(path: str | os.PathLike[str]) -> tuple[Recording, Digest]:
    """Stream a recording file into a ``Digest``; the ``Recording`` returned holds no events.

    The same errors as ``tracer.recording.load``: missing file, not a recording, newer version.
    """
    name = os.fspath(path)
    if not os.path.isfile(name):
        load(name)  # raises RecordingNotFound with the reader's own message
    try:
        # The requests' records all live on to the report: collections would free nothing.
        with paused_gc(), open_text(name) as handle:
            lines = lines_until_eof(handle)
            header = loads(next(lines, ""), name).header
            digest = Digest(header)
            events = EventLines(lines, name)
            batch: list[Event] = []
            for event in events:
                batch.append(event)
                if len(batch) >= 4096:
                    digest.feed(batch)
                    batch = []
            digest.feed(batch)
    except UNREADABLE as exc:
        raise unreadable(name, exc) from None
    return Recording(header=header, events=[], truncated=events.truncated, path=name), digest
