"""Real servers on 127.0.0.1 in a background thread, and a raw ASGI app, for the client tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tracer import events as K
from tracer.recorder import Recorder
from tracer.servers.real.harness import HOST, free_port
from tracer.summary import peak_in_flight

__all__ = [
    "seen", "raw_app", "serve_uvicorn", "serve_hypercorn", "serve_raw", "HOST", "in_flight_max",
]  # fmt: skip

seen: list[dict[str, Any]] = []
"""Scopes the test app received (http_version, path, query, request id header), in order."""


def in_flight_max(recorder: Recorder) -> int:
    """The most requests the client had between ``client.send`` and ``client.response``."""
    events = recorder.recording().events
    return peak_in_flight(
        (e.t for e in events if e.kind == K.CLIENT_SEND),
        (e.end for e in events if e.kind == K.CLIENT_RESPONSE),
    )


async def raw_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The client tests' app; answers by path: ``/`` (content-length), ``/chunked``, ``/empty`` (204), ``/big``,
    ``/slow?ms=N``, ``/count`` (the request body's length), ``/ws`` (websocket echo); the body names the request id header it got.
    Responses cut short: ``/cut`` (5 body bytes, then the app raises), ``/stall`` (5 body bytes,
    then nothing until the client leaves), ``/ws-stall`` (a session accepted, then silence)."""
    if scope["type"] == "lifespan":
        return
    headers = dict(scope.get("headers") or ())
    req = headers.get(b"x-gateway-tracer-req", b"")
    seen.append(
        {
            "path": scope["path"],
            "query": scope.get("query_string", b""),
            "http_version": scope.get("http_version"),
            "req": req,
        }
    )
    if scope["type"] == "websocket":
        if scope["path"] == "/ws-stall":
            await receive()
            await send({"type": "websocket.accept"})
            while (await receive())["type"] != "websocket.disconnect":
                pass  # never answers
            return
        if scope["path"] != "/ws":  # refuse: the server answers the handshake with 403
            await receive()
            await send({"type": "websocket.close"})
            return
        while True:
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.accept"})
            elif message["type"] == "websocket.receive":
                await send({"type": "websocket.send", "text": message.get("text") or ""})
            else:
                return
    path = scope["path"]
    if path == "/count":  # reads the whole request body, answers its length
        size, more = 0, True
        while more:
            message = await receive()
            size += len(message.get("body", b""))
            more = message.get("more_body", False)
        body = str(size).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})
        return
    if path in ("/cut", "/stall"):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part1", "more_body": True})
        if path == "/cut":
            raise RuntimeError("boom mid-body")
        while (await receive())["type"] != "http.disconnect":
            pass  # the rest never comes
        return
    if path == "/slow":
        await asyncio.sleep(int(scope["query_string"].split(b"=")[1]) / 1000)
    if path == "/empty":
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    if path == "/chunked":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"req=", req, b"\n", b"x" * 5000):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    body = b"x" * 100_000 if path == "/big" else b"req=" + req
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _wait(flag: Any, what: str) -> None:
    for _ in range(500):
        if flag():
            return
        threading.Event().wait(0.01)
    raise RuntimeError(f"{what} did not start")


@contextmanager
def serve_uvicorn(app: Any = raw_app) -> Iterator[int]:
    """uvicorn serving ``app`` in a thread; yields its port."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host=HOST, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _wait(lambda: server.started, "uvicorn")
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def serve_hypercorn(app: Any = raw_app) -> Iterator[int]:
    """hypercorn (HTTP/1.1 and HTTP/2 cleartext) serving ``app`` in a thread; yields its port."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    port = free_port()
    config = Config()
    config.bind = [f"{HOST}:{port}"]
    config.loglevel = "WARNING"
    stop: dict[str, Any] = {}
    started = threading.Event()

    async def main() -> None:
        stop["event"] = asyncio.Event()
        stop["loop"] = asyncio.get_running_loop()
        started.set()
        await serve(app, config, shutdown_trigger=stop["event"].wait)  # type: ignore[arg-type]

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    started.wait(5)

    def accepts() -> bool:
        import socket

        try:
            socket.create_connection((HOST, port), timeout=0.2).close()
            return True
        except OSError:
            return False

    _wait(accepts, "hypercorn")
    try:
        yield port
    finally:
        stop["loop"].call_soon_threadsafe(stop["event"].set)
        thread.join(10)


@contextmanager
def serve_raw(answer: Callable[[int, asyncio.StreamWriter], Awaitable[None]]) -> Iterator[int]:
    """An asyncio server on 127.0.0.1 answering each request head with ``await answer(req,
    writer)`` (``req``: the request id header's value), keeping connections alive."""
    loop = asyncio.new_event_loop()
    handlers: set[asyncio.Task[Any]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                req = int(head.split(b"x-gateway-tracer-req: ")[1].split(b"\r\n")[0])
                await answer(req, writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            handlers.discard(task)

    server = loop.run_until_complete(asyncio.start_server(handle, HOST, 0))
    port = server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield port
    finally:

        async def stop() -> None:
            server.close()
            for task in list(handlers):  # an answer still pending (one that never comes)
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
            await server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
