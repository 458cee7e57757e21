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


def test_cancelled_calls_never_run_and_the_rest_keep_their_order() -> None:
    """A cancelled call neither runs, nor counts as a step, nor moves the clock; the others
    run in time order and, at one instant, in the order they were scheduled."""
    engine = Engine()
    seen: list[tuple[int, str]] = []
    keep = lambda arg: seen.append((engine.now, arg))  # noqa: E731
    engine.at(10, keep, "a")
    dropped = engine.at(10, keep, "x")
    engine.at(10, keep, "b")
    last = engine.at(99, keep, "late")
    engine.at(20, lambda _: engine.cancel(last))
    engine.cancel(dropped)
    assert engine.pending() == 4
    assert engine.run() == 20
    assert seen == [(10, "a"), (10, "b")] and engine.steps == 3
    assert engine.pending() == 0 and engine.held() == 0


def test_cancelled_entries_are_swept_out_of_the_heap() -> None:
    """A timer set again and again (cancelling the last) keeps the heap at a few dozen entries,
    not one per timer ever set."""
    engine = Engine()
    engine.at(10**9, lambda _: None)
    timer = engine.at(10**6, lambda _: None)
    for i in range(10_000):
        engine.cancel(timer)
        timer = engine.at(10**6 + i, lambda _: None)
        assert engine.held() <= 2 * engine.pending() + 64
    assert engine.pending() == 2
    engine.run()
    assert engine.steps == 2


def test_horizon_is_the_next_live_call() -> None:
    """``horizon()``: the time of the earliest call not cancelled; under ``run(until)``, at most
    the instant past ``until``; None when nothing is pending."""
    engine = Engine()
    assert engine.horizon() is None
    first = engine.at(5, lambda _: None)
    engine.at(50, lambda _: None)
    engine.cancel(first)
    assert engine.horizon() == 50
    seen: list[int | None] = []
    engine.at(1, lambda _: seen.append(engine.horizon()))
    engine.run(until=20)
    assert seen == [21] and engine.horizon() == 50
