"""The replay model: lanes of phase spans derived from a recording, with no Textual in sight.

Two views of the same events (DESIGN.md, "How scheduling is seen"):

- *by request*: one lane per request, its life cut into phases — queued, running, waiting
  (suspended on an await, or a thread blocked in I/O: ``cpu_ns`` tells them apart), blocked
  (a step that held the loop), sending, error, abandoned (the app still at it after its
  client gave up) — plus markers for protocol violations;
- *by worker*: one lane per event loop and per thread, holding spans that say which request
  occupied it when.

Spans of one lane may overlap; the renderer resolves overlaps by phase priority (the phase codes),
so an instant error or a short blocked step always wins the cell it falls in.
Imports only the spine (events, recording, summary, digest) and ``tracer.tui.lane``; never
Textual, a shim or a server.
"""

from __future__ import annotations

import bisect
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, overload

from tracer import events as K
from tracer.digest import Digest, ThreadKey, Worker, natural_key, thread_key, thread_names
from tracer.events import Event
from tracer.phases import (
    END_KINDS,
    PhaseSpan,
    cpu_share,
    held_loop,
    kept_from_starting,
    mostly_waiting,
    request_phases,
    unended,
)
from tracer.phases import event_data as _data
from tracer.phases import event_dur as _dur
from tracer.printable import printable
from tracer.recording import Recording
from tracer.summary import request_spans, sample_sizes, summarize
from tracer.tui.lane import (
    ABANDONED,
    BLOCKED,
    ERROR,
    LOOP_LANE,
    QUEUED,
    REQUEST_LANE,
    RUNNING,
    SENDING,
    THREAD_LANE,
    WAITING,
    Lane,
    Marker,
    Span,
)

__all__ = [
    "LIFESPAN_BLOCKED",
    "RequestLanes",
    "TimelineModel",
    "build_model",
    "header_has_loop",
    "model_from_events",
]

LIFESPAN_BLOCKED = "lifespan_blocked_ms"
"""The key ``TimelineModel.figures`` adds to the summary it gives the panel when the lifespan
connections blocked the loop: their ``lifespan_blocked_ms`` (``before``, ``during`` and
``after`` the load, in ms). Not one of the summary's own keys (``trace summary --json``)."""

_WORKER_KINDS = frozenset({K.SCHED_STEP, K.SCHED_THREAD, K.LOOP_BLOCKED, K.REQUEST_START})
"""The kinds of event the by-worker lanes are drawn from."""

_CODES = {
    "queued": QUEUED,
    "running": RUNNING,
    "waiting": WAITING,
    "sending": SENDING,
    "blocked": BLOCKED,
    "error": ERROR,
}
"""``tracer.phases`` names -> the TUI's phase codes (which double as paint priorities)."""


def _code(piece: PhaseSpan) -> int:
    """A phase span's code: ``ABANDONED`` for the waiting after a client gave up (the one
    ``tracer.phases`` draws from the app's own, later ``request.end``), as the figures dash it."""
    code = _CODES[piece.phase]
    return ABANDONED if code == WAITING and piece.kind == K.REQUEST_END else code


class RequestLanes(Sequence[Lane]):
    """The by-request lanes in order of arrival, each derived the first time it is asked for.

    A recording of 10,000 requests opens without building 10,000 lanes: the timeline asks only
    for the rows on screen.
    """

    def __init__(
        self,
        order: list[int],
        events_by_req: dict[int, list[Event]],
        t_end: int,
        threshold_ns: int | None,
        *,
        mark_unended: bool = True,
        in_flight_until: int | None = None,
    ) -> None:
        self.order = order
        self._events = events_by_req
        self._t_end = t_end
        self._threshold = threshold_ns
        self._mark_unended = mark_unended
        self._in_flight_until = in_flight_until
        self._built: dict[int, Lane] = {}
        self._index = {req: i for i, req in enumerate(order)}

    def __len__(self) -> int:
        return len(self.order)

    @overload
    def __getitem__(self, index: int) -> Lane: ...

    @overload
    def __getitem__(self, index: slice) -> list[Lane]: ...

    def __getitem__(self, index: int | slice) -> Lane | list[Lane]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self.order)))]
        if index < 0:
            index += len(self.order)
        lane = self._built.get(index)
        if lane is None:
            req = self.order[index]  # IndexError past the end, as a list would
            lane = _request_lane(
                req,
                self._events[req],
                self._t_end,
                self._threshold,
                self._mark_unended,
                self._in_flight_until,
            )
            self._built[index] = lane
        return lane

    def index_of(self, req: int) -> int | None:
        """The row of request ``req``, if it has one."""
        return self._index.get(req)


def header_has_loop(header: Mapping[str, Any]) -> bool:
    """Whether a run with this header has an event loop by its interface and server model
    alone: not a WSGI app, or a WSGI app on ``wsgi-on-loop`` (a header that does not say yet
    has one, so nothing is hidden before it is known)."""
    server = header.get("server")
    model = server.get("model") if isinstance(server, dict) else None
    return header.get("interface") != "wsgi" or model == "wsgi-on-loop"


class TimelineModel:
    """Everything the replay shows of one recording; lanes are derived when first needed."""

    def __init__(
        self,
        recording: Recording,
        events: list[Event],
        *,
        threshold_ns: int | None = None,
        loop_word: str = "loop",
        mark_unended: bool = True,
        in_flight_until: int | None = None,
    ) -> None:
        self.recording = recording
        """The source."""
        self._events = events
        self._threshold = threshold_ns
        self._loop_word = loop_word
        t_end = 0
        per_req: dict[int, list[Event]] = {}
        self.blocked: list[Event] = []
        """``loop.blocked`` events, in time order."""
        self.marks: list[Event] = []
        """``mark`` events (bookmarks), in time order."""
        self.delayed_by: dict[int, list[Event]] = {}
        """Request -> the ``loop.blocked`` events that held it up (it was in their ``delayed``)."""
        lifespan: set[int] = set()
        # What the by-worker lanes are drawn from, picked out now (a third of a big recording)
        # so that building them on the first v does not go through every event again.
        worker_events: list[Event] = []
        # Request -> the kinds that ended it, as bits: 1 a request.end, 2 a client.response.
        ended: dict[int | None, int] = {}
        # Requests ended twice by the server (a client that gave up, then the app): the few
        # that may have abandoned work, looked at closely only when asked (``abandoned``).
        twice: list[int] = []
        for event in events:
            kind = event.kind
            # Readers ignore kinds they do not know (docs/recording-format.md): an event of a
            # newer release's kind makes no request of its own, joins no known one's events
            # and stretches no timeline.
            if kind not in K.KINDS:
                continue
            end = event.t + event.dur if event.dur else event.t
            if end > t_end:
                t_end = end
            req = event.req
            if isinstance(req, int):
                per_req.setdefault(req, []).append(event)
            if kind in _WORKER_KINDS:
                worker_events.append(event)
            if kind in END_KINDS:
                bit = 1 if kind == K.REQUEST_END else 2
                seen = ended.get(req, 0)
                if bit == 1 and seen & 1 and isinstance(req, int):  # a second request.end
                    twice.append(req)
                ended[req] = seen | bit
            if kind == K.LOOP_BLOCKED:
                self.blocked.append(event)
                delayed = _data(event).get("delayed") or []
                if isinstance(delayed, list):
                    for other in delayed:
                        if isinstance(other, int):
                            self.delayed_by.setdefault(other, []).append(event)
            elif kind == K.MARK:
                self.marks.append(event)
            elif kind == K.REQUEST_START and _data(event).get("scope_type") == "lifespan":
                lifespan.add(req)  # type: ignore[arg-type]
        _queued_behind_blocks(self.delayed_by, self.blocked, per_req, lifespan)
        self.lifespan = lifespan
        """Request ids of lifespan connections (no lane, not counted as requests)."""
        self.t_end = t_end
        """The end of the last event (the recording's length in ns)."""
        known = (event.t for event in events if event.kind in K.KINDS)
        self.t_start = next(known, 0)
        """The time of the first event (later than 0 when the server took a while to start)."""
        known = (event.t for event in reversed(events) if event.kind in K.KINDS)
        self.t_last = next(known, 0)
        """The time of the last event (past it, playing on shows nothing new)."""
        self.events_by_req = per_req
        """Each request's events of the kinds this release knows (``tracer.events.KINDS``), in
        time order: a request exists only if such an event names it."""
        self._event_times: list[int] | None = None
        # Events are in time order, so requests were met in order of arrival.
        order = [req for req in per_req if req not in lifespan]
        if in_flight_until is not None:
            mark_unended = False  # still going, not cut short
        self.by_request = RequestLanes(
            order,
            per_req,
            self.t_end,
            threshold_ns,
            mark_unended=mark_unended,
            in_flight_until=in_flight_until,
        )
        """One lane per request, in order of arrival."""
        self.unended = [req for req in order if req not in ended] if mark_unended else []
        """Requests the recording never saw end (``tracer.phases.unended``: it was cut short),
        in order of arrival; their lanes mark where their events stop. Empty when the model
        was made not to mark them (the live view, where they are simply still running)."""
        self._twice = twice
        self._abandoned: list[int] | None = None
        self._worker_events = worker_events
        self._by_worker: list[Lane] | None = None
        self._by_worker_lock = threading.Lock()
        self._thread_of: dict[str, ThreadKey] = {}
        """Worker lane key -> its thread's ``thread_key`` (to find its report row)."""
        self._summary: dict[str, Any] | None = None
        self._shown: dict[str, Any] | None = None
        """``summary`` as the panel shows it (``figures``)."""
        self._samples: dict[str, int] | None = None
        # The replay's screen sums a big recording up on a thread of its own: a second
        # caller (a key on the UI thread) waits for the first rather than doing it again.
        self._figures_lock = threading.RLock()
        self._workers: list[Worker] | None = None
        self._rows: dict[ThreadKey, Worker] | None = None

    @property
    def abandoned(self) -> list[int]:
        """Requests whose app went on after their client gave up (a timeout), in order of
        arrival: their lanes show that work as ``ABANDONED``."""
        if self._abandoned is None:
            found = {req for req in self._twice if _abandons(self.events_by_req[req])}
            self._abandoned = [req for req in self.by_request.order if req in found]
        return self._abandoned

    @property
    def event_times(self) -> list[int]:
        """Sorted distinct times of the events of known kinds (for stepping the cursor event by
        event)."""
        if self._event_times is None:
            self._event_times = _distinct_times(self._events)
        return self._event_times

    @property
    def by_worker(self) -> list[Lane]:
        """One lane per event loop, then per thread, in order of first activity (ties by name,
        numbers as numbers: worker-2 before worker-10)."""
        lanes = self._by_worker
        if lanes is None:
            # The replay builds them ahead on a thread of its own: whoever comes second waits
            # for the first rather than building them again.
            with self._by_worker_lock:
                lanes = self._by_worker
                if lanes is None:
                    lanes = _worker_lanes(
                        self._worker_events, self._threshold, self._thread_of, self._loop_word
                    )
                    self._by_worker = lanes
        return lanes

    @property
    def by_worker_built(self) -> bool:
        """Whether ``by_worker`` has been built (a first ``v`` then costs nothing)."""
        return self._by_worker is not None

    @property
    def workers(self) -> list[Worker]:
        """The report's Workers rows (``tracer.digest``), computed once: what the detail pane
        says of a thread is what ``trace summary`` says of it."""
        if self._workers is None:
            digest = Digest()
            digest.feed(self._events)
            self._workers = digest.details().workers
        return self._workers

    def worker(self, lane: Lane) -> Worker | None:
        """The report's row for a lane of ``by_worker``, found by its thread's ``thread_key``
        (its pid, id and name: many threads share a name, every anyio worker is "AnyIO worker
        thread", and a later thread may be given an ended one's id), or None if the report has
        none."""
        if self._by_worker is None:
            _ = self.by_worker  # building the lanes fills _thread_of
        found = self._thread_of.get(lane.key)
        if found is None:
            return None
        if self._rows is None:
            self._rows = {row.key: row for row in self.workers}
        return self._rows.get(found)

    @property
    def summary(self) -> dict[str, Any]:
        """``tracer.summary.summarize`` of the recording (computed once), its header's load
        included (an open loop's throughput is over the time its arrivals were offered in)."""
        with self._figures_lock:
            if self._summary is None:
                header = self.recording.header
                self._summary = summarize(Recording(header=header, events=self._events))
            return self._summary

    @property
    def samples(self) -> dict[str, int]:
        """How many values the summary's ``latency_ms`` and ``queue_ms`` are each of (computed
        once): the requests that finished, those that queued, as the report counts them
        (``ReportDetails.latencies``, ``queued``). The summary panel shows a percentile only of
        a sample that measures it (``tracer.report.measures``), as the report does."""
        with self._figures_lock:
            if self._samples is None:
                self._samples = sample_sizes(request_spans(self._events))
            return self._samples

    def figures(self) -> tuple[dict[str, Any], dict[str, int]]:
        """``summary`` and ``samples``, what the summary panel shows (computed once, by
        whichever thread asks first; another waits for it). When the lifespan connections
        blocked the loop, the summary given has their blocked time too, under
        ``LIFESPAN_BLOCKED`` (``lifespan_blocked_ms``): the report's lifespan line, which the
        summary's own keys leave out."""
        with self._figures_lock:
            if self._shown is None:
                summary = self.summary
                blocked = self.lifespan_blocked_ms
                self._shown = (
                    {**summary, LIFESPAN_BLOCKED: blocked} if any(blocked.values()) else summary
                )
            return self._shown, self.samples

    @property
    def lifespan_blocked_ms(self) -> dict[str, float]:
        """How long the lifespan connections' own ``loop.blocked`` held the loop (ms), which
        the summary's ``loop_blocked_ms`` leaves out: ``before`` the load (the startup),
        ``during`` it (tasks the lifespan started) and ``after`` it (the shutdown), by the
        report's rule (``ReportDetails.lifespan_blocked_ms``). The load is the summary's
        window: from the first event to the last one's end, lifespan connections left out."""
        own = [(block.t, _dur(block)) for block in self.blocked if block.req in self.lifespan]
        said = {"before": 0, "during": 0, "after": 0}
        if any(dur for _, dur in own):
            first, last = _window(self._events, self.lifespan)
            for t, dur in own:
                if t + dur <= first or last <= first:  # (no load at all: a startup's)
                    said["before"] += dur
                elif t >= last:
                    said["after"] += dur
                else:
                    said["during"] += dur
        return {when: round(ns / 1e6, 3) for when, ns in said.items()}

    @property
    def has_loop(self) -> bool:
        """Whether the app ran on an event loop, so that its blocked time means something:
        an ASGI app, a WSGI app on ``wsgi-on-loop``, or a recording with loop steps or blocks
        in it; not a WSGI app on threads or processes (as the exported table rules)."""
        if header_has_loop(self.recording.header) or self.blocked:
            return True
        return any(event.kind == K.SCHED_STEP for event in self._worker_events)

    @property
    def title(self) -> str:
        """App, interface and server model, e.g. ``app · ASGI loop``."""
        return self.recording.title

    def lanes(self, view: str) -> Sequence[Lane]:
        """The lanes of ``view`` (``request`` or ``worker``)."""
        return self.by_worker if view == "worker" else self.by_request


def _window(events: Iterable[Event], lifespan: set[int]) -> tuple[int, int]:
    """The first event's time and the last end of ``events``, those of ``lifespan``
    connections left out, as the summary's wall time takes them ((0, 0): none)."""
    first = last = None
    for event in events:
        if event.req in lifespan:
            continue
        end = event.end
        if first is None or event.t < first:
            first = event.t
        if last is None or end > last:
            last = end
    return (0, 0) if first is None or last is None else (first, last)


def _queued_behind_blocks(
    delayed_by: dict[int, list[Event]],
    blocks: list[Event],
    per_req: dict[int, list[Event]],
    lifespan: set[int],
) -> None:
    """Add to ``delayed_by`` the requests a ``loop.blocked`` kept from starting.

    The shim names, at the end of a block, the traced requests that were ready on the loop;
    a request still queued (its task not started yet, or its bytes unread by the server) is
    invisible to it. The recording shows it all the same: a request that was queued while a
    block held the loop its ``request.start`` later ran on (same process and thread), and
    started only after it, was delayed by it.
    """
    if not blocks:
        return
    by_loop: dict[tuple[int | None, int | None], list[Event]] = {}
    for block in blocks:
        by_loop.setdefault((block.pid, block.tid), []).append(block)
    ends = {key: [b.t + _dur(b) for b in loop_blocks] for key, loop_blocks in by_loop.items()}
    for req, events in per_req.items():
        if req in lifespan:
            continue
        queued = next((e for e in events if e.kind == K.REQUEST_QUEUED), None)
        start = next((e for e in events if e.kind == K.REQUEST_START), None)
        if queued is None or start is None:
            continue
        key = (start.pid, start.tid)
        loop_blocks = by_loop.get(key)
        if loop_blocks is None:
            continue
        known = delayed_by.get(req, [])
        # Blocks on one loop never overlap, so ordered by start they are ordered by end too.
        for block in loop_blocks[bisect.bisect_right(ends[key], queued.t) :]:
            if block.t >= start.t:
                break
            if (
                block.req != req
                and block not in known
                and kept_from_starting(block, queued.t, start)
            ):
                known = delayed_by.setdefault(req, known)
                known.append(block)
                known.sort(key=lambda event: (event.t, event.seq))


def _abandons(events: Sequence[Event]) -> bool:
    """The app went on after the request's first ``request.end`` (its client gave up) until a
    later one of its own: the rule by which ``tracer.phases.request_phases`` draws abandoned
    work (a stand-in end from another process abandons nothing)."""
    ends = [event for event in events if event.kind == K.REQUEST_END]
    start = next((event for event in events if event.kind == K.REQUEST_START), None)
    return (
        len(ends) > 1
        and start is not None
        and ends[-1].pid == start.pid
        and ends[-1].end > ends[0].end
    )


def _request_label(req: int, events: Sequence[Event]) -> str:
    """``#12 /path``: the path from ``request.start``, else from ``request.queued`` (a request
    still waiting for a worker, as the live view shows many), else just the number.

    Control characters in the path (``%1b`` decodes to ESC) are written as visible escapes:
    the label goes to the terminal as it is, and a lane builds it once.
    """
    path = ""
    for kind in (K.REQUEST_START, K.REQUEST_QUEUED):
        event = next((e for e in events if e.kind == kind), None)
        if event is not None:
            path = _data(event).get("path") or ""
            if path:
                break
    return printable(f"#{req} {path}".rstrip())


def _request_lane(
    req: int,
    events: list[Event],
    t_end: int,
    threshold_ns: int | None,
    mark_unended: bool = True,
    in_flight_until: int | None = None,
) -> Lane:
    # The phases come from the rule the figures use too (tracer.phases).
    spans = [
        Span(
            piece.start,
            piece.end,
            _code(piece),
            req,
            # A thread's on-CPU share sets its bar's height; a step holds the loop whether or
            # not it computes, so it is drawn full.
            piece.cpu if piece.kind == K.SCHED_THREAD else None,
        )
        for piece in request_phases(events, t_end, threshold_ns=threshold_ns)
    ]
    markers = [
        Marker(
            event.t,
            f"{_data(event).get('rule', '?')}: {_data(event).get('message', '')}",
            str(_data(event).get("hint") or ""),
            str(_data(event).get("location") or ""),
        )
        for event in events
        if event.kind == K.VIOLATION
    ]
    # An error by the summary's rule (raised, no response, or a 5xx), so the marked lanes are
    # the ones the header's error count counts.
    outcome = request_spans(events).get(req)
    error = outcome is not None and outcome.failed
    known = max(event.end for event in events) if unended(events) else None
    flying = None
    if known is not None and in_flight_until is not None:
        now = max(known, in_flight_until)
        if any(event.kind == K.REQUEST_START for event in events):
            # Still going: drawn as far as its events go, then in flight until now (not the
            # ``waiting`` the phases give the unknown stretch of a request cut short).
            spans = _known_part(spans, known)
            flying = (known, now)
        else:  # not started yet: queued until now
            spans = [
                Span(span.start, now, QUEUED, span.req) if span.phase == QUEUED else span
                for span in spans
            ]
    lane = Lane(f"req:{req}", _request_label(req, events), REQUEST_LANE, spans, markers, req, error)
    lane.in_flight = flying
    if known is not None and in_flight_until is None and mark_unended:
        lane.incomplete_at = known
    return lane


def _known_part(spans: list[Span], known: int) -> list[Span]:
    """``spans`` up to ``known`` (where a request's events stop): later ones dropped, one
    across it cut there; an instant stays, a span cut to nothing does not."""
    kept = []
    for span in spans:
        if span.end <= known:
            kept.append(span)
        elif span.start < known:
            kept.append(Span(span.start, known, span.phase, span.req, span.cpu))
    return kept


def _worker_lanes(
    events: Iterable[Event],
    threshold_ns: int | None,
    thread_of: dict[str, ThreadKey],
    loop_word: str = "loop",
) -> list[Lane]:
    """The by-worker lanes, one per thread (``thread_key``: Python gives an ended thread's id
    to a later thread, and each is a lane of its own); ``thread_of`` is filled with each lane's
    thread. ``loop_word`` goes before an event loop's thread name ("loop MainThread")."""
    blocked_by_req: dict[int, list[tuple[int, int]]] = {}
    # Each worker's steps as (start, end, request, CPU share): their phase needs the blocks
    # of the whole recording, so the spans are made once the scan is over. A big recording
    # has hundreds of thousands of events: the scan makes nothing it does not keep.
    steps: dict[tuple[str, ThreadKey], list[tuple[int, int, int | None, float | None]]] = {}
    # Every thread the report's Workers table counts (those that started a request too), with
    # its name and when it first ran request code: same-named threads are numbered from them.
    threads: dict[ThreadKey, list[Any]] = {}
    loose_blocks: list[Event] = []
    step_kinds = {K.SCHED_STEP: LOOP_LANE, K.SCHED_THREAD: THREAD_LANE}
    for event in events:
        kind = event.kind
        lane_kind = step_kinds.get(kind)
        if lane_kind is None:
            if kind == K.LOOP_BLOCKED:
                if event.req is None:
                    loose_blocks.append(event)
                else:
                    blocked_by_req.setdefault(event.req, []).append(
                        (event.t, event.t + _dur(event))
                    )
            elif kind == K.REQUEST_START and _data(event).get("scope_type") != "lifespan":
                key = thread_key(event)
                threads.setdefault(key, [key[2], None])
            continue
        key, t = thread_key(event), event.t
        thread = threads.get(key)
        if thread is None:
            threads[key] = [key[2], t]
        elif thread[1] is None or t < thread[1]:
            thread[1] = t
        piece = (t, t + _dur(event), event.req, cpu_share(event))
        found = steps.get((lane_kind, key))
        if found is None:
            steps[(lane_kind, key)] = [piece]
        else:
            found.append(piece)
    lanes: list[Lane] = []
    # Several server processes (gunicorn or uvicorn workers, the processes model): each
    # process's lanes together, named with its pid (their threads often share names).
    pids = list(dict.fromkeys(key[0] for _, key in steps))
    names = thread_names(
        {key: (name, first) for key, (name, first) in threads.items()}, several=len(pids) > 1
    )
    # A lane is known by its pid and thread id, and by its thread's name too when a later
    # thread was given that id: each thread is a lane of its own.
    ids_used = Counter((kind, pid, tid) for kind, (pid, tid, _) in steps)
    ids: dict[str, tuple[int, int]] = {}
    for (kind, owner), pieces in steps.items():
        pid, tid, recorded = owner
        # The label is shown, so its controls are escaped.
        name = printable(names[owner])
        if kind == LOOP_LANE:
            spans = [
                Span(t0, t1, _loop_phase(t0, t1, req, blocked_by_req, threshold_ns), req, cpu)
                if threshold_ns is not None or req in blocked_by_req
                else Span(t0, t1, RUNNING, req, cpu)  # no block of its request, no threshold
                for t0, t1, req, cpu in pieces
            ]
            # A block no request was named for is drawn on its loop's lane all the same.
            spans += [
                Span(block.t, block.t + _dur(block), BLOCKED, None)
                for block in loose_blocks
                if (block.pid, block.tid) == (pid, tid)
            ]
            label = f"{loop_word} {name}"
        else:
            spans = [
                Span(t0, t1, WAITING if mostly_waiting(cpu) else RUNNING, req, cpu)
                for t0, t1, req, cpu in pieces
            ]
            label = name
        lane_key = f"{kind}:{pid}:{tid}"
        if ids_used[(kind, pid, tid)] > 1:
            lane_key += f":{recorded}"
        lanes.append(Lane(lane_key, label, kind, spans))
        thread_of[lane_key] = owner
        ids[lane_key] = (pids.index(pid), tid)

    def order(lane: Lane) -> tuple[Any, ...]:
        # Lanes starting together (a pool's threads all take a request at once) in the order
        # people count them: by name, its numbers as numbers (worker-2 before worker-10), then
        # by thread id as a number (the lane's key, as text, put "…:10" before "…:2").
        process, tid = ids[lane.key]
        return (process, lane.kind != LOOP_LANE, lane.start, natural_key(lane.label), tid)

    lanes.sort(key=order)
    return lanes


def _loop_phase(
    t0: int,
    t1: int,
    req: int | None,
    blocked: dict[int, list[tuple[int, int]]],
    threshold_ns: int | None,
) -> int:
    """A loop step's phase: ``BLOCKED`` when it held the loop (``tracer.phases.held_loop``)."""
    culprit_of = blocked.get(req, ()) if req is not None else ()
    return BLOCKED if held_loop(t0, t1, culprit_of, threshold_ns) else RUNNING


def model_from_events(
    recording: Recording,
    events: Sequence[Event] | None = None,
    *,
    threshold_ns: int | None = None,
    loop_word: str = "loop",
    mark_unended: bool = True,
    in_flight_until: int | None = None,
) -> TimelineModel:
    """The model of ``events`` (default: all of the recording's), which are sorted by time.

    ``threshold_ns``: treat any coroutine step longer than this as blocking the loop, even
    without a ``loop.blocked`` event (for recordings made without the detector).
    ``loop_word``: what an event loop's lane is called before its thread's name, in the UI's
    language (the labels' ``loop_lane``).
    ``mark_unended``: mark the requests that never ended (``TimelineModel.unended``).
    ``in_flight_until``: the run is still going and this is now (the live view): a request
    with no end yet is in flight (``Lane.in_flight``) from where its events stop until then,
    rather than marked unfinished.
    """
    evs = recording.events if events is None else list(events)
    return TimelineModel(
        recording,
        evs,
        threshold_ns=threshold_ns,
        loop_word=loop_word,
        mark_unended=mark_unended,
        in_flight_until=in_flight_until,
    )


def build_model(
    recording: Recording, *, threshold_ns: int | None = None, loop_word: str = "loop"
) -> TimelineModel:
    """The replay model of a whole recording (``loop_word``: see ``model_from_events``)."""
    return model_from_events(recording, threshold_ns=threshold_ns, loop_word=loop_word)


def _distinct_times(events: list[Event]) -> list[int]:
    """The sorted distinct times of ``events`` of known kinds. Events come in time order (a
    recording is read sorted by ``(t, seq)``): one pass then, without a set of millions of
    times to sort; out of order (a list made by hand), sorted all the same."""
    kinds = K.KINDS
    times: list[int] = []
    last = None
    for event in events:
        if event.kind not in kinds:
            continue
        t = event.t
        if last is None or t > last:
            times.append(t)
            last = t
        elif t < last:
            return sorted({e.t for e in events if e.kind in kinds})
    return times
