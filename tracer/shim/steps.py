"""The step proxy: drives an app's coroutine exactly as ``await`` would, timing every step.

``await Stepper(coro, ...)`` behaves like ``await coro``: values sent in, exceptions thrown in
(``CancelledError`` included), ``close()`` (``GeneratorExit``) and the return value or
exception coming out are forwarded untouched, following PEP 380's ``yield from`` expansion.
The difference is that each resume -> suspend of the app coroutine is recorded as one
``sched.step`` (wall ``dur``, ``cpu_ns`` from ``time.thread_time_ns``, what it then awaits and
where), and a step longer than the threshold as ``loop.blocked`` with the requests it delayed.

This is the hot path: per step it reads two clocks twice, walks the await chain once (cached
per code object) and appends one event row straight to the recorder's ``Sink`` (no call to
``emit``). A failure in the recording code is reported through
``on_failure`` and recording stops for that request; the app's coroutine is driven on as if
nothing happened. Imports the spine and ``tracer.shim.{frames,blocking}``; never the TUI,
exporters, server models or CLI.

A step can begin inside another step of the same recorder: a task started eagerly (Python
3.12's ``asyncio.eager_task_factory``) runs its first step inside ``create_task``, so inside
the step that created it. The loop was held once, so each nanosecond is one step's: the
creating step is recorded in pieces around the one inside it (the piece before ends "awaiting"
``EAGER_START`` where ``create_task`` was called; the piece after is a step of its own, from
the end of the inner step), and each piece, like the inner step, is judged against the
threshold on its own time. Steps of two recorders nested (a shim inside another's) are each
recorded whole, each in its own recorder.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Generator
from types import CoroutineType
from typing import Any

from tracer import events as K
from tracer.recorder import Recorder
from tracer.shim.blocking import (
    LoopState,
    block_location,
    collecting_ns,
    delayed_fields,
    loop_state,
    wake_watchdog,
)
from tracer.shim.frames import describe, mark_driver, where_called
from tracer.shim.hops import IN_FLIGHT
from tracer.shim.kernel import contention, kernel_view

__all__ = ["EAGER_START", "Stepper"]

EAGER_START = "Task (started eagerly)"
"""``awaiting`` of a piece of a step that ended where a task it created started running at
once, inside ``create_task`` (its first step is then recorded as that task's)."""

_cpu = time.thread_time_ns
_process_cpu = time.process_time_ns
# Field names of packed rows (``tracer.events.unpack_row``): a step's data, in order.
_STEP_KEYS = ("cpu_ns", "awaiting", "location")


class Stepper:
    """An awaitable that drives ``coro`` and records its steps for request ``req``."""

    __slots__ = (
        "coro",
        "req",
        "sink",
        "now",
        "task",
        "tid",
        "thread",
        "block_ns",
        "state",
        "running",
        "yielded",
        "recording",
        "on_failure",
        "process_cpu0",
        "stuck_t0",
        "cpu0",
        "under",
        "inside",
        "split",
        "__weakref__",
    )

    def __init__(
        self,
        coro: Any,
        req: int,
        recorder: Recorder,
        block_ns: int,
        task: str | None,
        tid: int,
        thread: str,
        on_failure: Callable[[BaseException], None] | None = None,
        state: LoopState | None = None,
    ) -> None:
        self.coro = coro
        """The app's coroutine (or any awaitable); subclasses may set it after ``__init__``."""
        self.req = req
        self.sink = recorder.sink()
        """Where event rows go (``Recorder.sink``)."""
        self.now: Callable[[], int] = recorder.now
        self.task = task
        self.tid = tid
        self.thread = thread
        self.block_ns = block_ns
        self.state = state
        self.running = False
        """True while a step of this request holds the loop."""
        self.yielded: Any = None
        """What the last step handed to the event loop (the future it waits on)."""
        self.recording = True
        """False once recording failed for this request: the app is driven on, unrecorded."""
        self.on_failure = on_failure
        """Called once with the exception if recording fails (subclasses override ``failed``)."""
        self.process_cpu0 = 0
        """The process's CPU clock at this step's start, read only while thread hops are in
        flight (0 otherwise): what the other threads used during a step that blocked."""
        self.stuck_t0: int | None = None
        """The start of the step recorded as an unfinished ``loop.blocked`` (``record_stuck``),
        if any: should that step end after all, its block is not recorded a second time."""
        self.cpu0 = 0
        """The thread's CPU clock when this step began."""
        self.under: tuple[Any, int] | None = None
        """While a step that began inside another runs: that other's ``LoopState.running``."""
        self.inside: Stepper | None = None
        """While a step that began inside a step of the same recorder runs: that step."""
        self.split: tuple[int, int] | None = None
        """(time, CPU clock) where the rest of this step began, after a step of the same
        recorder ran inside it; None while the step is whole."""

    def failed(self, exc: BaseException) -> None:
        """Recording this request failed: stop recording it and report ``exc``."""
        self.recording = False
        if self.on_failure is not None:
            self.on_failure(exc)

    def __await__(self) -> Generator[Any, Any, Any]:
        return self._drive()

    def _drive(self) -> Generator[Any, Any, Any]:
        coro = self.coro
        if type(coro) is CoroutineType:
            target = coro
        else:
            await_ = getattr(type(coro), "__await__", None)
            if await_ is None:  # word for word what ``await`` itself would raise
                raise TypeError(f"object {type(coro).__name__} can't be used in 'await' expression")
            target = await_(coro)
        send = target.send
        throw = target.throw
        sink = self.sink
        clock = sink.clock
        start = sink.start_ns
        state = self.state
        if state is None:
            state = self.state = loop_state(None)
        if state is not None:
            state.active.add(self)
        hops = IN_FLIGHT
        value: Any = None
        error: BaseException | None = None
        try:
            while True:
                self.running = True
                t0 = clock() - start
                outer = None
                if state is not None:
                    # A step proxy of another shim (two recorders nested) may be stepping us:
                    # its step goes on after ours, so ours hands the loop's "running" back.
                    outer = state.running
                    state.running = (self, t0)
                    if outer is not None:
                        self.under = outer
                        _began_inside(self, outer, t0)
                    if state.parked:
                        wake_watchdog(state)
                # Threads of this process may compete with the loop for the GIL: read what they
                # use, but only then (a system call per step).
                self.process_cpu0 = _process_cpu() if hops else 0
                self.cpu0 = c0 = _cpu()
                try:
                    if error is None:
                        yielded = send(value)
                    else:
                        yielded, error = throw(error), None
                # The CPU clock is read before the wall clock at the end as after it at the
                # start: the CPU interval lies inside the wall one (cpu_ns <= dur).
                except StopIteration as stop:
                    cpu = _cpu() - c0
                    self._stepped(t0, clock() - start, cpu, None, True, outer)
                    return stop.value
                except BaseException:
                    cpu = _cpu() - c0
                    self._stepped(t0, clock() - start, cpu, None, True, outer)
                    raise
                cpu = _cpu() - c0
                self._stepped(t0, clock() - start, cpu, yielded, False, outer)
                try:
                    value = yield yielded
                except GeneratorExit:
                    target.close()  # PEP 380: close the delegate, then let GeneratorExit go on
                    raise
                except BaseException as exc:  # CancelledError and friends go in unchanged
                    error = exc
                    value = None
        finally:
            self.running = False
            # The app's frames refer to this object (receive/send); dropping the coroutine
            # breaks that cycle so the request is freed by reference counting, not the GC.
            self.coro = None
            if state is not None:
                state.active.discard(self)
                if state.running is not None and state.running[0] is self:
                    state.running = None

    def _stepped(
        self, t0: int, t1: int, cpu_ns: int, yielded: Any, done: bool, outer: Any = None
    ) -> None:
        """One step ended at ``t1``: record it (and the blocking, if it held the loop).

        ``outer`` is what the loop's state said was running when the step began: None, or the
        step of another shim's proxy driving this one, which runs on and gets it back.
        """
        self.running = False
        self.yielded = yielded
        split = self.split
        if split is not None:  # a step of this recorder ran inside this one: the rest of it
            self.split = None
            t0 = split[0]
            cpu_ns = self.cpu0 + cpu_ns - split[1]
        state = self.state
        running = held = None
        if state is not None:
            running = state.running
            if outer is None:
                state.running = None
            else:
                # Nested: the loop stays ours until the outer step takes our samples over
                # (``_hand_back``); switched now, the watchdog would start the outer step a
                # fresh sample and both blocks could lose the line the samples saw.
                held = state.sample
        if not self.recording:
            if outer is not None:
                self._hand_back(state, running, outer, held, t1, cpu_ns)
            return
        try:
            if done:
                awaiting = location = None
            else:
                awaiting, location = describe(self.coro, yielded)
            dur = t1 - t0
            sink = self.sink
            sink.append(
                (
                    next(sink.seq),
                    t0,
                    K.SCHED_STEP,
                    self.req,
                    sink.pid,
                    self.tid,
                    self.thread,
                    self.task,
                    dur,
                    _STEP_KEYS,
                    cpu_ns,
                    awaiting,
                    location,
                )
            )
            if dur > self.block_ns:  # "longer than", as the simulator and the replay count
                self._blocked(t0, dur, cpu_ns, location, running)
        except Exception as exc:  # never let recording break the request
            self.failed(exc)
        if outer is not None:
            self._hand_back(state, running, outer, held, t1, cpu_ns)

    def _hand_back(
        self, state: Any, running: Any, outer: Any, held: Any, t1: int, cpu_ns: int
    ) -> None:
        """The step that began inside ``outer`` ended at ``t1``: the loop goes back to it."""
        self.under = None
        inside = self.inside
        if inside is None:
            _hand_back(state, running, outer, held)
            return
        self.inside = None
        # The step of the same recorder this one ran inside goes on as a piece of its own.
        inside.split = (t1, self.cpu0 + cpu_ns)
        if outer[0] is inside:
            state.running = (inside, t1)  # a fresh step for the watchdog: its own samples
        else:  # another recorder's proxy between the two: it drove this step, gets it back
            _hand_back(state, running, outer, held)

    def _piece(self, t0: int, t1: int, cpu_ns: int, running: Any) -> None:
        """Record the piece ``t0``..``t1`` of this step that ended where a task it created
        started eagerly (see the module's docstring)."""
        try:
            location = where_called(sys._getframe(2))
            sink = self.sink
            sink.append(
                (
                    next(sink.seq),
                    t0,
                    K.SCHED_STEP,
                    self.req,
                    sink.pid,
                    self.tid,
                    self.thread,
                    self.task,
                    t1 - t0,
                    _STEP_KEYS,
                    cpu_ns,
                    EAGER_START,
                    location,
                )
            )
            if t1 - t0 > self.block_ns:
                self._blocked(t0, t1 - t0, cpu_ns, location, running)
        except Exception as exc:  # never let recording break the request
            self.failed(exc)

    def _blocked(
        self,
        t0: int,
        dur: int,
        cpu_ns: int,
        location: str | None,
        running: tuple[Any, int] | None,
    ) -> None:
        if t0 == self.stuck_t0:  # already recorded as unfinished: count its time once
            return
        state = self.state
        where: dict[str, Any] = {"location": location}
        delayed: dict[str, Any] = {"delayed": []}
        sample = None
        if state is not None:
            sample = state.sample
            if sample is None or running is None or sample.running is not running:
                sample = None
            # Where it was most often while it held the loop; when no sample landed in it (a C
            # call that kept the GIL), its own location, said to be that.
            where = block_location(sample, location)
            delayed = delayed_fields(state, self)
        data: dict[str, Any] = {**where, **delayed}
        # Did it run, or wait for a CPU or for other threads? The kernel's view is read only
        # now that the step blocked (never on a step's way), and only on the monotonic clock
        # the watchdog's looks are timed with.
        view = None
        if state is not None and self.sink.clock is time.monotonic_ns:
            start = self.sink.start_ns
            view = kernel_view(state, sample, start + t0, start + t0 + dur, cpu_ns)
            # Collections on this thread lengthen the step, whoever made the garbage.
            if collected := collecting_ns(state, start + t0, start + t0 + dur):
                data["gc_ns"] = collected
        deschedule = view.descheduled_ns if view is not None else None
        if self.process_cpu0:  # hops were in flight: the others' CPU, exactly, since t0
            others = _process_cpu() - self.process_cpu0 - cpu_ns
            data.update(contention(sample, dur, cpu_ns, others, self.block_ns, deschedule))
        elif view is not None:
            # No hops: the others' CPU as the watchdog's looks measure it. Said only when it
            # clears the app; a block of the app's own carries no others_busy nor starved.
            verdict = contention(sample, dur, cpu_ns, view.others_cpu_ns, self.block_ns, deschedule)
            if verdict.get("starved"):
                data.update(verdict)
        if deschedule is not None:
            # Whatever the verdict: a 40 ms block that waited 30 ms for a CPU reads apart from
            # one that computed for 40 ms (the same figure ``contention`` gives, if it ran).
            data["descheduled_ns"] = deschedule
        self._blocked_row(t0, dur, data)

    def record_stuck(self, t0: int, dur: int, data: dict[str, Any]) -> None:
        """A step that still holds the loop (``tracer.shim.blocking.record_stuck_steps``): an
        unfinished ``loop.blocked`` from its start until now, with ``data`` (where the samples
        saw it, whom it delayed)."""
        if self.recording and t0 != self.stuck_t0:
            self.stuck_t0 = t0
            self._blocked_row(t0, dur, {**data, "unfinished": True})

    def _blocked_row(self, t0: int, dur: int, data: dict[str, Any]) -> None:
        sink = self.sink
        sink.append(
            (
                next(sink.seq),
                t0,
                K.LOOP_BLOCKED,
                self.req,
                sink.pid,
                self.tid,
                self.thread,
                self.task,
                dur,
                data,
            )
        )


def _began_inside(step: Stepper, outer: tuple[Any, int], t0: int) -> None:
    """``step`` began at ``t0`` while ``outer`` held the loop. If that is, or drives, a step of
    the same recorder (an eager task's first step inside the step that created it), the piece
    of that step until now is recorded, and the rest of it will be another."""
    seq = step.sink.seq  # the recorder's (a step's sink may hold its rows a while: tasks.py)
    running: tuple[Any, int] | None = outer
    while running is not None:
        enclosing = running[0]
        if enclosing.sink.seq is seq:
            break
        running = enclosing.under
    else:
        return
    step.inside = enclosing
    split = enclosing.split
    piece_t0, piece_cpu0 = (running[1], enclosing.cpu0) if split is None else split
    enclosing.split = None
    if enclosing.recording:
        enclosing._piece(piece_t0, t0, _cpu() - piece_cpu0, running)


def _hand_back(state: Any, running: Any, outer: Any, held: Any) -> None:
    """The loop goes back to ``outer``, the step of another shim's proxy that drove this one:
    the watchdog's samples of the nested step are the outer step's too (it held the loop as
    long, and more), so its ``loop.blocked`` names the line. ``held`` is the sample that was
    the loop's when the nested step ended; one the watchdog made meanwhile for ``outer``
    (it runs on its own thread) adds its counts to it."""
    if held is None or held.running is not running:
        state.running = outer
        return
    held.running = outer
    state.running = outer
    later = state.sample
    if later is not held:
        if later is not None and later.running is outer:
            for where, count in later.counts.items():
                held.counts[where] = held.counts.get(where, 0) + count
        state.sample = held


# A chain through another shim's step proxy goes on to the coroutine it drives.
mark_driver(Stepper._drive.__code__, "target")
