"""What the tests that drive a Textual app through its pilot share: waiting for a state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


async def until(pilot: Any, condition: Callable[[], Any], tries: int = 400) -> None:
    """Let the app run (0.02 s at a time) until ``condition()`` holds; fail after ``tries``."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition not reached")
