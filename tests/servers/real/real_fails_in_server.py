"""An app that imports in ``trace`` but fails to import inside the server process (a setting
only the server's environment has)."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["app"]

if "GATEWAY_TRACER_BOOTSTRAP" in os.environ:  # set for the server processes only
    raise RuntimeError("this app cannot start inside the server")


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Never serves."""
