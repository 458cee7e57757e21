"""A ``send`` an ASGI app awaits after its request ended.

An app may keep the ``send`` the shim handed it and await it after ``request.end`` (a task
left running, a later request). ``AsgiCalls.send`` hands such a call here: the server gets
it unchanged (whatever the server does with it, accept or raise, the app sees), and the
request gets one ``ASGI-003`` violation when checking is on, dated now, on the thread and
task that sent it; no ``asgi.send``, no counts: the request is over.

Kept apart from ``tracer.shim.asgi_calls`` because a correct app never comes here: the
cycle pays one ``ended`` test per send for it, nothing more. Imports the spine,
``tracer.conformance.base`` and sibling shim modules; never the TUI, exporters, server
models or CLI.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from tracer import events as K
from tracer.conformance.base import report_late_call
from tracer.shim.context import CURRENT
from tracer.shim.frames import mark_wrapper, where_awaited
from tracer.shim.trio_run import running_task

if TYPE_CHECKING:
    from tracer.shim.asgi import Message
    from tracer.shim.asgi_calls import AsgiCalls

__all__ = ["late_send"]


async def late_send(cycle: AsgiCalls, message: Message) -> None:
    """``send`` awaited after ``request.end``: report it, then the server's ``send`` as is."""
    if cycle.shim.checks and cycle.recording and not getattr(cycle, "late_reported", False):
        cycle.late_reported = True
        try:
            mtype = message.get("type") if isinstance(message, Mapping) else None
            detail = f"send() of {mtype}" if isinstance(mtype, str) else "send()"
            location = where_awaited(sys._getframe())
            if location is None:  # say why there is no line: nothing of the app awaits it
                detail += ", run by the event loop as a task of its own"
            report_late_call(partial(_report_late, cycle), "ASGI-003", detail, location)
        except Exception as exc:
            cycle.failed(exc)
    token = CURRENT.set(None)  # the server's code runs for no request (see AsgiCalls.receive)
    try:
        await cycle._send(message)
    finally:
        CURRENT.reset(token)


def _report_late(cycle: AsgiCalls, rule_id: str, message: str, **data: Any) -> None:
    """``report`` for a late send: dated now, on the thread and task that sent it."""
    try:
        task = asyncio.current_task()
        name = None if task is None else task.get_name()
    except RuntimeError:  # not on asyncio: trio's task, if any (tracer.shim.trio_run)
        task = running_task()
        name = None if task is None else task.name
    cycle.recorder.emit(
        K.VIOLATION,
        cycle.req,
        {"rule": rule_id, "message": message, **data},
        task=name,
    )


mark_wrapper(late_send.__code__, "send")
