"""Naming where a coroutine is and what it waits for: the ``awaiting`` and ``location`` fields.

At every suspension the step proxy asks ``describe(coro, yielded)``: it walks the
``cr_await`` / ``gi_yieldfrom`` chain from the app's coroutine down to the innermost awaited
thing and returns (what it awaits, file:line of the innermost app frame). The walk reads only
attributes of live objects; everything derived from a code object (is it app code, a library,
the standard library, one of our wrappers; its display name) is computed once and cached, so a
suspension costs a few attribute reads per level. ``where_in_stack`` does the same for a thread's
current frame stack (the blocking watchdog; ``function_in_handle`` for the callback an asyncio
loop runs outside any step), ``where_called`` and ``where_awaited`` for the
stack of a call the app made (a late ``start_response``, a late ``send``) and ``where_raised``
for a traceback; ``message_of`` says what an exception says, whatever its ``__str__`` does.
Imports only ``tracer.sourcepath``; never the TUI, exporters, server models or CLI.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
from inspect import CO_ASYNC_GENERATOR, CO_COROUTINE, CO_GENERATOR, CO_ITERABLE_COROUTINE
from types import (
    AsyncGeneratorType,
    CodeType,
    CoroutineType,
    FrameType,
    GeneratorType,
    TracebackType,
)
from typing import Any

from tracer.events import encodable
from tracer.sourcepath import LIBRARY, OURS, USER, display_path, source_kind

__all__ = [
    "message_of",
    "describe",
    "where_in_stack",
    "where_called",
    "where_awaited",
    "function_in_stack",
    "function_in_handle",
    "where_raised",
    "app_location",
    "mark_wrapper",
    "mark_driver",
    "USER",
    "LIBRARY",
]

# Whose code a frame is: ``tracer.sourcepath.source_kind`` (USER, LIBRARY, STDLIB, OURS).
_OURS = OURS

# Modules whose coroutines are "the thing awaited" rather than code doing work: the name of
# the outermost of a trailing run of these is what a step reports as ``awaiting``.
_PRIMITIVE_PREFIXES = ("asyncio.", "anyio.", "asgiref.", "concurrent.", "trio.", "sniffio.")
_RENAMES = {
    "asgiref.sync.SyncToAsync.__call__": "asgiref.sync_to_async",
    "asgiref.sync.AsyncToSync.__call__": "asgiref.async_to_sync",
}

# Packages of instrumentation (error trackers, APM agents, OpenTelemetry's instrumentations)
# whose coroutines wrap the app's to time it: ``return await coro`` around a task's coroutine,
# a span around a request. A step's location never names such a frame while any other is on
# the chain: the step is located as it would be without the instrumentation.
_INSTRUMENTATION = frozenset(
    {"sentry_sdk", "opentelemetry", "ddtrace", "newrelic", "elasticapm", "scout_apm"}
)

# Code flags of frames that take part in awaiting: coroutines, async generators and the
# generators of generator-based coroutines (``yield from``).
_AWAITING_FLAGS = CO_COROUTINE | CO_ITERABLE_COROUTINE | CO_ASYNC_GENERATOR | CO_GENERATOR


# id(code) -> (code, kind, primitive, name, display file, instrumentation); the code object
# is kept so a recycled id is detected. Code objects of app functions live as long as their
# module.
_Entry = tuple[CodeType, int, bool, str, str, bool]
_CODES: dict[int, _Entry] = {}
# Codes of our own receive/send/hop wrappers -> the name a step reports while inside them.
_WRAPPERS: dict[CodeType, str] = {}
# Codes of our generators that drive a coroutine with a plain ``yield`` (the step proxy's),
# so ``gi_yieldfrom`` is None -> the local variable holding what they drive.
_DRIVERS: dict[CodeType, str] = {}


def _async_generator_awaitables() -> frozenset[type]:
    """The types of what ``async for``, ``anext()`` and ``aclose()`` await on an async generator.

    They expose no attribute leading to their generator (CPython 3.11-3.13), but the garbage
    collector's view of them does (``gc.get_referents``): ``describe`` goes on through it.
    """

    async def probe() -> Any:
        yield None

    gen = probe()
    made = [gen.asend(None), gen.athrow(GeneratorExit), anext(gen, None)]
    kinds = frozenset(type(awaitable) for awaitable in made)
    for awaitable in made:
        awaitable.close()
    return kinds


_AG_AWAITABLES = _async_generator_awaitables()


def mark_wrapper(code: CodeType, name: str) -> None:
    """Declare one of our wrapper coroutines: while the app is inside it, it awaits ``name``."""
    _WRAPPERS[code] = name
    _CODES.pop(id(code), None)


def mark_driver(code: CodeType, local: str) -> None:
    """Declare a generator of ours that drives another coroutine with a plain ``yield`` (the
    step proxy): ``describe`` goes on to what its local variable ``local`` holds, so a chain
    through a second shim (two recorders nested) still reaches the app."""
    _DRIVERS[code] = local


def _classify(code: CodeType, frame: FrameType | None) -> _Entry:
    filename = os.path.abspath(code.co_filename) if not code.co_filename.startswith("<") else ""
    module = frame.f_globals.get("__name__", "") if frame is not None else ""
    wrapper = _WRAPPERS.get(code)
    entry: _Entry
    if wrapper is not None:
        entry = (code, _OURS, True, wrapper, display_path(filename), False)
    else:
        kind = source_kind(code.co_filename)
        module = str(module or "")
        primitive = module == "asyncio" or module.startswith(_PRIMITIVE_PREFIXES)
        instrumentation = kind == LIBRARY and module.partition(".")[0] in _INSTRUMENTATION
        if module.startswith("asyncio."):
            module = "asyncio"  # asyncio.tasks.sleep is known as asyncio.sleep
        elif primitive:
            module = _public_module(module)
        name = f"{module}.{code.co_qualname}" if module else code.co_qualname
        entry = (
            code,
            kind,
            primitive,
            _RENAMES.get(name, name),
            display_path(filename),
            instrumentation,
        )
    _CODES[id(code)] = entry
    return entry


def _public_module(module: str) -> str:
    """``module`` up to its first private part, the name a library's users know it by:
    ``anyio._core._eventloop`` -> ``anyio`` (``anyio.sleep``), ``anyio._backends._asyncio``
    -> ``anyio`` (``anyio.TaskGroup.__aexit__``), ``anyio.abc._streams`` -> ``anyio.abc``,
    ``trio._core._run`` -> ``trio``; public modules (``anyio.to_thread``) stay whole."""
    parts = module.split(".")
    for index, part in enumerate(parts):
        if part.startswith("_") and index:
            return ".".join(parts[:index])
    return module


def _info(code: CodeType, frame: FrameType | None) -> _Entry:
    entry = _CODES.get(id(code))
    if entry is None or entry[0] is not code:
        entry = _classify(code, frame)
    return entry


# ``asyncio.gather``'s future: a private class of asyncio's, named by the call that makes it.
_GATHERING = getattr(asyncio.tasks, "_GatheringFuture", None)
# The callbacks asyncio puts on a plain ``Future`` as it makes one for the app (by their
# ``__qualname__``) -> the call that made it: ``run_in_executor`` (and ``wrap_future``, which
# it calls) chains the future to the executor's, ``shield`` to the future it shields.
_MADE_BY = {
    "_chain_future.<locals>._call_check_cancel": "loop.run_in_executor",
    "shield.<locals>._outer_done_callback": "asyncio.shield",
}


def _name_yielded(yielded: Any) -> str:
    """What the app's chain handed to the event loop, named as its users know it: asked only
    when a step ends suspended with the chain ending in app code (the step's ``awaiting``)."""
    if yielded is None:
        return "yield"  # a bare yield: asyncio.sleep(0) and friends
    if isinstance(yielded, asyncio.Task):
        return f"Task {yielded.get_name()}"
    kind = type(yielded)
    if kind is _GATHERING:
        count = len(getattr(yielded, "_children", ()))
        return f"asyncio.gather ({count} awaitable{'' if count == 1 else 's'})"
    if kind is asyncio.Future:
        return _name_future(yielded)
    return kind.__name__


def _name_future(future: asyncio.Future[Any]) -> str:
    """A plain ``Future``: the asyncio call that made it when its callbacks say so, else the
    loop's ``create_future`` (a protocol's or the app's own, resolved by a callback)."""
    for callback, _ in getattr(future, "_callbacks", None) or ():
        made_by = _MADE_BY.get(getattr(callback, "__qualname__", ""))
        if made_by is not None:
            return made_by
    return "Future (loop.create_future)"


def describe(coro: Any, yielded: Any) -> tuple[str, str | None]:
    """(awaiting, location) of a suspended coroutine chain rooted at ``coro``.

    ``awaiting`` names the outermost coroutine of the trailing run of awaitable primitives
    (``asyncio.sleep``, ``anyio.to_thread.run_sync``, our ``receive``/``send``) or, when the
    chain ends in app code, the object handed to the event loop (``Task name``, ``asyncio.gather
    (2 awaitables)``, ``Future (loop.create_future)``: ``_name_yielded``).
    ``location`` is the file:line of the innermost app frame, else of the innermost library
    frame, else of the outermost primitive (asgiref's, asyncio's), else of the innermost frame
    of an instrumentation package (Sentry's, OpenTelemetry's: ``_INSTRUMENTATION``), which
    only wraps the rest: None only when nothing but our own wrappers is on the chain. The walk goes through async generators (``async for``,
    ``anext``, ``asynccontextmanager``) and through the step proxy of another shim.
    """
    awaiting: str | None = None
    # The innermost app frame, the innermost library one and the first primitive, each with
    # its code's entry: their lines are read once, at the end (the walk is per suspension).
    user: tuple[Any, FrameType] | None = None
    other: tuple[Any, FrameType] | None = None
    primitive: tuple[Any, FrameType] | None = None
    instrumented: tuple[Any, FrameType] | None = None
    codes = _CODES
    obj = coro
    while obj is not None:
        kind = type(obj)
        if kind is CoroutineType:
            frame = obj.cr_frame
            code = obj.cr_code
            following = obj.cr_await
        elif kind is GeneratorType:
            frame = obj.gi_frame
            code = obj.gi_code
            following = obj.gi_yieldfrom
            if following is None and frame is not None and _DRIVERS:
                local = _DRIVERS.get(code)
                if local is not None:  # another shim's step proxy: on to what it drives
                    following = frame.f_locals.get(local)
        elif kind is AsyncGeneratorType:
            frame = obj.ag_frame
            code = obj.ag_code
            following = obj.ag_await
        elif kind in _AG_AWAITABLES:  # asend/athrow/anext: on to their async generator
            obj = _async_generator_of(obj)
            continue
        else:
            break
        # ``_info``, inlined. A hit needs no identity check: ``_CODES`` keeps its codes alive,
        # so no other code object has the id of one of them.
        entry = codes.get(id(code))
        if entry is None:
            entry = _classify(code, frame)
        if entry[2]:  # a primitive: the first of a run names what is awaited
            if awaiting is None:
                awaiting = entry[3]
                if primitive is None and frame is not None and entry[1] != _OURS:
                    primitive = (entry, frame)
            if entry[1] == _OURS:
                break  # our wrappers are leaves: below them is the server, not the app
        else:
            awaiting = None
            if frame is not None:
                if entry[1] == USER:
                    user = (entry, frame)
                elif entry[5]:
                    instrumented = (entry, frame)
                elif entry[1] != _OURS:
                    other = (entry, frame)
        obj = following
    at = user or other or primitive or instrumented
    return (
        awaiting if awaiting is not None else _name_yielded(yielded),
        None if at is None else f"{at[0][4]}:{at[1].f_lineno}",
    )


def _async_generator_of(awaitable: Any) -> Any:
    """The async generator an ``asend``/``athrow``/``anext`` awaitable works on, or None."""
    for referent in gc.get_referents(awaitable):
        if type(referent) is AsyncGeneratorType:
            return referent
    return None


def _where_frames(frames: list[FrameType]) -> tuple[str, str] | None:
    """(function, file:line) of the innermost app frame of ``frames`` (innermost first), else
    of a library one; the function as ``file:line`` of its first line."""
    fallback: tuple[str, str] | None = None
    for frame in frames:
        code = frame.f_code
        entry = _info(code, frame)
        if entry[1] == USER:
            return f"{entry[4]}:{code.co_firstlineno}", f"{entry[4]}:{frame.f_lineno}"
        if fallback is None and entry[1] == LIBRARY:
            fallback = f"{entry[4]}:{code.co_firstlineno}", f"{entry[4]}:{frame.f_lineno}"
    return fallback


def _current_frames() -> dict[int, FrameType]:
    """``sys._current_frames()`` with no garbage collection starting inside it.

    Before CPython 3.11.9 and 3.12.3 (gh-106883) it holds the interpreter's thread-list lock
    while it allocates; a collection started there may free a ``threading.local``, whose
    clean-up takes that same lock: the thread deadlocks holding the GIL, and every thread with
    it (seen as a whole run frozen in a test of the blocking sample). The fix CPython made is
    this one: no collection while it runs, unless collection was off already.
    """
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        return sys._current_frames()
    finally:
        if enabled:
            gc.enable()


def where_in_stack(thread_id: int, root: FrameType | None = None) -> str | None:
    """Where thread ``thread_id`` is running right now: its innermost app frame, ``file:line``.

    With ``root`` (the app coroutine's frame), only frames inside it count, and None is the
    answer when the thread is not inside it at all, so the server and the driver above the
    app are never blamed.
    """
    found = function_in_stack(thread_id, root)
    return None if found is None else found[1]


def where_called(frame: FrameType | None) -> str | None:
    """Where the app made the call that is running ``frame`` (the callee's, one of ours):
    the innermost app frame from ``frame`` outwards, ``file:line``, else a library's; never
    the standard library's (a thread's bootstrap) nor ours. For a plain call (a WSGI
    ``start_response`` kept and called from a thread); a coroutine's is ``where_awaited``.
    """
    frames: list[FrameType] = []
    while frame is not None and len(frames) < 500:
        frames.append(frame)
        frame = frame.f_back
    found = _where_frames(frames)
    return None if found is None else found[1]


def where_awaited(frame: FrameType | None) -> str | None:
    """``where_called`` for a coroutine (a late ``send``): only the coroutines awaiting it
    count, up to what steps their task. Past them come the event loop's frames
    (``asyncio/events.py``, where every step starts) and, above the loop, the server's own
    (uvicorn's ``run``), which did not make the call.

    None when no app or library coroutine awaits it: it runs as a task of its own, as
    ``run_coroutine_threadsafe(send(...), loop)`` makes it, and the line that made the
    coroutine is on no stack any more.
    """
    frames: list[FrameType] = []
    while frame is not None and len(frames) < 500:
        code = frame.f_code
        if not code.co_flags & _AWAITING_FLAGS and _info(code, frame)[1] != _OURS:
            break  # a plain function: the loop (or our step proxy's caller) steps the task
        frames.append(frame)
        frame = frame.f_back
    found = _where_frames(frames)
    return None if found is None else found[1]


def function_in_stack(thread_id: int, root: FrameType | None = None) -> tuple[str, str] | None:
    """``where_in_stack``, with the function that line is in: ``(function, file:line)``."""
    frame: FrameType | None = _current_frames().get(thread_id)
    frames: list[FrameType] = []
    while frame is not None and len(frames) < 500:
        frames.append(frame)
        if frame is root:
            return _where_frames(frames)
        frame = frame.f_back
    return None if root is not None else _where_frames(frames)


# The code that runs every callback of asyncio's own loops (``Handle._run``; a timer's too):
# on the loop thread's stack exactly while the loop runs a callback, never while it waits
# in its selector (idle).
_HANDLE_RUN = asyncio.events.Handle._run.__code__


def function_in_handle(thread_id: int) -> tuple[FrameType, tuple[str, str] | None] | None:
    """The callback asyncio's loop on thread ``thread_id`` is running right now: the frame of
    its ``Handle._run`` (the same object as long as that callback runs), with the
    ``function_in_stack`` answer for the frames inside it; None when the thread runs no
    callback (its loop waits in its selector: idle) or its loop is not asyncio's (uvloop
    calls callbacks from C, with no frame to see)."""
    frame: FrameType | None = _current_frames().get(thread_id)
    frames: list[FrameType] = []
    while frame is not None and len(frames) < 500:
        if frame.f_code is _HANDLE_RUN:
            return frame, _where_frames(frames)
        frames.append(frame)
        frame = frame.f_back
    return None


def where_raised(tb: TracebackType | None, app: Any = None) -> str | None:
    """Where an exception was raised, as ``file:line``: never inside gateway-tracer itself.

    The innermost app frame of the traceback; else the innermost frame outside this package
    (a framework, the standard library). When every frame is ours, the shim raised it while
    handling what the app gave it (``iter()`` of a non-iterable, a malformed message), so the
    answer is where ``app`` (the callable the shim wraps) is defined.
    """
    frames: list[tuple[FrameType, int]] = []
    while tb is not None:
        frames.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    outside: str | None = None
    for frame, lineno in reversed(frames):
        entry = _info(frame.f_code, frame)
        if entry[1] == USER:
            return f"{entry[4]}:{lineno}"
        if outside is None and entry[1] != _OURS:
            outside = f"{entry[4]}:{lineno}"
    if outside is not None:
        return outside
    defined = app_location(app)
    if defined is not None or not frames:
        return defined
    frame, lineno = frames[-1]
    return f"{_info(frame.f_code, frame)[4]}:{lineno}"


def app_location(app: Any) -> str | None:
    """``file:line`` where the callable ``app`` is defined (partials, bound methods and
    callable instances unwrapped), or None when it has no Python code (a builtin)."""
    target = app
    for _ in range(4):
        code = getattr(target, "__code__", None)
        if isinstance(code, CodeType):
            return f"{display_path(os.path.abspath(code.co_filename))}:{code.co_firstlineno}"
        inner = getattr(target, "func", None)  # functools.partial
        if inner is None:
            inner = getattr(target, "__func__", None)  # a bound method
        if inner is None and target is not None and not isinstance(target, type):
            inner = getattr(type(target), "__call__", None)  # noqa: B004 - the callable instance
        if inner is None or inner is target:
            return None
        target = inner
    return None


MESSAGE_LIMIT = 500
"""Characters of an exception's message an ``error`` event keeps (a message can be a page)."""


def message_of(exc: BaseException) -> str:
    """``str(exc)``, cut to ``MESSAGE_LIMIT`` characters. An exception whose ``__str__``
    raises (or whose argument's does) is ``<unprintable ValueError object>``, as the
    ``traceback`` module prints it: the app's error is recorded all the same. A lone
    surrogate in the message is spelled out (``encodable``): no file or terminal takes one."""
    try:
        return encodable(str(exc)[:MESSAGE_LIMIT])
    except Exception:
        return f"<unprintable {type(exc).__name__} object>"
