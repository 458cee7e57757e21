"""The load driver: closed loop bounds concurrency; open loop does not; timeouts; stop."""

from __future__ import annotations

import asyncio
import random
import threading

import pytest

from tracer.loadgen import LoadSettings, LoadStats, build_plan, drive
from tracer.loadgen import driver as loadgen_driver
from tracer.servers import TIMEOUT, Request, Response

pytestmark = pytest.mark.timeout(30)


class SleepyTarget:
    """A target that answers after ``delay`` seconds (never, for None) and logs arrivals."""

    def __init__(self, delay: float | None) -> None:
        self.delay = delay
        self.in_flight = 0
        self.peak = 0
        self.arrivals: list[float] = []

    async def request(self, request: Request, *, timeout: float | None = None) -> Response:
        loop = asyncio.get_running_loop()
        self.arrivals.append(loop.time())
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            if self.delay is None:
                try:
                    await asyncio.wait_for(asyncio.Event().wait(), timeout)
                except TimeoutError:
                    return Response(None, None, 0, TIMEOUT)
            else:
                await asyncio.sleep(self.delay)
            return Response(len(self.arrivals), 200, 2)
        finally:
            self.in_flight -= 1


def test_closed_loop_sends_n_with_at_most_c_in_flight() -> None:
    """-c 5 -n 23: exactly 23 requests, never more than 5 at once, all counted as 200."""
    target = SleepyTarget(0.005)
    stats = asyncio.run(drive(target, build_plan(), LoadSettings(concurrency=5, requests=23)))
    assert (stats.sent, stats.done, stats.status[200]) == (23, 23, 23)
    assert target.peak == 5 and stats.max_in_flight == 5


def test_no_more_clients_start_than_there_are_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """-c 1000000 -n 3: three clients, not a million tasks that find nothing to send (the run
    took 13 s to start them for one request)."""
    made = 0
    create_task = loadgen_driver.create_task  # the driver's own, bound at its import

    def counting(coro, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal made
        made += 1
        return create_task(coro, **kwargs)

    monkeypatch.setattr(loadgen_driver, "create_task", counting)
    target = SleepyTarget(0.001)
    stats = asyncio.run(
        drive(target, build_plan(), LoadSettings(concurrency=1_000_000, requests=3))
    )
    assert (stats.sent, stats.done) == (3, 3) and target.peak == 3
    assert 3 <= made < 10  # three clients and the driver's own helper tasks


def test_duration_ends_the_load() -> None:
    """-z: requests keep coming until the duration, then the in-flight ones finish."""
    target = SleepyTarget(0.01)
    # 0.3 s: about 60 requests, so a stall of the test process cannot leave only the first two.
    settings = LoadSettings(concurrency=2, requests=None, duration=0.3)
    stats = asyncio.run(drive(target, build_plan(), settings))
    assert stats.sent == stats.done > 2 and stats.in_flight == 0


def test_open_loop_is_not_held_back_by_slow_responses() -> None:
    """--rate: arrivals keep their schedule while earlier requests are still running."""
    target = SleepyTarget(0.3)
    settings = LoadSettings(concurrency=1, requests=20, rate=400.0)
    stats = asyncio.run(drive(target, build_plan(), settings, rng=random.Random(7)))
    assert stats.done == 20 and target.peak > 5  # closed loop with -c 1 would give 1


def test_open_loop_arrivals_follow_the_seed() -> None:
    """The same seed gives the same exponential gaps (the rng is injected and used alone)."""
    generator = random.Random(42)
    expected = [generator.expovariate(1000.0) for _ in range(5)]
    seen: list[float] = []

    class Recording(random.Random):
        def expovariate(self, lambd: float) -> float:
            value = super().expovariate(lambd)
            seen.append(value)
            return value

    settings = LoadSettings(requests=5, rate=1000.0)
    asyncio.run(drive(SleepyTarget(0.0), build_plan(), settings, rng=Recording(42)))
    assert seen[:5] == expected


def test_timeouts_are_counted() -> None:
    """A target that never answers: every request ends as a timeout and the run ends."""
    settings = LoadSettings(concurrency=3, requests=3, timeout=0.02)
    stats = asyncio.run(drive(SleepyTarget(None), build_plan(), settings))
    assert (stats.timeouts, stats.done, stats.errors) == (3, 3, 0)


def test_a_request_that_got_no_response_is_an_error_as_the_summary_counts_it() -> None:
    """No status and no error named (the connection went without an answer): an error in the
    live counts, as ``trace summary`` counts it, not a success of no status."""

    class Unanswered:
        async def request(self, request: Request, *, timeout: float | None = None) -> Response:
            return Response(None, None, 0, None)

    stats = asyncio.run(drive(Unanswered(), build_plan(), LoadSettings(concurrency=2, requests=4)))
    assert (stats.done, stats.errors, sum(stats.status.values())) == (4, 4, 0)


def test_stop_cancels_in_flight_requests() -> None:
    """Setting stop ends the run promptly: nothing new is sent, in-flight requests are cancelled."""
    stop = threading.Event()
    seen: list[LoadStats] = []

    def progress(stats: LoadStats) -> None:
        seen.append(stats)
        if stats.sent >= 4:
            stop.set()

    settings = LoadSettings(concurrency=4, requests=1000, timeout=None)
    stats = asyncio.run(
        drive(SleepyTarget(None), build_plan(), settings, stop=stop, progress=progress)
    )
    assert stats.stopped and stats.sent == 4 and stats.cancelled == 4 and stats.in_flight == 0
    assert seen and seen[-1] is stats


def test_pause_holds_closed_loop_clients() -> None:
    """While pause() is true no client sends; once it clears, the load runs to the end."""
    target = SleepyTarget(0.0)
    seen: list[int] = []

    def pause() -> bool:
        seen.append(len(target.arrivals))
        return len(seen) < 20

    settings = LoadSettings(concurrency=2, requests=6)
    stats = asyncio.run(drive(target, build_plan(), settings, pause=pause))
    assert stats.done == 6
    assert seen[:19] == [0] * 19


def test_a_low_rate_ends_with_its_duration() -> None:
    """``--rate 0.001 -z 1s``: the next arrival is ~1000 s away; the load ends with -z, not
    with that arrival (it never ended by itself)."""
    import time

    target = SleepyTarget(0.0)
    settings = LoadSettings(requests=None, duration=0.3, rate=0.001)
    began = time.monotonic()
    stats = asyncio.run(drive(target, build_plan(), settings, rng=random.Random(1)))
    assert stats.sent == 0 and time.monotonic() - began < 2.0


@pytest.mark.parametrize("rate", [20_000.0, 10_000_000.0])
def test_an_open_loop_far_behind_its_rate_sends_exactly_n(rate: float) -> None:
    """A --rate far above what the target serves: arrivals fall behind their schedule, yet
    exactly -n requests go (58 went for -n 50 at 20,000/s), and at 10^7/s the run ends
    (it created tasks without end and never let a request start)."""
    target = SleepyTarget(0.001)
    settings = LoadSettings(requests=50, rate=rate)
    stats = asyncio.run(drive(target, build_plan(), settings, rng=random.Random(1)))
    assert (stats.sent, stats.done, len(target.arrivals)) == (50, 50, 50)


def test_an_open_loop_far_behind_still_sees_a_stop() -> None:
    """-z with a rate no target could serve: the watcher still runs and a stop ends the run."""
    stop = threading.Event()

    def progress(stats: LoadStats) -> None:
        if stats.sent >= 100:
            stop.set()

    settings = LoadSettings(requests=None, duration=60.0, rate=10_000_000.0, timeout=None)
    stats = asyncio.run(
        drive(SleepyTarget(None), build_plan(), settings, stop=stop, progress=progress)
    )
    assert stats.stopped and stats.in_flight == 0 and stats.sent >= 100


def test_many_clients_send_while_the_rest_are_made_and_a_stop_is_seen() -> None:
    """-c 100000 -z 1s made every client before any ran: the second passed making tasks and
    nothing was sent, and a stop went unseen meanwhile. Clients made so far send while the
    rest are made, and making stops once the load is over."""
    made: list[int] = []
    # The driver's own create_task (bound at its import, so an app's asyncio.create_task is
    # never the load's): counted here.
    create_task = loadgen_driver.create_task
    target = SleepyTarget(0.001)

    def counting(coro, **kwargs):  # type: ignore[no-untyped-def]
        made.append(target.in_flight + len(target.arrivals))
        return create_task(coro, **kwargs)

    async def run() -> LoadStats:
        loadgen_driver.create_task = counting  # type: ignore[assignment]
        try:
            # Long enough for the first thousand to send on a loaded machine (at 0.15 s, a
            # stall of the test process once let none send), far too short to make 200,000
            # clients (about 15,000 are made in a second here).
            settings = LoadSettings(concurrency=200_000, requests=None, duration=1.0)
            return await drive(target, build_plan(), settings)
        finally:
            loadgen_driver.create_task = create_task

    stats = asyncio.run(run())
    assert stats.sent > 0 and stats.sent == stats.done
    assert any(seen > 0 for seen in made)  # requests went out before the last client was made
    assert len(made) < 200_000  # making stopped at the duration's end
