"""The ``processes`` model's worker threads are named as gunicorn's, and as the simulator's.

gunicorn's sync worker (``--threads 1``) runs each request on its process's main thread,
``MainThread``; its gthread worker on the threads of its one ``ThreadPoolExecutor``,
``ThreadPoolExecutor-0_0``... ``trace sim --model processes`` names them so (tests/sim), and a
lecture shows the two recordings side by side: the model's names are the same, process for
process.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from model_driver import running, send_all

from sim import SimConfig, simulate
from sim.dist import parse_dist
from sim.workload import inline_workload
from tracer import events as K
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.servers import Request

pytestmark = pytest.mark.timeout(60)

_APP = (
    "import threading, time\n"
    "def app(environ, start_response):\n"
    "    time.sleep(0.1)  # the other request meanwhile goes to the other free worker\n"
    "    main = threading.current_thread() is threading.main_thread()\n"
    "    start_response('200 OK' if main else '203 Not Main', [])\n"
    "    return [b'ok']\n"
)


def _names(events: list[Event]) -> list[list[str]]:
    """Per process (in name order), the names of the threads requests ran on."""
    by_pid: dict[int, set[str]] = defaultdict(set)
    for e in events:
        if e.kind == K.REQUEST_START:
            by_pid[e.pid].add(e.thread)
    return sorted(sorted(names) for names in by_pid.values())


def _simulated(workers: int, threads: int) -> list[list[str]]:
    recorder = Recorder()
    config: Any = SimConfig(
        model="processes",
        workers=workers,
        threads=threads,
        concurrency=2,
        requests=2,
        workload=inline_workload(io=parse_dist("100ms")),
    )
    simulate(config, recorder=recorder)
    return _names(recorder.recording().events)


@pytest.mark.parametrize(
    ("workers", "threads", "expected", "status"),
    [
        (2, 1, [["MainThread"], ["MainThread"]], 200),
        (1, 2, [["ThreadPoolExecutor-0_0", "ThreadPoolExecutor-0_1"]], 203),
    ],
    ids=["sync", "gthread"],
)
def test_worker_threads_are_named_as_gunicorn_and_the_simulator_name_them(
    tmp_path: Path, workers: int, threads: int, expected: list[list[str]], status: int
) -> None:
    """Sync: each process's main thread serves (the app answers 200 there); gthread: the
    pool's threads (203)."""
    module = f"processes_names_{workers}_{threads}"
    (tmp_path / f"{module}.py").write_text(_APP)
    try:
        with running(
            "processes",
            app_spec=f"{module}:app",
            app_dir=str(tmp_path),
            workers=workers,
            threads=threads,
        ) as (model, recorder):
            responses = send_all(model, [Request(), Request()], concurrency=2)
    finally:
        sys.modules.pop(module, None)
    assert [(r.status, r.error) for r in responses] == [(status, None)] * 2
    assert _names(recorder.events) == expected == _simulated(workers, threads)
