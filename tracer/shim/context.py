"""The request a piece of code is working for, carried across awaits and thread hops.

The ASGI shim sets ``CURRENT`` for the duration of one app call, the WSGI shim for the
duration of the app's call, of each step of its response's iteration and of its ``close()``
(not the server's code between them); because it is a context
variable it follows the request into tasks the app creates and into the worker threads of
``asyncio.to_thread``, ``anyio.to_thread.run_sync`` and asgiref's ``sync_to_async`` and
``async_to_sync`` (they copy the context), which is how ``tracer.shim.hops`` attributes
offloaded work. Shims of different
recorders nested around one app each set it in turn: the innermost's value links to the ones
further out (``outer``), so ``each_recorder`` finds, for every recorder, the request it would
see were its shim the only one. Imports only the recorder type; never the TUI, exporters,
server models or CLI.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tracer.recorder import Recorder

__all__ = ["RequestContext", "CURRENT", "current", "each_recorder"]


class RequestContext(Protocol):
    """Who to charge: the request id and the recorder its events go to."""

    @property
    def req(self) -> int:
        """The request id (as in the request's ``request.start``)."""

    @property
    def recorder(self) -> Recorder:
        """Where events of this request are emitted."""

    # Optional, read with getattr: ``outer`` (the traced request of another recorder current
    # where the shim was called, see ``each_recorder``) and ``tid`` (the thread the request's
    # own events are recorded on: a hop run back on it is part of them, ``tracer.shim.hops``).


CURRENT: ContextVar[RequestContext | None] = ContextVar("gateway_tracer_request", default=None)
"""The traced request whose code is running (the shim's per-request object), or None."""


def current() -> RequestContext | None:
    """The traced request of the calling code, or None outside any traced request."""
    return CURRENT.get()


def each_recorder(context: RequestContext) -> list[RequestContext]:
    """``context`` and, further out, the innermost traced request of each other recorder.

    The requests linked through ``outer`` (the shim's per-request object has it) are the ones
    whose code called the app of ``context``: each recorder records the work of the innermost
    of its own, as it would were its shim the only one (a recorder appears once).
    """
    found = [context]
    outer = getattr(context, "outer", None)
    while outer is not None:
        recorder = outer.recorder
        if all(recorder is not seen.recorder for seen in found):
            found.append(outer)
        outer = getattr(outer, "outer", None)
    return found
