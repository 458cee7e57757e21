"""The request a piece of code is working for, carried across awaits and thread hops.

The ASGI shim sets ``CURRENT`` for the duration of one app call; because it is a context
variable it follows the request into tasks the app creates and into the worker threads of
``asyncio.to_thread``, ``anyio.to_thread.run_sync`` and asgiref's ``sync_to_async`` (they copy
the context), which is how ``tracer.shim.hops`` attributes offloaded work. Imports only the
recorder type; never the TUI, exporters, server models or CLI.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tracer.recorder import Recorder

__all__ = ["RequestContext", "CURRENT", "current"]


class RequestContext(Protocol):
    """Who to charge: the request id and the recorder its events go to."""

    @property
    def req(self) -> int:
        """The request id (as in the request's ``request.start``)."""

    @property
    def recorder(self) -> Recorder:
        """Where events of this request are emitted."""


CURRENT: ContextVar[RequestContext | None] = ContextVar("gateway_tracer_request", default=None)
"""The traced request whose code is running (the shim's per-request object), or None."""


def current() -> RequestContext | None:
    """The traced request of the calling code, or None outside any traced request."""
    return CURRENT.get()
