"""``Unheard``: the server's ``send`` once an ASGI app's peer is gone.

Once the app knows its peer is gone (it received a disconnect, its own ``websocket.close``
went out, the server's send raised an ``OSError``), what it sends still goes to the server
and is recorded, but counts in neither ``request.end``'s status nor its ``bytes_out``. The
cycle installs an ``Unheard`` as its ``send`` on that rare path only, so a request whose peer
stays pays nothing for it. Imports ``tracer.shim.messages``; never the TUI, exporters,
server models or CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracer.shim.frames import mark_wrapper
from tracer.shim.messages import summarize_message

if TYPE_CHECKING:
    from tracer.shim.asgi import Message, Send

__all__ = ["Unheard"]


class Unheard:
    """The server's ``send`` once the app's peer is gone: what goes through it from then on
    reaches nobody (every server drops it, or its connection is closed), so ``request.end``
    takes it back out of the counts."""

    __slots__ = ("server_send", "status", "bytes_out")

    def __init__(self, server_send: Send, status: int | None) -> None:
        self.server_send = server_send
        self.status = status
        """The request's status when the peer went: the one ``request.end`` keeps."""
        self.bytes_out = 0
        """Bytes of the sends the server took since: taken back from ``bytes_out``."""

    async def send(self, message: Message) -> None:
        """The server's ``send``, then the size of what it took noted (no reference kept):
        the size as sent, read before middleware further out may change the message."""
        size = summarize_message(message)[2]  # never raises: a malformed message reads as None
        await self.server_send(message)
        if size:
            self.bytes_out += size


mark_wrapper(Unheard.send.__code__, "send")
