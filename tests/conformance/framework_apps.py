"""Real Flask and FastAPI apps with ordinary routes: the checker must find nothing in them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import PlainTextResponse, StreamingResponse
from flask import Flask, Response, jsonify, request

flask_app = Flask(__name__)
FLASK_PATHS = ["/", "/stream", "/missing"]
FASTAPI_PATHS = ["/", "/sync", "/stream", "/ws", "/missing"]


@flask_app.route("/", methods=["GET", "POST"])
def index() -> Any:
    """Text on GET, the body size as JSON on POST."""
    if request.method == "POST":
        return jsonify(got=len(request.get_data()))
    return "hello"


@flask_app.route("/stream")
def stream() -> Response:
    """A streamed body from a generator."""

    def lines() -> Iterator[str]:
        for i in range(3):
            yield f"{i}\n"

    return Response(lines(), mimetype="text/plain")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Nothing to set up; FastAPI still answers the lifespan protocol."""
    yield


api = FastAPI(lifespan=lifespan)


@api.get("/")
async def root() -> dict[str, str]:
    """JSON from an async route."""
    return {"hello": "world"}


@api.post("/")
async def post(body: dict[str, Any]) -> dict[str, Any]:
    """Echo a JSON body."""
    return {"got": body}


@api.get("/sync")
def sync_route() -> PlainTextResponse:
    """A sync route: Starlette runs it in its thread pool."""
    return PlainTextResponse("sync")


@api.get("/stream")
async def stream_api() -> StreamingResponse:
    """A streamed body from an async generator."""

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(3):
            yield f"{i}\n".encode()

    return StreamingResponse(chunks(), media_type="text/plain")


@api.websocket("/ws")
async def echo(websocket: WebSocket) -> None:
    """Echo text frames until the client leaves."""
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass
