"""Which ``loop.blocked`` a test may count: those at the lines that block; the rest are held to
the shim's rule instead of a count.

Any step lasts as long as its thread waited: on a loaded machine a step of a few microseconds of
CPU, preempted or kept from the GIL, lasts past a 10 ms threshold and is rightly a
``loop.blocked`` (the loop was held that long). How many such steps a run has depends on the
machine, so a test counts the blocks of the lines that block (``time.sleep`` in ``async def``)
and checks every other one against the rule that makes a block: one ``loop.blocked`` per
``sched.step`` longer than the threshold, on that step's request, task, start and duration,
and none for a shorter one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from tracer import events as K
from tracer.events import Event


def _key(event: Event) -> tuple[object, ...]:
    return (event.req, event.task, event.t, event.dur)


def blocks_follow_the_steps(events: Sequence[Event], block_ns: int) -> None:
    """Assert that the ``loop.blocked`` events of ``events`` are exactly one per ``sched.step``
    longer than ``block_ns``, each on its step's request, task, start and duration."""
    long_steps = [_key(e) for e in events if e.kind == K.SCHED_STEP and (e.dur or 0) > block_ns]
    blocks = [_key(e) for e in events if e.kind == K.LOOP_BLOCKED]
    assert sorted(blocks, key=repr) == sorted(long_steps, key=repr)


def blocks_at(events: Sequence[Event], locations: Collection[str]) -> list[Event]:
    """The ``loop.blocked`` events of ``events`` located at one of ``locations``."""
    return [e for e in events if e.kind == K.LOOP_BLOCKED and e.data["location"] in locations]


def without_blocks(events: Sequence[Event], block_ns: int) -> list[Event]:
    """``events`` less their ``loop.blocked``, once each is checked to be a long step's: for
    apps that never block, where how many steps outlast the threshold is the machine's."""
    blocks_follow_the_steps(events, block_ns)
    return [e for e in events if e.kind != K.LOOP_BLOCKED]
