"""Thread hops: work a traced request hands to another thread, recorded as ``sched.thread``.

``install()`` (called when the first shim is created; idempotent) wraps these entry points:

* ``asyncio.BaseEventLoop.run_in_executor`` — so the default executor, any executor,
  ``asyncio.to_thread`` (which goes through it) and asgiref's ``sync_to_async`` (likewise) —
  and uvloop's ``Loop.run_in_executor`` when uvloop is installed (its loop is not a
  ``BaseEventLoop``; uvicorn and granian take it by default when it is there);
* ``anyio.to_thread.run_sync`` — so Starlette's ``run_in_threadpool`` and with it FastAPI's
  and Starlette's ``def`` endpoints — and, for a ``run_sync`` imported by name before the
  first shim, what it calls on asyncio (anyio's ``run_sync_in_worker_thread``);
* ``concurrent.futures.ThreadPoolExecutor.submit`` — work given to a pool directly, and so
  asgiref's ``async_to_sync`` where no event loop runs (a WSGI app, Django's ``async def``
  views under WSGI), which runs the coroutine on a loop in a pool thread of its own;
* ``gevent.threadpool.ThreadPool.spawn``, where gevent has patched the process — its pool of real OS
  threads (``gevent.get_hub().threadpool``, gevent's ``ThreadPoolExecutor``), ``via``
  ``gevent.threadpool``.

At submission, when a traced request is current (``tracer.shim.context.CURRENT``, set by the
ASGI shim for its request and by the WSGI shim during its app call, while each chunk of its
response is made and during its ``close()``), the callable is wrapped so that, on the worker
thread, its run becomes one ``sched.thread`` event of that request (``dur``, ``cpu_ns``,
``via``: ``asyncio.to_thread``, ``run_in_executor``, ``anyio.to_thread``, ``sync_to_async``,
``async_to_sync`` or ``ThreadPoolExecutor.submit``, told by who submitted it; ``queued_ns``:
how long it waited between being handed over and starting on the worker, from the wrapping,
which for anyio comes before the limiter's token is acquired), and of the request each
recorder of a shim further out sees (shims of several recorders nested). A hop that runs on a
thread where the same request's time is already being recorded (an outer hop of it, or its
WSGI app call or body) is part of that: asgiref's thread-sensitive ``sync_to_async`` under an
``async_to_sync`` runs on the thread that called ``async_to_sync``, inside that thread's hop,
and its time must not be counted twice. Outside a traced request nothing is wrapped.

Where gevent has patched ``threading``, a pool's "thread" is a greenlet on the request's own OS
thread: its work is no ``sched.thread`` but steps of the request, with that greenlet's name as
``task`` (``tracer.shim.greenlets``'s ``adopt``); a hop on a real thread (gevent's threadpool)
is recorded with that thread's OS ident, which the patched ``threading`` would not give. The
wrapped call returns or raises exactly what the callable does. Imports ``tracer.shim.context``
and the spine only; never the TUI, exporters, server models or CLI.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, cast

from tracer import events as K
from tracer.shim import greenlets
from tracer.shim.context import CURRENT, RequestContext, each_recorder
from tracer.shim.frames import mark_wrapper

__all__ = ["install", "installed", "Hop", "IN_FLIGHT", "competing"]

log = logging.getLogger("tracer")

_MARK = "__gateway_tracer_hop__"
# Registries: what install() replaced (name -> original), and failures already reported.
_ORIGINALS: dict[str, Any] = {}
_ANYIO_BACKEND = "anyio._backends._asyncio.AsyncIOBackend.run_sync_in_worker_thread"
_SUBMIT = "concurrent.futures.ThreadPoolExecutor.submit"
_GEVENT_SPAWN = "gevent.threadpool.ThreadPool.spawn"
_COMPLAINED: set[str] = set()
_LOCK = threading.Lock()
_get_ident = threading.get_ident
_MODULES = sys.modules
_HERE: dict[str, Any] = {}  # no place given: the emitting thread's


class Hop:
    """A callable run on a worker thread on behalf of a traced request."""

    __slots__ = ("func", "context", "via", "handed")

    def __init__(self, func: Any, context: RequestContext, via: str) -> None:
        self.func = func
        self.context = context
        self.via = via
        # When the request handed the work over (the recorder's clock), so that the
        # ``sched.thread`` can say how long it waited for a worker: the one clock read a hop
        # adds, made only when there is a hop.
        self.handed = context.recorder.now()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        green = greenlets.tracer
        if green is not None and green.os_ident() == green.tid:
            return self._green(green, args, kwargs)
        context = self.context
        opened = _OPEN.requests
        if _recorded_here(opened, context):
            # This thread already works for the request, inside a hop of it further out or in
            # its WSGI app call, whose ``sched.thread`` holds this time: asgiref's
            # thread-sensitive ``sync_to_async`` under an ``async_to_sync`` runs on the very
            # thread that called ``async_to_sync``.
            return self.func(*args, **kwargs)
        recorder = context.recorder
        t0 = recorder.now()
        c0 = time.thread_time_ns()
        IN_FLIGHT.add(self)
        opened.append(context)
        try:
            return self.func(*args, **kwargs)
        finally:
            opened.pop()
            IN_FLIGHT.discard(self)
            try:
                cpu_ns = time.thread_time_ns() - c0
                # Only a process that imported gevent's patcher pays for the look.
                place = _os_thread() if "gevent.monkey" in _MODULES else _HERE
                recorder.emit(
                    K.SCHED_THREAD,
                    context.req,
                    {"cpu_ns": cpu_ns, "via": self.via, "queued_ns": t0 - self.handed},
                    t=t0,
                    dur=recorder.now() - t0,
                    **place,
                )
            except Exception as exc:  # recording must never change what the call did
                _complain(exc)

    def _green(self, green: greenlets.GreenletTracer, args: Any, kwargs: Any) -> Any:
        """Run in a greenlet of the thread gevent's hub runs on (a patched pool's "thread"):
        the innermost hop of the chain (the recorder whose request the greenlet tracer follows)
        makes the greenlet's runs steps of its request; one further out, or a greenlet that
        already works for a traced request, just runs the work (its steps hold the time)."""
        if isinstance(self.func, Hop):
            return self.func(*args, **kwargs)
        try:
            hop = green.adopt(self.context, self.via, self.handed)
        except Exception as exc:
            _complain(exc)
            hop = None
        if hop is None:
            return self.func(*args, **kwargs)
        try:
            return self.func(*args, **kwargs)
        finally:
            try:
                green.release(hop)
            except Exception as exc:  # recording must never change what the call did
                _complain(exc)

    def __repr__(self) -> str:
        return f"Hop({self.func!r}, req={self.context.req}, via={self.via!r})"


def _complain(exc: BaseException) -> None:
    """Log a failure to record a hop, once per process."""
    if "hop" not in _COMPLAINED:
        _COMPLAINED.add("hop")
        log.error("gateway-tracer: recording a thread hop failed", exc_info=exc)


def _os_thread() -> dict[str, Any]:
    """Where gevent patched ``threading`` (its ``get_ident`` and ``current_thread`` then name
    a greenlet), the OS thread a hop runs on: its ident and, for want of a name of its own
    (gevent's pool starts it bare), ``gevent threadpool``; otherwise nothing (the emitting
    thread's, as usual)."""
    if not greenlets.patched():
        return {}
    return {"tid": greenlets.os_thread_ident()(), "thread": "gevent threadpool"}


IN_FLIGHT: set[object] = set()
"""Hops running now, on any thread (``set.add``/``discard`` are atomic), and the other busy
threads ``competing`` registers: while there are any, the step proxy reads the process's CPU
clock too, to tell a loop step starved of the GIL by them from one that blocked by itself."""


class _OpenHere(threading.local):
    """Per thread: the requests whose hops are running on it now, innermost last."""

    def __init__(self) -> None:
        self.requests: list[RequestContext] = []


_OPEN = _OpenHere()


def _recorded_here(opened: list[RequestContext], context: RequestContext) -> bool:
    """Whether this thread's time is being recorded for ``context``'s request already: a hop
    of it (same recorder and id) is open on the thread (``opened``), or the thread is the one
    the request's own events are recorded on (``tid``: a WSGI request's thread while its app
    is called or its response made, the only times it is current there)."""
    if opened:
        req = context.req
        recorder = context.recorder
        if any(other.req == req and other.recorder is recorder for other in opened):
            return True
    return bool(getattr(context, "tid", None) == _get_ident())


class _Competitor:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<competing for the GIL: {self.name}>"


@contextlib.contextmanager
def competing(name: str) -> Iterator[None]:
    """While inside, a thread of this process that is not the app's (``trace run``'s live
    dashboard, drawing in the main thread) competes with the event loop for the GIL: loop steps
    it delays are measured as hops' are, so a ``loop.blocked`` it caused says ``starved`` (the
    step mostly waited for the GIL) instead of blaming the app's line."""
    token = _Competitor(name)
    IN_FLIGHT.add(token)
    try:
        yield
    finally:
        IN_FLIGHT.discard(token)


def _hop(func: Any, context: RequestContext, via: str) -> Hop:
    """``func`` as a hop of ``context``'s request, and of the request of each other recorder
    whose shim is further out (shims nested): one ``sched.thread`` per recorder."""
    if getattr(context, "outer", None) is None:
        return Hop(func, context, via)
    for each in each_recorder(context):
        func = Hop(func, each, via)
    return cast(Hop, func)


def _via(func: Any, caller: Any) -> str:
    """Who submitted ``func`` to an executor: ``asyncio.to_thread`` when its code is the
    caller's (others submit the same ``partial(context.run, ...)`` shape: Litestar's
    ``sync_to_thread``), asgiref's ``SyncToAsync`` or a subclass of it (Channels'
    ``database_sync_to_async``) by the bound method it submits, else ``run_in_executor``."""
    if caller is _TO_THREAD_CODE:
        return "asyncio.to_thread"
    if isinstance(func, functools.partial):
        owner = getattr(func.func, "__self__", None)
        if any(cls.__name__ == "SyncToAsync" for cls in type(owner).__mro__):
            return "sync_to_async"  # asgiref submits partial(self.thread_handler, ...)
    return "run_in_executor"


_TO_THREAD_CODE = asyncio.to_thread.__code__


def _wrap_run_in_executor(original: Any) -> Any:
    @functools.wraps(original)
    def run_in_executor(self: Any, executor: Any, func: Any, *args: Any) -> Any:
        context = CURRENT.get()
        # Left alone: a coroutine function (so debug mode still rejects it exactly as before)
        # and work for a process pool (the callable is pickled; the hop is not a thread's).
        if (
            context is not None
            and callable(func)
            and not isinstance(executor, ProcessPoolExecutor)
            and not inspect.iscoroutinefunction(func)
        ):
            func = _hop(func, context, _via(func, sys._getframe(1).f_code))
        return original(self, executor, func, *args)

    setattr(run_in_executor, _MARK, True)
    return run_in_executor


def _submitted_via(fn: Any, args: tuple[Any, ...]) -> str:
    """Who handed ``fn`` to ``ThreadPoolExecutor.submit``: ``async_to_sync`` for asgiref's
    ``AsyncToSync`` starting an event loop on a thread of its own (an ``async_to_sync`` called
    where no loop runs: a WSGI app, Django's ``async def`` views under WSGI), which submits
    ``asyncio.run`` of a coroutine of its ``__call__`` (releases before 3.8 a bound method of
    its own); else ``ThreadPoolExecutor.submit``."""
    if fn is asyncio.run and args:
        code = getattr(args[0], "cr_code", None)
        if code is not None and code.co_qualname.startswith("AsyncToSync."):
            return "async_to_sync"
    owner = getattr(fn, "__self__", None)
    if owner is not None and any(cls.__name__ == "AsyncToSync" for cls in type(owner).__mro__):
        return "async_to_sync"
    return "ThreadPoolExecutor.submit"


def _wrap_submit(original: Any) -> Any:
    @functools.wraps(original)
    def submit(self: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        context = CURRENT.get()
        # Left alone: work ``run_in_executor`` or anyio made a hop already, and a coroutine
        # function (as ``run_in_executor`` leaves it).
        if (
            context is not None
            and callable(fn)
            and not isinstance(fn, Hop)
            and not inspect.iscoroutinefunction(fn)
        ):
            fn = _hop(fn, context, _submitted_via(fn, args))
        return original(self, fn, *args, **kwargs)

    setattr(submit, _MARK, True)
    return submit


def _wrap_gevent_spawn(original: Any) -> Any:
    @functools.wraps(original)
    def spawn(self: Any, func: Any, *args: Any, **kwargs: Any) -> Any:
        context = CURRENT.get()
        if context is not None and callable(func) and not isinstance(func, Hop):
            func = _hop(func, context, "gevent.threadpool")
        return original(self, func, *args, **kwargs)

    setattr(spawn, _MARK, True)
    return spawn


def _wrap_anyio_run_sync(original: Any) -> Any:
    @functools.wraps(original)
    async def run_sync(func: Any, *args: Any, **kwargs: Any) -> Any:
        context = CURRENT.get()
        if context is not None:
            func = _hop(func, context, "anyio.to_thread")
        return await original(func, *args, **kwargs)

    setattr(run_sync, _MARK, True)
    mark_wrapper(cast(Any, run_sync).__code__, "anyio.to_thread.run_sync")
    return run_sync


def _wrap_anyio_backend(original: Any) -> Any:
    @functools.wraps(original)
    async def run_sync_in_worker_thread(cls: Any, func: Any, *args: Any, **kwargs: Any) -> Any:
        context = CURRENT.get()
        if context is not None and not isinstance(func, Hop):  # not already by run_sync
            func = _hop(func, context, "anyio.to_thread")
        return await original(cls, func, *args, **kwargs)

    setattr(run_sync_in_worker_thread, _MARK, True)
    mark_wrapper(cast(Any, run_sync_in_worker_thread).__code__, "anyio.to_thread.run_sync")
    return run_sync_in_worker_thread


def install() -> None:
    """Wrap the hop entry points once per process (later calls do nothing)."""
    with _LOCK:
        _install_run_in_executor(asyncio.BaseEventLoop, "asyncio.BaseEventLoop.run_in_executor")
        _install_uvloop()
        _install_submit()
        _install_gevent_threadpool()
        try:
            import anyio.to_thread
        except ImportError:  # anyio is a dependency, but a hop is never worth an import error
            return
        run_sync = anyio.to_thread.run_sync
        if not getattr(run_sync, _MARK, False):
            _ORIGINALS["anyio.to_thread.run_sync"] = run_sync
            anyio.to_thread.run_sync = _wrap_anyio_run_sync(run_sync)
        _install_anyio_backend()


def _install_run_in_executor(loop_class: type, name: str) -> None:
    current = loop_class.run_in_executor  # type: ignore[attr-defined]
    if not getattr(current, _MARK, False):
        _ORIGINALS[name] = current
        loop_class.run_in_executor = _wrap_run_in_executor(current)  # type: ignore[attr-defined]


def _install_submit() -> None:
    current = ThreadPoolExecutor.submit
    if not getattr(current, _MARK, False):
        _ORIGINALS[_SUBMIT] = current
        ThreadPoolExecutor.submit = _wrap_submit(current)  # type: ignore[method-assign]


def _install_gevent_threadpool() -> None:
    """Also wrap gevent's pool of real threads, where gevent has patched ``threading`` (a
    process gevent serves patched itself before loading the app; elsewhere gevent is not
    imported here, which would only cost)."""
    if not greenlets.patched():
        return
    try:
        from gevent.threadpool import ThreadPool
    except Exception:  # a broken gevent install: its hops go unseen, the app is unaffected
        return
    current = ThreadPool.spawn
    if not getattr(current, _MARK, False):
        _ORIGINALS[_GEVENT_SPAWN] = current
        ThreadPool.spawn = _wrap_gevent_spawn(current)  # type: ignore[method-assign]


def _install_uvloop() -> None:
    """Also wrap uvloop's loop, when uvloop is installed: imported here (once) because the
    server may make its loop after the app, and so the shim, is loaded. Its ``Loop`` is a
    Python subclass of the compiled loop, so the method can be set on it."""
    try:
        import uvloop
    except Exception:  # a broken uvloop install: its hops go unseen, the app is unaffected
        return
    loop_class = getattr(uvloop, "Loop", None)
    if isinstance(loop_class, type) and hasattr(loop_class, "run_in_executor"):
        _install_run_in_executor(loop_class, "uvloop.Loop.run_in_executor")


def _install_anyio_backend() -> None:
    """Also wrap what ``anyio.to_thread.run_sync`` calls on asyncio, for code that bound
    ``run_sync`` before the first shim (``from anyio.to_thread import run_sync``). It is
    anyio's private API: another shape of it is left alone (the public hook still works)."""
    try:
        from anyio._backends._asyncio import AsyncIOBackend
    except ImportError:
        return
    current = AsyncIOBackend.__dict__.get("run_sync_in_worker_thread")
    original = getattr(current, "__func__", None)
    if not isinstance(current, classmethod) or original is None or getattr(original, _MARK, False):
        return
    _ORIGINALS[_ANYIO_BACKEND] = original
    AsyncIOBackend.run_sync_in_worker_thread = classmethod(  # type: ignore[method-assign,assignment]
        _wrap_anyio_backend(original)
    )


def installed() -> dict[str, Any]:
    """What ``install`` replaced: dotted name -> the original callable."""
    return dict(_ORIGINALS)
