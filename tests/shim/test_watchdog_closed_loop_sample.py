"""A closed loop's last watchdog sample keeps nothing alive: the sample names its step's request
(and so the request's recorder), and the loop's state stays registered until a later loop is
traced after the closed one was collected; a test suite's recorders stayed alive with it,
one here and one there (more on a loaded machine, where the watchdog saw more steps)."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from typing import Any

from shim_asgi_apps import call

from tracer.recorder import Recorder
from tracer.shim import blocking
from tracer.shim.asgi import AsgiShim


async def _blocks(scope: dict[str, Any], receive: Any, send: Any) -> None:
    time.sleep(0.05)  # holds the loop: the watchdog samples the step
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _request_on_a_closed_loop() -> weakref.ref[Recorder]:
    recorder = Recorder()
    asyncio.run(call(AsgiShim(_blocks, recorder=recorder)))
    assert any(e.kind == "loop.blocked" for e in recorder.events)  # the step was sampled
    recorder.close()
    return weakref.ref(recorder)


def test_a_closed_loops_sample_does_not_keep_its_requests_recorder() -> None:
    """Once the watchdog has looked again (its loop closed), the recorder is freed by the next
    collection, no later loop needed."""
    ref = _request_on_a_closed_loop()
    wakes = blocking._WATCHDOG["wakes"]
    deadline = time.monotonic() + 10
    while blocking._WATCHDOG["wakes"] < wakes + 2 and blocking._WATCHDOG["thread"] is not None:
        assert time.monotonic() < deadline, "the watchdog did not look again"
        time.sleep(0.005)
    gc.collect()
    assert ref() is None
