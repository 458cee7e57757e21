"""A FastAPI app (ASGI): async and sync routes, a blocking mistake, a body echo, a websocket.

Needs the ``frameworks`` extra (``pip install 'gateway-tracer[frameworks]'``).
``/io`` awaits ``asyncio.sleep``; ``/sync`` is a plain ``def`` route, run in Starlette's thread
pool; ``/blocking`` calls ``time.sleep`` inside ``async def`` and blocks the loop.
"""

from __future__ import annotations

import asyncio
import time

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import PlainTextResponse, Response

__all__ = ["app"]

app = FastAPI()


@app.get("/", response_class=PlainTextResponse)
async def index() -> str:
    """Hello."""
    return "Hello, World!"


@app.get("/io", response_class=PlainTextResponse)
async def io_bound(ms: float = 100) -> str:
    """Wait ``ms`` milliseconds without blocking the loop."""
    await asyncio.sleep(ms / 1000)
    return "done"


@app.get("/sync", response_class=PlainTextResponse)
def sync_route(ms: float = 100) -> str:
    """A sync route: FastAPI runs it on a worker thread (anyio's pool)."""
    time.sleep(ms / 1000)
    return "done"


@app.get("/blocking", response_class=PlainTextResponse)
async def blocking(ms: float = 100) -> str:
    """The mistake: ``time.sleep`` inside ``async def`` holds the event loop."""
    time.sleep(ms / 1000)
    return "done"


@app.post("/echo")
async def echo(request: Request) -> Response:
    """Send the request body back."""
    return Response(await request.body(), media_type="application/octet-stream")


@app.websocket("/ws")
async def websocket_echo(websocket: WebSocket) -> None:
    """Echo every text message until the client leaves."""
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        return
