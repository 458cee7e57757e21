"""Driving load into a ``Target``: closed loop (``-c`` clients) or open loop (``--rate``).

Closed loop: ``concurrency`` clients, each sending its next request when the last one answered,
until ``requests`` were sent or ``duration`` passed. Open loop: arrivals at Poisson times
(exponential gaps from an injected, seeded ``random.Random``) whether or not earlier requests
have answered, so a slow server shows up as latency instead of as fewer requests (no
coordinated omission). Every request has a client ``timeout``. When ``stop`` is set, no new
request starts and those in flight are cancelled (their server model records the end).
Runs on the caller's event loop; imports only ``tracer.servers`` and ``tracer.loadgen.plan``.
"""

from __future__ import annotations

import random
import threading
import time

# The load's own waits, bound now, before any app is imported: an app that replaces
# ``asyncio.sleep`` (a fake that returns at once, never suspending) would otherwise turn the
# watcher's and the clients' naps into spins that never let the loop run anything else.
from asyncio import CancelledError, Event, Task, create_task, sleep, wait
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from tracer.loadgen.plan import RequestPlan
from tracer.servers import CANCELLED, TIMEOUT, Response, Target

__all__ = ["LoadSettings", "LoadStats", "Progress", "drive"]

_CLIENTS_PER_TURN = 1000
"""Closed-loop clients made before the loop runs the others (the made ones, the watcher)."""


@dataclass(frozen=True, slots=True)
class LoadSettings:
    """How much load, and how it arrives."""

    concurrency: int = 50
    """Closed-loop clients (``-c``)."""
    requests: int | None = 200
    """Requests to send in all (``-n``); None with a ``duration``."""
    duration: float | None = None
    """Seconds to keep sending (``-z``); None with a count."""
    rate: float | None = None
    """Open loop: mean arrivals per second (``--rate``); None for a closed loop."""
    timeout: float | None = 20.0
    """Seconds a client waits for one response (``--timeout``)."""


@dataclass(slots=True)
class LoadStats:
    """Counters of the client side, updated as responses come back."""

    total: int | None = None
    """Requests planned (None for a duration)."""
    duration: float | None = None
    """Seconds planned (None for a count)."""
    sent: int = 0
    """Requests started."""
    done: int = 0
    """Requests answered, failed, timed out or cancelled."""
    errors: int = 0
    """Requests that failed (not timeouts): the app raised, no response, or a 5xx status."""
    timeouts: int = 0
    """Requests the client gave up on."""
    cancelled: int = 0
    """Requests in flight when the run was stopped."""
    in_flight: int = 0
    """Sent, not yet done."""
    max_in_flight: int = 0
    """The most in flight at once, as the client saw it."""
    elapsed: float = 0.0
    """Seconds since the first request."""
    status: Counter[int] = field(default_factory=Counter)
    """Responses by status code."""
    stopped: bool = False
    """The run was stopped before its plan was done."""


Progress = Callable[[LoadStats], None]
"""Called about ten times a second, and once at the end, with the current ``LoadStats``."""


async def drive(
    target: Target,
    plan: RequestPlan,
    settings: LoadSettings,
    *,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
    rng: random.Random | None = None,
    clock: Callable[[], float] = time.monotonic,
    into: LoadStats | None = None,
    pause: Callable[[], bool] | None = None,
) -> LoadStats:
    """Send the load of ``settings`` through ``target``; return the client-side counters.

    The counters go ``into`` the given ``LoadStats`` (a fresh one when None), updated in place,
    so a caller on another thread can read them while the load runs. While ``pause()`` is true,
    closed-loop clients wait before their next request (the recorder is behind: memory stays
    bounded); open-loop arrivals never wait, their schedule is the point.
    """
    stats = (
        into if into is not None else LoadStats(total=settings.requests, duration=settings.duration)
    )
    start = clock()
    deadline = None if settings.duration is None else start + settings.duration
    stopping = Event()
    tasks: set[Task[None]] = set()
    timeout = settings.timeout

    def may_send() -> bool:
        if stopping.is_set() or (stop is not None and stop.is_set()):
            return False
        if settings.requests is not None and stats.sent >= settings.requests:
            return False
        return deadline is None or clock() < deadline

    async def one(index: int) -> None:
        stats.sent += 1
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            response = await target.request(plan[index], timeout=timeout)
        except CancelledError:
            stats.cancelled += 1
            raise
        except Exception as exc:  # a target failing must not end the run: count it
            response = Response(None, None, 0, type(exc).__name__)
        finally:
            stats.in_flight -= 1
            stats.done += 1
        _count(stats, response)

    async def client() -> None:
        while may_send():
            if pause is not None and pause():
                while pause() and not stopping.is_set():
                    await sleep(0.005)
                continue  # others may have sent the last requests meanwhile: ask again
            await one(stats.sent)

    async def arrivals(rate: float) -> None:
        generator = rng if rng is not None else random.Random()
        due = clock()
        # Counted here, not by the requests (they count themselves once they run): behind
        # schedule, arrivals come faster than the requests start, and -n must still bound them.
        issued = 0
        while settings.requests is None or issued < settings.requests:
            due += generator.expovariate(rate)
            # Sleep until the arrival in short naps: a long gap (a low --rate) must not outlast
            # -z or a stop (--rate 0.001 -z 1s never ended).
            delay = due - clock()
            while delay > 0:
                if not may_send():
                    return
                await sleep(min(delay, 0.1))
                delay = due - clock()
            if not may_send():
                return
            task = create_task(one(issued))
            issued += 1
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            if delay < 0:
                # Behind schedule: let the requests and the watcher run (a --rate far above
                # what the app serves created tasks without end and never saw a stop).
                await sleep(0)

    async def watch() -> None:
        while not stopping.is_set():
            stats.elapsed = clock() - start
            if progress is not None:
                progress(stats)
            if stop is not None and stop.is_set():
                stats.stopped = True
                stopping.set()
                for task in list(tasks):
                    task.cancel()
                return
            await sleep(0.1)

    watcher = create_task(watch())
    if settings.rate is not None:
        await arrivals(settings.rate)
    else:
        # No more clients than requests: the others would only start to find nothing to send
        # (-c 1000000 -n 1 spent 13 s making a million tasks for one request).
        clients = settings.concurrency
        if settings.requests is not None:
            clients = min(clients, settings.requests)
        for started in range(clients):
            if started % _CLIENTS_PER_TURN == 0 and started:
                # Let the clients made so far send, and the watcher see a stop: made in one
                # go, -c 100000 -z 1s spent its second making tasks and sent nothing, and a
                # stop went unseen until every task was made.
                await sleep(0)
                if not may_send():
                    break
            task = create_task(client())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    while tasks:
        await wait(list(tasks))
    stopping.set()
    watcher.cancel()
    stats.elapsed = clock() - start
    if progress is not None:
        progress(stats)
    return stats


def _count(stats: LoadStats, response: Response) -> None:
    if response.status is not None:
        stats.status[response.status] += 1
    if response.error == TIMEOUT:
        stats.timeouts += 1
    elif response.error == CANCELLED:
        stats.cancelled += 1
    elif response.error is not None or response.status is None or response.status >= 500:
        stats.errors += 1  # as the summary counts them: raised, failed, no response, or a 5xx
