"""Where a blocked step is said to have held the loop (``block_location``): the watchdog's
line when a sample landed inside the step, else the step's own location marked
``location_from: "step"`` (no sample: a C call may have held the GIL all along)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from tracer.recorder import Recorder
from tracer.shim.blocking import block_location, loop_state
from tracer.shim.steps import Stepper

pytestmark = pytest.mark.timeout(60)


SEEN: dict[str, Any] = {}


async def sleeps_in_place() -> None:
    time.sleep(0.08)  # the GIL is let go: the watchdog samples this line
    # Still the same step: what the watchdog saw of it so far.
    state = loop_state(None)
    assert state is not None and state.sample is not None
    assert state.sample.running is state.running
    SEEN["sampled"] = block_location(state.sample, "elsewhere.py:1")
    await asyncio.sleep(0)


def test_a_sampled_step_is_named_by_its_samples() -> None:
    """A step that held the loop in ``time.sleep``: the samples name the line, and no
    ``location_from`` is added (the location was sampled)."""
    rec = Recorder()

    async def main() -> None:
        await Stepper(sleeps_in_place(), 1, rec, 10_000_000, "r1", threading.get_ident(), "main")

    asyncio.run(main())
    rec.close()
    line = sleeps_in_place.__code__.co_firstlineno + 1
    assert SEEN.pop("sampled") == {"location": f"tests/shim/test_block_location.py:{line}"}


@pytest.mark.parametrize("own", ["app.py:12", None])
def test_a_step_no_sample_landed_in_is_named_by_itself(own: str | None) -> None:
    """No sample of the step (the watchdog could not take the GIL while it ran): the step's
    own suspension point, or null for a step that returned, said to come from the step."""
    assert block_location(None, own) == {"location": own, "location_from": "step"}
