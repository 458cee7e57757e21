"""How an ASGI connection ends: ``request.end``'s ``status`` and ``error`` where they need thought.

Most requests end with the int status the server took; this module answers for the rest, as
uvicorn does (a shim cannot tell which server runs it: docs/recording-format.md says which
servers differ): the 500 a server answers an app that ended without a response start, no
status when the server refused the start itself, the number sent for a status given as no
int, and ``cancelled`` for a request its task's cancellation cut short. It also tells an
exception of the app from the shim's coroutine being closed. Called on the end and error
paths only, never per message. Imports ``tracer.shim.steps``; never the TUI, exporters,
server models or CLI.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from tracer.shim.steps import Stepper
from tracer.shim.trio_run import trio_cancelled

if TYPE_CHECKING:
    from tracer.shim.asgi_cycle import AsgiCycle

__all__ = [
    "ANSWERS",
    "error_name",
    "task_cancelled",
    "coroutine_closed",
    "sent_status",
    "answered_500",
    "end_status",
]

# Connections a server answers with a 500 when the app ends without answering them, and the
# messages that answer them (a refused one leaves uvicorn closing the connection, no 500).
ANSWERED = frozenset({"http", "websocket"})
ANSWERS = frozenset({"http.response.start", "websocket.accept", "websocket.http.response.start"})

_DRIVE_CODE = Stepper._drive.__code__


def error_name(error: BaseException) -> str:
    """``request.end``'s ``error``: the exception's type name, and ``cancelled`` for a
    cancellation of the request's task, the name every server model and the client give a
    request the run's stop (or a server) cut short. A ``CancelledError`` the app raised on its
    own, its task not being cancelled, is its error like any other (uvicorn answers it 500)."""
    if (isinstance(error, asyncio.CancelledError) and task_cancelled()) or trio_cancelled(error):
        return "cancelled"
    return type(error).__name__


def task_cancelled() -> bool:
    """Whether the current task is being cancelled (asked for on error paths only)."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # not on asyncio (trio): a cancellation of the app's framework
        return True
    return task is None or task.cancelling() > 0


def coroutine_closed(error: BaseException) -> bool:
    """Whether ``error`` is the shim's coroutine being closed, not an exception of the app.

    Whatever drives the shim (an event loop closing a task it dropped, a server's shutdown)
    calls ``close()``, or throws ``GeneratorExit``, into the shim's coroutine: Python closes
    the step proxy (which closes the app's coroutine) and raises a ``GeneratorExit`` at the
    shim's own ``await``, whose traceback ends there or in the step proxy. One the app raised
    itself comes out of a step, so its traceback goes on past the step proxy into the app's
    code; servers answer it as any other exception (uvicorn, hypercorn, granian: 500).
    """
    if not isinstance(error, GeneratorExit):
        return False
    tb = error.__traceback__  # the shim's __call__, then the step proxy, then the app
    step = None if tb is None else tb.tb_next
    return step is None or step.tb_frame.f_code is not _DRIVE_CODE or step.tb_next is None


def sent_status(status: Any) -> int | None:
    """The status line's number for a response status the app gave as no plain int and the
    server took: ``int()`` of it, as hypercorn makes it (``"200"``, ``HTTPStatus.OK``); None
    when that fails or for a bool (no server sends ``True`` as a status)."""
    if isinstance(status, bool):
        return None
    try:
        return int(status)
    except (TypeError, ValueError, OverflowError):
        return None


def answered_500(error: BaseException | None) -> bool:
    """Whether a server answers 500 to an app that ended so without a response start:
    returned, or raised anything but a cancellation of its task or a close of its coroutine,
    ``SystemExit`` and a ``GeneratorExit`` of its own included (uvicorn catches
    ``BaseException`` and answers 500)."""
    if error is None or isinstance(error, Exception):
        return True
    if isinstance(error, asyncio.CancelledError):
        return not task_cancelled()
    return not trio_cancelled(error) and not coroutine_closed(error)


def end_status(cycle: AsgiCycle, error: BaseException | None) -> int | None:
    """``request.end``'s status where it is not simply the int the server took: what
    uvicorn answers.

    The status of when the peer went, if it went (what was sent later reached nobody); a
    status the app gave as no int, as the number the server sent of it; and 500 when the
    app ended (returned, or raised as ``answered_500`` says) without a response start,
    websocket accept, close or denial the server took, as uvicorn and hypercorn answer an
    ``http`` request or a websocket handshake. None when the server refused the start or
    accept itself: uvicorn closes the connection then (hypercorn and granian send 500).
    """
    gone = cycle.gone
    taken = cycle.status if gone is None else gone.status
    if taken is not None:
        return taken if type(taken) is int else sent_status(taken)
    if (
        gone is None
        and cycle.scope.get("type") in ANSWERED
        and not getattr(cycle, "start_refused", False)
        and answered_500(error)
    ):
        return 500
    return None
