"""How long a request's work handed to a thread pool waited for a worker thread.

A hop's ``sched.thread`` says how long its work ran, and with ``queued_ns`` how long it waited
between the hand-over and its start: a FastAPI ``def`` endpoint waits for one of anyio's 40
tokens under load, which read as a slow app. The summary adds ``thread_pool_wait_ms`` (how
many hops, p50, p99, max) and the report a ``thread pool wait`` line, only when some hop has
it: a recording of an older version keeps the keys and lines it had.
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

import tracer
from tracer import events as K
from tracer.cli import main
from tracer.digest import Digest
from tracer.figures import ms
from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.report import print_report
from tracer.summary import summarize

MS = 1_000_000
LOOP: dict[str, Any] = {"pid": 7, "tid": 1, "thread": "event-loop"}
START = {"method": "GET", "path": "/", "query": "", "scope_type": "http"}
WAITS_MS = (0, 1, 2, 3, 10)
"""The waits of the five requests' hops."""


def _recorder(*, waits: bool = True) -> Recorder:
    """Five requests, each with one hop of 5 ms to an anyio worker thread that waited
    ``WAITS_MS`` for it (without ``queued_ns`` when not ``waits``); a lifespan connection's
    hop that waited 500 ms, and a WSGI-style thread span and hops whose ``queued_ns`` is no
    time, none of them counted."""
    recorder = Recorder(app="app:app", interface="asgi")
    recorder.emit(K.REQUEST_START, 99, {"scope_type": "lifespan"}, t=0, **LOOP)
    lifespan_hop = {"cpu_ns": MS, "via": "anyio.to_thread", "queued_ns": 500 * MS}
    recorder.emit(K.SCHED_THREAD, 99, lifespan_hop, t=MS, dur=MS, pid=7, tid=9, thread="w")
    for req, wait in enumerate(WAITS_MS, 1):
        at = 20 * MS * req
        recorder.emit(K.REQUEST_QUEUED, req, {"method": "GET", "path": "/"}, t=at, **LOOP)
        recorder.emit(K.REQUEST_START, req, START, t=at, **LOOP)
        hop: dict[str, Any] = {"cpu_ns": MS, "via": "anyio.to_thread"}
        if waits:
            hop["queued_ns"] = wait * MS
        worker = {"pid": 7, "tid": 10 + req % 2, "thread": "AnyIO worker thread"}
        recorder.emit(K.SCHED_THREAD, req, hop, t=at + (wait + 1) * MS, dur=5 * MS, **worker)
        recorder.emit(K.REQUEST_END, req, {"status": 200}, t=at + (wait + 7) * MS, **LOOP)
    own = {"cpu_ns": MS, "via": "wsgi", "queued_ns": 900 * MS}  # a thread's own span: no hop
    recorder.emit(K.SCHED_THREAD, 1, own, t=20 * MS, dur=MS, pid=7, tid=12, thread="t")
    for odd in ("5", -1, True, 2**63, None):
        hop = {"cpu_ns": 0, "via": "run_in_executor", "queued_ns": odd}
        recorder.emit(K.SCHED_THREAD, 2, hop, t=41 * MS, dur=MS, pid=7, tid=13, thread="p")
    return recorder


def _recording(*, waits: bool = True) -> Recording:
    return _recorder(waits=waits).recording()


def _report(recording: Recording, digest: Digest) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, width=120, color_system=None)
    print_report(recording, digest.summary(), console=console, details=digest.details())
    return [line.rstrip() for line in out.getvalue().splitlines()]


@pytest.mark.parametrize("order", ["recorded", "reversed", "shuffled"])
def test_the_summary_has_the_hops_waits_as_summarize_computes_them(order: str) -> None:
    """The five hops' waits (the lifespan's, the thread's own span and the odd values left
    out), from the digest fed in any order as from ``summarize``."""
    recording = _recording()
    fed = list(recording.events)
    if order == "reversed":
        fed.reverse()
    elif order == "shuffled":
        random.Random(11).shuffle(fed)
    digest = Digest()
    for first in range(0, len(fed), 4):
        digest.feed(fed[first : first + 4])
    summary = digest.summary()
    assert summary == summarize(recording)
    assert summary["thread_pool_wait_ms"] == {"count": 5, "p50": 2.0, "p99": 9.72, "max": 10.0}


def test_the_report_says_how_long_the_hops_waited_for_a_worker() -> None:
    """One line below the loop's: p99 left out, as five values do not measure it."""
    recording = _recording()
    digest = Digest()
    digest.feed(recording.events)
    lines = _report(recording, digest)
    (line,) = [line for line in lines if line.strip().startswith("thread pool wait")]
    assert line.split() == (
        "thread pool wait p50 2.0 · max 10.0 ms (5 hops, for a worker thread)".split()
    )
    assert lines.index(line) == 1 + next(
        i for i, line in enumerate(lines) if line.strip().startswith("loop blocked")
    )


def test_a_recording_without_the_field_has_no_key_and_no_line() -> None:
    """An older version's hops: no ``queued_ns``, nothing said."""
    recording = _recording(waits=False)
    digest = Digest()
    digest.feed(recording.events)
    assert "thread_pool_wait_ms" not in digest.summary()
    assert "thread_pool_wait_ms" not in summarize(recording)
    assert not [line for line in _report(recording, digest) if "thread pool" in line]


def test_trace_summary_says_it_in_the_report_and_in_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "run.jsonl"
    _recorder().save(path)
    assert main(["summary", str(path), "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["thread_pool_wait_ms"] == {"count": 5, "p50": 2.0, "p99": 9.72, "max": 10.0}
    assert main(["summary", str(path)]) == 0
    out = capsys.readouterr().out
    assert "p50 2.0 · max 10.0 ms (5 hops, for a worker thread)" in out


def test_a_real_fastapi_def_endpoint_run_reports_its_hops_waits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``trace run --headless`` of the sample FastAPI app's ``def`` endpoint, three clients:
    each hop to anyio's worker threads says how long it waited, and the report's line and the
    summary count those hops, their longest wait the longest recorded."""
    record = tmp_path / "run.jsonl"
    argv = ["run", "sample_apps.fastapi_app:app", "--path", "/sync?ms=5", "-n", "6", "-c", "3"]
    assert main([*argv, "--headless", "--record", str(record)]) == 0
    report = capsys.readouterr().out
    waits = [
        event.data["queued_ns"]
        for event in tracer.load(record).events
        if event.kind == K.SCHED_THREAD and event.data.get("via") == "anyio.to_thread"
    ]
    assert len(waits) >= 6 and all(type(wait) is int and wait >= 0 for wait in waits)
    assert main(["summary", str(record), "--json"]) == 0
    said = json.loads(capsys.readouterr().out)["thread_pool_wait_ms"]
    assert said["count"] == len(waits) and said["max"] == round(max(waits) / MS, 3)
    (line,) = [line for line in report.splitlines() if line.strip().startswith("thread pool wait")]
    assert (
        line.split()
        == (
            f"thread pool wait p50 {ms(said['p50'])} · max {ms(said['max'])} ms "
            f"({len(waits)} hops, for a worker thread)"
        ).split()
    )
