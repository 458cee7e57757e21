"""The four concurrency scenarios show their point, read from events: real (reduced) and --sim."""

from __future__ import annotations

from pathlib import Path

import pytest
from demo_cache import simulated

from tracer import events as K
from tracer.demos import SCENARIOS, run_demo
from tracer.demos.concurrency import pool_wait
from tracer.demos.shapes import blocked, cpu_parallelism, in_flight_peak, serialised, threads_used
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(120)


def _real(name: str):
    return run_demo(SCENARIOS[name], quick=True)


def _marks(demo) -> list[tuple[int, str]]:
    return [
        (side, e.data["key"])
        for side, rec in enumerate(demo.recordings)
        for e in rec.events
        if e.kind == K.MARK
    ]


@pytest.mark.parametrize("mode", ["real", "sim"])
def test_sync_vs_async_asgi_overlaps_at_least_twice_wsgi(mode: str) -> None:
    """WSGI on 4 threads runs at most 4 at once and queues; ASGI overlaps ≥ 2× as many."""
    demo = _real("sync-vs-async") if mode == "real" else simulated("sync-vs-async")
    wsgi, asgi = demo.recordings
    assert demo.problems() == []
    assert in_flight_peak(wsgi) == 4
    assert in_flight_peak(asgi) >= 2 * in_flight_peak(wsgi)
    assert len(threads_used(wsgi)) == 4
    assert sorted(_marks(demo)) == [(0, "queue"), (1, "overlap")]


@pytest.mark.parametrize("mode", ["real", "sim"])
def test_blocking_call_serialises_the_steps(mode: str) -> None:
    """time.sleep in async def: one loop.blocked per request, none overlapping; await: none."""
    demo = _real("blocking-call") if mode == "real" else simulated("blocking-call")
    sleeping, awaiting = demo.recordings
    assert demo.problems() == []
    found = blocked(sleeping)
    assert len(found) == summarize(sleeping)["completed"] and serialised(found)
    if mode == "sim":
        assert blocked(awaiting) == []
    else:  # a loaded machine may deschedule a tiny step past the threshold now and then
        assert len(blocked(awaiting)) * 4 <= len(found)
    assert "blocked" in {key for _, key in _marks(demo)}


@pytest.mark.parametrize("mode", ["real", "sim"])
def test_cpu_gil_threads_give_no_speed_up(mode: str) -> None:
    """CPU-bound requests on 4 threads compute about one at a time; processes use 2 pids."""
    demo = _real("cpu-gil") if mode == "real" else simulated("cpu-gil")
    threads, processes = demo.recordings
    assert demo.problems() == []
    assert cpu_parallelism(threads) <= 1.25
    assert len({e.pid for e in processes.events if e.kind == K.SCHED_THREAD}) == 2
    if mode == "sim":
        assert cpu_parallelism(processes) == pytest.approx(2.0, abs=0.05)


@pytest.mark.parametrize("mode", ["real", "sim"])
def test_threadpool_offload_queues_the_41st_request(mode: str) -> None:
    """FastAPI def endpoints: never more than 40 pool threads; with 50 clients one waits."""
    demo = _real("threadpool-offload") if mode == "real" else simulated("threadpool-offload")
    forty, fifty = demo.recordings
    assert demo.problems() == []
    assert demo.figures["pool_peak_50_clients"] == 40
    assert pool_wait(forty) is None and pool_wait(fifty) is not None
    assert (1, "token") in _marks(demo)


def _mark(demo, key: str):
    (found,) = [
        e
        for rec in demo.recordings
        for e in rec.events
        if e.kind == K.MARK and e.data["key"] == key
    ]
    return found


@pytest.mark.parametrize(
    ("name", "key"),
    [("sync-vs-async", "queue"), ("wsgi-on-asgi", "one"), ("streaming", "held")],
)
def test_a_wait_bookmark_sits_where_its_request_begins_to_wait(name: str, key: str) -> None:
    """ "This request waits": the mark names the request and sits when it was queued, before
    it started (not where the wait is over)."""
    demo = simulated(name)
    mark = _mark(demo, key)
    events = [e for rec in demo.recordings for e in rec.events if e.req == mark.data["req"]]
    queued = next(e.t for e in events if e.kind == K.REQUEST_QUEUED)
    started = next(e.t for e in events if e.kind == K.REQUEST_START)
    assert queued < started and mark.t == max(queued, 1)


def test_the_41st_request_bookmark_sits_where_it_asks_for_a_token() -> None:
    """threadpool-offload: "41st request queues" is before that request's pool thread starts."""
    demo = simulated("threadpool-offload")
    mark = _mark(demo, "token")
    fifty = demo.recordings[1]
    hop = next(e for e in fifty.events if e.kind == K.SCHED_THREAD and e.req == mark.data["req"])
    assert mark.t < hop.t
    assert pool_wait(fifty) == (mark.data["req"], 0)  # asked at once; marks come after 0


def test_simulated_and_real_sync_vs_async_send_as_many_requests() -> None:
    """sync-vs-async: the simulation runs the same -c and -n as the real run on each side."""
    for side in SCENARIOS["sync-vs-async"].sides:
        assert side.real is not None
        assert (side.sim.concurrency, side.sim.requests) == (
            side.real.concurrency,
            side.real.requests,
        )


def test_a_real_cpu_gil_run_without_a_free_core_says_so() -> None:
    """The processes side of a real run that computed one at a time (a busy second core)
    gets a note naming what it could not show; the simulation and a parallel run get none."""
    from tracer.demos.runner import DemoRun
    from tracer.events import Event
    from tracer.recording import Recording

    scenario = SCENARIOS["cpu-gil"]
    ms = 1_000_000

    def side(source: str, starts: list[int]) -> Recording:
        events = [
            Event(
                n,
                t,
                K.SCHED_THREAD,
                n + 1,
                pid=100 + n,
                tid=1,
                dur=20 * ms,
                data={"cpu_ns": 20 * ms},
            )
            for n, t in enumerate(starts)
        ]
        return Recording({"source": source, "host": {"cpus": 2}}, events)

    one_at_a_time = side("traced", [0, 20 * ms, 40 * ms, 60 * ms])
    side_by_side = side("traced", [0, 0, 20 * ms, 20 * ms])
    threads = simulated("cpu-gil").recordings[0]
    for processes, expected in (
        (one_at_a_time, 1),
        (side_by_side, 0),
        (side("simulated", [0, 20 * ms, 40 * ms, 60 * ms]), 0),
    ):
        notes = DemoRun(scenario, [threads, processes]).notes()
        assert len(notes) == expected, notes
    [note] = DemoRun(scenario, [threads, one_at_a_time]).notes()
    assert note.startswith("the processes computed 1.00x in parallel, not about 2x")
    [note] = DemoRun(scenario, [threads, one_at_a_time], lang="zh").notes()
    assert note.startswith("两个进程的并行度只有 1.00 倍")


def _as_real_run(recording, cpus: int):
    """``recording`` as a real run's would read on a machine of ``cpus`` cores."""
    from tracer.recording import Recording

    header = {**recording.header, "source": "real", "host": {"cpus": cpus}}
    return Recording(header=header, events=recording.events)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cpu_gil_note_counts_the_cores_this_process_may_use(
    monkeypatch: pytest.MonkeyPatch, lang: str, tmp_path: Path
) -> None:
    """Pinned to one core (taskset -c 0) on an 8-core machine, the processes cannot compute
    side by side: the note says one core is available, not "other work on the machine"."""
    import os

    import tracer.cores
    from tracer.demos.concurrency import _gil_notes

    threads = simulated("cpu-gil").recordings[0]  # about 1x: what a pinned run shows
    recs = [_as_real_run(threads, 8), _as_real_run(threads, 8)]
    monkeypatch.setattr(tracer.cores, "CGROUP_ROOT", tmp_path / "no-cgroups")  # no quota here
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    [note] = _gil_notes(recs, lang)
    if lang == "en":
        assert "only one core is available to this process" in note and "other work" not in note
    else:
        assert "这个进程只能使用一个核心" in note and "其他工作" not in note
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    [note] = _gil_notes(recs, lang)
    assert ("other work on the machine" if lang == "en" else "机器上有其他工作") in note
