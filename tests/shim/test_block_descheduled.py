"""Every ``loop.blocked`` of a step whose kernel view was read says how long its thread waited
for a CPU (``descheduled_ns``, Linux), starved or not: a 40 ms block that computed for 40 ms
reads apart from one that waited 30 ms on a loaded machine. Whether the app is cleared
(``others_busy``, ``starved``) is judged as before: a block of the app's own says neither."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tracer import events as K
from tracer.events import Event
from tracer.shim import kernel

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(kernel.READ is None, reason="the kernel's view is Linux's"),
]


async def _sleeps(scope: dict[str, Any], receive: Any, send: Any) -> None:
    time.sleep(0.05)  # holds the loop: the app's own block, the GIL let go for the watchdog
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _steps_blocks() -> tuple[list[Event], dict[tuple[int | None, int], Event]]:
    """Two requests through the shim, each blocking the loop 50 ms: their steps' blocks, and
    each request's steps by (request, start)."""
    from shim_asgi_apps import fetch, traced

    shim, rec = traced(_sleeps)
    responses = asyncio.run(fetch(shim, "/1", "/2"))
    assert [r.status_code for r in responses] == [200, 200]
    blocks = [e for e in rec.events if e.kind == K.LOOP_BLOCKED and e.req is not None]
    steps = {(e.req, e.t): e for e in rec.events if e.kind == K.SCHED_STEP}
    return blocks, steps


def test_a_block_of_the_apps_own_says_how_long_it_waited_for_a_cpu() -> None:
    """Both blocks carry ``descheduled_ns``, a wait no longer than the step's time off its
    CPU, and nothing that would clear the app. The kernel is read only once a look of the
    watchdog's is there to compare with: a run whose watchdog never got to look (a loaded
    machine) is tried again, up to three runs."""
    seen = []
    for _ in range(3):
        blocks, steps = _steps_blocks()
        assert len(blocks) == 2, blocks
        seen.append([dict(e.data) for e in blocks])
        for block in blocks:
            assert "starved" not in block.data and "others_busy" not in block.data, block
        if all("descheduled_ns" in e.data for e in blocks):
            break
    else:
        raise AssertionError(f"a block without descheduled_ns in three runs: {seen}")
    for block in blocks:
        step = steps[(block.req, block.t)]
        assert block.dur == step.dur and block.dur is not None
        descheduled = block.data["descheduled_ns"]
        assert type(descheduled) is int
        assert 0 <= descheduled <= block.dur - step.data["cpu_ns"], (block, step)
