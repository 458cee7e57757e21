"""Calls an app makes through a WSGI request's callables after that request ended.

An app may keep the ``start_response`` or ``write`` the shim handed it and call it after
``request.end`` (from a thread of its own, or in a later request). ``WsgiCycle`` sends such
a call here: the server gets it unchanged (whatever the server does with it, accept or
raise, the app sees), and the request gets one ``WSGI-026`` violation when checking is on.
The violation is dated now and on the calling thread: it is not part of the request's
recorded flow (no ``sched.thread``, status or byte count changes after its end).

Kept apart from ``tracer.shim.wsgi_cycle`` because a correct app never comes here: the
cycle pays one ``done`` test per call for it, nothing more. Imports the spine,
``tracer.conformance.base`` and ``tracer.shim.frames``; never the TUI, exporters, server
models or CLI.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from tracer import events as K
from tracer.conformance.base import report_late_call, short
from tracer.shim.frames import where_called

if TYPE_CHECKING:
    from tracer.shim.wsgi_cycle import WsgiCycle

__all__ = ["late_start_response", "late_write"]


def late_start_response(cycle: WsgiCycle, status: Any, headers: Any, exc_info: Any) -> Any:
    """``start_response`` called after ``request.end``: report it, then pass it on as is."""
    _late_call(cycle, f"start_response({short(status, 40)}, ...)")
    if exc_info is None:
        cycle.server_write = cycle.server_start_response(status, headers)
    else:
        cycle.server_write = cycle.server_start_response(status, headers, exc_info)
    return cycle.write


def late_write(cycle: WsgiCycle, data: Any, size: int) -> Any:
    """``write`` called after ``request.end`` with ``data`` (``size`` bytes, as the cycle
    counts them): report it, then the server's ``write``."""
    _late_call(cycle, f"write() of {size} bytes")
    server_write: Any = cycle.server_write  # whatever the server returned, even None
    return server_write(data)


def _late_call(cycle: WsgiCycle, detail: str) -> None:
    """Record ``WSGI-026`` for ``cycle``'s request, once, when checking is on."""
    if not cycle.shim.checks or getattr(cycle, "late_reported", False):
        return
    cycle.late_reported = True

    def report(rule: str, message: str, **data: Any) -> None:
        # The request's checker is gone: one ``violation`` of the request, now, on this thread.
        cycle.recorder.emit(K.VIOLATION, cycle.req, {"rule": rule, "message": message, **data})

    try:
        report_late_call(report, "WSGI-026", detail, where_called(sys._getframe()))
    except Exception as exc:
        cycle.shim.internal_error("recording a call after the request ended", exc)
