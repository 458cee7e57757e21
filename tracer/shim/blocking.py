"""Per-event-loop bookkeeping for ``loop.blocked``: who is in flight, who holds the loop, where.

A step that runs longer than the threshold *is* the blocking, so the culprit is exact. Two
questions remain, and this module answers them:

* **Where** (file:line). When a step ends, the code that blocked has already returned, so a
  watchdog thread looks at the loop thread's stack every few milliseconds while a traced step
  has been running for more than half the threshold, and counts the app locations it sees;
  the step reports the one seen most (the step, not a heartbeat, decides that blocking
  happened and whose it is; the samples only name the line). When no traced step has run at
  any of its wake-ups for a second, the watchdog parks until the next step starts (one flag
  read per step), so an idle traced server costs nothing instead of a wake-up every few
  milliseconds. Closing a loop wakes nobody, so a parked watchdog looks once a second
  (``PARKED_LOOK_S``) whether a loop it traced is still open, and stops when none is.
* **Whether it was its own work.** A step can hold the loop without running: its thread
  waits for the GIL while other threads of the process compute, as when CPU work is moved to
  threads. While thread hops of traced requests are in flight, the step proxy also reads the
  process's CPU clock, so a step that ends blocked knows how busy the other threads were; on
  Linux each watchdog sample also notes whether the loop thread sat in a lock wait
  (``futex``: the GIL, or a lock another thread holds) rather than in a sleep or I/O. A step
  whose own CPU stayed under the threshold, and that the samples mostly found in a lock wait
  while the others computed, was starved: it waited on other threads (``contention``).
* **Whether the machine let it run.** On Linux the watchdog also takes a ``Look`` at every
  wake-up: the loop thread's run-queue wait so far (``/proc/.../schedstat``: time it was
  runnable but on no CPU, descheduled) and the process's CPU clock. A step that ends blocked
  compares the look from before it began (or the first one inside it) with its own at its
  end (``kernel_view``): how long at least it was descheduled, and how busy the process's
  other threads were, with no hops in flight too (the tool's own threads: the load
  generator, the recorder's writer, the dashboard). A step that mostly waited for a CPU or
  for the GIL, and alone would not have blocked, is starved as well. Nothing of this is read
  on a step's own path: the step reads the kernel only once it has blocked.
* **Whether it was garbage collection.** A cyclic collection runs on whichever thread
  allocates past the collector's threshold, the loop thread among them, and the step it runs
  in lasts that much longer, whoever made the garbage (the app, or the tool's own recording).
  While the watchdog runs, a ``gc.callbacks`` hook times every collection on a loop thread,
  keeping those of 0.1 ms or more (``tracer.shim.gc_time``: a small ring per thread, one clock
  read at each end of a collection, nothing on a step's way); a step that ends blocked asks
  ``collecting_ns`` how much of it went to collecting. The hook is installed when the
  watchdog starts and removed when it stops (every loop it traced closed).
* **Whom it delayed.** When a blocking step ends at T, every other traced request on the same
  loop that was suspended and whose wake-up was already due is a delayed one: the future it
  awaits is done (its callback is queued behind the block), it yielded bare (``sleep(0)``:
  it sits in the ready queue), it awaits a timer whose deadline has passed (the timer could
  not fire while the loop was held: a sleep's, or one that wakes it another way, such as an
  ``asyncio.timeout`` or anyio deadline cancelling it), or the thread hop it awaits finished.
  Readiness that only the selector knows (a socket that became readable during the block)
  cannot be seen from Python and is not counted; uvloop shows no due callback at all, so its
  blocks say their list may be incomplete (``delayed_complete: false``). All of this is read
  only once a step has blocked.
* **Blocks outside any step.** A plain callback that holds the loop (``call_soon`` of a
  blocking function, a protocol's ``data_received``, a timer's, a step of a task no request
  made) is no step. While traced requests are in flight on an asyncio loop, each wake-up that
  finds no traced step running also looks whether the loop thread runs a callback (asyncio's
  ``Handle._run`` on its stack; a loop waiting in its selector has none: idle) and, when the
  same one runs at several wake-ups, follows it (``Outside``): where in it (app or library
  code), whom it kept waiting, and the kernel's looks. Once it ended, past the threshold, it
  is a ``loop.blocked`` with no request and ``outside_step: true``. All of this is the
  watchdog's work; a step's path is unchanged. uvloop runs callbacks from C: not seen there.

What the kernel says (``Look``, ``kernel_view``, ``contention``) is ``tracer.shim.kernel``.

Imports ``tracer.events``, ``tracer.shim.frames``, ``tracer.shim.kernel`` and ``tracer.shim.gc_time`` only; never the TUI, exporters, server models or CLI.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from tracer import events as K
from tracer.shim import gc_time, kernel
from tracer.shim.frames import function_in_handle, function_in_stack
from tracer.shim.kernel import Look

__all__ = [
    "LoopState",
    "Outside",
    "Sample",
    "Traced",
    "loop_state",
    "delayed_by",
    "delayed_fields",
    "seen_whole",
    "watch_threshold",
    "record_stuck_steps",
    "most_seen",
    "block_location",
    "wake_watchdog",
    "collecting_ns",
]


class Traced(Protocol):
    """What the bookkeeping needs of one traced request (the step proxy)."""

    req: int
    sink: Any
    """Where its recorder's rows go: requests of one recorder share it."""
    tid: int
    thread: str
    """The loop thread's id and name as its rows say them."""
    coro: Any
    running: bool
    yielded: Any
    block_ns: int
    now: Callable[[], int]

    def record_stuck(self, t0: int, dur: int, data: dict[str, Any]) -> None:
        """Record a step that still holds the loop as an unfinished ``loop.blocked`` with
        ``data`` (``location`` and ``delayed_fields``)."""


class Sample:
    """What the watchdog saw of one long step: where, and how often it sat in a lock wait."""

    __slots__ = ("running", "counts", "lock_waits", "checked", "before", "first")

    def __init__(self, running: tuple[Traced, int]) -> None:
        self.running = running
        """The ``LoopState.running`` value (request, step start) it belongs to."""
        self.before: Look | None = None
        """The last settled look at the loop thread when the watchdog first saw the step (taken
        before the step began, unless its time says otherwise)."""
        self.first: Look | None = None
        """The look the watchdog took when it first saw the step running (inside the step)."""
        self.counts: dict[tuple[str, str], int] = {}
        """How often each (function, location) was seen."""
        self.lock_waits = 0
        """Samples that found the loop thread waiting on a lock (the GIL among them)."""
        self.checked = 0
        """Samples whose kernel wait could be read (Linux)."""


class Outside:
    """What the watchdog saw of the loop running one callback outside any traced step (a plain
    callback, a protocol's ``data_received``, a timer's, a step of a task no request made).

    The callback is known by the frame of asyncio's ``Handle._run`` running it: the same
    object for as long as that callback runs (this keeps it alive, so no later frame takes
    its id). ``first`` and ``last`` are the first and latest wake-ups that found it running
    (``time.monotonic_ns``), so ``last - first`` is how long it held the loop, at least.
    """

    __slots__ = ("frame", "first", "last", "counts", "ready", "lock_waits", "checked", "looks")

    def __init__(self, frame: Any, t: int) -> None:
        self.frame = frame
        self.first = t
        self.last = t
        self.counts: dict[tuple[str, str], int] = {}
        """How often each (function, location) inside the callback was seen."""
        self.ready: dict[int, tuple[Traced, list[int]]] = {}
        """By ``id`` of a recorder's sink: one traced request of that recorder (whose sink,
        thread and threshold the block takes) and the requests of it that were ready to run,
        at the latest wake-up past half the threshold."""
        self.lock_waits = 0
        """Wake-ups that found the loop thread waiting on a lock (the GIL among them)."""
        self.checked = 0
        """Wake-ups whose kernel wait could be read (Linux)."""
        self.looks: list[Look] = []
        """The first and the latest kernel looks at the loop thread while it ran (Linux)."""


class LoopState:
    """One event loop: its thread, its in-flight traced requests, the step holding it."""

    __slots__ = (
        "loop_ref",
        "tid",
        "native_id",
        "active",
        "running",
        "sample",
        "tasks_watched",
        "parked",
        "settled",
        "collections",
        "outside",
        "__weakref__",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop_ref = weakref.ref(loop)
        self.tid = threading.get_ident()
        self.native_id = threading.get_native_id()
        self.active: set[Traced] = set()
        """Traced requests in flight on this loop."""
        self.running: tuple[Traced, int] | None = None
        """(request, step start) while a traced step runs; read by the watchdog."""
        self.sample: Sample | None = None
        """What the watchdog saw of the step running now (or of the last one it sampled)."""
        self.tasks_watched = False
        """True once the ASGI shim set its task factory on this loop (``tracer.shim.tasks``)."""
        self.parked = False
        """True while the watchdog sleeps until a step starts: the step calls ``wake_watchdog``."""
        self.settled: Look | None = None
        """The watchdog's latest settled look at this loop's thread (Linux)."""
        self.collections = gc_time.of_thread(self.tid)
        """The garbage collections run on this loop's thread (one ring per thread, whichever
        of its loops ran them)."""
        self.outside: Outside | None = None
        """The callback running outside any traced step that the watchdog follows now."""


class _Wake:
    """``threading.Event``'s ``set``, ``clear`` and ``wait`` for the watchdog, on one lock held
    while the flag is down: a wait is one lock acquisition, where an ``Event``'s goes through a
    ``Condition`` (a new lock and a list of waiters each time, a third of a wake-up's wait).
    Only the watchdog waits or clears it."""

    __slots__ = ("_down",)

    def __init__(self) -> None:
        self._down = threading.Lock()
        self._down.acquire()

    def set(self) -> None:
        """Raise the flag (wakes the watchdog if it waits)."""
        try:
            self._down.release()
        except RuntimeError:  # raised already
            pass

    def clear(self) -> None:
        """Lower the flag."""
        self._down.acquire(blocking=False)

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the flag; whether it is up (it stays up)."""
        if self._down.acquire(timeout=timeout):
            self.set()
            return True
        return False


# Registries: loops by id (with a weak reference to detect reuse), and the one watchdog: its
# thread, whether it is parked, how often it woke and looked for open loops while parked (read
# by tests).
_STATES: dict[int, LoopState] = {}
_WATCHDOG: dict[str, Any] = {"thread": None, "parked": False, "wakes": 0, "looks": 0}
# Set to wake a parked watchdog (or to cut one wait short).
_WAKE = _Wake()
# Seconds without a traced step running at any wake-up before the watchdog parks.
PARK_AFTER_S = 1.0
# Seconds between a parked watchdog's looks at whether any loop it traced is still open.
PARKED_LOOK_S = 1.0
# The smallest blocking threshold of any shim, in ns: the watchdog wakes every half of it.
_THRESHOLDS: dict[str, int] = {"min": 10_000_000}
_LOCK = threading.Lock()


def watch_threshold(block_ns: int) -> None:
    """A shim will report steps longer than ``block_ns``: sample often enough to name them."""
    with _LOCK:
        _THRESHOLDS["min"] = min(_THRESHOLDS["min"], max(block_ns, 1_000_000))


def loop_state(loop: asyncio.AbstractEventLoop | None) -> LoopState | None:
    """The state of ``loop`` (default: the running asyncio loop), or None off asyncio."""
    if loop is None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None  # trio, or a bare coroutine driven by hand: no loop-wide view
    state = _STATES.get(id(loop))
    if state is not None and state.loop_ref() is loop:
        return state
    state = LoopState(loop)
    with _LOCK:
        for key, old in list(_STATES.items()):
            if old.loop_ref() is None:
                del _STATES[key]
        _STATES[id(loop)] = state
        gc_time.track({state.tid: state.collections for state in _STATES.values()})
        state.parked = _WATCHDOG["parked"]  # under the lock, as ``_park`` sets the flags
        thread = _WATCHDOG["thread"]
        if thread is None or not thread.is_alive():
            thread = threading.Thread(target=_watch, name="gateway-tracer-watchdog", daemon=True)
            _WATCHDOG["thread"] = thread
            gc_time.install()
            thread.start()
    return state


def collecting_ns(state: LoopState, t0: int, t1: int) -> int:
    """How long ``state``'s loop thread spent collecting garbage between ``t0`` and ``t1``
    (``time.monotonic_ns``; a step that just ended on it), at least; 0 when the hook was not
    installed (no watchdog ran)."""
    return state.collections.within(t0, t1)


def wake_watchdog(state: LoopState) -> None:
    """A step starts on ``state``'s loop while the watchdog is parked: wake it up."""
    state.parked = False
    _WATCHDOG["parked"] = False
    _WAKE.set()


def _watch() -> None:
    """The watchdog thread: samples loops (``_sample``) until every loop it traced is closed,
    then stops watching; so it does too should it fail, and the next traced loop starts
    another."""
    try:
        _sample()
    finally:
        with _LOCK:
            if _WATCHDOG["thread"] is threading.current_thread():
                _stop_watching()


def _stop_watching() -> None:
    """The watchdog stops (under ``_LOCK``, on its own thread): the collections are no longer
    timed, the ``gc.callbacks`` hook goes, so that no collection of the process calls it, and
    the loop threads' /proc files are closed (a next watchdog opens its own)."""
    _WATCHDOG["thread"] = None
    gc_time.uninstall()
    kernel.close_files()


def _sample() -> None:
    """Sample the stack of every loop whose traced step has run past half its threshold.

    It wakes every half of the smallest threshold: a step that lasts the threshold is then
    sampled at least once, and a wake-up with nothing to sample costs one GIL hand-over. After
    ``PARK_AFTER_S`` of wake-ups with no traced step running, it parks (``_park``).
    """
    quiet_since: float | None = None
    while True:
        _WAKE.wait(_THRESHOLDS["min"] / 2e9)
        _WAKE.clear()
        _WATCHDOG["wakes"] += 1
        states = list(_STATES.values())
        alive = False
        stepping = False
        closed = False
        for state in states:
            loop = state.loop_ref()
            if loop is None or loop.is_closed():
                state.outside = None  # its last callback, if any, is not said (nobody reads it)
                # Nor is its last step's sample read again: it names that step's request, and
                # the state stays registered until a later loop is traced after this one was
                # collected, the request's recorder with it.
                state.sample = None
                closed = True
                continue
            alive = True
            # Read with the GIL kept (``tracer.shim.kernel.READ``): the loop thread runs no
            # Python meanwhile, so it is as its stack shows it below.
            look = kernel.look(state.native_id)
            running = state.running
            if running is None:
                if look is not None and look.settled:
                    state.settled = look
                if _watch_outside(state, look):
                    stepping = True  # a callback holds the loop: no parking meanwhile
                continue
            stepping = True
            if state.outside is not None:
                _end_outside(state)  # a traced step runs: the callback before it has ended
            sample = state.sample
            if sample is None or sample.running is not running:
                # First sight of this step: keep the look from before it (the block's bound
                # on its run-queue wait needs one) and this one, inside it.
                sample = Sample(running)
                sample.before, sample.first = state.settled, look
                state.sample = sample
            if look is not None and look.lock_wait is not None:
                # Where the loop thread waits, inside the step: on a lock, or in a call.
                state.settled = look
                sample.checked += 1
                sample.lock_waits += look.lock_wait
            traced, started = running
            try:
                now = traced.now()
                if now - started < traced.block_ns // 2:
                    continue
                where = function_in_stack(state.tid, getattr(traced.coro, "cr_frame", None))
            except Exception:  # a sampling failure only costs the line number
                continue
            if state.running is not running:
                continue
            if where is not None:
                sample.counts[where] = sample.counts.get(where, 0) + 1
        if closed:
            # Its thread's /proc files stay open no longer (another open loop's may share them).
            kernel.keep_files({state.native_id for state in states if _is_open(state)})
        if not alive:
            with _LOCK:
                # A closed loop runs no step again, though only a collection may free it (its
                # objects refer to each other): it keeps no watchdog awake.
                if not any(_is_open(s) for s in _STATES.values()):
                    _stop_watching()
                    return
        if stepping:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= PARK_AFTER_S:
            _park()
            quiet_since = None


def _watch_outside(state: LoopState, look: Look | None) -> bool:
    """Follow the callback the loop of ``state`` runs now outside any traced step, if any;
    True while one runs. The one followed so far, should it have ended, is recorded as a
    ``loop.blocked`` (``_end_outside``) when it held the loop past the threshold.

    Only on asyncio's own loops (``seen_whole``: uvloop runs its callbacks from C, where no
    frame shows them), and only while traced requests are in flight there (they are whom it
    delays, and whose recorders its block goes to). A loop waiting in its selector has no
    ``Handle._run`` on its stack: idle, never blocked.
    """
    loop = state.loop_ref()
    if loop is None or not state.active or not seen_whole(loop):
        _end_outside(state)
        return False
    found = function_in_handle(state.tid)
    now = time.monotonic_ns()
    if state.running is not None:
        # A traced step began while we looked (the loop thread took the GIL meanwhile): the
        # frames seen may be its own.
        _end_outside(state)
        return False
    outside = state.outside
    if found is None or (outside is not None and outside.frame is not found[0]):
        _end_outside(state)
        outside = None
    if found is None:
        return False
    frame, where = found
    if outside is None:
        outside = state.outside = Outside(frame, now)
    outside.last = now
    if where is not None:
        outside.counts[where] = outside.counts.get(where, 0) + 1
    if look is not None:
        if look.lock_wait is not None:
            outside.checked += 1
            outside.lock_waits += look.lock_wait
        if outside.looks:
            outside.looks[1] = look
        else:
            outside.looks = [look, look]
    if now - outside.first >= _THRESHOLDS["min"] // 2:
        outside.ready = _ready_by_sink(state)
    return True


def _ready_by_sink(state: LoopState) -> dict[int, tuple[Traced, list[int]]]:
    """The traced requests of ``state``'s loop ready to run now, by recorder (``Outside.ready``)."""
    loop = state.loop_ref()
    due = _due_timer_futures(loop) if loop is not None else set()
    ready: dict[int, tuple[Traced, list[int]]] = {}
    for traced in list(state.active):
        entry = ready.get(id(traced.sink))
        if entry is None:
            entry = ready[id(traced.sink)] = (traced, [])
        if not traced.running and _is_ready(traced, due):
            entry[1].append(traced.req)
    return ready


def _end_outside(state: LoopState) -> None:
    """The callback the watchdog followed on ``state``'s loop has ended (or is no longer
    seen): when it held the loop past the threshold, record a ``loop.blocked`` with no
    request and ``outside_step: true`` in the recorder of every traced request it delayed
    or found in flight (on the recorder's default monotonic clock only: its times are the
    watchdog's). From the first to the last wake-up that saw it: short by up to a wake-up
    (half the smallest threshold) at either end."""
    outside, state.outside = state.outside, None
    location = most_seen(outside.counts) if outside is not None else None
    if outside is None or not outside.ready or location is None:
        # No app or library code seen in it: the standard library's or an in-process server
        # model's own (the tool's work, not the app's).
        return
    dur = outside.last - outside.first
    data: dict[str, Any] = {"location": location, "outside_step": True}
    if collected := collecting_ns(state, outside.first, outside.last):
        data["gc_ns"] = collected
    data.update(_outside_kernel_view(outside, dur))
    for traced, delayed in outside.ready.values():
        sink = traced.sink
        if dur <= traced.block_ns or sink.clock is not time.monotonic_ns:
            continue
        row = (
            next(sink.seq),
            outside.first - sink.start_ns,
            K.LOOP_BLOCKED,
            None,
            sink.pid,
            traced.tid,
            traced.thread,
            None,
            dur,
            {**data, "delayed": sorted(delayed)},
        )
        try:
            sink.append(row)
        except Exception:  # a recorder closed meanwhile: the block goes unsaid
            continue


def _outside_kernel_view(outside: Outside, dur: int) -> dict[str, Any]:
    """What the kernel says of a callback's block (Linux): ``descheduled_ns``, the loop
    thread's run-queue wait between the first and the last look at it, and, when it mostly
    waited for a CPU or on other threads rather than ran (``kernel.contention``),
    ``others_busy`` and ``starved: true``."""
    if len(outside.looks) < 2:
        return {}
    first, last = outside.looks[0], outside.looks[-1]
    span = last.t - first.t
    if span <= 0:
        return {}
    cpu = max(0, last.thread_cpu - first.thread_cpu)
    descheduled = max(0, min(last.run_delay - first.run_delay, span - cpu))
    others = max(0, (last.process_cpu - first.process_cpu) - cpu) * dur // span
    block_ns = _THRESHOLDS["min"]
    verdict = kernel.contention(outside, dur, cpu, others, block_ns, descheduled)
    if verdict.get("starved"):
        return verdict
    return {"descheduled_ns": descheduled}


def _is_open(state: LoopState) -> bool:
    loop = state.loop_ref()
    return loop is not None and not loop.is_closed()


def _park() -> None:
    """Sleep until a traced step starts (``wake_watchdog``), a new loop is traced, or every
    loop traced is closed (``_sample`` then stops watching).

    Every state's flag goes up before the last look at whether a step runs: a step that began
    before its flag rose is seen here, one that begins after it sees the flag and wakes us
    (the GIL orders the two threads' reads and writes). Closing a loop cannot wake us (the
    loop is not ours to hook): we look every ``PARKED_LOOK_S`` instead, which costs the loop
    threads nothing.
    """
    with _LOCK:
        _WAKE.clear()
        _WATCHDOG["parked"] = True
        states = list(_STATES.values())
        for state in states:
            state.parked = True
    if not any(state.running is not None for state in states):
        while not _WAKE.wait(PARKED_LOOK_S):
            _WATCHDOG["looks"] += 1
            with _LOCK:
                if not any(_is_open(state) for state in _STATES.values()):
                    break
    with _LOCK:
        _WATCHDOG["parked"] = False
        for state in _STATES.values():
            state.parked = False


def most_seen(counts: dict[tuple[str, str], int]) -> str | None:
    """The line sampled most often inside the function sampled most often, or None.

    The function first: a CPU loop spreads its samples over its lines, while a call that lets
    the GIL go (the socket write under ``await send``) draws samples to its one line, as the
    watchdog, waiting for the GIL, gets it at once there. Ties go to what was seen first.
    """
    totals: dict[str, int] = {}
    for (function, _), count in counts.items():
        totals[function] = totals.get(function, 0) + count
    if not totals:
        return None
    best = max(totals, key=totals.__getitem__)
    lines = {where: count for (function, where), count in counts.items() if function == best}
    return max(lines, key=lines.__getitem__)


def block_location(sample: Sample | None, step_location: str | None) -> dict[str, Any]:
    """The ``location`` fields of the ``loop.blocked`` of a step that ended blocked, given the
    watchdog's ``sample`` of that very step (None when it has none) and the step's own
    suspension point (None when the step returned or raised).

    The line sampled most (``most_seen``) when a sample landed inside the step. Otherwise the
    step's own location with ``location_from: "step"``: nothing was seen while it held the
    loop, which is what a C call holding the GIL all along (``json.dumps`` of a large value)
    does to the watchdog, a Python thread that needs the GIL to look. A sample taken once such
    a call returned, at its line or the next, still wins: it is in the code that blocked, where
    the step's own location is where it went on to wait (or nothing, for a step that returned).
    """
    location = most_seen(sample.counts) if sample is not None else None
    if location is not None:
        return {"location": location}
    return {"location": step_location, "location_from": "step"}


def record_stuck_steps() -> int:
    """Record every traced step holding its loop now, past its threshold, as a ``loop.blocked``
    with ``unfinished: true``; returns how many.

    A step blocked for good (``while True: time.sleep(1)`` in ``async def``) never ends, so it
    would never be recorded and the run would report its loop as never blocked. A server model
    calls this when it gives up waiting for its loop to stop. The watchdog's samples name the
    line; the requests it delayed are those ready on that loop now.
    """
    count = 0
    for state in list(_STATES.values()):
        running = state.running
        if running is None:
            continue
        traced, started = running
        try:
            dur = traced.now() - started
            if dur < traced.block_ns:
                continue
            sample = state.sample
            location = (
                most_seen(sample.counts)
                if sample is not None and sample.running is running
                else None
            )
            data = {"location": location, **delayed_fields(state, traced)}
            traced.record_stuck(started, dur, data)
            count += 1
        except Exception:  # the loop thread changed something under us: nothing to report
            continue
    return count


def seen_whole(loop: Any) -> bool:
    """Whether ``loop`` shows its due callbacks to Python: asyncio's loops keep them in
    ``_ready`` and ``_scheduled``; uvloop keeps them inside libuv, where nothing is seen."""
    return isinstance(getattr(loop, "_ready", None), deque) and isinstance(
        getattr(loop, "_scheduled", None), list
    )


def _due_timer_futures(loop: Any) -> set[int]:
    """ids of the futures that callbacks already due will resolve (asyncio.sleep and friends).

    Two places hold them: timers whose deadline passed are still in the loop's ``_scheduled``
    heap when they fell due during the block, and in its ready queue when they fell due before
    the block's own turn of the loop began (the loop moves every due timer there at the start
    of a turn, and runs them after the handle that blocked). uvloop has neither: none are seen
    (``seen_whole``).
    """
    due: set[int] = set()
    # Copies: a step stuck for good is looked at from another thread, while others may still
    # add callbacks (call_soon_threadsafe).
    scheduled = list(getattr(loop, "_scheduled", None) or ())
    if scheduled:
        deadline = loop.time() + getattr(loop, "_clock_resolution", 0.0)
        for handle in scheduled:
            if handle.when() <= deadline and not handle.cancelled():
                _add_futures(handle, due)
    for handle in list(getattr(loop, "_ready", None) or ()):
        if not handle.cancelled():
            _add_futures(handle, due)
    return due


def _add_futures(handle: Any, into: set[int]) -> None:
    """Add the ids of the futures ``handle``'s callback will resolve, or that the tasks it
    wakes wait on.

    A future passed as an argument (``asyncio.sleep``'s ``_set_result_unless_cancelled``, a
    thread hop's result); a future whose own method the callback is (``call_later(d,
    fut.set_result, x)``); a task whose method it is (``call_later(d, task.cancel)``, a
    task's wake-up), waiting on its ``_fut_waiter``; and the tasks a deadline cancels, each
    waiting on its ``_fut_waiter`` too: ``asyncio.timeout``'s (``Timeout._on_timeout``,
    its ``_task``) and anyio's ``move_on_after``/``fail_after`` (``CancelScope._timeout``,
    the tasks of the scope and of its unshielded inner scopes). The step proxy hands the
    loop exactly what the app's coroutine yielded, so that is the task's ``_fut_waiter``.
    """
    for arg in getattr(handle, "_args", None) or ():
        if asyncio.isfuture(arg):
            into.add(id(arg))
    owner = getattr(getattr(handle, "_callback", None), "__self__", None)
    if owner is None:
        return
    if isinstance(owner, asyncio.Task):
        _add_waiter(owner, into)
    elif asyncio.isfuture(owner):
        into.add(id(owner))
    elif isinstance(owner, asyncio.Timeout):
        _add_waiter(getattr(owner, "_task", None), into)
    elif type(owner).__module__.startswith("anyio.") and hasattr(owner, "_child_scopes"):
        _add_scope(owner, into, 0)  # a CancelScope's deadline


def _add_waiter(task: Any, into: set[int]) -> None:
    waiter = getattr(task, "_fut_waiter", None)
    if waiter is not None:
        into.add(id(waiter))


def _add_scope(scope: Any, into: set[int], depth: int) -> None:
    """The tasks an anyio cancel scope's deadline cancels: its own, and those of the inner
    scopes that are not shielded (as ``CancelScope._deliver_cancellation`` goes)."""
    for task in list(getattr(scope, "_tasks", None) or ()):
        if isinstance(task, asyncio.Task) and not task.done():
            _add_waiter(task, into)
    if depth < 50:
        for inner in list(getattr(scope, "_child_scopes", None) or ()):
            if not getattr(inner, "_shield", False):
                _add_scope(inner, into, depth + 1)


def delayed_by(state: LoopState, culprit: Traced) -> list[int]:
    """Request ids that were ready to run on this loop while ``culprit``'s step held it."""
    loop = state.loop_ref()
    due = _due_timer_futures(loop) if loop is not None else set()
    delayed: set[int] = set()
    sink = culprit.sink
    for traced in list(state.active):
        # The culprit's request is not delayed by itself, though another of its tasks (or
        # the request's own coroutine, waiting on that task) may be ready. Requests another
        # recorder traces (shims nested) are numbered by that recorder: its own block says them.
        if traced.req == culprit.req or traced.running or traced.sink is not sink:
            continue
        if _is_ready(traced, due):
            delayed.add(traced.req)
    return sorted(delayed)


def _is_ready(traced: Traced, due: set[int]) -> bool:
    """Whether suspended ``traced`` could run now: it yielded bare, a due callback resolves
    what it awaits (``due``: ``_due_timer_futures``), or that is done or a finished hop's."""
    awaited = traced.yielded
    if awaited is None or id(awaited) in due:
        return True
    return asyncio.isfuture(awaited) and (awaited.done() or _thread_finished(awaited))


def _thread_finished(future: Any) -> bool:
    """Whether ``future`` is a thread hop's (``run_in_executor``, ``asyncio.to_thread``) whose
    work has finished, its result on the way to the loop.

    ``asyncio.wrap_future`` chains the loop's future to the executor's: the worker thread
    hands the result over with ``call_soon_threadsafe``, queued where uvloop shows nothing;
    but the executor's future, which the chain's callback holds, is done already.
    """
    for callback, *_ in list(getattr(future, "_callbacks", None) or ()):
        code = getattr(callback, "__code__", None)
        if code is None or code.co_name != "_call_check_cancel":
            continue
        try:
            source = callback.__closure__[code.co_freevars.index("source")].cell_contents
        except (ValueError, IndexError, TypeError):
            continue
        if isinstance(source, concurrent.futures.Future) and source.done():
            return True
    return False


def delayed_fields(state: LoopState, culprit: Traced) -> dict[str, Any]:
    """The ``loop.blocked`` fields on whom ``culprit``'s step delayed: ``delayed`` and, when
    the loop hides its due callbacks (uvloop: ``seen_whole``), ``delayed_complete: false``,
    as the requests a timer or a finished thread hop woke are then missing from the list."""
    fields: dict[str, Any] = {"delayed": delayed_by(state, culprit)}
    loop = state.loop_ref()
    if loop is not None and not seen_whole(loop):
        fields["delayed_complete"] = False
    return fields
