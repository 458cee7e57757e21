"""Apps for ``bench/server_overhead.py --decompose``: the shim with a recorder that drops
every event, served by plain uvicorn, to tell the shim's own cost from the recording's."""

from __future__ import annotations

from typing import Any

import tracer
from sample_apps.hello import asgi_app
from tracer.recorder import Recorder

__all__ = ["NullRecorder", "shim_null"]


class NullRecorder(Recorder):
    """A recorder whose ``emit`` does nothing: the shim runs, nothing is kept or written."""

    def __init__(self) -> None:
        super().__init__(None, keep=False)

    def emit(self, *args: Any, **kwargs: Any) -> None:
        """Drop the event."""


shim_null = tracer.instrument(asgi_app, recorder=NullRecorder())
