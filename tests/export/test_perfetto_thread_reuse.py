"""Perfetto: a thread id a later thread was given is a track per thread, named after each.

Python gives an ended thread's id to a later thread (Django's ASGI handler runs each request's
sync code on a one-thread executor of its own). Each thread is a track of its own, with its own
name and the recorded ident in its args; a recording whose events name no thread keeps one
track per id.
"""

from __future__ import annotations

import json
from typing import Any

from chrome_trace_checks import check_chrome_trace, thread_slices

from tracer import events as K
from tracer.events import Event
from tracer.export.perfetto import to_chrome_trace
from tracer.recording import Recording, make_header

MS = 1_000_000
LOOP, POOL = 7, 9


def _recording(rows: list[tuple[str, int, int, int, str, dict[str, Any]]]) -> Recording:
    """``(kind, req, t, tid, thread, data)`` rows of process 1000, as a loop run."""
    events = [
        Event(seq, t, kind, req, 1000, tid, thread, dur=None if kind in _INSTANT else MS, data=data)
        for seq, (kind, req, t, tid, thread, data) in enumerate(rows)
    ]
    return Recording(make_header(interface="asgi", server={"model": "loop"}), events)


_INSTANT = frozenset({K.REQUEST_START, K.REQUEST_END})


def _reused_id() -> Recording:
    """Two requests on one loop; each hops twice to a thread of its own, both given id 9."""
    rows: list[tuple[str, int, int, int, str, dict[str, Any]]] = []
    for req, pool in ((1, "ThreadPoolExecutor-0_0"), (2, "ThreadPoolExecutor-1_0")):
        at = (req - 1) * 20 * MS
        hop = {"cpu_ns": MS, "via": "run_in_executor"}
        rows += [
            (
                K.REQUEST_START,
                req,
                at,
                LOOP,
                "MainThread",
                {"scope_type": "http", "method": "GET", "path": "/"},
            ),
            (K.SCHED_STEP, req, at, LOOP, "MainThread", {"cpu_ns": MS}),
            (K.SCHED_THREAD, req, at + 2 * MS, POOL, pool, hop),
            (K.SCHED_THREAD, req, at + 4 * MS, POOL, pool, hop),
            (K.SCHED_STEP, req, at + 6 * MS, LOOP, "MainThread", {"cpu_ns": MS}),
            (K.REQUEST_END, req, at + 7 * MS, LOOP, "MainThread", {"status": 200}),
        ]
    return _recording(rows)


def _names(trace: dict[str, Any]) -> dict[tuple[int, int], dict[str, Any]]:
    """``(pid, tid) -> thread_name args`` of the trace."""
    return {
        (e["pid"], e["tid"]): e["args"]
        for e in trace["traceEvents"]
        if e["ph"] == "M" and e["name"] == "thread_name"
    }


def test_threads_given_one_id_are_tracks_of_their_own_named_after_each() -> None:
    """Two executor threads with id 9: two tracks, each named after its thread (the ident in
    its args), holding its own request's hops; the loop's arrows go to each; the same input
    gives the same bytes."""
    recording = _reused_id()
    trace = to_chrome_trace(recording)
    check_chrome_trace(trace)
    names = _names(trace)
    by_name = {args["name"]: key for key, args in names.items()}
    assert sorted(by_name) == [
        "MainThread (event loop)",
        "ThreadPoolExecutor-0_0",
        "ThreadPoolExecutor-1_0",
    ]
    first, second = by_name["ThreadPoolExecutor-0_0"], by_name["ThreadPoolExecutor-1_0"]
    assert first != second
    assert names[first]["thread_ident"] == names[second]["thread_ident"] == POOL
    slices = thread_slices(trace)
    assert [(b, e, name) for b, e, name in slices[first]] == [
        (2000.0, 3000.0, "#1 GET /"),
        (4000.0, 5000.0, "#1 GET /"),
    ]
    assert [(b, e, name) for b, e, name in slices[second]] == [
        (22000.0, 23000.0, "#2 GET /"),
        (24000.0, 25000.0, "#2 GET /"),
    ]
    # Each hop's arrows, from the loop and back, start or end on its own thread's track.
    hop_ends = {(e["tid"], e["ts"]) for e in trace["traceEvents"] if e.get("cat") == "hop"}
    assert {(tid, ts) for tid, ts in hop_ends if tid != by_name["MainThread (event loop)"][1]} == {
        (first[1], 2000.001),
        (first[1], 2999.999),
        (first[1], 4000.001),
        (first[1], 4999.999),
        (second[1], 22000.001),
        (second[1], 22999.999),
        (second[1], 24000.001),
        (second[1], 24999.999),
    }
    assert json.dumps(to_chrome_trace(recording)) == json.dumps(trace)


def test_events_that_name_no_thread_are_their_ids_thread() -> None:
    """A hand-made recording whose request.start and protocol calls name no thread: they are
    the thread's that ran at their id, before its first named event as after it, on one track
    named after it."""
    rows: list[tuple[str, int, int, int, str, dict[str, Any]]] = [
        (K.REQUEST_START, 1, 0, LOOP, "", {"scope_type": "http", "method": "GET", "path": "/"}),
        (K.SCHED_STEP, 1, 0, LOOP, "MainThread", {"cpu_ns": MS}),
        (K.ASGI_SEND, 1, 0, LOOP, "", {"type": "http.response.start", "status": 200}),
        (K.REQUEST_END, 1, 2 * MS, LOOP, "", {"status": 200}),
    ]
    trace = to_chrome_trace(_recording(rows))
    check_chrome_trace(trace)
    names = _names(trace)
    assert [args["name"] for args in names.values()] == ["MainThread (event loop)"]
    ((track, args),) = names.items()
    assert args["thread_ident"] == LOOP
    assert [name for _, _, name in thread_slices(trace)[track]] == [
        "http.response.start",
        "#1 GET /",
    ]
