"""Tasks a traced request creates: their coroutine steps are that request's steps too.

Code of one request often runs in tasks of its own: Starlette's ``BaseHTTPMiddleware`` (every
FastAPI ``@app.middleware("http")``) runs the rest of the app in an anyio task group, a
``StreamingResponse`` listens for the disconnect in another task, an app may
``asyncio.create_task``. Only the request's own coroutine passes through the shim, so without
this a ``time.sleep`` in such an endpoint would hold the loop unseen: no ``sched.step``, no
``loop.blocked``.

``watch_tasks(loop)`` (called by the ASGI shim at each request, a no-op while ours is the
loop's factory) sets a task factory on the loop, wrapping whatever factory was there: one the
app set since (``asyncio.eager_task_factory`` in its lifespan startup, say) is wrapped in
turn, and keeps doing what it did (an eager factory still starts tasks eagerly). One built
around ours (Sentry's asyncio integration wraps each task's coroutine in one of its own and
then calls the factory it found) is left as the loop's: ours inside it traces each task once,
Sentry's coroutine included. A task created while a traced request is current (the
context variable ``tracer.shim.context.CURRENT`` of the creating code, or of the ``context``
given to ``create_task``) gets its coroutine driven by a ``Stepper`` of that request: its steps
are ``sched.step`` events with the request's id and the task's name, and a step that holds the
loop too long is that request's ``loop.blocked``. With shims of several recorders nested, the
task is traced once for each recorder (``tracer.shim.context.each_recorder``), each step proxy
driving the next. Tasks created outside traced requests (the
server's own) are made exactly as before. Imports the spine and sibling shim modules; never
the TUI, exporters, server models or CLI.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
import threading
import weakref
from collections.abc import Callable
from types import CoroutineType
from typing import Any

from tracer.shim.blocking import loop_state
from tracer.shim.context import CURRENT, each_recorder
from tracer.shim.steps import Stepper

__all__ = ["watch_tasks", "watching"]

log = logging.getLogger("tracer")

_MARK = "__gateway_tracer_tasks__"
_COMPLAINED: set[str] = set()

TaskFactory = Callable[..., "asyncio.Future[Any]"]

# Python 3.13.0-3.13.2's ``BaseEventLoop.create_task`` names every task a custom factory makes,
# ``set_name(name)`` even when no name was given: each unnamed task of the loop is then
# called "None" (3.13.3 passes the name to the factory instead).
_NAMES_EVERY_TASK = (3, 13, 0) <= sys.version_info[:3] < (3, 13, 3)


def watching(loop: asyncio.AbstractEventLoop) -> bool:
    """True when ``loop``'s task factory is this module's, or one built around it (tasks of
    traced requests are traced)."""
    return _holds_ours(loop.get_task_factory())


def watch_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Trace the tasks that traced requests create on ``loop`` (idempotent)."""
    previous = loop.get_task_factory()
    if _holds_ours(previous):
        return
    loop.set_task_factory(_factory(previous))
    if _NAMES_EVERY_TASK:
        _keep_task_names(loop)


# Factories already looked into (``_holds_ours``): a request asks about the loop's at each
# start, and a factory built around ours stays the loop's for the rest of the run.
_LOOKED: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _holds_ours(factory: Any) -> bool:
    """Whether ``factory`` is ours or calls ours: a factory built around the one it found, as
    Sentry's asyncio integration builds its own around the loop's. Such a factory (seen in
    its closure, a ``functools.partial`` or ``__wrapped__``) is left as the loop's: wrapped in
    turn, the task it makes of a request's coroutine (its own coroutine around the request's)
    would be traced by ours twice, once outside that coroutine and once inside it."""
    if factory is None:
        return False
    if getattr(factory, _MARK, False):
        return True
    try:
        return _LOOKED[factory]
    except (KeyError, TypeError):  # not seen yet, or not weakly referable: looked into anew
        pass
    found = _calls_ours(factory, 3)
    try:
        _LOOKED[factory] = found
    except TypeError:
        pass
    return found


def _calls_ours(factory: Any, depth: int) -> bool:
    """Whether one of ours is among what ``factory`` holds, ``depth`` levels down."""
    held: list[Any] = []
    inner = getattr(factory, "func", None) if isinstance(factory, functools.partial) else None
    for candidate in (inner, getattr(factory, "__wrapped__", None)):
        if candidate is not None:
            held.append(candidate)
    function = getattr(factory, "__func__", factory)  # a bound method: its function's closure
    for cell in getattr(function, "__closure__", None) or ():
        try:
            held.append(cell.cell_contents)
        except ValueError:  # an empty cell
            continue
    for candidate in held:
        if getattr(candidate, _MARK, False):
            return True
        if depth > 1 and callable(candidate) and _calls_ours(candidate, depth - 1):
            return True
    return False


def _keep_task_names(loop: Any) -> None:
    """Python 3.13.0-3.13.2 only: ``loop.create_task`` without a name leaves the task the name
    it was made with while our factory is the loop's, as it does with no factory at all.

    The stock method (``BaseEventLoop.create_task`` of those releases, whose code is fixed) is
    followed word for word but for the naming; a loop of another type (uvloop) or a factory
    other than ours is left to the stock behaviour.
    """
    if type(loop).create_task is not asyncio.BaseEventLoop.create_task:
        return
    if "create_task" in vars(loop):  # ours already, or the app's own: not replaced
        return
    stock = loop.create_task

    def create_task(coro: Any, *, name: Any = None, context: Any = None) -> Any:
        factory = loop._task_factory
        if name is not None or not getattr(factory, _MARK, False):
            return stock(coro, name=name, context=context)
        loop._check_closed()
        if context is None:
            return factory(loop, coro)
        return factory(loop, coro, context=context)

    loop.create_task = create_task


class _Handing(threading.local):
    """Set while a factory of ours hands a task on to the factory it wraps (per thread: a
    loop's factories run on its thread)."""

    on = False


_HANDING = _Handing()


def _factory(previous: TaskFactory | None) -> TaskFactory:
    def task_factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        if _HANDING.on and loop.get_task_factory() is not task_factory:
            # Ours again, inside a factory that ours wraps and that hides it (``_holds_ours``
            # found no way to it): the task was traced further out, and the coroutine handed
            # here may be another one around it (that factory's own), so it is left as it is.
            # The loop's own factory never takes this way: a task that an eager factory starts
            # while ours hands a task on creates its own tasks through it.
            return _made(previous, loop, coro, kwargs)
        context = kwargs.get("context")
        parent = CURRENT.get() if context is None else context.get(CURRENT)
        # Only real coroutines: anything else goes to the factory untouched, so that it
        # fails (or not) exactly as it would have.
        # A coroutine of ours already: the app's factory wraps ours (it was set around the
        # factory it found), and the task is traced once.
        if (
            isinstance(parent, Stepper)
            and type(coro) is CoroutineType
            and coro.cr_code is not _RUN_CODE
        ):
            if getattr(parent, "outer", None) is None:
                coro = _traced(coro, parent, loop)
            else:  # shims of other recorders around: the task is theirs too
                for context in each_recorder(parent):  # type: ignore[arg-type]
                    if isinstance(context, Stepper):
                        coro = _traced(coro, context, loop)
        elif (
            parent is not None
            and getattr(parent, "outer", None) is not None
            and type(coro) is CoroutineType
            and coro.cr_code is not _RUN_CODE
        ):
            # A WSGI request is current (its app called through an adapter in an ASGI request
            # of another recorder): no step proxy, but the ASGI request further out traces it.
            for context in each_recorder(parent):
                if isinstance(context, Stepper):
                    coro = _traced(coro, context, loop)
        if previous is None:
            return asyncio.Task(coro, loop=loop, **kwargs)
        handing = _HANDING.on
        _HANDING.on = True
        try:
            return previous(loop, coro, **kwargs)
        finally:
            _HANDING.on = handing

    setattr(task_factory, _MARK, True)
    return task_factory


def _made(previous: TaskFactory | None, loop: Any, coro: Any, kwargs: dict[str, Any]) -> Any:
    """The task ``previous`` (asyncio's own ``Task`` when None) makes of ``coro``."""
    if previous is None:
        return asyncio.Task(coro, loop=loop, **kwargs)
    return previous(loop, coro, **kwargs)


def _traced(coro: CoroutineType[Any, Any, Any], parent: Stepper, loop: Any) -> Any:
    """``coro`` driven by a step proxy of ``parent``'s request (``coro`` itself if that fails)."""
    try:
        current = threading.current_thread()
        stepper = Stepper(
            coro,
            parent.req,
            parent.recorder,  # type: ignore[attr-defined]  # the shim's cycle has one
            parent.block_ns,
            None,  # the task's name is known once it runs (create_task names it after this)
            current.ident or 0,
            current.name,
            parent.failed,
            loop_state(loop),
        )
    except Exception as exc:  # the task is made untraced rather than not at all
        if "task" not in _COMPLAINED:
            _COMPLAINED.add("task")
            log.error("gateway-tracer: tracing a task of a request failed", exc_info=exc)
        return coro
    wrapper: Any = _run(stepper)
    # Named as the app's coroutine: the task's repr, ``get_coro().__name__`` and anything else
    # that reads the name (logging, debuggers) see the app's function, not this module's.
    wrapper.__name__ = coro.__name__
    wrapper.__qualname__ = coro.__qualname__
    return wrapper


async def _run(stepper: Stepper) -> Any:
    """The task's coroutine: names the steps after the task, then drives the app's coroutine."""
    task = asyncio.current_task()
    if task is not None:
        stepper.task = task.get_name()
        state = stepper.state
        if state is not None and state.running is not None:
            _name_after_first_step(stepper, task)
    return await stepper


def _name_after_first_step(stepper: Stepper, task: Any) -> None:
    """The task started inside a step (eagerly: ``asyncio.eager_task_factory``), and
    ``create_task`` gives it its name only once its first step is over: that step's rows wait,
    and are recorded under the task's name by a callback that runs before its second step
    (the loop runs callbacks in order, and that step can only be scheduled after this one)."""
    sink = stepper.sink
    held: list[tuple[Any, ...]] = []
    stepper.sink = sink._replace(append=held.append)

    def named() -> None:
        stepper.sink = sink
        stepper.task = name = task.get_name()
        for row in held:  # ``task`` is the eighth field (``tracer.events.FIELDS``)
            sink.append((*row[:7], name, *row[8:]))

    task.get_loop().call_soon(named)


_RUN_CODE = _run.__code__
