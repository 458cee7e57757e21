"""HTTP/2 receive windows: the client advertises large ones, so a big response flows without
waiting for a WINDOW_UPDATE every 32 KiB (hypercorn, through a proxy that reads the frames
the client sends)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from client_servers import HOST, serve_hypercorn

from tracer.client import ClientConfig
from tracer.client.pool import Pool

pytestmark = pytest.mark.timeout(60)

SIZE = 10_000_000
WINDOW_UPDATE, SETTINGS = 0x8, 0x4
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


async def big_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """10 MB in 1 MB body messages, with its Content-Length."""
    if scope["type"] != "http":
        return
    headers = [(b"content-length", str(SIZE).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    part = b"x" * 1_000_000
    for n in range(SIZE // len(part)):
        more = n < SIZE // len(part) - 1
        await send({"type": "http.response.body", "body": part, "more_body": more})


class _Frames:
    """The frames the client sent through the proxy: count by type, SETTINGS values."""

    def __init__(self) -> None:
        self.buf = b""
        self.preface = False
        self.types: Counter[int] = Counter()
        self.settings: dict[int, int] = {}
        self.increments = 0

    def feed(self, data: bytes) -> None:
        self.buf += data
        if not self.preface:
            if len(self.buf) < len(PREFACE):
                return
            assert self.buf.startswith(PREFACE)
            self.buf, self.preface = self.buf[len(PREFACE) :], True
        while len(self.buf) >= 9:
            size = int.from_bytes(self.buf[:3], "big")
            if len(self.buf) < 9 + size:
                return
            kind, payload = self.buf[3], self.buf[9 : 9 + size]
            self.buf = self.buf[9 + size :]
            self.types[kind] += 1
            if kind == SETTINGS:
                for at in range(0, len(payload), 6):
                    key = int.from_bytes(payload[at : at + 2], "big")
                    self.settings[key] = int.from_bytes(payload[at + 2 : at + 6], "big")
            elif kind == WINDOW_UPDATE:
                self.increments += int.from_bytes(payload, "big") & 0x7FFFFFFF


async def _through_proxy(port: int, frames: _Frames, count: int) -> list[Any]:
    """``count`` HTTP/2 requests one after another to ``port`` through a proxy that hands
    the client's bytes to ``frames``."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tap: Any) -> None:
        try:
            while data := await reader.read(1 << 20):
                if tap is not None:
                    tap(data)
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    tasks: list[asyncio.Task[None]] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(HOST, port)
        tasks.append(asyncio.ensure_future(pipe(reader, up_writer, frames.feed)))
        tasks.append(asyncio.ensure_future(pipe(up_reader, writer, None)))

    proxy = await asyncio.start_server(accept, HOST, 0)
    pool = Pool(HOST, proxy.sockets[0].getsockname()[1], ClientConfig(http2=True))
    try:
        return [await pool.request(n, "/", timeout=20) for n in range(1, count + 1)]
    finally:
        pool.close()
        proxy.close()
        await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def test_a_10_mb_response_needs_few_window_updates() -> None:
    """Two 10 MB responses on one connection: the client's first SETTINGS advertise a 16 MiB
    stream window and its first WINDOW_UPDATE opens the connection's; after that a handful of
    WINDOW_UPDATEs, not one per 32 KiB read (about 600 per response with 64 KiB windows)."""
    frames = _Frames()
    with serve_hypercorn(big_app) as port:
        outcomes = asyncio.run(_through_proxy(port, frames, 2))
    assert outcomes == [(200, SIZE, None)] * 2
    assert frames.settings[0x4] >= SIZE  # SETTINGS_INITIAL_WINDOW_SIZE
    assert frames.types[WINDOW_UPDATE] <= 6
    # Room for both responses without the server ever waiting on a full connection window.
    assert frames.increments >= 2 * SIZE - 65_535
