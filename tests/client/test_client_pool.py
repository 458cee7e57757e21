"""The pool: one awaited request at a time, connections reused per request shape."""

from __future__ import annotations

import asyncio

import pytest
from client_servers import HOST, serve_hypercorn, serve_uvicorn

from tracer import events as K
from tracer.client.pool import Pool
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)


def test_requests_reuse_connections_and_record() -> None:
    """20 sequential requests reuse one connection; 5 concurrent ones need 5; outcomes carry
    status and body size; each request is recorded under the id given."""
    recorder = Recorder()

    async def main(port: int) -> tuple[list[object], int, int]:
        pool = Pool(HOST, port, recorder=recorder)
        results = [await pool.request(i, "/", timeout=10) for i in range(1, 21)]
        sequential = pool.stats.connections
        results += await asyncio.gather(*(pool.request(i, "/", timeout=10) for i in range(21, 26)))
        pool.close()
        return results, sequential, pool.stats.connections

    with serve_uvicorn() as port:
        results, sequential, total = asyncio.run(main(port))
    assert sequential == 1 and total == 5
    assert results[0] == (200, len(b"req=1"), None)
    assert len(results) == 25 and all(r[0] == 200 for r in results)
    assert {e.req for e in recorder.events if e.kind == K.CLIENT_RESPONSE} == set(range(1, 26))


def test_timeout_returns_an_outcome() -> None:
    """A request slower than its timeout comes back as (None, 0, "timeout") and the pool goes on."""

    async def main(port: int) -> tuple[object, object]:
        pool = Pool(HOST, port)
        slow = await pool.request(1, "/slow?ms=2000", timeout=0.1)
        fast = await pool.request(2, "/", timeout=10)
        pool.close()
        return slow, fast

    with serve_uvicorn() as port:
        slow, fast = asyncio.run(main(port))
    assert slow == (None, 0, "timeout")
    assert fast == (200, len(b"req=2"), None)


def test_a_kept_alive_connection_closed_under_a_request_is_retried_once() -> None:
    """A server that answers one request per connection and then closes it as the next one
    arrives, without a response (uvicorn after an app error): the next request goes again on
    a new connection instead of failing as ConnectionResetError. A request on a fresh
    connection that gets no answer still fails."""
    answered: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        if b"/silent" in head:
            writer.close()
            return
        answered.append(1)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")  # the next request on this connection: dropped
        writer.close()

    async def main() -> tuple[list[object], object, int]:
        server = await asyncio.start_server(handle, HOST, 0)
        port = server.sockets[0].getsockname()[1]
        pool = Pool(HOST, port, recorder=Recorder())
        results = [await pool.request(i, "/", timeout=10) for i in range(1, 6)]
        silent = await pool.request(6, "/silent", timeout=10)
        pool.close()
        server.close()
        await server.wait_closed()
        return results, silent, pool.stats.connections

    results, silent, connections = asyncio.run(main())
    assert results == [(200, 2, None)] * 5 and len(answered) == 5
    assert connections >= 5
    assert silent == (None, 0, "ConnectionResetError")


@pytest.mark.parametrize(
    "method,close_after,resent",
    [("POST", 0.0, False), ("GET", 0.2, False), ("PUT", 0.0, True)],
    ids=["a POST is never sent twice", "a late close is the app's failure", "PUT is idempotent"],
)
def test_a_request_is_sent_again_only_when_that_is_safe(
    method: str, close_after: float, resent: bool
) -> None:
    """Sent again only for an idempotent method (RFC 9110) and a close that came right away:
    a POST, or a connection that closed 200 ms into the request (the app died on it), is that
    request's failure, shown as such."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().partition(b"content-length:")[2].split(b"\r\n")[0] or 0)
            await reader.readexactly(length)
            seen.append(head.split(b" ")[0])
            if len(seen) == 2:  # the second request: the connection closes under it
                await asyncio.sleep(close_after)
                writer.close()
                return
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    recorder = Recorder()

    async def main() -> list[object]:
        server = await asyncio.start_server(handle, HOST, 0)
        port = server.sockets[0].getsockname()[1]
        pool = Pool(HOST, port, recorder=recorder)
        results = [await pool.request(i, "/", method=method, body=b"x", timeout=10) for i in (1, 2)]
        pool.close()
        server.close()
        await server.wait_closed()
        return results

    first, second = asyncio.run(main())
    assert first == (200, 2, None)
    if resent:
        assert second == (200, 2, None) and len(seen) == 3
    else:
        assert second == (None, 0, "ConnectionResetError") and len(seen) == 2
    # The recording says which request went out twice (the server may have seen it twice).
    flags = {e.req: e.data.get("resent") for e in recorder.events if e.kind == K.CLIENT_RESPONSE}
    assert flags == {1: None, 2: True if resent else None}


@pytest.mark.parametrize("http2", [False, True], ids=["HTTP/1.1", "HTTP/2"])
def test_each_request_is_recorded_with_its_own_method(http2: bool) -> None:
    """The pool carries requests of several shapes on one client (trace run's load against a
    real server): client.send and request.queued name the method each request went out
    with, not the pool's default; a WebSocket session's upgrade is a GET."""
    from tracer.client import ClientConfig

    recorder = Recorder()
    methods = ["PUT", "POST", "HEAD", "DELETE", "PATCH"]

    async def main(port: int) -> list[object]:
        pool = Pool(HOST, port, ClientConfig(http2=http2), recorder=recorder)
        results: list[object] = [
            await pool.request(i, "/count", method=method, body=b"abc", timeout=10)
            for i, method in enumerate(methods, 1)
        ]
        results.append(await pool.request(9, "/ws", method="GET", ws_messages=1, timeout=10))
        pool.close()
        return results

    with serve_hypercorn() as port:
        results = asyncio.run(main(port))
    assert [r[0] for r in results] == [200] * len(methods) + [101]  # type: ignore[index]
    for kind in (K.CLIENT_SEND, K.REQUEST_QUEUED):
        recorded = {e.req: e.data["method"] for e in recorder.events if e.kind == kind}
        assert recorded == {**dict(enumerate(methods, 1)), 9: "GET"}
    sent = {e.req: e.data["bytes"] for e in recorder.events if e.kind == K.CLIENT_SEND}
    assert sent == {**{i: 3 for i in range(1, len(methods) + 1)}, 9: 0}
