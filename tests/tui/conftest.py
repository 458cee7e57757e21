"""Deterministic recordings for the UI tests.

Two hand-built shapes whose every time is known (``tracer.tui.examples``: a 4-thread WSGI run
with queueing, an error and a violation; an ASGI loop run with interleaved steps and one
``loop.blocked``), and the same two shapes from the simulator, which snapshot tests use.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.tui.examples import loop_example, threads_example


def write_recording(recording: Recording, path: Path) -> Path:
    """Write ``recording`` as a .jsonl file."""
    lines = [json.dumps(recording.header)] + [json.dumps(e.to_dict()) for e in recording.events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def simulated(model: str, requests: int = 12, concurrency: int = 6) -> Recording:
    """A small simulated run of ``model`` (``threads``: CPU + I/O; ``loop``: one blocking call
    per request that holds the loop past the 10 ms threshold)."""
    from sim import SimConfig, inline_workload, parse_dist, simulate

    if model == "threads":
        workload = inline_workload(cpu=parse_dist("3ms"), io=parse_dist("exp:10ms"))
    else:
        workload = inline_workload(
            cpu=parse_dist("1ms"), io=parse_dist("10ms"), blocking_io=parse_dist("fixed:12ms")
        )
    recorder = Recorder()
    config = SimConfig(
        model=model, requests=requests, concurrency=concurrency, workload=workload, seed=1
    )
    simulate(config, recorder=recorder)
    return recorder.recording()


@pytest.fixture
def threads_rec() -> Recording:
    """Hand-built WSGI run: 10 requests, 4 worker threads, #5 fails, #2 breaks a rule."""
    return threads_example(10, 4)


@pytest.fixture
def loop_rec() -> Recording:
    """Hand-built ASGI run: 8 requests on one loop, #3 blocks it for 30 ms."""
    return loop_example(8)


@pytest.fixture
def sim_threads() -> Recording:
    """Simulated WSGI threads run (stable: fixed seed, virtual time)."""
    return simulated("threads")


@pytest.fixture
def sim_loop() -> Recording:
    """Simulated ASGI loop run with blocking calls."""
    return simulated("loop")


@pytest.fixture
def anyio_backend() -> str:
    """Pilot tests run on asyncio (Textual's loop), through anyio's pytest plugin."""
    return "asyncio"
