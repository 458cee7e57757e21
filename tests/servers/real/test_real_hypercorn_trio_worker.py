"""``--server hypercorn --worker-class trio``: hypercorn's trio worker, the shim inside it."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest
from step_blocks import blocks_at, blocks_follow_the_steps

from tracer import events as K
from tracer.cli import main
from tracer.recording import BLOCK_THRESHOLD, load

pytest.importorskip("trio")

pytestmark = pytest.mark.timeout(90)


def test_hypercorn_runs_its_trio_worker_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--worker-class trio`` reaches hypercorn: the header says so, every request runs on a
    trio task of its worker, and a blocking endpoint is located at its line, its list of
    delayed requests said to be a bound from below (trio keeps its run queue to itself)."""
    record = tmp_path / "run.jsonl"
    argv = ["run", "sample_apps.fastapi_app:app", "--server", "hypercorn"]
    argv += ["--worker-class", "trio", "-n", "4", "-c", "2", "--path", "/blocking?ms=30"]
    argv += ["--headless", "--record", str(record)]
    assert main(argv) == 0, capsys.readouterr().err
    header = json.loads(record.read_text(encoding="utf-8").splitlines()[0])
    assert header["server"]["worker_class"] == "trio"
    events = load(record).events
    starts = [e for e in events if e.kind == K.REQUEST_START and e.data["scope_type"] == "http"]
    assert len(starts) == 4
    assert {e.task for e in starts} == {"hypercorn.trio.task_group._handle"}
    blocks = [e for e in events if e.kind == K.LOOP_BLOCKED]
    # Other steps than the endpoint's block too on a loaded machine: each a long step's.
    blocks_follow_the_steps(events, load(record).header[BLOCK_THRESHOLD])
    at_sleep = blocks_at(events, {f"sample_apps/fastapi_app.py:{_line_of_sleep()}"})
    # One block at the sleep per request, each its own.
    assert len(at_sleep) == len(starts)
    assert {e.req for e in at_sleep} == {e.req for e in starts}
    assert {e.data["delayed_complete"] for e in blocks} == {False}


def _line_of_sleep() -> int:
    """The line of the ``time.sleep`` of the FastAPI sample's ``/blocking`` endpoint."""
    from sample_apps import fastapi_app

    lines, first = inspect.getsourcelines(fastapi_app.blocking)
    return first + next(i for i, line in enumerate(lines) if "time.sleep(" in line)


def test_a_worker_class_hypercorn_has_not_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """gunicorn's choices are not hypercorn's: one line naming hypercorn's, before any start."""
    argv = ["run", "sample_apps.hello:asgi_app", "--server", "hypercorn", "--worker-class", "sync"]
    assert main([*argv, "-n", "1", "--headless"]) == 2
    assert capsys.readouterr().err == (
        'trace: error: --worker-class "sync" is not one of hypercorn\'s; choose one of: '
        "asyncio, uvloop, trio.\n"
    )
