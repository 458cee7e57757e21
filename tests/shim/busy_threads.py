"""Busy threads beside a traced loop, for the loop-blocking tests (``test_block*.py``).

Threads of the process that compute (the load generator or the recorder's writer of ``trace
run``, a dashboard, offloaded work) take the GIL from the loop thread: a step of a few ms of
its own then lasts past the threshold, waiting. ``blocks_beside_busy_threads`` drives requests
of ``short_steps`` (each step under the threshold) while four such threads run, and returns the
``loop.blocked`` events; a verdict on a wait needs a watchdog sample inside it, which the
watchdog, waiting for the GIL too, may miss, so ``within_three_runs`` tries up to three times.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from tracer import events as K
from tracer.events import Event

__all__ = ["blocks_beside_busy_threads", "burn", "busy_threads", "short_steps", "within_three_runs"]


def burn(seconds: float) -> None:
    """Pure-Python CPU work of ``seconds`` of this thread's CPU time: holds the GIL but for
    the interpreter's forced switches."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


async def short_steps(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app of five steps of 3 ms of CPU each, under an 8 ms threshold: past the 5 ms
    switch interval busy threads take the GIL and the step waits while they each run theirs."""
    for _ in range(5):
        burn(0.003)
        await asyncio.sleep(0)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@contextlib.contextmanager
def busy_threads(count: int = 4, name: str | None = None) -> Iterator[None]:
    """``count`` threads computing until the block ends (named ``name-0``, ``name-1``, ... when
    ``name`` is given). Four: one alone gives the GIL back within the switch interval."""
    stop = threading.Event()

    def busy() -> None:
        while not stop.is_set():
            burn(0.01)

    names = [f"{name}-{n}" if name else None for n in range(count)]
    burners = [threading.Thread(target=busy, name=each) for each in names]
    for burner in burners:
        burner.start()
    try:
        yield
    finally:
        stop.set()
        for burner in burners:
            burner.join(10)


def blocks_beside_busy_threads(
    *,
    name: str | None = None,
    around: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext,
    requests: int = 5,
) -> list[Event]:
    """The ``loop.blocked`` events of ``requests`` requests of ``short_steps`` (traced with an
    8 ms threshold) made while four busy threads (``busy_threads``) run, inside ``around()``;
    every response must be a 200."""
    from shim_asgi_apps import fetch, traced

    shim, rec = traced(short_steps, block_threshold_ms=8)
    with around(), busy_threads(name=name):
        responses = asyncio.run(fetch(shim, *(f"/{n}" for n in range(requests))))
    assert [r.status_code for r in responses] == [200] * requests
    # The steps' blocks: the in-loop client's callbacks, kept from the GIL by the same busy
    # threads, may be blocks outside any step (no request) too.
    return [e for e in rec.events if e.kind == K.LOOP_BLOCKED and e.req is not None]


def within_three_runs(run: Callable[[], list[Event]], done: Callable[[list[Event]], bool]) -> None:
    """Call ``run`` (which asserts what every run must show) until ``done`` says its blocks
    show what the test looks for, three times at most; fails with every run's blocks."""
    seen: list[list[dict[str, Any]]] = []
    for _ in range(3):
        blocked = run()
        seen.append([dict(e.data) for e in blocked])
        if done(blocked):
            return
    raise AssertionError(f"not seen in three runs: {seen}")
