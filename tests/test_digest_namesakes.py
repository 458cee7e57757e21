"""Threads that share a name (every anyio worker is "AnyIO worker thread"): the report's
Workers rows and the replay's worker lanes tell them apart, the same way, and each lane's
figures are its own thread's."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from tracer import events as K
from tracer.digest import Digest, digest_file
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.recording import Recording, load
from tracer.report import print_report
from tracer.run import RunConfig, run

POOL = "AnyIO worker thread"


@pytest.fixture(scope="module")
def offloaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real FastAPI app on the loop model: two ``def`` requests at once, one sleeping 60 ms
    and one 5 ms, each on a thread of anyio's pool (both named "AnyIO worker thread")."""
    pytest.importorskip("fastapi")
    path = tmp_path_factory.mktemp("namesakes") / "run.jsonl"
    recorder = Recorder(path)
    config = RunConfig(
        app="sample_apps.fastapi_app:app",
        paths=("/sync?ms=60", "/sync?ms=5"),
        concurrency=2,
        requests=2,
    )
    run(config, recorder)
    recorder.close()
    return path


def test_the_report_rows_of_namesakes_carry_their_thread_and_a_number(offloaded: Path) -> None:
    """Two pool threads: rows "#1" and "#2", each with its own pid and thread id and its own
    busy time (one slept 60 ms, the other 5 ms); the table prints both names."""
    _, digest = digest_file(offloaded)
    rows = {row.name: row for row in digest.details().workers if row.name.startswith(POOL)}
    assert sorted(rows) == [f"{POOL} #1", f"{POOL} #2"]
    first, second = rows[f"{POOL} #1"], rows[f"{POOL} #2"]
    assert first.tid != second.tid and first.pid == second.pid != 0
    assert first.busy_ms != second.busy_ms
    events = load(offloaded).events
    for row in (first, second):
        mine = [
            e for e in events if e.kind == K.SCHED_THREAD and (e.pid, e.tid) == (row.pid, row.tid)
        ]
        assert row.busy_ms == round(sum(e.dur or 0 for e in mine) / 1_000_000, 3)
    out = io.StringIO()
    recording = load(offloaded)
    print_report(
        recording,
        digest.summary(),
        console=Console(file=out, width=120, color_system=None),
        details=digest.details(),
    )
    assert f"{POOL} #1 " in out.getvalue() and f"{POOL} #2 " in out.getvalue()


def test_each_worker_lane_shows_its_own_threads_figures(offloaded: Path) -> None:
    """By worker, the two pool lanes are labelled as the report's rows, and the detail pane's
    busy time of each is the sum of its own spans (it was one row's for both: the rows were
    found by name)."""
    from tracer.tui.model import build_model

    model = build_model(load(offloaded))
    pool = [lane for lane in model.by_worker if lane.label.startswith(POOL)]
    busy = []
    for lane in pool:
        row = model.worker(lane)
        assert row is not None
        busy.append(row.busy_ms)
        assert row.busy_ms == round(sum(s.end - s.start for s in lane.spans) / 1_000_000, 3)
        assert row.name == lane.label
    assert len(set(busy)) == 2
    assert [lane.label for lane in pool] == [f"{POOL} #1", f"{POOL} #2"]


def _ran(seq: int, t: int, pid: int, tid: int, name: str, dur: int = 10) -> Event:
    return Event(seq, t, K.SCHED_THREAD, seq, pid=pid, tid=tid, thread=name, dur=dur)


def test_namesakes_are_numbered_by_first_run_then_id_within_their_process() -> None:
    """Numbers follow when each thread first ran (the order of the worker lanes), ties by
    thread id; a name no other thread of its process has stays bare; with several processes
    each name says its pid and each process numbers its own."""
    from tracer.digest import thread_names

    names = thread_names(
        {
            (1, 30): ("w", 5),
            (1, 20): ("w", 9),
            (1, 10): ("w", 9),
            (1, 40): ("w", None),  # started a request, never ran one: last
            (1, 50): ("MainThread", 0),
            (2, 10): ("w", 1),
        },
        several=True,
    )
    assert names == {
        (1, 30): "1/w #1",
        (1, 10): "1/w #2",
        (1, 20): "1/w #3",
        (1, 40): "1/w #4",
        (1, 50): "1/MainThread",
        (2, 10): "2/w",
    }


def test_the_digest_numbers_alike_whatever_order_it_is_fed_in() -> None:
    """A live run feeds the digest in batches out of order: the numbers stay the lanes'."""
    events = [_ran(1, 100, 7, 2, "w"), _ran(2, 50, 7, 3, "w"), _ran(3, 200, 7, 2, "w")]
    for batch in (events, events[::-1]):
        digest = Digest()
        digest.feed(batch)
        named = {(row.tid, row.name) for row in digest.details().workers}
        assert named == {(3, "w #1"), (2, "w #2")}
    from tracer.tui.model import build_model

    model = build_model(Recording({}, sorted(events, key=lambda e: e.t)))
    assert [(lane.key, lane.label) for lane in model.by_worker] == [
        ("thread:7:3", "w #1"),
        ("thread:7:2", "w #2"),
    ]
