"""Apps for ``bench/server_overhead.py --decompose``: the shim with a recorder that drops
every event, served by plain uvicorn, to tell the shim's own cost from the recording's.
A helper module, imported by uvicorn as ``server_variants:shim_null``; run as a script, it says
so and exits 2."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    print(
        "server_variants.py is a helper module of bench/server_overhead.py (its --decompose "
        "part serves server_variants:shim_null); run that script instead",
        file=sys.stderr,
    )
    raise SystemExit(2)

from typing import Any

import tracer  # noqa: E402
from sample_apps.hello import asgi_app  # noqa: E402
from tracer.recorder import Recorder, Sink  # noqa: E402

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
