"""A recording as Chrome trace JSON, the format ui.perfetto.dev and chrome://tracing open.

Layout: a process per server process; a track per thread and event loop, named; on them,
``B``/``E`` slices for coroutine steps (loop threads) and a request's time on a worker or
offload thread, with protocol calls nested where they fall inside one; per request, nested
async slices (``b``/``e``, id = the request) for its lifetime, time queued, steps and thread
hops, so requests interleaved on one loop thread each draw on their own row; flows (``s``/``f``)
for loop -> thread -> loop hops; counters for requests in flight and queue depth; instants for
loop blocks, violations, errors and marks. Times are µs since the recording started.
Imports the recording model only.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from tracer import events as K
from tracer.errors import TracerError
from tracer.events import Event
from tracer.export import ExportOptions, default_output
from tracer.recording import Recording

__all__ = ["to_chrome_trace", "export_perfetto", "nest"]

Interval = tuple[int, int, Event | None, str]
"""(start ns, end ns, event, name)."""

_MESSAGES = frozenset(
    {
        K.ASGI_RECEIVE,
        K.ASGI_SEND,
        K.WSGI_INPUT_READ,
        K.WSGI_START_RESPONSE,
        K.WSGI_WRITE,
        K.WSGI_BODY,
        K.WSGI_CLOSE,
    }
)
_PRIMARY = frozenset({K.SCHED_STEP, K.SCHED_THREAD})


def _us(ns: int) -> float:
    return ns / 1000


def nest(intervals: list[Interval]) -> tuple[list[Interval], list[Interval]]:
    """Split intervals into those that nest (sorted, parents first) and those that straddle."""
    intervals = sorted(intervals, key=lambda iv: (iv[0], -iv[1]))
    stack: list[Interval] = []
    kept: list[Interval] = []
    left: list[Interval] = []
    for iv in intervals:
        while stack and stack[-1][1] <= iv[0] and not (stack[-1][0] == stack[-1][1] == iv[0]):
            stack.pop()
        if stack and iv[1] > stack[-1][1]:
            left.append(iv)
            continue
        kept.append(iv)
        stack.append(iv)
    return kept, left


def _within(iv: Interval, parents: list[Interval]) -> bool:
    return any(p[0] <= iv[0] and iv[1] <= p[1] for p in parents)


def _label(start: Event | None) -> str:
    if start is None:
        return "request"
    data = start.data
    if data.get("scope_type") == "lifespan":
        return "lifespan"
    return f"{data.get('method') or data.get('scope_type') or 'request'} {data.get('path') or ''}".strip()


def _args(event: Event | None) -> dict[str, Any]:
    if event is None:
        return {}
    args: dict[str, Any] = {k: v for k, v in event.data.items() if k != "headers"}
    if event.req is not None:
        args["req"] = event.req
    if event.dur is not None:
        args["dur_ms"] = round(event.dur / 1e6, 6)
    return args


def _sweep(kept: list[Interval], begin: dict[str, Any], phases: str) -> list[dict[str, Any]]:
    """Begin/end events of nested intervals, in an order that keeps them nested."""
    out: list[dict[str, Any]] = []
    stack: list[Interval] = []
    b, e = phases[0], phases[1]
    for iv in kept:
        while stack and stack[-1][1] <= iv[0] and not (stack[-1][0] == stack[-1][1] == iv[0]):
            top = stack.pop()
            out.append({**begin, "ph": e, "name": top[3], "ts": _us(top[1])})
        out.append({**begin, "ph": b, "name": iv[3], "ts": _us(iv[0]), "args": _args(iv[2])})
        stack.append(iv)
    while stack:
        top = stack.pop()
        out.append({**begin, "ph": e, "name": top[3], "ts": _us(top[1])})
    return out


def to_chrome_trace(recording: Recording) -> dict[str, Any]:
    """The Chrome trace JSON object of a recording."""
    out: list[dict[str, Any]] = []
    starts: dict[tuple[int, int], Event] = {}
    by_req: dict[tuple[int, int], list[Event]] = defaultdict(list)
    threads: dict[tuple[int, int], str] = {}
    loops: set[tuple[int, int]] = set()
    on_thread: dict[tuple[int, int], list[Interval]] = defaultdict(list)
    for event in recording.events:
        pid = event.pid or 1
        if event.tid or event.thread:
            threads[(pid, event.tid)] = event.thread or threads.get((pid, event.tid), "")
        if event.req is not None:
            by_req[(pid, event.req)].append(event)
            if event.kind == K.REQUEST_START:
                starts[(pid, event.req)] = event
        if event.kind == K.SCHED_STEP:
            loops.add((pid, event.tid))
    app = recording.header.get("app") or "app"
    model = (recording.header.get("server") or {}).get("model", "")
    for pid in sorted({key[0] for key in threads} | {key[0] for key in by_req}):
        name = f"{app} {model} pid {pid}".replace("  ", " ")
        out.append(
            {"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": name}}
        )
    for (pid, tid), name in sorted(threads.items()):
        loop = (pid, tid) in loops
        label = f"{name or tid} (event loop)" if loop else (name or str(tid))
        out.append(
            {"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": label}}
        )
        out.append(
            {
                "ph": "M",
                "name": "thread_sort_index",
                "pid": pid,
                "tid": tid,
                "args": {"sort_index": 0 if loop else 1},
            }
        )
    flow_id = 0
    counters: dict[int, list[tuple[int, str, int]]] = defaultdict(list)
    for key, events in by_req.items():
        pid, req = key
        label = _label(starts.get(key))
        name_of = {K.SCHED_STEP: f"#{req} {label}", K.SCHED_THREAD: f"#{req} {label}"}
        primaries: list[Interval] = []
        messages: list[Interval] = []
        queued = start = end = None
        for event in events:
            if event.kind == K.REQUEST_QUEUED:
                queued = event
            elif event.kind == K.REQUEST_START:
                start = event
            elif event.kind == K.REQUEST_END:
                end = event
            if event.dur is None:
                continue
            if event.kind in _PRIMARY:
                primaries.append((event.t, event.end, event, name_of[event.kind]))
            elif event.kind in _MESSAGES:
                messages.append(
                    (event.t, event.end, event, str(event.data.get("type") or event.kind))
                )
        # Thread tracks: steps and hops, and the protocol calls that fall inside one of them.
        for iv in primaries:
            on_thread[(pid, iv[2].tid if iv[2] else 0)].append(iv)
        for iv in messages:
            mine = [
                p
                for p in primaries
                if p[2] is not None and iv[2] is not None and p[2].tid == iv[2].tid
            ]
            if _within(iv, mine):
                on_thread[(pid, iv[2].tid if iv[2] else 0)].append(iv)
        # The request's own async lane.
        arrived = (queued or start or events[0]).t
        finished = end.end if end is not None else max(e.end for e in events)
        lane: list[Interval] = [(arrived, max(arrived, finished), start, label)]
        if queued is not None and start is not None:
            lane.append((queued.t, start.t, queued, "queued"))
        lane_primaries = [
            (
                s,
                e,
                ev,
                "step" if ev and ev.kind == K.SCHED_STEP else f"thread {ev.thread if ev else ''}",
            )
            for s, e, ev, _ in primaries
        ]
        lane += lane_primaries
        fitting = [m for m in messages if not lane_primaries or _within(m, lane_primaries)]
        kept, left = nest(lane + fitting)
        left += [m for m in messages if m not in fitting]
        tid = (start or events[0]).tid
        async_id = pid * 1_000_000 + req
        base = {"cat": "request", "pid": pid, "tid": tid, "id": async_id}
        out += _sweep(kept, base, "be")
        for iv in left:
            out.append({**base, "ph": "n", "name": iv[3], "ts": _us(iv[0]), "args": _args(iv[2])})
        # Flows: loop step -> thread hop -> next loop step.
        steps = sorted(
            (iv for iv in primaries if iv[2] and iv[2].kind == K.SCHED_STEP), key=lambda iv: iv[0]
        )
        for hop in (iv for iv in primaries if iv[2] and iv[2].kind == K.SCHED_THREAD):
            assert hop[2] is not None
            before = [s for s in steps if s[0] <= hop[0]]
            after = [s for s in steps if s[0] >= hop[1]]
            if before:
                s = before[-1]
                flow_id += 1
                out.append(
                    {
                        "ph": "s",
                        "cat": "hop",
                        "name": "thread hop",
                        "id": flow_id,
                        "pid": pid,
                        "tid": s[2].tid if s[2] else 0,
                        "ts": _us(max(s[0], s[1] - 1)),
                    }
                )
                out.append(
                    {
                        "ph": "f",
                        "bp": "e",
                        "cat": "hop",
                        "name": "thread hop",
                        "id": flow_id,
                        "pid": pid,
                        "tid": hop[2].tid,
                        "ts": _us(min(hop[0] + 1, hop[1])),
                    }
                )
            if after:
                s = after[0]
                flow_id += 1
                out.append(
                    {
                        "ph": "s",
                        "cat": "hop",
                        "name": "thread hop",
                        "id": flow_id,
                        "pid": pid,
                        "tid": hop[2].tid,
                        "ts": _us(max(hop[0], hop[1] - 1)),
                    }
                )
                out.append(
                    {
                        "ph": "f",
                        "bp": "e",
                        "cat": "hop",
                        "name": "thread hop",
                        "id": flow_id,
                        "pid": pid,
                        "tid": s[2].tid if s[2] else 0,
                        "ts": _us(min(s[0] + 1, s[1])),
                    }
                )
        lifespan = start is not None and start.data.get("scope_type") == "lifespan"
        if not lifespan:
            if queued is not None:
                counters[pid].append((queued.t, "queue", 1))
                if start is not None:
                    counters[pid].append((start.t, "queue", -1))
            if start is not None:
                counters[pid].append((start.t, "inflight", 1))
                if end is not None:
                    counters[pid].append((end.end, "inflight", -1))
    for (pid, tid), intervals in on_thread.items():
        kept, _ = nest(intervals)
        out += _sweep(kept, {"cat": "thread", "pid": pid, "tid": tid}, "BE")
    for pid, changes in counters.items():
        level = {"inflight": 0, "queue": 0}
        for t, which, delta in sorted(changes, key=lambda c: (c[0], c[2])):
            level[which] += delta
            name, arg = ("requests", "in flight") if which == "inflight" else ("queue", "depth")
            out.append(
                {
                    "ph": "C",
                    "name": name,
                    "pid": pid,
                    "tid": 0,
                    "ts": _us(t),
                    "args": {arg: level[which]},
                }
            )
    for event in recording.events:
        pid = event.pid or 1
        if event.kind == K.LOOP_BLOCKED:
            out.append(
                {
                    "ph": "i",
                    "s": "t",
                    "cat": "loop",
                    "name": "loop.blocked",
                    "pid": pid,
                    "tid": event.tid,
                    "ts": _us(event.t),
                    "args": _args(event),
                }
            )
        elif event.kind in (K.VIOLATION, K.ERROR):
            what = event.data.get("rule") or event.data.get("type") or ""
            out.append(
                {
                    "ph": "i",
                    "s": "t",
                    "cat": event.kind,
                    "name": f"{event.kind} {what}".strip(),
                    "pid": pid,
                    "tid": event.tid,
                    "ts": _us(event.t),
                    "args": _args(event),
                }
            )
        elif event.kind == K.MARK:
            out.append(
                {
                    "ph": "i",
                    "s": "g",
                    "cat": "mark",
                    "name": str(event.data.get("label") or "mark"),
                    "pid": pid,
                    "tid": event.tid,
                    "ts": _us(event.t),
                    "args": _args(event),
                }
            )
    return {
        "traceEvents": out,
        "displayTimeUnit": "ms",
        "otherData": {
            "title": recording.title,
            "clock": recording.header.get("clock"),
            "source": recording.header.get("source"),
        },
    }


def export_perfetto(recording: Recording, options: ExportOptions) -> str:
    """Write the Chrome trace JSON (``-o``, default ``<recording>.perfetto.json``)."""
    trace = to_chrome_trace(recording)
    path = options.output or default_output(recording, ".perfetto.json")
    text = json.dumps(trace, separators=(",", ":"))
    if path == "-":
        options.stdout.write(text + "\n")
    else:
        try:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise TracerError(f'Cannot write "{path}": {exc.strerror}.') from None
    return f"wrote {len(trace['traceEvents'])} trace events to {path} (open it in ui.perfetto.dev)"
