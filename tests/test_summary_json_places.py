"""``--json`` carries the places that blocked the loop, as the report's by-place table shows
them: each place's count, total, longest block and the requests it delayed.

The summary JSON had the loop's blocked time alone (``loop_blocked_ms``): a script watching a
run in CI could not tell which line held the loop, which the report printed. It now has
``loop_blocked_places`` (every place, worst first) when any place blocked it; a run whose loop
was never held, and a WSGI run, keep the keys they had.
"""

from __future__ import annotations

import inspect
import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from tracer import events as K
from tracer.cli import main
from tracer.digest import Digest
from tracer.recorder import Recorder
from tracer.report import print_report
from tracer.summary import summarize

MS = 1_000_000
LOOP: dict[str, Any] = {"pid": 7, "tid": 1, "thread": "event-loop"}
START = {"method": "GET", "path": "/", "query": "", "scope_type": "http"}


def _recorder(*, blocks: bool = True) -> Recorder:
    """Three requests on one loop: app.py:10 held it twice (request 1 for 30 ms, delaying 2
    and 3; request 2 for 10 ms, delaying 3), app.py:20 once for 35 ms (request 3, delaying
    none that it can name all of: ``delayed_complete: false``), and a lifespan connection's
    startup block at app.py:5, which is not the load's."""
    recorder = Recorder(app="app:app", interface="asgi")
    recorder.emit(K.REQUEST_START, 99, {"scope_type": "lifespan"}, t=0, **LOOP)
    if blocks:
        startup = {"location": "app.py:5", "delayed": []}
        recorder.emit(K.LOOP_BLOCKED, 99, startup, t=0, dur=50 * MS, **LOOP)
    for req in (1, 2, 3):
        recorder.emit(K.REQUEST_QUEUED, req, {"method": "GET", "path": "/"}, t=100 * MS, **LOOP)
        recorder.emit(K.REQUEST_START, req, START, t=100 * MS + req, **LOOP)
    steps = (
        (1, 110, 30, {"location": "app.py:10", "delayed": [2, 3]}),
        (2, 140, 10, {"location": "app.py:10", "delayed": [3]}),
        (3, 150, 35, {"location": "app.py:20", "delayed": [], "delayed_complete": False}),
    )
    for req, at, dur, block in steps:
        recorder.emit(K.SCHED_STEP, req, {"cpu_ns": dur * MS}, t=at * MS, dur=dur * MS, **LOOP)
        if blocks:
            recorder.emit(K.LOOP_BLOCKED, req, block, t=at * MS, dur=dur * MS, **LOOP)
        recorder.emit(K.REQUEST_END, req, {"status": 200}, t=(at + dur) * MS, **LOOP)
    return recorder


PLACES = [
    {
        "place": "app.py:10",
        "count": 2,
        "total_ms": 40.0,
        "max_ms": 30.0,
        "delayed": 2,
        "delayed_partial": False,
    },
    {
        "place": "app.py:20",
        "count": 1,
        "total_ms": 35.0,
        "max_ms": 35.0,
        "delayed": 0,
        "delayed_partial": True,
    },
]


def test_trace_summary_json_has_the_places_of_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The two places of the report's table, with its figures; the lifespan's left out. The
    other keys are ``tracer.summarize``'s, unchanged."""
    recorder = _recorder()
    path = recorder.save(tmp_path / "run.jsonl")
    assert main(["summary", path, "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said.pop("loop_blocked_places") == PLACES
    assert said == summarize(recorder.recording())
    digest = Digest()
    digest.feed(recorder.recording().events)
    out = io.StringIO()
    console = Console(file=out, width=120, color_system=None)
    print_report(recorder.recording(), digest.summary(), console=console, details=digest.details())
    rows = [line.split("│")[1:6] for line in out.getvalue().splitlines() if "app.py:" in line]
    assert [[cell.strip() for cell in row] for row in rows] == [
        ["app.py:10", "2", "40.0", "30.0", "2"],
        ["app.py:20", "1", "35.0", "35.0", "0+"],
    ]


def test_a_run_whose_loop_was_never_held_has_no_places_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _recorder(blocks=False).save(tmp_path / "run.jsonl")
    assert main(["summary", path, "--json"]) == 0
    assert "loop_blocked_places" not in json.loads(capsys.readouterr().out)


def _sleep_line() -> int:
    """The line of the ``time.sleep`` of the sample FastAPI app's ``/blocking``."""
    from sample_apps import fastapi_app

    lines, first = inspect.getsourcelines(fastapi_app.blocking)
    return first + next(i for i, line in enumerate(lines) if "time.sleep(" in line)


def test_trace_run_headless_json_has_the_places_of_a_real_fastapi_app(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A FastAPI app whose ``async def`` endpoint sleeps 30 ms on the loop, two requests:
    its line is the one place, each of its two blocks, as the recording has them."""
    record = tmp_path / "run.jsonl"
    argv = ["run", "sample_apps.fastapi_app:app", "--path", "/blocking?ms=30", "-n", "2"]
    assert main([*argv, "-c", "1", "--headless", "--json", "--record", str(record)]) == 0
    said = json.loads(capsys.readouterr().out)
    (place,) = said["loop_blocked_places"]
    assert place["place"] == f"sample_apps/fastapi_app.py:{_sleep_line()}" and place["count"] == 2
    assert place["total_ms"] == said["loop_blocked_ms"]
    assert main(["summary", str(record), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["loop_blocked_places"] == [place]
