"""A simulated hop says how long its work waited for a pool thread (``queued_ns``), as the shim's.

The loop model's thread pool is anyio's limiter: work handed to it (a ``def`` endpoint, an
``offload`` phase) waits for a token when all are taken. Its ``sched.thread`` carries
``queued_ns``, from the request asking the pool to the start on a worker thread, 0 when a
token was free; a WSGI request on its own thread is no hop and has none. With fixed times in a
closed loop the waits are whole multiples of the time a job holds its thread.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from sim import SimConfig, simulate
from sim.workload import workload_from_dict
from tracer import events as K
from tracer.cli import main
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.recording import Recording, load
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(60)

MS = 1_000_000
HOLD_MS = 10
"""How long a ``def`` endpoint's blocking call holds its pool thread."""
DEF_ROUTE = {"name": "def", "sync": True, "phases": [{"blocking-io": f"{HOLD_MS}ms"}]}
OFFLOAD_ROUTE = {"name": "off", "phases": [{"offload": {"io": f"{HOLD_MS}ms"}}]}
WORKLOAD_TOML = f"""name = "pooled"
[[route]]
name = "def"
sync = true
phases = [{{ blocking-io = "{HOLD_MS}ms" }}]
"""


def _run(route: dict[str, Any], model: str = "loop", **options: Any) -> tuple[Any, Recording]:
    recorder = Recorder()
    workload = workload_from_dict({"route": [route]}, where="test")
    result = simulate(SimConfig(model=model, workload=workload, **options), recorder=recorder)
    return result, recorder.recording()


def _hops(recording: Recording) -> list[Event]:
    return [e for e in recording.events if e.kind == K.SCHED_THREAD]


def _asked(recording: Recording, hop: Event) -> int:
    """When the hop's request asked the pool: the end of the step that awaited it."""
    steps = [
        e
        for e in recording.events
        if e.kind == K.SCHED_STEP and e.req == hop.req and e.t <= hop.t
        if e.data["awaiting"] == "anyio.to_thread.run_sync"
    ]
    return steps[-1].t + (steps[-1].dur or 0)


@pytest.mark.parametrize("route", [DEF_ROUTE, OFFLOAD_ROUTE], ids=["def", "offload"])
def test_six_clients_on_two_tokens_wait_whole_turns(route: dict[str, Any]) -> None:
    """Six requests at once, two tokens, 10 ms each: two start at once (a measured 0), two
    after one turn, two after two; each wait runs from asking the pool to the hop's start."""
    _, recording = _run(route, concurrency=6, requests=6, pool_size=2)
    hops = _hops(recording)
    assert [(h.req, h.data["queued_ns"]) for h in hops] == [
        (1, 0),
        (2, 0),
        (3, HOLD_MS * MS),
        (4, HOLD_MS * MS),
        (5, 2 * HOLD_MS * MS),
        (6, 2 * HOLD_MS * MS),
    ]
    for hop in hops:
        assert list(hop.data) == ["cpu_ns", "via", "queued_ns"]  # the shim's keys, its order
        assert hop.data["via"] == "anyio.to_thread"
        assert hop.t - hop.data["queued_ns"] == _asked(recording, hop)


def test_in_a_steady_closed_loop_each_waits_for_the_others_ahead() -> None:
    """Past the first round, each of six clients' requests finds the four others' work ahead
    of it on two tokens: it waits two turns."""
    _, recording = _run(DEF_ROUTE, concurrency=6, requests=30, pool_size=2)
    waits = Counter(h.data["queued_ns"] // MS for h in _hops(recording))
    assert waits == {0: 2, HOLD_MS: 2, 2 * HOLD_MS: 26}


def test_a_pool_larger_than_the_clients_never_makes_work_wait() -> None:
    """Eight tokens for six clients: every hop's queued_ns is there, and 0."""
    result, recording = _run(DEF_ROUTE, concurrency=6, requests=30, pool_size=8, seed=3)
    hops = _hops(recording)
    assert len(hops) == 30
    assert {h.data["queued_ns"] for h in hops} == {0}
    assert result.summary["thread_pool_wait_ms"] == {
        "count": 30,
        "p50": 0.0,
        "p99": 0.0,
        "max": 0.0,
    }


def test_each_process_of_several_workers_has_its_own_tokens() -> None:
    """``--workers 2``: the summary counts every process's hops, as the recording's does."""
    result, recording = _run(DEF_ROUTE, concurrency=6, requests=24, pool_size=1, workers=2)
    assert len({h.pid for h in _hops(recording)}) == 2
    assert result.summary == summarize(recording)
    assert result.summary["thread_pool_wait_ms"]["count"] == 24


@pytest.mark.parametrize("model", ["threads", "processes", "wsgi-on-loop"])
def test_a_wsgi_request_on_its_own_thread_is_no_hop(model: str) -> None:
    """As the WSGI shim records it (``via: wsgi``, also behind asgiref's ``WsgiToAsgi``): no
    ``queued_ns``, and no thread pool wait in the summary; its wait is the request's queue."""
    result, recording = _run(DEF_ROUTE, model=model, concurrency=6, requests=12, threads=2)
    hops = _hops(recording)
    assert hops and {h.data["via"] for h in hops} == {"wsgi"}
    assert all("queued_ns" not in h.data for h in hops)
    assert "thread_pool_wait_ms" not in result.summary
    assert "thread_pool_wait_ms" not in summarize(recording)


@pytest.fixture
def workload_file(tmp_path: Path) -> Path:
    path = tmp_path / "pooled.toml"
    path.write_text(WORKLOAD_TOML, encoding="utf-8")
    return path


def _sim_argv(workload: Path) -> list[str]:
    return ["sim", "--model", "loop", "--pool-size", "2", "-c", "6", "-n", "6"] + [
        "--workload",
        str(workload),
    ]


def test_trace_sim_json_says_the_thread_pool_wait_as_trace_summary_does(
    tmp_path: Path, workload_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``trace sim --json`` has ``thread_pool_wait_ms``, recorded or not; the recording loads,
    ``trace summary --json`` of it says the same, and its report has the thread pool wait row."""
    path = tmp_path / "pooled.jsonl"
    assert main([*_sim_argv(workload_file), "--json", "--record", str(path)]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["thread_pool_wait_ms"] == {"count": 6, "p50": 10.0, "p99": 20.0, "max": 20.0}
    assert said == summarize(load(path))
    assert main([*_sim_argv(workload_file), "--json", "--no-record"]) == 0
    assert json.loads(capsys.readouterr().out) == said
    assert main(["summary", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == said
    assert main(["summary", str(path)]) == 0
    (row,) = [line for line in capsys.readouterr().out.splitlines() if "thread pool wait" in line]
    assert row.split() == (
        "thread pool wait p50 10.0 · max 20.0 ms (6 hops, for a worker thread)".split()
    )


def test_same_seed_same_bytes_with_waits(tmp_path: Path, workload_file: Path) -> None:
    """The waits are simulated time: two runs write the same file."""
    paths = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    for path in paths:
        argv = [*_sim_argv(workload_file), "-n", "40", "--json", "--record", str(path)]
        assert main(argv) == 0
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert b'"queued_ns":20000000' in paths[0].read_bytes()


def test_real_and_simulated_def_endpoints_record_the_same_hop_fields(tmp_path: Path) -> None:
    """A FastAPI ``def`` endpoint (``time.sleep``) in the in-process loop model and its
    simulation: the same ``via`` and the same keys on every hop, a wait on each."""
    pytest.importorskip("fastapi")
    from tracer.demos.build import sim_run
    from tracer.demos.concurrency import SYNC_WORK

    out = tmp_path / "fastapi.jsonl"
    argv = ["run", "sample_apps.fastapi_app:app", "--path", "/sync?ms=10", "-n", "4", "-c", "2"]
    assert main([*argv, "--headless", "--record", str(out)]) == 0
    real = _hops(load(out))
    recorder = Recorder()
    simulate(sim_run("loop", SYNC_WORK, c=4, n=8), recorder=recorder)
    simulated = _hops(recorder.recording())
    assert real and simulated
    for hops in (real, simulated):
        assert {h.data["via"] for h in hops} == {"anyio.to_thread"}
        assert {tuple(sorted(h.data)) for h in hops} == {("cpu_ns", "queued_ns", "via")}
        assert all(type(h.data["queued_ns"]) is int and h.data["queued_ns"] >= 0 for h in hops)
