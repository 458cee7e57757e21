"""The ``loop`` model's own bounds keep time when the app freezes the clock in its process."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tracer.errors import ServerError
from tracer.recorder import Recorder
from tracer.servers import ServerConfig, server_model
from tracer.servers import loop as loop_model

pytestmark = pytest.mark.timeout(30)


@contextmanager
def frozen_monotonic() -> Iterator[None]:
    """What freezegun's ``freeze_time().start()`` does to ``time.monotonic``: the function in
    ``time`` and every module attribute that is it become a clock that never moves."""
    real = time.monotonic
    now = real()

    def fake() -> float:
        return now

    changed: list[tuple[Any, str]] = [(time, "monotonic")]
    for module in list(sys.modules.values()):
        if module is None or module is time:
            continue
        try:
            names = [name for name, value in vars(module).items() if value is real]
        except TypeError:
            continue
        changed.extend((module, name) for name in names)
    for owner, name in changed:
        setattr(owner, name, fake)
    try:
        yield
    finally:
        for owner, name in changed:
            setattr(owner, name, real)


def test_a_startup_that_hangs_is_bounded_under_a_frozen_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An app whose lifespan startup never completes, with the clock frozen (freezegun-like):
    the model still gives up on it at ``STARTUP_TIMEOUT`` with its ``ServerError``, as with
    a clock that moves (its deadline never came: the start hung for ever)."""
    monkeypatch.setattr(loop_model, "STARTUP_TIMEOUT", 0.3)
    forever = asyncio.Event

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await forever().wait()  # a database that never answers

    with frozen_monotonic():
        model = server_model("loop")(ServerConfig(app=app), Recorder())
        try:
            with pytest.raises(ServerError, match="did not finish within 0.3 s"):
                model.start()
        finally:
            model.stop(timeout=1.0)
