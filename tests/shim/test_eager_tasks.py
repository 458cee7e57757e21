"""Tasks started eagerly (``asyncio.eager_task_factory``, Python 3.12+) inside a traced step:
each nanosecond the loop was held is one step's, and the task's steps carry its name."""

from __future__ import annotations

import asyncio
import inspect
import sys
import time
from typing import Any

import pytest

import tracer
from tracer import events as K
from tracer.events import Event
from tracer.shim.steps import EAGER_START

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(sys.version_info < (3, 12), reason="eager tasks are Python 3.12+"),
]

HERE = "test_eager_tasks.py"


def _scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": [],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


def _call_eagerly(app: Any) -> list[Event]:
    """One request to ``app`` instrumented, on a loop whose task factory is the eager one;
    its events in time order."""
    rec = tracer.Recorder()
    wrapped = tracer.instrument(app, recorder=rec, block_threshold_ms=20)

    async def main() -> None:
        asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            pass

        await wrapped(_scope(), receive, send)

    asyncio.run(main())
    return rec.recording().events


async def _child() -> None:
    time.sleep(0.1)  # child first step
    await asyncio.sleep(0)


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    await asyncio.create_task(_child(), name="child")  # create
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _here(location: str | None) -> str | None:
    """``location`` (relative to the working directory) from this file's name on."""
    return None if location is None else location.rsplit("/", 1)[-1]


def _line(function: Any, marker: str) -> str:
    lines, first = inspect.getsourcelines(function)
    (number,) = [first + i for i, line in enumerate(lines) if line.rstrip().endswith(marker)]
    return f"{HERE}:{number}"


def test_a_block_in_an_eager_tasks_first_step_is_recorded_once_as_the_tasks() -> None:
    """The child's first step runs inside ``create_task``, inside the request's step: the
    block is the child's alone, and the request's step is recorded in two pieces around the
    child's, so no two steps overlap (the loop's busy time is counted once)."""
    events = _call_eagerly(_app)
    sleep_line = _line(_child, "# child first step")
    create_line = _line(_app, "# create")
    (start,) = [e for e in events if e.kind == K.REQUEST_START]
    blocks_there = [
        e for e in events if e.kind == K.LOOP_BLOCKED and _here(e.data["location"]) == sleep_line
    ]
    assert [(e.req, e.task) for e in blocks_there] == [(start.req, "child")]
    steps = [e for e in events if e.kind == K.SCHED_STEP]
    ends = [(e.t, e.t + (e.dur or 0)) for e in steps]
    assert all(end <= begin for (_, end), (begin, _) in zip(ends, ends[1:], strict=False))
    assert [(e.task, e.data["awaiting"], _here(e.data["location"])) for e in steps][:4] == [
        (start.task, EAGER_START, create_line),
        ("child", "asyncio.sleep", f"{HERE}:{int(sleep_line.split(':')[1]) + 1}"),
        (start.task, "Task child", create_line),
        ("child", None, None),
    ]
    (child_first,) = [e for e in steps if e.task == "child" and e.data["awaiting"]]
    (block,) = blocks_there
    assert (block.t, block.dur) == (child_first.t, child_first.dur)


def test_an_eager_task_that_ends_in_its_first_step_is_recorded_under_its_name() -> None:
    """A task done within its first step (what eager tasks are for) is named as
    ``create_task`` named it, though the name came after that step."""

    async def quick() -> int:
        return 1

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        assert await asyncio.create_task(quick(), name="quick") == 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    events = _call_eagerly(app)
    (start,) = [e for e in events if e.kind == K.REQUEST_START]
    assert [(e.req, e.task) for e in events if e.kind == K.SCHED_STEP and e.task != start.task] == [
        (start.req, "quick")
    ]
