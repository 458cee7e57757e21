"""Protocol conformance: per-request checkers the shims feed, and the rules they enforce.

The shims create one checker per request (when checking is on) and call its hooks with the
real protocol objects; a checker calls ``report(rule_id, message, **data)`` for each broken
rule and the shim records it as a ``violation`` event. A checker that raises is disabled for
that request by the shim; it never breaks the request. Imports only the spine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Report", "WsgiChecker", "AsgiChecker"]

Report = Callable[..., None]
"""``report(rule_id: str, message: str, **data)``: one violation of the request being checked."""


class WsgiChecker:
    """Checks one WSGI request against PEP 3333; the shim calls the hooks in protocol order."""

    __slots__ = ("environ", "report")

    def __init__(self, environ: dict[str, Any], report: Report) -> None:
        self.environ = environ
        self.report = report

    def start_response(self, status: Any, headers: Any, exc_info: Any) -> None:
        """``start_response(status, headers, exc_info)`` was called."""

    def write(self, data: Any) -> None:
        """The legacy ``write(data)`` callable was called."""

    def body_item(self, item: Any) -> None:
        """The app's iterable produced ``item``."""

    def input_read(self, total_bytes: int) -> None:
        """``wsgi.input`` has now returned ``total_bytes`` in all."""

    def finish(self, *, close_called: bool, error: BaseException | None) -> None:
        """The request is over (iteration ended, or the app raised)."""


class AsgiChecker:
    """Checks one ASGI connection (http, websocket, lifespan) against the ASGI spec."""

    __slots__ = ("scope", "report")

    def __init__(self, scope: dict[str, Any], report: Report) -> None:
        self.scope = scope
        self.report = report

    def receive(self, message: Any) -> None:
        """``await receive()`` returned ``message`` to the app."""

    def send(self, message: Any) -> None:
        """The app called ``await send(message)`` (checked before it is passed on)."""

    def finish(self, *, error: BaseException | None) -> None:
        """The app's coroutine returned or raised."""
