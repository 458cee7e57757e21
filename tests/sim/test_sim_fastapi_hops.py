"""The threadpool-offload demo's simulated FastAPI ``def`` endpoint hops to the pool as the real one.

FastAPI runs ``def sync_route(...) -> str`` in the thread pool, then validates its return value
through ``run_in_threadpool`` again: two ``sched.thread`` per request, in the real app's
recording and in the simulated workload that stands for it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from sim import simulate
from tracer import events as K
from tracer.cli import main
from tracer.demos.build import sim_run
from tracer.demos.concurrency import SYNC_WORK
from tracer.recorder import Recorder
from tracer.recording import Recording, load


def _hops(recording: Recording) -> Counter[int]:
    return Counter(e.req for e in recording.events if e.kind == K.SCHED_THREAD)


def test_the_real_def_endpoint_hops_twice(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    out = tmp_path / "fastapi.jsonl"
    argv = ["run", "sample_apps.fastapi_app:app", "--path", "/sync?ms=10", "-n", "4", "-c", "2"]
    assert main([*argv, "--headless", "--record", str(out)]) == 0
    hops = _hops(load(out))
    assert len(hops) == 4 and set(hops.values()) == {2}


def test_the_simulated_def_endpoint_hops_twice() -> None:
    """Each request's second hop starts after its first ends, and asks for a token again."""
    recorder = Recorder()
    simulate(sim_run("loop", SYNC_WORK, c=4, n=8), recorder=recorder)
    recording = recorder.recording()
    hops = _hops(recording)
    assert len(hops) == 8 and set(hops.values()) == {2}
    for req in hops:
        first, second = [e for e in recording.events if e.kind == K.SCHED_THREAD and e.req == req]
        assert first.t + (first.dur or 0) <= second.t
