"""``read_what_is_left``: the bytes a server sent that a transport broken on a write never read.

asyncio stops reading a connection whose write failed (the server answered and closed while
the client still sent): the response may already be in the socket, which stays open until
``connection_lost`` returns. Imports nothing of ours.
"""

from __future__ import annotations

import asyncio
import socket

__all__ = ["read_what_is_left"]


def read_what_is_left(transport: asyncio.BaseTransport, limit: int) -> bytes:
    """What the server sent that ``transport`` had not read when it broke on a write, at most
    ``limit`` bytes. The kernel keeps the bytes that came before the server's reset, so they
    are read here, from a duplicate of the transport's socket."""
    sock = transport.get_extra_info("socket")
    if sock is None or sock.fileno() < 0:
        return b""
    chunks: list[bytes] = []
    size = 0
    try:
        with socket.fromfd(sock.fileno(), sock.family, sock.type) as dup:
            dup.setblocking(False)  # as the transport's socket is: it shares its flags
            while size < limit:
                chunk = dup.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    except OSError:  # nothing more to read yet, or the reset once the bytes are read
        pass
    return b"".join(chunks)
