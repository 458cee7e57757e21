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
Imports only ``tracer.events``.
"""

from __future__ import annotations

import json
import marshal
import struct
from collections.abc import Sequence
from typing import Any

from tracer.events import unpack_row

__all__ = ["encode", "FrameReader"]

_LENGTH = struct.Struct("<I")


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

    __slots__ = ("_rest",)

    def __init__(self) -> None:
        self._rest = b""

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
            rows.extend(marshal.loads(buf[offset + 4 : end]))
            offset = end
        self._rest = buf[offset:]
        return rows

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back."""
        return len(self._rest)
