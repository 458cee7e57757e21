"""The Perfetto export's file: one Chrome trace JSON object, written as its events are built.

A big recording's trace holds millions of events; building the whole JSON text first made
~16 times the recording's size in memory. ``TraceWriter`` writes the object's opening, then
the trace events in slices as the builder hands them over (``events``), then the rest of the
object (``close``). Values orjson refuses (data nested past its 254 levels, integers beyond
64 bits, as a recording read from elsewhere may hold) are written cut (``dumps``), never as
half a file. C1 controls, bidi controls and line separators in strings are written as ``\\u``
escapes (``quiet``): JSON allows them raw, but a terminal shown the trace (``-o -``) obeys
them. Imports orjson only.
"""

from __future__ import annotations

import re
from typing import IO, Any

import orjson

__all__ = ["TraceWriter", "dumps", "quiet", "SLICE", "DEPTH", "CUT"]

SLICE = 20_000
"""Trace events serialised at a time: one buffer per slice (a buffer per event cost ~4 KB
each, ~800 MB for 200,000 events)."""

DEPTH = 64
"""How deep a recorded value is written; deeper ones become ``CUT``. orjson refuses data
nested past 254 levels, which the loader reads (up to 1024)."""
CUT = "…"


_LOUD = re.compile(rb"\xc2[\x80-\x9f]|\xd8\x9c|\xe2\x80[\x8e\x8f\xa8-\xae]|\xe2\x81[\xa6-\xa9]")
"""UTF-8 of the characters orjson writes raw that a terminal obeys or a viewer reorders text
by: C1 controls (U+0080-U+009F), the Arabic letter mark (U+061C), LRM/RLM (U+200E/F), line
and paragraph separators and bidi embeddings and overrides (U+2028-U+202E), bidi isolates
(U+2066-U+2069). orjson escapes the C0 controls itself. JSON's own syntax is ASCII, so these
bytes occur only inside strings, where a ``\\u`` escape means the same character."""


def _escaped(found: re.Match[bytes]) -> bytes:
    return b"\\u%04x" % ord(found.group().decode())


def quiet(data: bytes) -> bytes:
    """JSON text ``data`` with the characters ``_LOUD`` finds written as ``\\u`` escapes:
    the same JSON value. Text without their lead bytes (the usual case: ASCII paths and
    names) costs three byte searches, not a regex scan."""
    if b"\xc2" in data or b"\xe2" in data or b"\xd8" in data:
        return _LOUD.sub(_escaped, data)
    return data


def dumps(value: Any) -> bytes:
    """``value`` as JSON (``quiet``). What orjson refuses is written cut (``_clipped``),
    never half a file: the usual case pays for one attempt only."""
    try:
        return quiet(orjson.dumps(value))
    except TypeError:
        return quiet(orjson.dumps(_clipped(value, 0)))


def _clipped(value: Any, depth: int) -> Any:
    """``value`` with its containers past ``DEPTH`` levels as ``CUT`` and integers outside
    64 bits as strings."""
    if isinstance(value, dict | list | tuple):
        if depth >= DEPTH:
            return CUT
        if isinstance(value, dict):
            return {key: _clipped(item, depth + 1) for key, item in value.items()}
        return [_clipped(item, depth + 1) for item in value]
    if type(value) is int and not -(2**63) <= value < 2**64:
        return str(value)
    return value


class TraceWriter:
    """Writes one Chrome trace object to ``out``, an open text file (``tracer.export.writing``):
    its ``traceEvents`` as they come (``events``), the rest at ``close``.

    ``stdout``: ``out`` is standard output. JSON is UTF-8 (orjson writes it so), so the bytes
    go to its binary buffer, whatever encoding the text stream has, and a newline ends them.
    """

    def __init__(self, out: IO[str], *, stdout: bool = False) -> None:
        self.out = out
        self.stdout = stdout
        self.raw = out.buffer if stdout and hasattr(out, "buffer") else None
        if self.raw is not None:
            out.flush()  # what the text stream holds goes out before the bytes
        self.written = 0
        """How many trace events were written."""
        self._first = True
        self._write(b'{"traceEvents":[')

    def _write(self, data: bytes) -> None:
        if self.raw is not None:
            self.raw.write(data)
        else:
            self.out.write(data.decode())

    def events(self, batch: list[dict[str, Any]]) -> None:
        """Write trace events: a slice at a time, as one JSON array whose brackets are
        dropped."""
        for at in range(0, len(batch), SLICE):
            data = dumps(batch[at : at + SLICE])[1:-1]
            self._write(data if self._first else b"," + data)
            self._first = False
        self.written += len(batch)

    def close(self, trace: dict[str, Any]) -> None:
        """Write the last trace events (``trace["traceEvents"]``) and the rest of ``trace``."""
        self.events(trace["traceEvents"])
        rest = {key: value for key, value in trace.items() if key != "traceEvents"}
        self._write(b"]," + dumps(rest)[1:])
        if self.stdout:
            self._write(b"\n")
        if self.raw is not None:
            self.raw.flush()
