"""sim.gil: CPU bursts of one process never overlap; waiters force a switch every interval."""

from __future__ import annotations

from sim.engine import Engine
from sim.gil import Gil

MS = 1_000_000


def test_uncontended_burst_runs_straight() -> None:
    """Alone, a thread keeps the GIL for its whole burst: no switches."""
    engine = Engine()
    gil = Gil(engine)
    done: list[int] = []
    gil.run(20 * MS, lambda _: done.append(engine.now), None)
    engine.run()
    assert done == [20 * MS] and gil.switches == 0


def test_two_threads_alternate_every_switch_interval() -> None:
    """Two 20 ms bursts take 40 ms together, alternating in 5 ms slices: A ends at 35, B at 40."""
    engine = Engine()
    gil = Gil(engine)
    done: dict[str, int] = {}
    gil.run(20 * MS, lambda name: done.setdefault(name, engine.now), "A")
    gil.run(20 * MS, lambda name: done.setdefault(name, engine.now), "B")
    engine.run()
    assert done == {"A": 35 * MS, "B": 40 * MS}
    assert gil.switches == 6


def test_short_burst_waits_at_most_one_interval_per_holder() -> None:
    """A 1 ms burst behind a 100 ms one gets the GIL after one interval, not after 100 ms."""
    engine = Engine()
    gil = Gil(engine)
    done: dict[str, int] = {}
    gil.run(100 * MS, lambda name: done.setdefault(name, engine.now), "long")
    engine.at(
        2 * MS, lambda _: gil.run(MS, lambda name: done.setdefault(name, engine.now), "short")
    )
    engine.run()
    assert done["short"] == 8 * MS  # asked at 2, forced switch at 7, 1 ms of CPU
    assert done["long"] == 101 * MS


def test_separate_gils_run_in_parallel() -> None:
    """Two processes (two GILs) each finish their burst at 20 ms."""
    engine = Engine()
    first, second = Gil(engine), Gil(engine)
    done: list[int] = []
    first.run(20 * MS, lambda _: done.append(engine.now), None)
    second.run(20 * MS, lambda _: done.append(engine.now), None)
    engine.run()
    assert done == [20 * MS, 20 * MS]
