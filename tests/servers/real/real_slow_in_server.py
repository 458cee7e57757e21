"""An app that imports at once in ``trace`` but takes a minute to import inside the server
process (a slow start only the server's environment has)."""

from __future__ import annotations

import os
import time
from typing import Any

__all__ = ["app"]

if "GATEWAY_TRACER_BOOTSTRAP" in os.environ:  # set for the server processes only
    # A test that wants to stop the server while this import runs waits for these marks
    # (on a loaded machine the server's workers may start importing seconds late).
    _marks = os.environ.get("REAL_SLOW_IMPORT_MARKS")
    if _marks:
        open(os.path.join(_marks, str(os.getpid())), "w").close()
    time.sleep(60)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Never reached in the test: the run is stopped while the server imports this."""
