"""Helpers for the simulator tests: run a simulation into an in-memory recording."""

from __future__ import annotations

from typing import Any

import pytest

from sim import SimConfig, simulate
from sim.dist import parse_dist
from sim.result import SimResult
from sim.workload import inline_workload
from tracer.recorder import Recorder
from tracer.recording import Recording


def run_recorded(**options: Any) -> tuple[SimResult, Recording]:
    """Simulate ``SimConfig(**options)`` (``cpu=``/``io=``/``blocking_io=`` as DIST text)."""
    work = {key: options.pop(key) for key in ("cpu", "io", "blocking_io") if key in options}
    if work:
        options["workload"] = inline_workload(**{k: parse_dist(v) for k, v in work.items()})
    recorder = Recorder()
    result = simulate(SimConfig(**options), recorder=recorder)
    return result, recorder.recording()


@pytest.fixture
def recorded() -> Any:
    """The ``run_recorded`` helper."""
    return run_recorded
