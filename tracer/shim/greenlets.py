"""Greenlets: WSGI requests served by gevent (gunicorn's ``gevent`` worker, gevent's servers).

A gevent process runs every request in a greenlet of its own, all of them on one OS thread,
and switches from one to the next only where a greenlet waits on gevent's hub (a patched
``time.sleep``, socket read or write, ``gevent.sleep``). ``threading`` is patched too: each
greenlet would read as a thread of its own (``Dummy-N``), fifty greenlets as fifty threads,
and ``time.thread_time_ns`` counts the CPU of every greenlet that ran on the OS thread. So,
once ``install`` has hooked the thread's greenlet switches (``greenlet.settrace``), a WSGI
request that runs in a greenlet is recorded as an ASGI request on its event loop is:

- ``tid``/``thread`` of its events are the OS thread's (the hub's: ``MainThread`` in a
  gunicorn worker); ``task`` is the greenlet's name (gevent's ``Greenlet-N``; gevent gives
  the number of a greenlet that ended to a later one, so the names are those of the live
  greenlets, as a pool's thread names are).
- Each run of the request's greenlet between two switches (the first from the app call, the
  last until its end) is a ``sched.step``: ``cpu_ns`` is exactly the greenlet's (nothing else
  runs on that thread meanwhile), ``awaiting`` is ``"gevent hub"`` (``null`` for the last),
  ``location`` the app's line it waited at. No ``sched.thread`` is recorded for it.
- A step that held the hub past the threshold (an unpatched blocking call, a CPU loop) is
  also a ``loop.blocked`` of the request, with ``task``, ``location`` (the line a watchdog OS
  thread saw most while it held the hub, else the step's own with ``location_from: "step"``)
  and ``delayed``: the other traced requests in flight in the process, none of which could
  run meanwhile. gevent keeps which of them were ready to run in its C event loop, out of
  sight, so the list is those in flight, said with ``delayed_from: "in_flight"``.

Work a request hands to a (patched, so green) thread — ``ThreadPoolExecutor.submit`` from
its greenlet, ``tracer.shim.hops`` wraps it — runs in another greenlet of the same OS thread:
``adopt`` makes that greenlet's runs, while it does the work, steps of the request too, with
that greenlet's name as ``task`` and ``via`` (and, on its first step, ``queued_ns``) as a
``sched.thread`` of a hop has them; no ``sched.thread`` is recorded for it (it is no thread).

A greenlet a request starts (``gevent.spawn``, ``Greenlet(...).start()``, ``gevent.pool``'s
``spawn``, a patched ``threading.Thread(...).start()``: ``tracer.shim.greenlet_spawn``) is
followed the same way: its runs are steps of the request, its name as ``task``, ``via``
``gevent.spawn`` or ``threading.Thread`` and, on its first step, ``queued_ns`` (from its start to
its first run); its last step (``awaiting`` null) ends where it ends. One that outlives its
request is followed no further once the request ends: its later runs are no request's.

A run that holds the hub past the threshold for no request (a greenlet spawned at import, one
that outlived its request, a callback the hub runs) is a ``loop.blocked`` with no request while
traced requests are in flight (``tracer.shim.greenlet_outside``). A block adds ``gc_ns``, the
garbage collections on the hooked thread during it (``tracer.shim.gc_time``'s ring, fed by a
``gc.callbacks`` hook of this thread's own), as a loop step's block does.

Only the OS thread ``install`` was called on is hooked (``greenlet.settrace`` is per thread):
requests on other OS threads are recorded as without gevent. Imports the spine and
``tracer.shim.frames``; never the TUI, exporters, server models or CLI.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
from typing import Any

from tracer import events as K
from tracer.shim.frames import function_in_stack, where_called
from tracer.shim.gc_time import Collections
from tracer.shim.greenlet_outside import GEVENT_PREFIX, record_outside
from tracer.shim.greenlet_spawn import add_callback, via_of

__all__ = ["GreenletTracer", "GreenHop", "install", "patched", "os_thread_ident", "tracer"]

_STEP_KEYS = ("cpu_ns", "awaiting", "location")
_HOP_STEP_KEYS = ("cpu_ns", "awaiting", "location", "via")
_FIRST_HOP_STEP_KEYS = ("cpu_ns", "awaiting", "location", "via", "queued_ns")
_HUB = "gevent hub"

tracer: GreenletTracer | None = None
"""The tracer of this process's greenlet switches, once ``install`` made it."""


def patched() -> bool:
    """Whether gevent has patched ``threading`` in this process (``monkey.patch_all``)."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and bool(monkey.is_module_patched("threading"))


def _original(module: str, name: str, default: Any) -> Any:
    """The function gevent replaced (``default`` when it replaced nothing)."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is None:
        return default
    return monkey.get_original(module, name)


def os_thread_ident() -> Any:
    """The OS thread's ``get_ident``, whether or not gevent has patched ``threading``."""
    return _original("_thread", "get_ident", threading.get_ident)


def install(block_ns: int = 10_000_000) -> GreenletTracer | None:
    """Hook this OS thread's greenlet switches, when gevent has patched the process (None
    otherwise). Idempotent: the first call's threshold stays."""
    global tracer
    if tracer is None and patched():
        tracer = GreenletTracer(block_ns)
    return tracer


class GreenHop:
    """A greenlet doing work a traced request handed to a (patched) thread: its runs are steps
    of ``cycle``'s request, with its own ``task``."""

    __slots__ = ("cycle", "req", "sink", "shim", "task", "via", "queued_ns", "handed", "spawned")

    def __init__(
        self, cycle: Any, task: str, via: str, queued_ns: int | None, handed: int | None = None
    ) -> None:
        self.cycle = cycle
        self.req = cycle.req
        self.sink = cycle.sink
        self.shim = cycle.shim
        self.task = task
        self.via = via
        self.queued_ns = queued_ns  # said on its first step only, then None
        # A greenlet the request started: when (recorder time), until it first runs; its
        # ``queued_ns`` is known then. It is followed until it ends, not until a ``release``.
        self.handed = handed
        self.spawned = handed is not None


def _name(greenlet: Any) -> str:
    name = getattr(greenlet, "name", None)
    return name if isinstance(name, str) else f"greenlet-{id(greenlet):x}"


class GreenletTracer:
    """The greenlet switches of one OS thread, cut into the steps of the traced requests."""

    def __init__(self, block_ns: int) -> None:
        import greenlet

        self.block_ns = block_ns
        self.getcurrent = greenlet.getcurrent
        self.os_ident = os_thread_ident()
        self.tid: int = self.os_ident()
        self.thread = threading.current_thread().name
        self.cycles: dict[Any, Any] = {}  # greenlet -> the WsgiCycle of its request
        self.step_t = 0  # when the running greenlet's step began (recorder time, ns)
        self.step_cpu = 0  # the thread's CPU clock then
        self.runs = 0  # switches so far: a sample is of the run it was taken in
        self.since = time.monotonic_ns()  # when the running greenlet switched in
        self.samples: dict[tuple[str, str], int] = {}
        # The first and last looks (``time.monotonic_ns``) that found the running greenlet,
        # working for no request, in code other than gevent's own: the hub's callback.
        self.seen: list[int] | None = None
        self.spawned = 0  # greenlets requests started that are followed now
        # Whether the greenlet running now is a traced request's (read by the watchdog).
        self.running_traced = False
        self.collections = Collections()
        gc.callbacks.append(self._on_gc)
        self.previous = greenlet.settrace(self.switched)
        add_callback(self.started)
        self._start_watchdog()

    # -- the cycle's hooks ---------------------------------------------------------------------

    def begin(self, cycle: Any, t: int) -> str | None:
        """A request starts at ``t`` in the running greenlet: its first step begins; returns
        the greenlet's name (the ``task`` of its events), None off the hooked thread."""
        if self.os_ident() != self.tid:
            return None
        current = self.getcurrent()
        self._untraced_until(current, time.monotonic_ns())
        self.cycles[current] = cycle
        self.running_traced = True
        self.step_t = t
        self.step_cpu = time.thread_time_ns()
        return _name(current)

    def end(self, cycle: Any, t: int) -> None:
        """The request ends at ``t``: its last step, if it is still its greenlet's."""
        current = self.getcurrent()
        if self.cycles.get(current) is cycle:
            del self.cycles[current]
            self.running_traced = False
            self._step(cycle, t, time.thread_time_ns(), None, None)
            self._new_run(time.monotonic_ns())
        else:  # ended from another greenlet (a finaliser): its steps were recorded
            for greenlet, known in list(self.cycles.items()):
                if known is cycle:
                    del self.cycles[greenlet]
        if self.spawned:
            self._leave_started(cycle, current, t)

    def _leave_started(self, cycle: Any, current: Any, t: int) -> None:
        """``cycle``'s request ended at ``t``: the greenlets it started and that have not ended
        are followed no further (their later runs are no request's)."""
        for greenlet, known in list(self.cycles.items()):
            if isinstance(known, GreenHop) and known.spawned and known.cycle is cycle:
                del self.cycles[greenlet]
                self.spawned -= 1
                if greenlet is current:  # the request ended inside it (a finaliser)
                    self.running_traced = False
                    self._step(known, t, time.thread_time_ns(), None, None)
                    self._new_run(time.monotonic_ns())

    def adopt(self, context: Any, via: str, handed: int) -> GreenHop | None:
        """The running greenlet starts work ``context``'s request handed over at ``handed``
        (recorder time): when it is a greenlet of the hooked thread that works for no traced
        request now, its runs from here until ``release`` are steps of that request (its
        first step begins now); None otherwise (another OS thread: a real thread's hop)."""
        if self.os_ident() != self.tid:
            return None
        current = self.getcurrent()
        cycle = getattr(context, "cycle", context)  # a WsgiCycle, or a nested request's
        sink = getattr(cycle, "sink", None)
        if current in self.cycles or sink is None or getattr(cycle, "task", None) is None:
            return None
        t = sink.clock() - sink.start_ns
        hop = GreenHop(cycle, _name(current), via, max(t - handed, 0))
        self._untraced_until(current, time.monotonic_ns())
        self.cycles[current] = hop
        self.running_traced = True
        self.step_t = t
        self.step_cpu = time.thread_time_ns()
        return hop

    def release(self, hop: GreenHop) -> None:
        """The work ``adopt`` began ends: its last step (``awaiting`` null)."""
        current = self.getcurrent()
        if self.cycles.get(current) is hop:
            del self.cycles[current]
            self.running_traced = False
            sink = hop.sink
            self._step(hop, sink.clock() - sink.start_ns, time.thread_time_ns(), None, None)
            self._new_run(time.monotonic_ns())

    def started(self, greenlet: Any) -> None:
        """gevent's spawn callback: ``greenlet`` is started by the running one. When that works
        for a traced request, ``greenlet``'s runs are followed as steps of that request, from
        its first until it ends (or the request does)."""
        known = self.cycles.get(self.getcurrent())
        if known is None:
            return
        cycle = known.cycle if isinstance(known, GreenHop) else known
        try:
            via = via_of(greenlet)
            if via is None or greenlet in self.cycles:
                return
            sink = cycle.sink
            hop = GreenHop(cycle, _name(greenlet), via, None, sink.clock() - sink.start_ns)
            self.cycles[greenlet] = hop
            self.spawned += 1
        except Exception as exc:  # ours: the greenlet starts all the same, unfollowed
            cycle.shim.internal_error("following a greenlet a request started", exc)

    # -- runs that are no request's --------------------------------------------------------

    def _untraced_until(self, current: Any, now: int) -> None:
        """The running greenlet ``current`` starts working for a request at ``now``: what it
        ran before, since it switched in, was no request's (a block of its own if it held the
        hub that long)."""
        if now - self.since > self.block_ns and self.cycles:
            self._outside(current, now)
        self._new_run(now)

    def _new_run(self, now: int) -> None:
        """A new run begins at ``now``: the watchdog's looks so far were of another."""
        self.since = now
        self.runs += 1
        if self.samples:
            self.samples = {}
        self.seen = None

    def _outside(self, origin: Any, now: int) -> None:
        try:
            record_outside(self, origin, now)
        except Exception as exc:  # ours: the switch must happen all the same
            for cycle in list(self.cycles.values())[:1]:
                cycle.shim.internal_error("recording a block outside any request", exc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        """The ``gc.callbacks`` hook: time the collections of the hooked thread."""
        if self.os_ident() == self.tid:
            if phase == "start":
                self.collections.began = time.monotonic_ns()
            else:
                self.collections.ended(time.monotonic_ns())

    # -- the switches --------------------------------------------------------------------------

    def switched(self, event: str, args: tuple[Any, Any]) -> None:
        """``greenlet.settrace``'s callback: runs in ``target`` as ``origin`` switches to it."""
        origin, target = args
        cpu = time.thread_time_ns()
        now = time.monotonic_ns()
        cycle = self.cycles.get(origin)
        if cycle is not None:
            sink = cycle.sink
            t = sink.clock() - sink.start_ns
            try:
                if type(cycle) is GreenHop and cycle.spawned and origin.dead:
                    # A greenlet a request started ended: its last step.
                    del self.cycles[origin]
                    self.spawned -= 1
                    self._step(cycle, t, cpu, None, None)
                else:
                    self._step(cycle, t, cpu, _HUB, where_called(origin.gr_frame))
            except Exception as exc:  # ours: the switch must happen all the same
                cycle.shim.internal_error("recording a greenlet step", exc)
        elif now - self.since > self.block_ns and self.cycles:
            self._outside(origin, now)  # no request's run held the hub that long
        following = self.cycles.get(target)
        self.running_traced = following is not None
        if following is not None:
            sink = following.sink
            self.step_t = t = sink.clock() - sink.start_ns
            self.step_cpu = cpu
            if type(following) is GreenHop and following.handed is not None:
                # The first run of a greenlet a request started: it waited this long.
                following.queued_ns = max(t - following.handed, 0)
                following.handed = None
        self.runs += 1
        self.since = now
        if self.samples:
            self.samples = {}
            self.seen = None
        if self.previous is not None:
            self.previous(event, args)

    def _step(self, cycle: Any, t: int, cpu: int, awaiting: str | None, where: str | None) -> None:
        sink = cycle.sink
        t0 = self.step_t
        dur = max(t - t0, 0)
        cpu_ns = min(max(cpu - self.step_cpu, 0), dur)
        if dur > self.block_ns:
            self._blocked(cycle, t0, dur, where)
        if isinstance(cycle, GreenHop):
            self._hop_step(cycle, t0, dur, cpu_ns, awaiting, where)
            return
        sink.append(
            (
                next(sink.seq),
                t0,
                K.SCHED_STEP,
                cycle.req,
                sink.pid,
                self.tid,
                self.thread,
                cycle.task,
                dur,
                _STEP_KEYS,
                cpu_ns,
                awaiting,
                where,
            )
        )

    def _hop_step(
        self, hop: GreenHop, t0: int, dur: int, cpu_ns: int, awaiting: str | None, where: str | None
    ) -> None:
        sink = hop.sink
        queued = hop.queued_ns
        hop.queued_ns = None
        tail: tuple[Any, ...] = (
            (_HOP_STEP_KEYS, cpu_ns, awaiting, where, hop.via)
            if queued is None
            else (_FIRST_HOP_STEP_KEYS, cpu_ns, awaiting, where, hop.via, queued)
        )
        head = (next(sink.seq), t0, K.SCHED_STEP, hop.req, sink.pid, self.tid, self.thread)
        sink.append((*head, hop.task, dur, *tail))

    def _blocked(self, cycle: Any, t0: int, dur: int, where: str | None) -> None:
        """The step of ``cycle`` from ``t0`` held the hub ``dur`` ns, past the threshold."""
        from tracer.shim.blocking import most_seen  # only once a step blocked

        location = most_seen(self.samples)
        data: dict[str, Any] = (
            {"location": location}
            if location is not None
            else {"location": where, "location_from": "step"}
        )
        data["delayed"] = sorted(
            {other.req for other in self.cycles.values() if other.req != cycle.req}
        )
        data["delayed_from"] = "in_flight"
        sink = cycle.sink
        if sink.clock is time.monotonic_ns:  # the collections' times are that clock's
            begun = t0 + sink.start_ns
            if collected := self.collections.within(begun, begun + dur):
                data["gc_ns"] = min(collected, dur)
        sink.append(
            (
                next(sink.seq),
                t0,
                K.LOOP_BLOCKED,
                cycle.req,
                sink.pid,
                self.tid,
                self.thread,
                cycle.task,
                dur,
                data,
            )
        )

    # -- where a long step is ------------------------------------------------------------------

    def _start_watchdog(self) -> None:
        """An OS thread (not a greenlet: it must look while the hub is held) that samples the
        hooked thread's stack while a greenlet has run past half the threshold with traced
        requests in flight: a request's (where its step is), or one working for none (where a
        block outside any request is, ``tracer.shim.greenlet_outside``)."""
        start = _original("_thread", "start_new_thread", None)
        if start is not None:
            start(self._watch, ())

    def _watch(self) -> None:
        sleep = _original("time", "sleep", time.sleep)
        half = self.block_ns / 2
        pause = max(half / 1e9, 0.001)
        while True:
            sleep(pause)
            if tracer is not self or not self.cycles:
                if tracer is not self:
                    return
                continue
            runs = self.runs
            if time.monotonic_ns() - self.since >= half:
                found = function_in_stack(self.tid)
                if found is None or runs != self.runs:
                    continue
                if not self.running_traced:
                    # No request's run: only code other than gevent's counts (an idle hub
                    # shows its own ``run``, waiting in the C loop).
                    if found[1].startswith(GEVENT_PREFIX):
                        continue
                    now = time.monotonic_ns()
                    seen = self.seen
                    self.seen = [now, now] if seen is None else [seen[0], now]
                self.samples[found] = self.samples.get(found, 0) + 1
