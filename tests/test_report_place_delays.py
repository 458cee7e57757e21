"""The by-place table counts the distinct requests each blocking place delayed.

A place's times, total and max said what it cost the loop, not what it cost the other
requests. Each ``loop.blocked`` names in ``delayed`` the requests that were ready to run when
it ended; a request still queued while it held the loop that then started on that loop was
kept waiting too (the replay's "what delayed it" counts it). Each request counts once per
place however many of its blocks delayed it; a lifespan connection is no request; a place
whose blocks could not name every request (uvloop: ``delayed_complete: false``) reads ``N+``.
"""

from __future__ import annotations

import io
import random
from typing import Any

import pytest
from rich.console import Console

from tracer import events as K
from tracer.digest import CALLBACK_PLACE, Digest
from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.report import PARTIAL_DELAYS, print_report
from tracer.summary import summarize

MS = 1_000_000
LOOP, OTHER_LOOP = 1, 2


def _recording() -> Recording:
    """Two places on loop 1 and a callback outside any request's step; a request queued
    behind a block of loop 1 that started on it, one that started on loop 2, one that started
    before the block."""
    recorder = Recorder(app="app:app", interface="asgi")

    def emit(kind: str, req: int | None, t_ms: int, data: dict[str, Any], **at: Any) -> None:
        dur = at.pop("dur_ms", None)
        tid = at.pop("tid", LOOP)
        recorder.emit(
            kind, req, data, t=t_ms * MS, dur=None if dur is None else dur * MS,
            pid=7, tid=tid, thread=f"loop-{tid}",
        )  # fmt: skip

    def request(req: int, queued: int, started: int, ended: int, tid: int = LOOP) -> None:
        emit(K.REQUEST_QUEUED, req, queued, {"method": "GET", "path": "/"})
        start = {"method": "GET", "path": "/", "query": "", "scope_type": "http"}
        emit(K.REQUEST_START, req, started, start, tid=tid)
        emit(K.REQUEST_END, req, ended, {"status": 200}, tid=tid)

    emit(K.REQUEST_START, 999, 0, {"scope_type": "lifespan"})
    for req in (1, 2, 3, 4):
        request(req, 10 * req, 10 * req + 1, 500 + req)
    request(7, 90, 95, 600)  # started before the first block began
    emit(K.LOOP_BLOCKED, 1, 100, {"location": "app.py:10", "delayed": [2, 3]}, dur_ms=50)
    request(5, 120, 160, 610)  # queued while app.py:10 held loop 1, started on it after
    request(6, 120, 160, 620, tid=OTHER_LOOP)  # started on another loop
    emit(K.LOOP_BLOCKED, 1, 200, {"location": "app.py:10", "delayed": [3, 4]}, dur_ms=50)
    partial = {"location": "app.py:20", "delayed": [1, 999], "delayed_complete": False}
    emit(K.LOOP_BLOCKED, 2, 300, partial, dur_ms=30)
    callback = {"outside_step": True, "delayed": [3]}
    emit(K.LOOP_BLOCKED, None, 400, callback, dur_ms=20)
    return recorder.recording()


def _report(recording: Recording, digest: Digest) -> str:
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None)
    print_report(recording, summarize(recording), console=console, details=digest.details())
    return out.getvalue()


def _places(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "by place" in line)
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("Workers"))
    return [line.rstrip() for line in lines[start:end]]


def test_each_place_counts_the_distinct_requests_it_delayed() -> None:
    """app.py:10 delayed 2, 3 and 4 (named) and 5 (queued behind it), not 6 (another loop)
    nor 7 (started before it); app.py:20 named request 1 and the lifespan connection, and
    could not name them all; the callback named request 3."""
    recording = _recording()
    digest = Digest()
    digest.feed(recording.events)
    lines = _places(_report(recording, digest))
    assert " ".join(lines[9:]) == PARTIAL_DELAYS  # the line under the table, wrapped
    assert lines[:9] == [
        "Loop blocked 150.0 ms, by place",
        "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━━━┓",
        "┃                                ┃       ┃          ┃        ┃ requests ┃",
        "┃ where (file:line)              ┃ times ┃ total ms ┃ max ms ┃  delayed ┃",
        "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━┩",
        "│ app.py:10                      │     2 │    100.0 │   50.0 │       4  │",
        "│ app.py:20                      │     1 │     30.0 │   30.0 │       1+ │",
        f"│ {CALLBACK_PLACE} │     1 │     20.0 │   20.0 │       1  │",
        "└────────────────────────────────┴───────┴──────────┴────────┴──────────┘",
    ]


@pytest.mark.parametrize("batch", [1, 5, 4096])
def test_the_counts_do_not_depend_on_the_batches(batch: int) -> None:
    """Fed in batches of any size, in recording order: the same counts."""
    recording = _recording()
    digest = Digest()
    events = recording.events
    for start in range(0, len(events), batch):
        digest.feed(events[start : start + batch])
    counts = [(c.location, c.delayed, c.delayed_partial) for c in digest.details().culprits]
    assert counts == [("app.py:10", 4, False), ("app.py:20", 1, True), (CALLBACK_PLACE, 1, False)]


def test_a_place_named_by_many_blocks_counts_each_request_once() -> None:
    """Two hundred blocks at one place, each naming ten of 300 requests drawn at random:
    the count is the size of their union."""
    rng = random.Random(11)
    recorder = Recorder(app="app:app", interface="asgi")
    named: set[int] = set()
    for block in range(200):
        delayed = rng.sample(range(1, 301), 10)
        named.update(delayed)
        recorder.emit(
            K.LOOP_BLOCKED, 1000 + block, {"location": "app.py:3", "delayed": delayed},
            t=block * 20 * MS, dur=15 * MS, pid=7, tid=LOOP, thread="loop",
        )  # fmt: skip
    digest = Digest()
    digest.feed(recorder.recording().events)
    (culprit,) = digest.details().culprits
    assert (culprit.count, culprit.delayed) == (200, len(named))
