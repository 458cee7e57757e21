"""A recording as Chrome trace JSON, the format ui.perfetto.dev and chrome://tracing open.

Layout: a process per server process (the load generator's own, which recorded nothing but the
load it sent, labelled as such, as is its client thread beside an in-process server); a track
per thread and event loop, named; on them, ``B``/``E`` slices for coroutine steps (loop
threads) and a request's time on a worker or offload thread, with protocol calls nested where
they fall inside one; per request, nested
async slices (``b``/``e``, id = the request) for its lifetime, time queued, steps and thread
hops (and, after a request that ended for its client before its app was done, an
``abandoned work`` slice up to the app's own end, holding the calls made then), so requests interleaved on one loop thread each draw on their own row (protocol calls
that straddle a suspension, and those recorded without a duration, such as
``wsgi.start_response``, become async instants ``n``); flows (``s``/``f``) for
loop -> thread -> loop hops; counters for requests in flight and queue depth; instants for loop
blocks, violations, errors and marks (a demo's said in the language asked for, as is the
trace's title: ``tracer.export.trace_names.said_in``). Times are µs since the recording
started. A thread is its pid, id and name (a later thread given an ended one's id is a track
of its own: ``tracer.export.trace_threads``); threads are numbered 1, 2... across the trace
(``tracer.export.trace_ids``), their recorded idents kept in their names' args. Built as the events stream past in time order
(a recording file is never loaded: ``tracer.export.stream``): a request is drawn at its
last event, thread tracks and counters as they settle (``tracer.export.tracks``), the names
of processes and threads last (``tracer.export.trace_names``); a request's own row is
nested as ``tracer.export.slices`` nests intervals, and the file is written as the events
are built (``tracer.export.trace_json``). Imports the recording model, and which kinds are
protocol calls from ``tracer.otel.attributes`` (and the abandoned work's name from
``tracer.otel.spans``); the demos' texts only for a demo's recording
(``tracer.export.trace_names``).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable
from typing import Any

from tracer import events as K
from tracer.digest import ThreadKey, thread_names
from tracer.events import Event
from tracer.export import ExportOptions, default_output, writing
from tracer.export.drawing import clip
from tracer.export.slices import Interval, event_args, nest, sweep, us, within
from tracer.export.stream import RecordingFile, last_of, shell_of
from tracer.export.titles import recording_lang
from tracer.export.trace_ids import PidScan, TraceIds
from tracer.export.trace_json import TraceWriter
from tracer.export.trace_names import names, said_in
from tracer.export.trace_threads import TraceThreads
from tracer.export.tracks import Counters, Track
from tracer.otel.attributes import MESSAGE_KINDS
from tracer.otel.spans import ABANDONED
from tracer.recording import Recording, time_order

__all__ = ["Interval", "to_chrome_trace", "export_perfetto", "nest"]

_INSTANTS = frozenset({K.LOOP_BLOCKED, K.VIOLATION, K.ERROR, K.MARK})

_LOAD = frozenset({K.CLIENT_SEND, K.CLIENT_RESPONSE, K.REQUEST_QUEUED, K.MARK})
"""What the load generator records (requests sent, answers got, arrivals) and bookmarks: a
process or thread that recorded nothing else is the load generator, not the server."""

_RAN = frozenset({K.SCHED_STEP, K.SCHED_THREAD})
"""Events of a thread running request code: when a thread first did is its place among
threads of the same name (tracer.digest.thread_names)."""

WRITTEN: dict[str, str] = {
    "en": "wrote {count} trace events to {where} (open it in ui.perfetto.dev)",
    "zh": "{count} 个追踪事件已写入 {where}（在 ui.perfetto.dev 中打开）",
}
"""Language -> what ``trace export`` says it did, in the trace's language as the figures' lines
are (``tracer.export.svg.STDOUT``: where for ``-o -``)."""


def _label(start: Event | None) -> str:
    """The name of a request's slices: ``GET /items``. Repeated on each of its slices, so a
    path of megabytes is cut (``clip``); the args of the slice showing its ``request.start``
    keep it whole."""
    if start is None:
        return "request"
    data = start.data
    if data.get("scope_type") == "lifespan":
        return "lifespan"
    method = data.get("method") or data.get("scope_type") or "request"
    return clip(f"{clip(str(method))} {clip(str(data.get('path') or ''))}".strip())


_SPILL = 20_000
"""Trace events built before they are handed to ``spill`` (when the builder has one)."""


class _Open:
    """What the builder holds of a request between its first event and its last."""

    __slots__ = (
        "rank",
        "events",
        "threads",
        "label",
        "primaries",
        "pending",
        "sender",
        "arrived",
        "started",
    )

    def __init__(self, rank: int) -> None:
        self.rank = rank
        """Its place among the requests, by first event: the order the slices of a whole
        recording were added in, which breaks ties."""
        self.events: list[Event] = []
        self.threads: list[ThreadKey] = []
        """The thread of each of ``events`` (``TraceThreads.of``)."""
        self.label: str | None = None
        """Its slices' name on thread tracks, from its first ``request.start``."""
        self.primaries: list[tuple[Interval, ThreadKey]] = []
        """Its steps and thread hops so far, with their threads: what its protocol calls nest
        in."""
        self.pending: list[tuple[Interval, ThreadKey, int]] = []
        """Steps and hops (and their place in the recording) that wait for the label."""
        self.sender: int | None = None
        """The pid of the load generator that sent it (its last ``client.send``)."""
        self.arrived: ThreadKey | None = None
        """The thread that sent or queued it first."""
        self.started: ThreadKey | None = None
        """The thread of its first ``request.start``."""


class _ChromeTrace:
    """Builds the trace events of one recording from its events, fed in time order (``feed``),
    then ``finish``.

    A request is drawn at its last event (``counts`` says which that is: one that comes long
    after the request's end, a late error or abandoned work, is still its own); its slices on
    thread tracks and the counters are written as soon as nothing still to come can precede
    them (``tracer.export.tracks``). The names of processes and threads, known only once every
    event is read, come last. With ``spill``, events are handed over in batches as they are
    built, so a writer streams them out instead of holding every event of a big recording.
    """

    def __init__(
        self,
        header: dict[str, Any],
        title: str,
        ids: TraceIds,
        counts: dict[int, int],
        spill: Callable[[list[dict[str, Any]]], None] | None = None,
        said: Callable[[Event], Event] | None = None,
    ) -> None:
        self.header = header
        self.title = title
        # Each event as the trace shows it: a demo's bookmark in the trace's language.
        self.said = said
        self.ids = ids
        self.counts = counts
        self.spill = spill
        self.spilled = 0
        self.out: list[dict[str, Any]] = []
        # Threads are told apart by name too (``tracer.digest.thread_key``): a later thread
        # given an ended one's id is a track of its own.
        self.thread_ids = TraceThreads(ids)
        self.threads: dict[ThreadKey, str] = {}
        self.ran: dict[ThreadKey, int] = {}  # when each thread first ran request code
        self.loops: set[ThreadKey] = set()
        # Processes and threads that recorded something besides the load (``_LOAD``).
        self.serving: set[int] = set()
        self.serving_threads: set[ThreadKey] = set()
        self.request_pids: set[int] = set()
        # A bookmark added after the run (a demo's) belongs to no process: it is drawn as a
        # global instant, and makes no process or thread of its own.
        self.unowned_marks: list[Event] = []
        self.open: dict[int, _Open] = {}
        self.ranks = 0
        self.index = 0  # the place of the event being fed
        self.now: float = -math.inf  # its time
        self.tracks: dict[ThreadKey, Track] = {}
        # Tracks holding slices, in the order they first held some: a dict, not a set, as a set
        # of keys with names in them iterates in an order the hash seed picks, and the order
        # tracks are released in is the order their slices are written.
        self.dirty: dict[ThreadKey, None] = {}
        # Protocol calls whose place on their thread is known once time moves past them (a
        # step starting at the same instant may come after them).
        self.undecided: list[tuple[_Open, Event, ThreadKey, int]] = []
        self.counters = Counters(self._emit, ids.pid)
        # (earliest arrival or start, request) of the requests open: no counter change of
        # theirs can come before it (lifespan connections, which count nothing, left out).
        self.waiting: list[tuple[int, int]] = []
        self.lifespans: set[int] = set()
        self.flows = 0

    def _emit(self, event: dict[str, Any]) -> None:
        self.out.append(event)

    def feed(self, event: Event) -> None:
        """Take the next event of the recording, in time order (``load``'s)."""
        if event.t > self.now:
            self._advance(event.t)
            self.now = event.t
        kind = event.kind
        if kind == K.MARK and self.said is not None:
            event = self.said(event)
        if kind == K.MARK and not event.pid:
            self.unowned_marks.append(event)
            self.index += 1
            return
        pid = event.pid or 1
        key = self.thread_ids.of(pid, event)  # numbered in the order they first recorded
        if event.thread:
            self.threads[key] = event.thread
        elif event.tid:
            self.threads.setdefault(key, key[2])
            if kind in _RAN and key not in self.ran:
                self.ran[key] = event.t
        req = event.req
        state = None
        stand_in = client_end = False
        if req is not None:
            state = self.open.get(req)
            if state is None:
                state = self.open[req] = _Open(self.ranks)
                self.ranks += 1
            # The thread that sent or queued the request, and the one that started it: a
            # thread that ends a request it queued and did not start (an in-process model's
            # client thread, when its client timed out) is still only the load generator.
            if kind in (K.CLIENT_SEND, K.REQUEST_QUEUED) and state.arrived is None:
                state.arrived = key
            if kind == K.CLIENT_SEND:
                state.sender = pid
            if kind == K.REQUEST_END:
                # The client's own end (it gave up, or a stop cancelled it) is part of the load.
                stand_in = state.sender == pid
                client_end = state.arrived == key != state.started
        if kind not in _LOAD and not stand_in:
            self.serving.add(pid)
            if not client_end:
                self.serving_threads.add(key)
        if kind == K.SCHED_STEP:
            self.loops.add(key)
        elif kind in _INSTANTS:
            self._instant(pid, event, key)
        if state is not None and req is not None:
            self.request_pids.add(pid)
            self._take(req, state, event, key)
        self.index += 1
        self._spill_some()

    def _take(self, req: int, state: _Open, event: Event, thread: ThreadKey) -> None:
        """Keep a request's event (recorded on ``thread``); place its steps and calls on their
        threads; draw the request at its last event."""
        state.events.append(event)
        state.threads.append(thread)
        kind = event.kind
        if kind == K.REQUEST_START and state.started is None:
            state.started = thread
        if kind in (K.REQUEST_QUEUED, K.REQUEST_START):
            if kind == K.REQUEST_START and state.label is None:
                state.label = _label(event)
                if event.data.get("scope_type") == "lifespan":
                    self.lifespans.add(req)
                self._place_pending(req, state)
            heapq.heappush(self.waiting, (event.t, req))
        if event.dur is not None and kind in _RAN:
            piece: Interval = (event.t, event.end, event, kind)
            state.primaries.append((piece, thread))
            if state.label is None:
                state.pending.append((piece, thread, self.index))
                self._track(thread).pending.setdefault(req, event.t)
            else:
                self._place(req, state, piece, thread, self.index)
        elif event.dur is not None and kind in MESSAGE_KINDS:
            self.undecided.append((state, event, thread, self.index))
        if last_of(self.counts, req):
            self._close(req, state)

    def _close(self, req: int, state: _Open) -> None:
        """The request's last event is in: draw it."""
        del self.open[req]
        self.lifespans.discard(req)
        if state.pending:  # it never started: its stretches are named "request"
            state.label = _label(None)
            self._place_pending(req, state)
        self._request(req, state.events, state.threads, state.sender, state.rank)

    def _track(self, thread: ThreadKey) -> Track:
        track = self.tracks.get(thread)
        if track is None:
            pid, tid = self.thread_ids.ids_of(thread)
            common = {"cat": "thread", "pid": pid, "tid": tid}
            track = self.tracks[thread] = Track(common, self._emit, event_args)
        return track

    def _place(self, req: int, state: _Open, piece: Interval, where: ThreadKey, index: int) -> None:
        """A step or hop of the request on its thread's track, named after the request."""
        s, e, part, _ = piece
        assert part is not None
        self._track(where).add(
            (s, 1, -e, state.rank, 0, index), (s, e, part, f"#{req} {state.label}")
        )
        self.dirty[where] = None

    def _place_pending(self, req: int, state: _Open) -> None:
        for piece, where, index in state.pending:
            self._track(where).pending.pop(req, None)
            self._place(req, state, piece, where, index)
        state.pending = []

    def _decide(self, state: _Open, message: Event, where: ThreadKey, index: int) -> None:
        """A protocol call goes on its thread's track when it falls inside a step or hop of
        its request there; one of no length at such a stretch's very end closes it."""
        iv: Interval = (
            message.t,
            message.end,
            message,
            str(message.data.get("type") or message.kind),
        )
        same = [p for p, thread in state.primaries if thread == where]
        if not within(iv, same):
            return
        closing = iv[0] == iv[1] and any(p[0] < iv[0] == p[1] for p, _ in state.primaries)
        self._track(where).add((iv[0], 0 if closing else 1, -iv[1], state.rank, 1, index), iv)
        self.dirty[where] = None

    def _advance(self, now: float) -> None:
        """Time moves on to ``now``: every event before it is in; write what can be."""
        for state, message, where, index in self.undecided:
            self._decide(state, message, where, index)
        self.undecided = []
        for where in list(self.dirty):
            track = self.tracks[where]
            track.release(now)
            if not track.held:
                del self.dirty[where]
        waiting = self.waiting
        while waiting and (waiting[0][1] not in self.open or waiting[0][1] in self.lifespans):
            heapq.heappop(waiting)
        self.counters.release(min(now, waiting[0][0]) if waiting else now)

    def finish(self) -> dict[str, Any]:
        """The rest of the trace (and, without ``spill``, all of it) as a Chrome trace
        object."""
        self._advance(math.inf)
        for req, state in list(self.open.items()):  # only a caller's miscount leaves any
            self._close(req, state)
        for event in self.unowned_marks:
            pid = min(self.serving, default=1)
            self._instant(pid, event, self.thread_ids.of(pid, event))
        # Threads of one process that share a name (every anyio worker) are numbered as the
        # report and the replay number them: #1, #2... in the order they first ran.
        self.threads = thread_names(
            {key: (name, self.ran.get(key)) for key, name in self.threads.items()}
        )
        self.out += names(
            self.header,
            self.thread_ids,
            pids={pid for pid, _, _ in self.threads} | self.request_pids,
            threads=self.threads,
            loops=self.loops,
            serving=self.serving,
            serving_threads=self.serving_threads,
        )
        for track in self.tracks.values():
            track.close()
            self._spill_some()
        self.counters.release(math.inf)
        return {
            "traceEvents": self.out,
            "displayTimeUnit": "ms",
            "otherData": {
                "title": self.title,
                "source": self.header.get("source"),
                "clock": self.header.get("clock"),
            },
        }

    def _spill_some(self) -> None:
        """Hand the events built so far to ``spill`` once there are enough of them."""
        if self.spill is not None and len(self.out) >= _SPILL:
            self.spill(self.out)
            self.spilled += len(self.out)
            self.out = []

    def _request(
        self,
        req: int,
        events: list[Event],
        threads: list[ThreadKey],
        sender: int | None = None,
        rank: int = 0,
    ) -> None:
        """Draw one request on its own row; ``threads``: the thread of each of its events;
        ``sender``: the pid of the load generator that sent it, if any; ``rank``: its place
        among the requests (for the counters)."""
        queued: Event | None = None
        start: Event | None = None
        end: Event | None = None
        app_end: Event | None = None  # the app's own end, after the request ended for its client
        client: Event | None = None
        home = threads[0]  # the thread of its row: its start's, else its arrival's
        queued_on: ThreadKey | None = None
        primaries: list[Interval] = []
        ran_on: list[ThreadKey] = []  # the thread of each of ``primaries``
        messages: list[Interval] = []
        untimed: list[Event] = []  # calls recorded without a duration (wsgi.start_response)
        for event, thread in zip(events, threads, strict=True):
            kind = event.kind
            if kind == K.REQUEST_QUEUED:
                queued, queued_on = event, thread
            elif kind == K.REQUEST_START:
                start, home = event, thread
            elif kind == K.REQUEST_END and end is None:
                end = event  # the earliest: a timed-out request's app may end it again later
            elif kind == K.REQUEST_END and (sender is None or event.pid != sender):
                app_end = event  # not the load generator's stand-in, which abandons nothing
            elif kind == K.CLIENT_RESPONSE and client is None:
                client = event  # a network client's answer: the request's outcome
            elif event.dur is not None and kind in (K.SCHED_STEP, K.SCHED_THREAD):
                primaries.append((event.t, event.end, event, kind))
                ran_on.append(thread)
            elif event.dur is not None and kind in MESSAGE_KINDS:
                name = str(event.data.get("type") or kind)
                messages.append((event.t, event.end, event, name))
            elif kind in MESSAGE_KINDS:
                untimed.append(event)
        label = _label(start)
        # Its calls of no length at the very end of a step or hop (thread tracks have them
        # already: ``_decide``).
        closing = {
            iv[2].seq
            for iv in messages
            if iv[2] is not None and iv[0] == iv[1] and any(p[0] < iv[0] == p[1] for p in primaries)
        }
        # The request's own async lane: lifetime > queued | steps | hops > protocol calls.
        first = queued or start or events[0]
        # With a network client the request lasts until its last byte, with the status it got
        # (a 503 the app never saw has no request.start to say anything).
        if client is not None:
            finished = client.end
        else:
            finished = end.end if end is not None else max(e.end for e in events)
        over = max(first.t, finished)
        lane: list[Interval] = [(first.t, over, start if start is not None else client, label)]
        if app_end is not None:
            # What the app still did after the request ended for its client (a timeout, a
            # stop): a slice of its own after the request's, holding the calls made then.
            lane.append((over, max(over, app_end.end), app_end, ABANDONED))
        if queued is not None and start is not None:
            lane.append((queued.t, start.t, queued, "queued"))
        parts = [
            (s, e, ev, "step" if kind == K.SCHED_STEP else f"thread {ev.thread if ev else ''}")
            for s, e, ev, kind in primaries
        ]
        fitting = [m for m in messages if not parts or within(m, parts)]
        kept, left = nest(lane + parts + fitting, closing)
        left += [m for m in messages if m not in fitting]
        if start is None and queued_on is not None:
            home = queued_on
        pid = home[0]
        number = self.thread_ids.ids_of(home)
        common = {"cat": "request", "pid": number[0], "tid": number[1], "id": req}
        self.out += sweep(kept, common, "b", "e")
        # What straddles, and what took no time (a WSGI app's status and headers, as an ASGI
        # app's http.response.start shows them): instants on the request's row.
        for iv in left + [(e.t, e.t, e, str(e.data.get("type") or e.kind)) for e in untimed]:
            self.out.append(
                {**common, "ph": "n", "name": iv[3], "ts": us(iv[0]), "args": event_args(iv[2])}
            )
        self._flows(primaries, ran_on)
        if start is not None and start.data.get("scope_type") != "lifespan":
            # A zero-length wait or request changes no level: leaving it out keeps the
            # "ends before starts at one instant" ordering from dipping below zero.
            changes: list[tuple[int, str, int]] = []
            if queued is not None and queued.t < start.t:
                changes += [(queued.t, "queue", 1), (start.t, "queue", -1)]
            if end is None:
                changes.append((start.t, "inflight", 1))
            elif start.t < end.end:
                changes += [(start.t, "inflight", 1), (end.end, "inflight", -1)]
            self.counters.add(pid, rank, changes)

    def _flow(self, pid: int, source: tuple[ThreadKey, int], target: tuple[ThreadKey, int]) -> None:
        """An arrow from (thread, ts) inside one slice to (thread, ts) inside another."""
        self.flows += 1
        common = {"cat": "hop", "name": "thread hop", "id": self.flows, "pid": self.ids.pid(pid)}
        for ph, (thread, at) in (("s", source), ("f", target)):
            end = {"bp": "e"} if ph == "f" else {}
            self.out.append(
                {**common, "ph": ph, **end, "tid": self.thread_ids.tid(thread), "ts": us(at)}
            )

    def _flows(self, primaries: list[Interval], threads: list[ThreadKey]) -> None:
        """Arrows from the loop to each thread hop and back; ``threads``: each primary's."""
        steps = sorted(
            (
                (iv, thread)
                for iv, thread in zip(primaries, threads, strict=True)
                if iv[2] is not None and iv[3] == K.SCHED_STEP
            ),
            key=lambda step: step[0][0],
        )
        for (hop_start, hop_end, hop, kind), ran_on in zip(primaries, threads, strict=True):
            if kind != K.SCHED_THREAD or hop is None:
                continue
            pid = hop.pid or 1
            before = [s for s in steps if s[0][0] <= hop_start]
            after = [s for s in steps if s[0][0] >= hop_end]
            if before:  # the step that handed the work over, to the thread that ran it
                (s0, s1, _, _), loop = before[-1]
                at = max(s0, min(s1 - 1, hop_start))
                self._flow(pid, (loop, at), (ran_on, min(hop_start + 1, hop_end)))
            if after:  # and back to the step that resumed with the result
                (s0, s1, _, _), loop = after[0]
                self._flow(pid, (ran_on, max(hop_start, hop_end - 1)), (loop, min(s0 + 1, s1)))

    def _instant(self, pid: int, event: Event, thread: ThreadKey) -> None:
        kind = event.kind
        if kind == K.MARK:
            name, scope = clip(str(event.data.get("label") or kind)), "g"
        elif kind == K.LOOP_BLOCKED:
            name, scope = kind, "t"
        else:
            what = event.data.get("rule") or event.data.get("type") or ""
            name, scope = clip(f"{kind} {clip(str(what))}".strip()), "t"
        self.out.append(
            {
                "ph": "i",
                "s": scope,
                "cat": kind,
                "name": name,
                "pid": self.ids.pid(pid),
                "tid": self.thread_ids.tid(thread),
                "ts": us(event.t),
                "args": event_args(event),
            }
        )


def _builder(
    recording: Recording | RecordingFile, lang: str | None = None
) -> tuple[_ChromeTrace, Iterable[Event]]:
    """The trace builder of a recording, its title and bookmarks in ``lang`` (None: the
    language it was made in), and the events to feed it: a loaded recording's list, or a
    file's events read again after a first pass (``RecordingFile.scan``) has counted each
    request's events and found its processes."""
    pids = PidScan()
    if isinstance(recording, RecordingFile):
        counts = dict(recording.scan(pids).counts)
        events: Iterable[Event] = recording.events()
    else:
        counts = {}
        ordered = True
        last = (-math.inf, -math.inf)
        for event in recording.events:
            pids(event)
            if event.req is not None:
                counts[event.req] = counts.get(event.req, 0) + 1
            key = (event.t, event.seq)
            ordered = ordered and key >= last
            last = key
        # A recording is sorted (``load``, ``Recorder.recording``); one made by hand may not be.
        events = recording.events if ordered else sorted(recording.events, key=time_order)
    shell = shell_of(recording)
    title, said = said_in(shell, lang)
    return _ChromeTrace(shell.header, title, pids.ids(), counts, said=said), events


def to_chrome_trace(
    recording: Recording | RecordingFile, *, lang: str | None = None
) -> dict[str, Any]:
    """The Chrome trace JSON object of a recording, its title and a demo's bookmarks in
    ``lang`` (None: the language the recording was made in)."""
    builder, events = _builder(recording, lang)
    for event in events:
        builder.feed(event)
    return builder.finish()


def export_perfetto(
    recording: Recording | RecordingFile, options: ExportOptions, *, lang: str | None = None
) -> str:
    """Write the Chrome trace JSON (``-o``, default ``<recording>.perfetto.json``), its title
    and a demo's bookmarks in ``lang`` (None: the language the recording was made in); the
    line it returns is said in that language too (``WRITTEN``).

    Streamed: trace events go out in batches as they are built (``TraceWriter``), and a
    recording file is read as they are (``_ChromeTrace``), never loaded whole.
    """
    # The first pass before the file is opened: a broken recording writes nothing.
    builder, events = _builder(recording, lang)
    path = options.output or default_output(shell_of(recording), ".perfetto.json")
    with writing(path, options.stdout) as out:
        writer = TraceWriter(out, stdout=path == "-")
        builder.spill = writer.events
        for event in events:
            builder.feed(event)
        writer.close(builder.finish())
    said = lang or recording_lang(shell_of(recording))
    where = path
    if path == "-":
        from tracer.export.svg import STDOUT

        where = STDOUT.get(said, STDOUT["en"])
    return WRITTEN.get(said, WRITTEN["en"]).format(count=writer.written, where=where)
