"""The ``loop`` model's request tasks keep their names under an app's eager task factory.

``asyncio.eager_task_factory`` (Python 3.12+) runs a task's first step inside
``create_task``, and ``create_task`` names a task a factory made only after that: the model
names its task itself before the app runs, so the request's events say ``request-N`` as
they do under the stock factory. A request the app answers within that first step leaves no
task behind in the model.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
from model_driver import running, send_all

from tracer import events as K
from tracer.servers import Request

pytestmark = [
    pytest.mark.timeout(30),
    pytest.mark.skipif(sys.version_info < (3, 12), reason="asyncio.eager_task_factory: 3.12+"),
]


async def eager_app(scope: Any, receive: Any, send: Any) -> None:
    """Installs the eager task factory in its lifespan startup; ``/wait`` suspends once before
    it answers, ``/now`` answers within its first step."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                factory = asyncio.eager_task_factory  # type: ignore[attr-defined]
                asyncio.get_running_loop().set_task_factory(factory)
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["path"] == "/wait":
        await asyncio.sleep(0)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_request_tasks_keep_the_models_names_under_an_eager_factory() -> None:
    requests = [Request(path="/wait"), Request(path="/now")] * 2
    with running("loop", eager_app) as (model, recorder):
        responses = send_all(model, requests, concurrency=2)
        tasks = asyncio.run_coroutine_threadsafe(_tasks_left(model), model.loop).result(5)
    assert [r.status for r in responses] == [200] * 4
    reqs = {r.req for r in responses}
    on_loop = [e for e in recorder.events if e.req in reqs and e.thread == "event-loop"]
    assert {e.kind for e in on_loop} >= {K.REQUEST_START, K.SCHED_STEP, K.REQUEST_END}
    assert {(e.req, e.task) for e in on_loop} == {(req, f"request-{req}") for req in reqs}
    assert tasks == []


async def _tasks_left(model: Any) -> list[str]:
    """The names of the request tasks the model still holds (the lifespan's aside)."""
    return sorted(t.get_name() for t in model._tasks if t is not model._lifespan_task)
