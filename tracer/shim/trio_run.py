"""The ASGI shim on trio: the running trio task, one loop view per ``trio.run``, its cancellations.

An app served on trio (hypercorn's ``--worker-class trio``, or any trio server; Starlette and
FastAPI run there through anyio) has no asyncio loop and no asyncio task. What the shim asks
asyncio of, it asks trio here instead:

* **The task.** ``running_task()`` is trio's current task (``trio.lowlevel.current_task``):
  its ``name`` is the events' ``task``, and a ``receive``/``send`` made by another task of the
  request (a nursery's child, anyio's task group) is that task's, as on asyncio.
* **The loop.** Each ``trio.run`` gets one ``TrioRun``, kept in a ``RunVar`` (one per run), that
  stands for its loop in ``tracer.shim.blocking``: the requests of a run share one
  ``LoopState``, so the watchdog samples a step that holds the run's thread and names the line
  that blocked, as on asyncio. ``TrioRun`` is closed when the run ends (its ``after_run``
  as the run's instrument, below), and the watchdog then forgets it.
  Trio keeps its run queue and its deadlines to itself, so a block cannot list whom it
  delayed: its ``delayed`` is a bound from below, ``delayed_complete: false`` (as on uvloop);
  nor are callbacks outside a step watched (trio has none: all its work is tasks).
* **Cancellation.** ``trio.Cancelled`` is only ever raised by trio, at a checkpoint inside a
  cancel scope that was cancelled: a cancellation of the request, never an error of the
  app's own. A nursery groups what its tasks raise: a group of cancellations alone is one too.
* **The tasks a request starts** (a nursery's, anyio's task groups: Starlette's
  ``BaseHTTPMiddleware`` runs the endpoint in one, a ``StreamingResponse`` its body) carry the
  request in their context, as trio copies it into every task it spawns. asyncio's are stepped
  through its task factory; trio has none, so the ``TrioRun`` is also the run's instrument:
  ``before_task_step``/``after_task_step`` time each step of a task whose context names a
  traced request (not the request's own task: the step proxy drives that one), recorded as
  that request's ``sched.step`` on the task's name, and its ``loop.blocked`` past the
  threshold, located by the watchdog as the request's own steps are. What it awaits is read
  from the task's coroutine chain (trio hands the scheduler nothing the app could name).
  Tasks of the server's own code (started inside ``receive``/``send``, where no request is
  current) are not the request's. A failure in these hooks stops them for the run (trio
  would drop an instrument that raised, with a traceback on stderr): the requests go on,
  their child tasks unrecorded. The price: once a traced request ran, every step of every
  task of the run calls the two hooks (about 1.3 µs of CPU a step, most of it trio's own
  dispatch to an instrument; a step of a task of no request does one context lookup).

Trio is never imported here: only when the app's process already did. Imports
``tracer.shim.{blocking,context,hops,steps}``; never the TUI, exporters, server models or CLI.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from tracer.shim.blocking import LoopState, loop_state, wake_watchdog
from tracer.shim.context import CURRENT
from tracer.shim.hops import IN_FLIGHT
from tracer.shim.steps import Stepper

log = logging.getLogger("tracer")
_cpu = time.thread_time_ns
_process_cpu = time.process_time_ns

__all__ = ["TrioRun", "running_task", "run_state", "trio_cancelled"]

# The RunVar holding each run's ``TrioRun``, made once per imported trio module.
_RUN_VARS: dict[int, Any] = {}


def _trio() -> Any:
    """The trio module if this process imported it, else None (trio is never imported here)."""
    return sys.modules.get("trio")


def running_task() -> Any:
    """The trio task running the calling code, or None (no trio, or not inside a trio run)."""
    trio = _trio()
    if trio is None:
        return None
    try:
        return trio.lowlevel.current_task()
    except (RuntimeError, AttributeError):  # outside a run (or a trio without lowlevel)
        return None


class _Suspended:
    """What a task stepped by the instrument is said to have handed the scheduler: something,
    never a bare yield (``blocking`` takes a bare yield as ready to run)."""


_SUSPENDED = _Suspended()


class TrioRun:
    """One ``trio.run``, as ``tracer.shim.blocking`` sees a loop: open until the run ends; and
    the run's instrument, stepping the tasks traced requests start (see the module).

    It has neither ``_ready`` nor ``_scheduled``, so ``blocking.seen_whole`` says its blocks'
    lists of delayed requests are not whole, and no callback outside a step is looked for.
    """

    __slots__ = ("closed", "steps", "began", "broken", "__weakref__")

    def __init__(self) -> None:
        self.closed = False
        """True once the run has ended (``after_run``)."""
        self.steps: dict[Any, Stepper] = {}
        """The step recorder of each live task of a traced request that the instrument steps."""
        self.began: dict[Any, int] = {}
        """When the step running now of each such task began."""
        self.broken = False
        """True once a hook failed: the hooks do nothing more in this run."""

    def is_closed(self) -> bool:
        """Whether the run has ended, as ``asyncio.AbstractEventLoop.is_closed``."""
        return self.closed

    def after_run(self) -> None:
        """trio's hook, called once the run is over: the run is closed."""
        self.closed = True
        self.steps.clear()
        self.began.clear()

    def before_task_step(self, task: Any) -> None:
        """trio's hook before each step of every task of the run: a step of a task of a traced
        request (not its own: the step proxy's) begins."""
        if self.broken:
            return
        try:
            cycle = task.context.get(CURRENT)
            if cycle is None or getattr(cycle, "root_id", None) in (None, id(task)):
                return
            stepper = self.steps.get(task)
            if stepper is None:
                if not cycle.recording:
                    return
                stepper = self.steps[task] = Stepper(
                    task.coro,
                    cycle.req,
                    cycle.recorder,
                    cycle.block_ns,
                    task.name,
                    cycle.tid,
                    cycle.thread,
                    cycle.failed,
                    cycle.state,
                )
            sink = stepper.sink
            t0 = sink.clock() - sink.start_ns
            state = stepper.state
            if state is not None:
                state.active.add(stepper)
                state.running = (stepper, t0)
                if state.parked:
                    wake_watchdog(state)
            stepper.running = True
            self.began[task] = t0
            stepper.process_cpu0 = _process_cpu() if IN_FLIGHT else 0
            stepper.cpu0 = _cpu()
        except Exception as exc:
            self._failed(exc)

    def after_task_step(self, task: Any) -> None:
        """trio's hook after each step: record the step that ended (and its block)."""
        stepper = self.steps.get(task)
        if stepper is not None and stepper.running and not self.broken:
            self._stepped(task, stepper, getattr(task.coro, "cr_frame", None) is None)

    def task_exited(self, task: Any) -> None:
        """trio's hook when a task ends, inside its last step (before ``after_task_step``):
        that step is recorded as the last, and the task's step recorder goes."""
        stepper = self.steps.pop(task, None)
        if stepper is None:
            return
        if stepper.running and not self.broken:
            self._stepped(task, stepper, True)
        self.began.pop(task, None)
        stepper.coro = None
        state = stepper.state
        if state is not None:
            state.active.discard(stepper)
            if state.running is not None and state.running[0] is stepper:
                state.running = None

    def _stepped(self, task: Any, stepper: Stepper, done: bool) -> None:
        """A step of ``task`` ended now (its coroutine returned or raised when ``done``)."""
        try:
            cpu = _cpu() - stepper.cpu0
            sink = stepper.sink
            t1 = sink.clock() - sink.start_ns
            t0 = self.began.pop(task, t1)
            stepper._stepped(t0, t1, cpu, None if done else _SUSPENDED, done)
        except Exception as exc:
            self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        if not self.broken:
            self.broken = True
            log.error(
                "gateway-tracer: stepping a trio task failed; tasks of requests go on "
                "unrecorded in this run",
                exc_info=exc,
            )


def run_state() -> LoopState | None:
    """The ``LoopState`` of the trio run calling, made at its first traced request; None
    outside a trio run."""
    trio = _trio()
    if trio is None:
        return None
    var = _RUN_VARS.get(id(trio))
    if var is None:
        var = _RUN_VARS[id(trio)] = trio.lowlevel.RunVar("gateway_tracer_run")
    try:
        run = var.get(None)
        if run is None:
            run = TrioRun()
            trio.lowlevel.add_instrument(run)
            var.set(run)
    except RuntimeError:  # not inside a trio run
        return None
    return loop_state(run)  # type: ignore[arg-type]  # a loop as far as blocking.py asks


def trio_cancelled(error: BaseException) -> bool:
    """Whether ``error`` is trio cancelling the request: ``trio.Cancelled`` (trio alone
    raises it), or a group (a nursery's) of nothing but those."""
    trio = _trio()
    cancelled = getattr(trio, "Cancelled", None)
    if cancelled is None:
        return False
    if isinstance(error, cancelled):
        return True
    if not isinstance(error, BaseExceptionGroup):
        return False
    rest = error.subgroup(
        lambda leaf: not isinstance(leaf, BaseExceptionGroup) and not isinstance(leaf, cancelled)
    )
    return rest is None
