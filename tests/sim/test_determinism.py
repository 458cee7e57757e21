"""A simulated recording is the same file on any machine: its header names no host.

A simulation runs on its model's machine (``server``, ``server.cpus``), not on the one that
ran it, so the Python version, platform and usable cores of that one (``host``) are left out
of the header, of ``trace sim``'s file and of every ``trace demo --sim`` side alike; the
readers of a simulated file (the report's cores row, a demo's verdict) do without it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from sim import SimConfig, simulate
from tracer.demos import SCENARIOS, run_demo, save_demo
from tracer.recorder import Recorder
from tracer.recording import load
from tracer.report import render_report
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]


def _first_line(path: Path) -> dict:
    with path.open(encoding="utf-8") as file:
        return json.loads(file.readline())


def test_a_simulated_header_names_no_host() -> None:
    """``simulate`` into a recorder: the header has the simulation's fields and its release,
    not the machine's; the result's header (also without a recorder) says the same."""
    recorder = Recorder()
    result = simulate(SimConfig(model="loop", requests=5), recorder=recorder)
    header = recorder.recording().header
    assert "host" not in header and "host" not in result.header
    assert header["source"] == "simulated" and "tool_version" in header
    unrecorded = simulate(SimConfig(model="loop", requests=5))
    assert "host" not in unrecorded.header


def _sim_in_child(path: Path, cpus: set[int] | None) -> bytes:
    """``trace sim`` in a child process whose usable cores are ``cpus`` (None: as inherited)."""
    pin = f"os.sched_setaffinity(0, {sorted(cpus)!r})" if cpus else "pass"
    code = f"import os, sys; {pin}\nfrom tracer.cli import main\nsys.exit(main(sys.argv[1:]))"
    argv = ["sim", "--model", "loop", "--workload", "mixed", "-n", "30", "--headless"]
    done = subprocess.run(
        [sys.executable, "-c", code, *argv, "--record", str(path)],
        capture_output=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr.decode()
    return path.read_bytes()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_trace_sim_writes_the_same_bytes_whatever_cores_it_may_use(tmp_path: Path) -> None:
    """The same ``trace sim`` pinned to one core (``taskset -c 0``) and not pinned writes the
    same bytes, header included (it used to say ``"cpus": 1`` against ``"cpus": 2``)."""
    pinned = _sim_in_child(tmp_path / "pinned.jsonl", {min(os.sched_getaffinity(0))})
    free = _sim_in_child(tmp_path / "free.jsonl", None)
    assert "host" not in _first_line(tmp_path / "free.jsonl")
    assert pinned == free


@pytest.mark.parametrize("name", ["cpu-gil", "sync-vs-async"])
def test_simulated_demo_sides_name_no_host(tmp_path: Path, name: str) -> None:
    """``trace demo NAME --sim --record DIR``: neither side's header names the host, and the
    scenario's verdict and notes are the same as ever (no reader wanted it)."""
    run = run_demo(SCENARIOS[name], simulated=True, lang="en")
    paths = save_demo(run, str(tmp_path))
    for path in paths:
        header = _first_line(Path(path))
        assert header["source"] == "simulated" and "host" not in header
        assert header["demo"]["name"] == name
    assert run.problems() == [] and run.notes() == []


def test_the_report_of_a_simulated_file_names_its_cores_without_a_host(tmp_path: Path) -> None:
    """The report's "simulated cores" row comes from ``server.cpus``, not from ``host``."""
    path = tmp_path / "sim.jsonl"
    recorder = Recorder(path, clock=lambda: 0, start_ns=0)
    simulate(SimConfig(model="threads", requests=4, cpus=2), recorder=recorder)
    recorder.close()
    recording = load(str(path))
    assert "host" not in recording.header
    out = StringIO()
    Console(file=out, width=120, color_system=None).print(
        render_report(recording, summarize(recording))
    )
    assert "simulated cores" in out.getvalue() and "2 (--cpus)" in out.getvalue()
