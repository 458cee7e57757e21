"""Apps for ``bench/server_overhead.py --decompose``: the shim with a recorder that drops
every event, served by plain uvicorn, to tell the shim's own cost from the recording's."""

from __future__ import annotations

from typing import Any

import tracer
from sample_apps.hello import asgi_app
from tracer.recorder import Recorder, Sink

__all__ = ["NullRecorder", "shim_null"]


class NullRecorder(Recorder):
    """A recorder whose ``emit`` does nothing: the shim runs, nothing is kept or written."""

    def __init__(self) -> None:
        super().__init__(None, keep=False)

    def emit(self, *args: Any, **kwargs: Any) -> None:
        """Drop the event."""

    def sink(self) -> Sink:
        """A sink that drops every row the shim builds (the shim's hot path records through
        it, so without this each row would be unpacked and handed to ``emit`` first)."""
        sink = Recorder.sink(self)
        if sink.append is not _drop:
            sink = self._sink = sink._replace(append=_drop)
        return sink


def _drop(row: tuple[Any, ...]) -> None:
    """Drop one row."""


shim_null = tracer.instrument(asgi_app, recorder=NullRecorder())
