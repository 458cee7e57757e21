"""``InFlight``: the client's requests to a real server not yet answered, and how far the
server got with each, as its merged events tell.

When the run stops, the client gives up on every request in flight. How each then ends
depends on what the server did with it, which is known only once the server has stopped and
its events are merged: the app never saw it (it ends, cancelled, when its client left), the
app finished it (the shim's ``request.end`` is its one end), or the server was stopped with the
app still on it (it ends, cancelled, then). An end the load generator records itself (its
client's timeout, the run's stop) counts the request body the app had read (``read``), as the
shim's end does, from the reads the server's events tell. The client's loop adds and drops
requests; the merging thread notes their starts, reads and ends. Imports only the spine.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tracer import events as K

__all__ = ["InFlight", "SENT", "STARTED", "ENDED"]

SENT = 0
"""The server has recorded nothing of the request (yet)."""
STARTED = 1
"""The app has it: ``request.start`` and no end."""
ENDED = 2
"""The server ended it (its ``request.end``)."""


class InFlight:
    """Requests sent and not answered, each with what the server recorded of it."""

    __slots__ = ("_seen", "_left")

    def __init__(self) -> None:
        # One mutable cell per request: the merging thread only writes into a cell it found,
        # never adds a key, so a request dropped meanwhile by the client's loop leaves
        # nothing behind (a key set after the drop would stay for the rest of the run).
        # The cell: [state, body bytes the app has read].
        self._seen: dict[int, list[int]] = {}
        self._left: dict[int, list[int]] = {}
        """Requests whose client closed on purpose (``--read-for``, ``--read-bytes``) while
        the server had not ended them: watched until their end, which a server that drops
        the app's sends to a gone client (uvicorn) may hold back until the app ends."""

    def sent(self, req: int) -> None:
        """Request ``req`` went out (client loop)."""
        self._seen[req] = [SENT, 0]

    def left(self, req: int) -> None:
        """The client of ``req`` closed on purpose (client loop, before ``answered``): keep
        watching for the server's end of it."""
        cell = self._seen.get(req)
        if cell is not None and cell[0] != ENDED:
            self._left[req] = cell

    def left_running(self) -> int:
        """Requests whose client closed on purpose and that the server has not ended, as
        far as the events merged so far tell: the app still has them."""
        return sum(1 for cell in list(self._left.values()) if cell[0] != ENDED)

    def answered(self, req: int) -> None:
        """Forget request ``req``: its client has its outcome (client loop)."""
        self._seen.pop(req, None)

    def state(self, req: int) -> int:
        """``SENT``, ``STARTED`` or ``ENDED`` for a request still held (``SENT`` otherwise)."""
        cell = self._seen.get(req)
        return SENT if cell is None else cell[0]

    def read(self, req: int) -> int:
        """The request body bytes the app has read of ``req`` as far as the events merged so
        far tell (its ``wsgi.input.read`` and ``asgi.receive`` events), 0 for one not held."""
        cell = self._seen.get(req)
        return 0 if cell is None else cell[1]

    def note(self, rows: Iterable[Sequence[Any]]) -> None:
        """Take the starts, reads and ends of held requests from merged event rows (merging
        thread)."""
        seen, left = self._seen, self._left
        if not seen and not left:
            return
        for row in rows:
            kind = row[2]
            if kind in _READS:
                cell = seen.get(row[3])
                if cell is not None:
                    cell[1] += _bytes(row)
            elif kind == K.REQUEST_END:
                cell = seen.get(row[3])
                if cell is not None:
                    cell[0] = ENDED
                ended = left.pop(row[3], None)
                if ended is not None:
                    ended[0] = ENDED
            elif kind == K.REQUEST_START:
                cell = seen.get(row[3])
                if cell is not None and cell[0] == SENT:
                    cell[0] = STARTED


_READS = frozenset((K.WSGI_INPUT_READ, K.ASGI_RECEIVE))
"""The kinds whose ``bytes`` the shim adds to a request's ``bytes_in``."""


def _bytes(row: Sequence[Any]) -> int:
    """The ``bytes`` of a merged row: in its data dict, or among a packed row's values (its
    keys at index 9, their values after). 0 where it has none (a read that raised)."""
    keys = row[9]
    if type(keys) is dict:
        size = keys.get("bytes")
    else:
        try:
            size = row[10 + keys.index("bytes")]
        except (ValueError, IndexError, AttributeError):
            return 0
    return size if type(size) is int and size > 0 else 0
