"""Driving load into a ``Target``: closed loop (``-c`` clients) or open loop (``--rate``).

Closed loop: ``concurrency`` clients, each sending its next request when the last one answered,
until ``requests`` were sent or ``duration`` passed. Open loop: arrivals at Poisson times
(exponential gaps from an injected, seeded ``random.Random``) whether or not earlier requests
have answered, so a slow server shows up as latency instead of as fewer requests (no
coordinated omission). Every request has a client ``timeout``. When ``stop`` is set, no new
request starts and those in flight are cancelled (their server model records the end), after
the target's ``stop_grace`` seconds for them to finish when it has one (a real server).
Runs on the caller's event loop; imports only ``tracer.servers``, ``tracer.loadgen.plan`` and
``tracer.summary`` (its rule for a failed status, so the live count and the report agree).
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
from tracer.summary import is_server_error

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
    load = _Load(target, plan, settings, stats, stop=stop, clock=clock, pause=pause)
    watcher = create_task(load.watch(progress))
    if settings.rate is not None:
        await load.arrivals(settings.rate, rng if rng is not None else random.Random())
    else:
        await load.clients()
    while load.tasks:
        await wait(list(load.tasks))
    if stop is not None and stop.is_set():
        # The clients read ``stop`` before ``watch``'s tick (every 0.1 s) does: a load whose
        # requests all ended in between was stopped all the same.
        stats.stopped = True
    load.stopping.set()
    watcher.cancel()
    stats.elapsed = clock() - load.start
    if progress is not None:
        progress(stats)
    return stats


class _Load:
    """One ``drive``: its counters, its tasks and when it stops sending. The closed loop's
    clients and the open loop's arrivals both send through ``one``; ``watch`` reports the
    progress and turns a ``stop`` into cancelled requests."""

    __slots__ = (
        "target",
        "plan",
        "settings",
        "stats",
        "stop",
        "clock",
        "pause",
        "start",
        "deadline",
        "stopping",
        "tasks",
    )

    def __init__(
        self,
        target: Target,
        plan: RequestPlan,
        settings: LoadSettings,
        stats: LoadStats,
        *,
        stop: threading.Event | None,
        clock: Callable[[], float],
        pause: Callable[[], bool] | None,
    ) -> None:
        self.target = target
        self.plan = plan
        self.settings = settings
        self.stats = stats
        self.stop = stop
        self.clock = clock
        self.pause = pause
        self.start = clock()
        """When the load began (``clock()``): ``elapsed`` counts from here."""
        self.deadline = None if settings.duration is None else self.start + settings.duration
        self.stopping = Event()
        """Set when no request may start any more (a stop, or the load is over)."""
        self.tasks: set[Task[None]] = set()
        """The clients (closed loop) or the requests (open loop) still running."""

    def may_send(self) -> bool:
        """Whether another request may start: not stopped, under ``-n``, before ``-z``'s end."""
        if self.stopping.is_set() or (self.stop is not None and self.stop.is_set()):
            return False
        requests = self.settings.requests
        if requests is not None and self.stats.sent >= requests:
            return False
        return self.deadline is None or self.clock() < self.deadline

    async def one(self, index: int) -> None:
        """Send request ``index`` of the plan and count how it ended."""
        stats = self.stats
        stats.sent += 1
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            response = await self.target.request(self.plan[index], timeout=self.settings.timeout)
        except CancelledError:
            stats.cancelled += 1
            raise
        except Exception as exc:  # a target failing must not end the run: count it
            response = Response(None, None, 0, type(exc).__name__)
        finally:
            stats.in_flight -= 1
            stats.done += 1
        _count(stats, response)

    def _track(self, task: Task[None]) -> None:
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def clients(self) -> None:
        """The closed loop: ``concurrency`` clients, each sending its next request when the
        last one answered."""
        # No more clients than requests: the others would only start to find nothing to send
        # (-c 1000000 -n 1 spent 13 s making a million tasks for one request).
        clients = self.settings.concurrency
        if self.settings.requests is not None:
            clients = min(clients, self.settings.requests)
        for started in range(clients):
            if started % _CLIENTS_PER_TURN == 0 and started:
                # Let the clients made so far send, and the watcher see a stop: made in one
                # go, -c 100000 -z 1s spent its second making tasks and sent nothing, and a
                # stop went unseen until every task was made.
                await sleep(0)
                if not self.may_send():
                    break
            self._track(create_task(self._client()))

    async def _client(self) -> None:
        pause = self.pause
        while self.may_send():
            if pause is not None and pause():
                while pause() and not self.stopping.is_set():
                    await sleep(0.005)
                continue  # others may have sent the last requests meanwhile: ask again
            await self.one(self.stats.sent)

    async def arrivals(self, rate: float, rng: random.Random) -> None:
        """The open loop: a request at each of ``rate``'s Poisson times (exponential gaps
        drawn from ``rng``), whether or not the earlier ones have answered."""
        clock, requests = self.clock, self.settings.requests
        due = clock()
        # Counted here, not by the requests (they count themselves once they run): behind
        # schedule, arrivals come faster than the requests start, and -n must still bound them.
        issued = 0
        while requests is None or issued < requests:
            due += rng.expovariate(rate)
            # Sleep until the arrival in short naps: a long gap (a low --rate) must not outlast
            # -z or a stop (--rate 0.001 -z 1s never ended).
            delay = due - clock()
            while delay > 0:
                if not self.may_send():
                    return
                await sleep(min(delay, 0.1))
                delay = due - clock()
            if not self.may_send():
                return
            self._track(create_task(self.one(issued)))
            issued += 1
            if delay < 0:
                # Behind schedule: let the requests and the watcher run (a --rate far above
                # what the app serves created tasks without end and never saw a stop).
                await sleep(0)

    async def watch(self, progress: Progress | None) -> None:
        """Every 0.1 s: the elapsed time and ``progress``; on ``stop``, no request starts any
        more, and those in flight are cancelled once the target's ``stop_grace`` is over
        (at once when it has none)."""
        stats, stop = self.stats, self.stop
        while not self.stopping.is_set():
            stats.elapsed = self.clock() - self.start
            if progress is not None:
                progress(stats)
            if stop is not None and stop.is_set():
                stats.stopped = True
                self.stopping.set()
                await self._drain(progress)
                for task in list(self.tasks):
                    task.cancel()
                return
            await sleep(0.1)

    async def _drain(self, progress: Progress | None) -> None:
        """Let the requests in flight finish within the target's ``stop_grace`` seconds.

        A real server's client sees the outcome itself: cancelled while its answer was on the
        way, a request the app answered would be the stop's, as a race with this watch's tick
        decides. An in-process model ends its requests on its own workers, so it has none."""
        grace = float(getattr(self.target, "stop_grace", 0.0) or 0.0)
        deadline = self.clock() + grace
        while self.tasks:
            left = deadline - self.clock()
            if left <= 0:
                return
            await wait(list(self.tasks), timeout=min(left, 0.1))
            self.stats.elapsed = self.clock() - self.start
            if progress is not None:
                progress(self.stats)


def _count(stats: LoadStats, response: Response) -> None:
    """Count one request's end by what it met: its status, a timeout, a cancel, an error."""
    if response.status is not None:
        stats.status[response.status] += 1
    if response.error == TIMEOUT:
        stats.timeouts += 1
    elif response.error == CANCELLED:
        stats.cancelled += 1
    elif response.error is not None or response.status is None or is_server_error(response.status):
        stats.errors += 1  # as the summary counts them: raised, failed, no response, or a 5xx
