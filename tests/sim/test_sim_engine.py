"""sim.engine: callbacks run in time order, ties in scheduling order, on a virtual clock."""

from __future__ import annotations

import pytest

from sim.dist import MAX_DURATION_NS
from sim.engine import ClockOverflow, Engine
from tracer.errors import UsageError


def test_time_order_and_ties_in_schedule_order() -> None:
    """Earlier times first; equal times in the order they were scheduled; now follows."""
    engine = Engine()
    seen: list[tuple[int, str]] = []
    engine.at(30, lambda arg: seen.append((engine.now, arg)), "c")
    engine.at(10, lambda arg: seen.append((engine.now, arg)), "a")
    engine.at(30, lambda arg: seen.append((engine.now, arg)), "d")
    engine.at(10, lambda arg: seen.append((engine.now, arg)), "b")
    assert engine.run() == 30
    assert seen == [(10, "a"), (10, "b"), (30, "c"), (30, "d")]
    assert engine.steps == 4 and engine.pending() == 0


def test_callbacks_schedule_more_and_until_stops() -> None:
    """A callback may schedule later ones; ``run(until)`` stops before anything later."""
    engine = Engine()
    ticks: list[int] = []

    def tick(n: int) -> None:
        ticks.append(engine.now)
        engine.after(100, tick, n + 1)

    engine.at(0, tick, 0)
    assert engine.run(until=350) == 350
    assert ticks == [0, 100, 200, 300]
    assert engine.pending() == 1


def test_never_in_the_past() -> None:
    """Scheduling at a time already passed runs at the current time."""
    engine = Engine()
    seen: list[int] = []
    engine.at(50, lambda _: engine.at(10, lambda _: seen.append(engine.now)))
    engine.run()
    assert seen == [50]


def test_nothing_is_scheduled_past_64_bits_of_nanoseconds() -> None:
    """Each delay fits, their sum may not: at() and after() past 2^63-1 ns raise
    ClockOverflow (a UsageError naming the 292 years); up to it is scheduled as before."""
    engine = Engine()
    seen: list[int] = []
    engine.at(MAX_DURATION_NS - 5, lambda _: seen.append(engine.now))
    engine.run()
    assert seen == [MAX_DURATION_NS - 5]
    engine.after(5, lambda _: seen.append(engine.now))  # exactly the longest: still fine
    with pytest.raises(ClockOverflow, match="would pass about 292 years") as raised:
        engine.after(6, seen.append)
    assert isinstance(raised.value, UsageError) and raised.value.t == MAX_DURATION_NS + 1
    with pytest.raises(ClockOverflow):
        engine.at(MAX_DURATION_NS + 1, seen.append)
    engine.run()
    assert seen == [MAX_DURATION_NS - 5, MAX_DURATION_NS] and engine.pending() == 0
