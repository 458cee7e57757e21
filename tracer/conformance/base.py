"""What every checker shares: reporting a rule once per request, with severity, hint and place.

Violations are rare, so everything here is off the fast path: a checker that finds nothing
never calls into this module. Imports only ``tracer.conformance.rules`` and
``tracer.sourcepath`` (whose ``OWN_DIR``, the tracer package's directory, it passes on: frames
in it, shim, checker or driver, are never the culprit).
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
from collections.abc import Callable, Iterator
from inspect import CO_ASYNC_GENERATOR, CO_COROUTINE, CO_GENERATOR, CO_ITERABLE_COROUTINE
from types import FrameType
from typing import Any

from tracer.conformance.rules import RULES
from tracer.sourcepath import OURS, OWN_DIR, USER, display_path, source_kind

__all__ = [
    "Report",
    "OWN_DIR",
    "Site",
    "Locator",
    "Checker",
    "caller_location",
    "report_late_call",
    "format_site",
    "short",
]

Report = Callable[..., None]
"""``report(rule_id: str, message: str, **data)``: one violation of the request being checked."""

_MAX_DEPTH = 200
"""Frames looked through for the app's line: a framework's middleware stack is deep."""


Site = tuple[str, int]
"""A place in the app's source, not yet formatted: ``(code.co_filename, line)``."""

Locator = Callable[[], Site | None]
"""Works out where a violation happened; called only once the violation is reported."""


def format_site(site: Site) -> str:
    """``file:line``, named as every other location of a recording (relative where it can be)."""
    filename, line = site
    return f"{display_path(os.path.abspath(filename))}:{line}"


_AWAITING = CO_COROUTINE | CO_ITERABLE_COROUTINE | CO_ASYNC_GENERATOR | CO_GENERATOR
"""Code flags of frames that can await (coroutines, async and plain generators)."""

_MAX_HOPS = 8
"""Tasks followed outwards from one that runs only the tracer's code (a ``wait_for`` of a
``wait_for``...) before giving up."""


def caller_location(depth: int = 2) -> str | None:
    """``file:line`` of the app's call that reached the tracer ``depth`` frames up, or None.

    The frames between that tracer frame (a ``send`` or ``start_response`` hook) and the next
    one out (the shim's call of the app) are the app's: the innermost of them that is the
    user's own code (``tracer.sourcepath.source_kind``: not site-packages, not the standard
    library) is the place, so a Starlette endpoint's ``websocket.close`` names the endpoint
    and not the framework's wrapper that forwards it; with none of the user's there, the
    innermost of them at all (a framework's own response, a standard-library app). Frames
    past the shim's call (the server, a test calling the client) did not make the call.

    Frames past the current asyncio task's own coroutine are the event loop's and the
    server's, which did not make the call either. A task that holds no frame of the app (the
    one ``asyncio.wait_for(receive(), 1)`` wraps the call in, on Python 3.11) was made by the
    coroutine that awaits it: the place is that coroutine's ``await``, found by following
    the ``cr_await`` chains of the loop's tasks to the one that waits for this task.
    """
    try:
        frame: FrameType | None = sys._getframe(depth)
    except ValueError:
        return None
    root = _task_root()
    nearest: FrameType | None = None
    inside = False  # past the tracer's own frames at the top of the stack
    for _ in range(_MAX_DEPTH):
        if frame is None:
            break
        kind = source_kind(frame.f_code.co_filename)
        if kind == OURS:
            if inside:
                break  # the shim's call of the app: outside it is not the app
        else:
            inside = True
            if kind == USER:
                nearest = frame
                break
            if nearest is None:
                nearest = frame
        if frame is root:
            break  # the task's outermost coroutine: the loop steps it
        frame = frame.f_back
    if nearest is None and root is not None:
        nearest = _awaiting_frame()
    if nearest is None:
        return None
    return format_site((nearest.f_code.co_filename, nearest.f_lineno))


def _current_task() -> asyncio.Task[Any] | None:
    """The asyncio task running on this thread, if any."""
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running event loop here (a WSGI thread)
        return None


def _task_root() -> FrameType | None:
    """The frame of the current asyncio task's own coroutine (None outside a task)."""
    task = _current_task()
    if task is None:
        return None
    coro = task.get_coro()
    return getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)


def _chain(coro: Any) -> Iterator[Any]:
    """``coro`` and what it awaits, down to the innermost awaitable (a future, a task).

    The shim's step proxy, a generator of ours, steps the app's coroutine with a plain
    ``yield`` (no ``gi_yieldfrom``): the chain goes on to the coroutine it holds."""
    for _ in range(_MAX_DEPTH):
        if coro is None:
            return
        yield coro
        following = (
            getattr(coro, "cr_await", None)
            or getattr(coro, "gi_yieldfrom", None)
            or getattr(coro, "ag_await", None)
        )
        frame = _frame_of(coro)
        if (
            following is None
            and frame is not None
            and source_kind(frame.f_code.co_filename) == OURS
        ):
            following = next(
                (
                    value
                    for value in frame.f_locals.values()
                    if value is not coro and _frame_of(value) is not None
                ),
                None,
            )
        coro = following


def _frame_of(awaitable: Any) -> FrameType | None:
    frame = getattr(awaitable, "cr_frame", None) or getattr(awaitable, "gi_frame", None)
    return frame or getattr(awaitable, "ag_frame", None)


def _waits_for(frames: list[FrameType], innermost: Any, task: asyncio.Task[Any]) -> bool:
    """Whether a coroutine chain (its ``frames``, ending in ``innermost``) waits for ``task``:
    it awaits the task itself, a ``gather`` of it, or a future its frames hold the task beside
    (Python 3.11's ``wait_for`` awaits a waiter future, the task in its local ``fut``). What
    ``await`` holds of a future is its iterator, which names the future only to the garbage
    collector (``gc.get_referents``)."""
    for awaited in (innermost, *gc.get_referents(innermost)):
        if awaited is task or (
            isinstance(awaited, asyncio.Future) and task in getattr(awaited, "_children", ())
        ):
            return True
    for frame in frames:
        if frame.f_code.co_flags & _AWAITING and any(
            value is task for value in frame.f_locals.values()
        ):
            return True
    return False


def _awaiting_frame() -> FrameType | None:
    """The innermost frame of the app (else of a library) in the coroutines that await the
    current task, following tasks outwards while a task holds only the tracer's code."""
    task = _current_task()
    for _ in range(_MAX_HOPS):
        if task is None:
            return None
        found: asyncio.Task[Any] | None = None
        for other in asyncio.all_tasks(task.get_loop()):
            if other is task:
                continue
            chain = list(_chain(other.get_coro()))
            frames = [frame for frame in map(_frame_of, chain) if frame is not None]
            if not chain or not _waits_for(frames, chain[-1], task):
                continue
            found = other
            nearest: FrameType | None = None
            for frame in reversed(frames):  # innermost first, as on a stack
                kind = source_kind(frame.f_code.co_filename)
                if kind == USER:
                    return frame
                if kind != OURS and nearest is None:
                    nearest = frame
            if nearest is not None:
                return nearest
            break
        task = found
    return None


def report_late_call(
    report: Report, rule_id: str, detail: str, location: str | None = None
) -> None:
    """Report ``rule_id`` for a protocol callable the app kept and called after its request
    ended (``detail`` names the call); the request's checker is gone by then, so the shim calls
    this from inside the late call. ``location`` is the app's line that made it, as the shim
    found it on the stack (``tracer.shim.frames.where_called``: the app's frame, never the
    standard library's or ours); None leaves it out.

    Reporting it once per request is the caller's part: it alone knows the request.
    """
    rule = RULES[rule_id]
    data: dict[str, Any] = {"severity": rule.severity, "hint": rule.hint}
    if location is not None:
        data["location"] = location
    report(rule_id, f"{rule.message}: {detail}", **data)


class Checker:
    """Base of the per-request checkers: holds ``report`` and the rules already reported."""

    __slots__ = ("report", "_flagged")

    def __init__(self, report: Report) -> None:
        self.report = report
        self._flagged: set[str] | None = None

    def _flagged_any(self, *rule_ids: str) -> bool:
        """Whether any of ``rule_ids`` was reported for this request: a rule that only follows
        from one of them (a body whose size is unknown, a header that is there but mistyped)
        stays quiet, so one mistake is one finding."""
        flagged = self._flagged
        return flagged is not None and not flagged.isdisjoint(rule_ids)

    def _flag(self, rule_id: str, detail: str = "", *, locate: bool | Locator = True) -> None:
        """Report ``rule_id`` for this request (once: a loop of bad chunks is one finding).

        ``locate=True`` adds the app's ``file:line`` from the stack: right for hooks called
        from inside the app (``start_response``, ``send``), wrong for ``finish``. A
        ``Locator`` is asked instead, and only when the rule is reported (not for repeats);
        ``False`` or a locator that returns None leaves ``location`` out.
        """
        flagged = self._flagged
        if flagged is None:
            flagged = self._flagged = set()
        elif rule_id in flagged:
            return
        flagged.add(rule_id)
        rule = RULES[rule_id]
        message = f"{rule.message}: {detail}" if detail else rule.message
        data: dict[str, Any] = {"severity": rule.severity, "hint": rule.hint}
        location: str | None = None
        if callable(locate):
            site = locate()
            if site is not None:
                location = format_site(site)
        elif locate:
            location = caller_location(3)
        if location is not None:
            data["location"] = location
        self.report(rule_id, message, **data)


def short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
