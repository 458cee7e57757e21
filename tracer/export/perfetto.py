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
blocks, violations, errors and marks. Times are µs since the recording started. Threads are
numbered 1, 2... across the trace (``_Ids``), their recorded idents kept in their names' args.
Imports the recording model, and which kinds are protocol calls from ``tracer.otel.attributes``
(and the abandoned work's name from ``tracer.otel.spans``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from typing import Any

import orjson

from tracer import events as K
from tracer.digest import thread_names
from tracer.events import Event
from tracer.export import ExportOptions, default_output, writing
from tracer.otel.attributes import MESSAGE_KINDS
from tracer.otel.spans import ABANDONED
from tracer.recording import Recording

__all__ = ["Interval", "to_chrome_trace", "export_perfetto", "nest"]

Interval = tuple[int, int, Event | None, str]
"""(start ns, end ns, the event it shows, slice name)."""

_INSTANTS = frozenset({K.LOOP_BLOCKED, K.VIOLATION, K.ERROR, K.MARK})

_LOAD = frozenset({K.CLIENT_SEND, K.CLIENT_RESPONSE, K.REQUEST_QUEUED, K.MARK})
"""What the load generator records (requests sent, answers got, arrivals) and bookmarks: a
process or thread that recorded nothing else is the load generator, not the server."""

_RAN = frozenset({K.SCHED_STEP, K.SCHED_THREAD})
"""Events of a thread running request code: when a thread first did is its place among
threads of the same name (tracer.digest.thread_names)."""


_ID_LIMIT = 2**31
"""Perfetto's JSON importer reads ``pid`` and ``tid`` as unsigned 32-bit numbers and takes a
``tid`` beyond that for the process's own (tid = pid): a Python thread ident, on Linux an
address such as 139621015967424, put every thread of a process on one track (its slices
overlapping, its thread instants dropped). Ids stay below this (signed 32 bits, as other
viewers read them)."""


class _Ids:
    """The trace's small pids and tids, from the recorded ones.

    A pid in 1 .. ``_ID_LIMIT`` - 1 is kept (it is the process's own, which its label names);
    another gets the smallest number no kept pid is. Threads are numbered 1, 2... across the
    whole trace, in the order they first recorded something, skipping the pids: Perfetto
    applies a ``thread_name`` to the last thread it saw with that tid, whatever its process, so
    no two threads share a number (the simulator's processes each have a thread 1), and a tid
    equal to a pid would make that thread its process's main thread.
    """

    def __init__(self, events: list[Event]) -> None:
        self.kept = {pid for event in events if 0 < (pid := event.pid or 1) < _ID_LIMIT}
        self.pids: dict[int, int] = {}
        self.tids: dict[tuple[int, int], int] = {}
        self.next_tid = 1
        owned = [event for event in events if event.pid or event.kind != K.MARK]
        for event in owned:  # every pid first: the tids skip them all
            self.pid(event.pid or 1)
        for event in owned:
            self.tid(event.pid or 1, event.tid)

    def pid(self, pid: int) -> int:
        """The trace's number for recorded process ``pid``."""
        if 0 < pid < _ID_LIMIT:
            return pid
        number = self.pids.get(pid)
        if number is None:
            taken = self.kept | set(self.pids.values())
            number = self.pids[pid] = min(set(range(1, len(taken) + 2)) - taken)
        return number

    def ids(self, pid: int, tid: int) -> tuple[int, int]:
        """The trace's ``(pid, tid)`` for a recorded thread."""
        return self.pid(pid), self.tid(pid, tid)

    def tid(self, pid: int, tid: int) -> int:
        """The trace's number for recorded thread ``tid`` of process ``pid``."""
        number = self.tids.get((pid, tid))
        if number is None:
            number = self.next_tid
            while number in self.kept or number in self.pids.values():
                number += 1
            self.tids[(pid, tid)] = number
            self.next_tid = number + 1
        return number


def _us(ns: int) -> float:
    return ns / 1000


def nest(
    intervals: list[Interval], closing: Collection[int] = ()
) -> tuple[list[Interval], list[Interval]]:
    """Split intervals into those that nest (sorted, parents first) and those that straddle.

    ``closing`` holds the ``seq`` of instants (zero-length intervals) that belong at the very
    end of a parent: at their time they come before the intervals starting then, which would
    otherwise take them in (on a thread track, the next request's step, in a simulation where
    one request's last call and the next one's start share a nanosecond).
    """
    stack: list[Interval] = []
    kept: list[Interval] = []
    left: list[Interval] = []

    def order(iv: Interval) -> tuple[int, int, int]:
        last = iv[2] is not None and iv[0] == iv[1] and iv[2].seq in closing
        return (iv[0], 0 if last else 1, -iv[1])

    for iv in sorted(intervals, key=order):
        while stack and stack[-1][1] <= iv[0]:
            if stack[-1][1] == iv[0] == iv[1] and stack[-1][0] < iv[0]:
                break  # an instant at a parent's very end still belongs to it
            stack.pop()
        if stack and iv[1] > stack[-1][1]:
            left.append(iv)
            continue
        kept.append(iv)
        stack.append(iv)
    return kept, left


def _within(iv: Interval, parents: list[Interval]) -> bool:
    return any(p[0] <= iv[0] and iv[1] <= p[1] for p in parents)


def _args(event: Event | None) -> dict[str, Any]:
    if event is None:
        return {}
    # Headers stay out: a trace file travels further than the recording it came from. How
    # many there were is kept.
    args: dict[str, Any] = {k: v for k, v in event.data.items() if k != "headers"}
    headers = event.data.get("headers")
    if isinstance(headers, list | tuple):
        args["header_count"] = len(headers)
    if event.req is not None:
        args["req"] = event.req
    if event.dur is not None:
        args["dur_ms"] = round(event.dur / 1e6, 6)
    return args


def _sweep(
    kept: list[Interval], common: dict[str, Any], begin: str, end: str
) -> list[dict[str, Any]]:
    """Begin/end events of nested intervals (from ``nest``), in an order that keeps them nested."""
    out: list[dict[str, Any]] = []
    stack: list[Interval] = []
    for iv in kept:
        while stack and stack[-1][1] <= iv[0]:
            if stack[-1][1] == iv[0] == iv[1] and stack[-1][0] < iv[0]:
                break
            top = stack.pop()
            out.append({**common, "ph": end, "name": top[3], "ts": _us(top[1])})
        out.append({**common, "ph": begin, "name": iv[3], "ts": _us(iv[0]), "args": _args(iv[2])})
        stack.append(iv)
    while stack:
        top = stack.pop()
        out.append({**common, "ph": end, "name": top[3], "ts": _us(top[1])})
    return out


def _label(start: Event | None) -> str:
    if start is None:
        return "request"
    data = start.data
    if data.get("scope_type") == "lifespan":
        return "lifespan"
    method = data.get("method") or data.get("scope_type") or "request"
    return f"{method} {data.get('path') or ''}".strip()


_SPILL = 20_000
"""Trace events built before they are handed to ``spill`` (when the builder has one)."""


class _ChromeTrace:
    """Builds the trace events of one recording.

    With ``spill``, events are handed over in batches as requests are done, so a writer can
    stream them out instead of holding every event of a big recording until the end.
    """

    def __init__(
        self, recording: Recording, spill: Callable[[list[dict[str, Any]]], None] | None = None
    ) -> None:
        self.recording = recording
        self.spill = spill
        self.spilled = 0
        self.out: list[dict[str, Any]] = []
        self.threads: dict[tuple[int, int], str] = {}
        self.loops: set[tuple[int, int]] = set()
        self.on_thread: dict[tuple[int, int], list[Interval]] = defaultdict(list)
        self.closing: set[int] = set()
        """``seq`` of the protocol calls made at the very end of their step or hop (``nest``)."""
        self.counters: dict[int, list[tuple[int, str, int]]] = defaultdict(list)
        self.flows = 0
        # Processes and threads that recorded something besides the load (``_LOAD``).
        self.serving: set[int] = set()
        self.serving_threads: set[tuple[int, int]] = set()
        self.ids = _Ids(recording.events)

    def build(self) -> dict[str, Any]:
        # A request may span processes (the load generator's client events, a server worker's
        # own): its id alone identifies it; its lane lives in the process that served it.
        by_req: dict[int, list[Event]] = defaultdict(list)
        # A bookmark added after the run (a demo's) belongs to no process: it is drawn as a
        # global instant, and makes no process or thread of its own.
        unowned_marks: list[Event] = []
        # The process whose client sent each request: a request.end it recorded is its
        # stand-in end (the client gave up, or a stop cancelled it), part of the load.
        senders: dict[int, int] = {}
        ran: dict[tuple[int, int], int] = {}  # when each thread first ran request code
        # The thread that sent or queued each request, and the one that started it: a thread
        # that ends a request it queued and did not start (an in-process model's client
        # thread, when its client timed out) is still only the load generator.
        arrived: dict[int, tuple[int, int]] = {}
        started: dict[int, tuple[int, int]] = {}
        for event in self.recording.events:
            if event.kind == K.MARK and not event.pid:
                unowned_marks.append(event)
                continue
            pid = event.pid or 1
            if event.tid or event.thread:
                self.threads[(pid, event.tid)] = event.thread or str(event.tid)
                if event.kind in _RAN and (pid, event.tid) not in ran:
                    ran[(pid, event.tid)] = event.t  # events come in time order
            key = (pid, event.tid)
            if event.req is not None:
                if event.kind in (K.CLIENT_SEND, K.REQUEST_QUEUED):
                    arrived.setdefault(event.req, key)
                elif event.kind == K.REQUEST_START:
                    started.setdefault(event.req, key)
            if event.kind == K.CLIENT_SEND and event.req is not None:
                senders[event.req] = pid
            req = event.req if event.req is not None else -1
            ends = event.kind == K.REQUEST_END
            stand_in = ends and senders.get(req) == pid
            client_end = ends and arrived.get(req) == key != started.get(req)
            if event.kind not in _LOAD and not stand_in:
                self.serving.add(pid)
                if not client_end:
                    self.serving_threads.add(key)
            if event.req is not None:
                by_req[event.req].append(event)
            if event.kind == K.SCHED_STEP:
                self.loops.add((pid, event.tid))
            elif event.kind in _INSTANTS:
                self._instant(pid, event)
        for event in unowned_marks:
            self._instant(min(self.serving, default=1), event)
        # Threads of one process that share a name (every anyio worker) are numbered as the
        # report and the replay number them: #1, #2... in the order they first ran.
        self.threads = thread_names(
            {key: (name, ran.get(key)) for key, name in self.threads.items()}
        )
        self._metadata(
            {pid for pid, _ in self.threads}
            | {e.pid or 1 for events in by_req.values() for e in events}
        )
        for req, events in by_req.items():
            self._request(req, events, senders.get(req))
            self._spill_some()
        for (pid, tid), intervals in self.on_thread.items():
            kept, _ = nest(intervals, self.closing)
            track = {"pid": self.ids.pid(pid), "tid": self.ids.tid(pid, tid)}
            self.out += _sweep(kept, {"cat": "thread", **track}, "B", "E")
            self._spill_some()
        self._counters()
        return {
            "traceEvents": self.out,
            "displayTimeUnit": "ms",
            "otherData": {
                "title": self.recording.title,
                "source": self.recording.header.get("source"),
                "clock": self.recording.header.get("clock"),
            },
        }

    def _spill_some(self) -> None:
        """Hand the events built so far to ``spill`` once there are enough of them."""
        if self.spill is not None and len(self.out) >= _SPILL:
            self.spill(self.out)
            self.spilled += len(self.out)
            self.out = []

    def _metadata(self, pids: set[int]) -> None:
        header = self.recording.header
        app = header.get("app") or "app"
        model = (header.get("server") or {}).get("model")
        # A simulation records arrivals on a modelled server thread: no client of ours there.
        simulated = header.get("source") == "simulated"
        for pid in sorted(pids):
            if pid not in self.serving and not simulated:  # trace itself, beside a real server
                name = f"load generator (trace) pid {pid}"
            elif model:
                name = f"{app} ({model}) pid {pid}"
            else:
                name = f"{app} pid {pid}"
            args: dict[str, Any] = {"name": name}
            if self.ids.pid(pid) != pid:
                args["pid"] = pid  # the recorded one, which Perfetto could not take
            self.out.append(
                {
                    "ph": "M",
                    "name": "process_name",
                    "pid": self.ids.pid(pid),
                    "tid": 0,
                    "args": args,
                }
            )
        ids = self.ids
        for (pid, tid), name in sorted(self.threads.items(), key=lambda item: ids.ids(*item[0])):
            loop = (pid, tid) in self.loops
            number = ids.ids(pid, tid)
            common = {"ph": "M", "pid": number[0], "tid": number[1]}
            label = f"{name} (event loop)" if loop else name
            if (pid, tid) not in self.serving_threads and not simulated:
                label = f"{name} (load generator)"  # the client, beside an in-process server
            args = {"name": label, "thread_ident": tid}  # the recorded ident, for reference
            self.out.append({**common, "name": "thread_name", "args": args})
            self.out.append(
                {**common, "name": "thread_sort_index", "args": {"sort_index": 0 if loop else 1}}
            )

    def _request(self, req: int, events: list[Event], sender: int | None = None) -> None:
        """Draw one request; ``sender``: the pid of the load generator that sent it, if any."""
        queued: Event | None = None
        start: Event | None = None
        end: Event | None = None
        app_end: Event | None = None  # the app's own end, after the request ended for its client
        client: Event | None = None
        primaries: list[Interval] = []
        messages: list[Interval] = []
        untimed: list[Event] = []  # calls recorded without a duration (wsgi.start_response)
        for event in events:
            kind = event.kind
            if kind == K.REQUEST_QUEUED:
                queued = event
            elif kind == K.REQUEST_START:
                start = event
            elif kind == K.REQUEST_END and end is None:
                end = event  # the earliest: a timed-out request's app may end it again later
            elif kind == K.REQUEST_END and (sender is None or event.pid != sender):
                app_end = event  # not the load generator's stand-in, which abandons nothing
            elif kind == K.CLIENT_RESPONSE and client is None:
                client = event  # a network client's answer: the request's outcome
            elif event.dur is not None and kind in (K.SCHED_STEP, K.SCHED_THREAD):
                primaries.append((event.t, event.end, event, kind))
            elif event.dur is not None and kind in MESSAGE_KINDS:
                name = str(event.data.get("type") or kind)
                messages.append((event.t, event.end, event, name))
            elif kind in MESSAGE_KINDS:
                untimed.append(event)
        label = _label(start)
        # Thread tracks: steps and hops, and the protocol calls that fall inside one of them.
        for s, e, part, _ in primaries:
            assert part is not None
            self.on_thread[(part.pid or 1, part.tid)].append((s, e, part, f"#{req} {label}"))
        for iv in messages:
            message = iv[2]
            assert message is not None
            track = (message.pid or 1, message.tid)
            same = [p for p in primaries if p[2] is not None and (p[2].pid or 1, p[2].tid) == track]
            if _within(iv, same):
                self.on_thread[track].append(iv)
            if iv[0] == iv[1] and any(p[0] < iv[0] == p[1] for p in primaries):
                self.closing.add(message.seq)
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
        fitting = [m for m in messages if not parts or _within(m, parts)]
        kept, left = nest(lane + parts + fitting, self.closing)
        left += [m for m in messages if m not in fitting]
        home = start or first
        pid = home.pid or 1
        number = self.ids.ids(pid, home.tid)
        common = {"cat": "request", "pid": number[0], "tid": number[1], "id": req}
        self.out += _sweep(kept, common, "b", "e")
        # What straddles, and what took no time (a WSGI app's status and headers, as an ASGI
        # app's http.response.start shows them): instants on the request's row.
        for iv in left + [(e.t, e.t, e, str(e.data.get("type") or e.kind)) for e in untimed]:
            self.out.append(
                {**common, "ph": "n", "name": iv[3], "ts": _us(iv[0]), "args": _args(iv[2])}
            )
        self._flows(primaries)
        if start is not None and start.data.get("scope_type") != "lifespan":
            # A zero-length wait or request changes no level: leaving it out keeps the
            # "ends before starts at one instant" ordering from dipping below zero.
            changes = self.counters[pid]
            if queued is not None and queued.t < start.t:
                changes += [(queued.t, "queue", 1), (start.t, "queue", -1)]
            if end is None:
                changes.append((start.t, "inflight", 1))
            elif start.t < end.end:
                changes += [(start.t, "inflight", 1), (end.end, "inflight", -1)]

    def _flow(self, pid: int, source: tuple[int, int], target: tuple[int, int]) -> None:
        """An arrow from (tid, ts) inside one slice to (tid, ts) inside another."""
        self.flows += 1
        common = {"cat": "hop", "name": "thread hop", "id": self.flows, "pid": self.ids.pid(pid)}
        for ph, (tid, at) in (("s", source), ("f", target)):
            end = {"bp": "e"} if ph == "f" else {}
            self.out.append(
                {**common, "ph": ph, **end, "tid": self.ids.tid(pid, tid), "ts": _us(at)}
            )

    def _flows(self, primaries: list[Interval]) -> None:
        steps = sorted(
            (iv for iv in primaries if iv[2] is not None and iv[3] == K.SCHED_STEP),
            key=lambda iv: iv[0],
        )
        for hop_start, hop_end, hop, kind in primaries:
            if kind != K.SCHED_THREAD or hop is None:
                continue
            pid = hop.pid or 1
            before = [s for s in steps if s[0] <= hop_start]
            after = [s for s in steps if s[0] >= hop_end]
            if before:  # the step that handed the work over, to the thread that ran it
                s0, s1, step, _ = before[-1]
                assert step is not None
                at = max(s0, min(s1 - 1, hop_start))
                self._flow(pid, (step.tid, at), (hop.tid, min(hop_start + 1, hop_end)))
            if after:  # and back to the step that resumed with the result
                s0, s1, step, _ = after[0]
                assert step is not None
                self._flow(pid, (hop.tid, max(hop_start, hop_end - 1)), (step.tid, min(s0 + 1, s1)))

    def _counters(self) -> None:
        for pid, changes in self.counters.items():
            level = {"inflight": 0, "queue": 0}
            for t, which, delta in sorted(changes, key=lambda c: (c[0], c[2])):
                level[which] += delta
                name, arg = ("requests", "in flight") if which == "inflight" else ("queue", "depth")
                self._spill_some()
                self.out.append(
                    {
                        "ph": "C",
                        "name": name,
                        "pid": self.ids.pid(pid),
                        "tid": 0,
                        "ts": _us(t),
                        "args": {arg: level[which]},
                    }
                )

    def _instant(self, pid: int, event: Event) -> None:
        kind = event.kind
        if kind == K.MARK:
            name, scope = str(event.data.get("label") or kind), "g"
        elif kind == K.LOOP_BLOCKED:
            name, scope = kind, "t"
        else:
            what = event.data.get("rule") or event.data.get("type") or ""
            name, scope = f"{kind} {what}".strip(), "t"
        self.out.append(
            {
                "ph": "i",
                "s": scope,
                "cat": kind,
                "name": name,
                "pid": self.ids.pid(pid),
                "tid": self.ids.tid(pid, event.tid),
                "ts": _us(event.t),
                "args": _args(event),
            }
        )


_DEPTH = 64
"""How deep a recorded value is written; deeper ones become ``_CUT``. orjson refuses data
nested past 254 levels, which the loader reads (up to 1024)."""
_CUT = "…"


def _dumps(value: Any) -> bytes:
    """``value`` as JSON. What orjson refuses (data nested too deep, integers beyond 64 bits,
    as a recording read from elsewhere may hold) is written cut (``_clipped``), never half a
    file: the usual case pays for one attempt only."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return orjson.dumps(_clipped(value, 0))


def _clipped(value: Any, depth: int) -> Any:
    """``value`` with its containers past ``_DEPTH`` levels as ``_CUT`` and integers outside
    64 bits as strings."""
    if isinstance(value, dict | list | tuple):
        if depth >= _DEPTH:
            return _CUT
        if isinstance(value, dict):
            return {key: _clipped(item, depth + 1) for key, item in value.items()}
        return [_clipped(item, depth + 1) for item in value]
    if type(value) is int and not -(2**63) <= value < 2**64:
        return str(value)
    return value


def to_chrome_trace(recording: Recording) -> dict[str, Any]:
    """The Chrome trace JSON object of a recording."""
    return _ChromeTrace(recording).build()


def export_perfetto(recording: Recording, options: ExportOptions) -> str:
    """Write the Chrome trace JSON (``-o``, default ``<recording>.perfetto.json``).

    Streamed: trace events go out in batches as they are built (a 20,000-request recording
    made ~16 times its size in memory when the whole JSON text was built first).
    """
    path = options.output or default_output(recording, ".perfetto.json")
    with writing(path, options.stdout) as out:
        # JSON is UTF-8 (orjson writes it so): to stdout, bytes, whatever its encoding says.
        raw = out.buffer if path == "-" and hasattr(out, "buffer") else None
        if raw is not None:
            out.flush()

        def write(data: bytes) -> None:
            if raw is not None:
                raw.write(data)
            else:
                out.write(data.decode())

        write(b'{"traceEvents":[')
        first = [True]

        def spill(batch: list[dict[str, Any]]) -> None:
            # A slice of events at a time, as one JSON array whose brackets are dropped: one
            # buffer per slice (a buffer per event cost ~4 KB each, ~800 MB for 200,000).
            for at in range(0, len(batch), _SPILL):
                data = _dumps(batch[at : at + _SPILL])[1:-1]
                write(data if first[0] else b"," + data)
                first[0] = False

        builder = _ChromeTrace(recording, spill)
        trace = builder.build()
        spill(trace["traceEvents"])
        rest = {key: value for key, value in trace.items() if key != "traceEvents"}
        write(b"]," + _dumps(rest)[1:])
        if path == "-":
            write(b"\n")
        if raw is not None:
            raw.flush()
    count = builder.spilled + len(trace["traceEvents"])
    where = "stdout" if path == "-" else path
    return f"wrote {count} trace events to {where} (open it in ui.perfetto.dev)"
