"""An app whose import fails inside the server (a dependency that is not installed)."""

from __future__ import annotations

import gateway_tracer_missing_dependency  # noqa: F401

__all__ = ["app"]


async def app(scope: object, receive: object, send: object) -> None:
    """Never reached."""
