"""When an app's coroutine last resumed: what a server model sees of an app about to return.

An app that returns from a websocket session without a close ends it for its client when it
returns (uvicorn closes the connection then). The shim records its own end as the app returns,
and a server model that records an end of its own for the client must date it no later than
that one (readers take the first end): the start of the app's last step is the latest instant
the model can read before the shim does. ``LastStep`` drives the app's coroutine as ``await``
would and notes when each step began.
Imports nothing of the project.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from types import CoroutineType
from typing import Any

__all__ = ["LastStep"]


class LastStep:
    """``await LastStep(coro, now)`` is ``await coro``; ``began`` is when its latest step began
    (``now()``; None before the first)."""

    __slots__ = ("_awaitable", "_now", "began")

    def __init__(self, awaitable: Awaitable[Any], now: Callable[[], int]) -> None:
        self._awaitable = awaitable
        self._now = now
        self.began: int | None = None

    def __await__(self) -> Generator[Any, Any, Any]:
        awaitable = self._awaitable
        # A coroutine is stepped itself, as ``await`` does: the tracer's walks down a task's
        # awaits (``tracer.conformance.base``) go on from this generator of ours through a
        # local that has a frame, which a coroutine's ``__await__()`` wrapper has not.
        target = awaitable if type(awaitable) is CoroutineType else awaitable.__await__()
        send = target.send
        throw = target.throw
        now = self._now
        value: Any = None
        error: BaseException | None = None
        while True:
            self.began = now()
            try:
                yielded = send(value) if error is None else throw(error)
            except StopIteration as stop:
                return stop.value
            error = None
            try:
                value = yield yielded
            except GeneratorExit:
                target.close()  # PEP 380: close the delegate, then let GeneratorExit go on
                raise
            except BaseException as exc:  # CancelledError and friends go in unchanged
                error, value = exc, None
