"""The per-process event stream between a server process and the parent: marshal frames.

A server process writes batches of the recorder's raw event rows (``tracer.events.FIELDS``
order, either plain with a ``data`` dict or packed as ``(..., dur, keys, *values)``, see
``tracer.recorder.Sink``: the shims' rows go out exactly as they were queued) as
``<4-byte little-endian length><marshal payload>`` frames: marshal is C code, several times
cheaper than JSON per event, and this stream never leaves the machine or the run (the
parent turns it into the JSON Lines recording). ``marshal`` loads only plain data (no code, no
objects), and the files live in a private temporary folder of the run. A batch holding a value
marshal cannot carry falls back to a JSON round trip (its rows unpacked first) with ``str``
for the odd value; its rows read back as lists. Within one frame, rows sharing a ``keys``
tuple read back sharing one copy of it (marshal keeps references).

How often frames come: every ``FLUSH_INTERVAL`` (``tracer.servers.real.bootstrap``) while the
process records little; after a timed write of ``BUSY_ROWS`` rows or more, the next one comes
``BUSY_FLUSH_INTERVAL`` later (each wake-up of the writer thread takes the GIL from the
server's loop, a cost per write that a busy server paid 50 times a second). The reader of a
stream can tell which from the size of its last frame (``FrameReader.last_rows``).
Imports only ``tracer.events``.
"""

from __future__ import annotations

import json
import marshal
import struct
from collections.abc import Sequence
from typing import Any

from tracer.events import unpack_row

__all__ = ["BUSY_FLUSH_INTERVAL", "BUSY_ROWS", "encode", "FrameReader"]

_LENGTH = struct.Struct("<I")

BUSY_ROWS = 64
"""A timed write of this many rows or more (some 13 requests of a hello world in 20 ms) is
followed by the next one ``BUSY_FLUSH_INTERVAL`` later, not ``FLUSH_INTERVAL``."""

BUSY_FLUSH_INTERVAL = 0.1
"""Seconds between a busy server process's writes (still under the parent's merge interval,
0.2 s, so its live view is as fresh as before): what a process killed outright under load
loses at most."""


def encode(rows: Sequence[tuple[Any, ...]]) -> bytes:
    """One frame holding ``rows`` (lists of event fields)."""
    try:
        payload = marshal.dumps(list(rows))
    except ValueError:  # an object marshal does not know: keep the batch, stringify the value
        plain = [unpack_row(row) for row in rows]  # a JSON round trip would list the keys
        payload = marshal.dumps(json.loads(json.dumps(plain, default=str)))
    return _LENGTH.pack(len(payload)) + payload


class FrameReader:
    """Splits a growing byte stream into frames; keeps an incomplete frame for the next feed."""

    __slots__ = ("_rest", "last_rows")

    def __init__(self) -> None:
        self._rest = b""
        self.last_rows = 0
        """Rows of the last complete frame read (0 before any): ``BUSY_ROWS`` or more says
        its writer's next timed write may come ``BUSY_FLUSH_INTERVAL`` after it."""

    def feed(self, data: bytes) -> list[Sequence[Any]]:
        """The event rows of every frame completed by ``data``."""
        buf = self._rest + data if self._rest else data
        rows: list[Sequence[Any]] = []
        offset = 0
        size = len(buf)
        while size - offset >= 4:
            (length,) = _LENGTH.unpack_from(buf, offset)
            end = offset + 4 + length
            if end > size:
                break
            frame = marshal.loads(buf[offset + 4 : end])
            rows.extend(frame)
            self.last_rows = len(frame)
            offset = end
        self._rest = buf[offset:]
        return rows

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back."""
        return len(self._rest)
