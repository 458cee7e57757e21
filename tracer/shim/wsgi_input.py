"""``TracedInput``: the stand-in for ``environ["wsgi.input"]`` that records every read.

Each ``read``/``readline``/``readlines`` call, each line pulled by iterating and each
``readinto`` (Werkzeug's way) becomes one ``wsgi.input.read`` event (method, bytes; ``dur`` =
time inside the call); a call that raised (the client left, a bad chunk) is recorded too, with
``raised`` and no bytes, and its exception goes on unchanged. Arguments and results pass
through untouched, and any other attribute (``fileno``, ``seek``, ``closed``...) is the real
stream's. Imports only ``tracer.events``; never the TUI, exporters, servers or CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracer.shim.wsgi_cycle import WsgiCycle

__all__ = ["TracedInput"]


class TracedInput:
    """Wraps the server's input stream for one request; the request's cycle does the recording."""

    __slots__ = ("_stream", "_cycle", "_iter")

    def __init__(self, stream: Any, cycle: WsgiCycle) -> None:
        self._stream = stream
        self._cycle = cycle
        self._iter: Any = None

    @property
    def stream(self) -> Any:
        """The server's own input stream."""
        return self._stream

    def read(self, *args: Any) -> Any:
        """``read([size])`` of the real stream, recorded."""
        cycle = self._cycle
        t = cycle.now()
        try:
            data = self._stream.read(*args)
        except BaseException as exc:
            cycle.input_raised("read", t, exc)
            raise
        cycle.input_read("read", data, t)
        return data

    def readline(self, *args: Any) -> Any:
        """``readline([size])`` of the real stream, recorded."""
        cycle = self._cycle
        t = cycle.now()
        try:
            data = self._stream.readline(*args)
        except BaseException as exc:
            cycle.input_raised("readline", t, exc)
            raise
        cycle.input_read("readline", data, t)
        return data

    def readlines(self, *args: Any) -> Any:
        """``readlines([hint])`` of the real stream, recorded as one read of all the lines."""
        cycle = self._cycle
        t = cycle.now()
        try:
            lines = self._stream.readlines(*args)
        except BaseException as exc:
            cycle.input_raised("readlines", t, exc)
            raise
        cycle.input_read("readlines", lines, t)
        return lines

    def __iter__(self) -> TracedInput:
        self._iter = iter(self._stream)
        return self

    def __next__(self) -> Any:
        if self._iter is None:
            self._iter = iter(self._stream)
        cycle = self._cycle
        t = cycle.now()
        try:
            line = next(self._iter)
        except StopIteration:  # ends the loop unrecorded: no bytes moved
            raise
        except BaseException as exc:
            cycle.input_raised("iter", t, exc)
            raise
        cycle.input_read("iter", line, t)
        return line

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._stream, name)
        if name == "readinto":
            # Not PEP 3333, but Werkzeug reads through it when the stream has it; offered only
            # when the real stream has it, so ``hasattr`` answers as it would unwrapped.
            return self._traced_readinto(attribute)
        return attribute

    def _traced_readinto(self, readinto: Any) -> Any:
        cycle = self._cycle

        def traced_readinto(buffer: Any) -> Any:
            t = cycle.now()
            try:
                count = readinto(buffer)
            except BaseException as exc:
                cycle.input_raised("readinto", t, exc)
                raise
            cycle.input_read("readinto", count, t)
            return count

        return traced_readinto

    def __repr__(self) -> str:
        return f"<TracedInput of {self._stream!r}>"
