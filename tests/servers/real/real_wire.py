"""Apps whose answers show what crossed the wire (imported by the real servers from this folder).

``/headers`` answers 409 when the app can see the load generator's request-id header (it must
not), else 200. ``/file`` sends ``FILE_BYTES`` through ``wsgi.file_wrapper`` (WSGI);
``/head`` declares and sends 1000 bytes (a server sends none of them to a HEAD); ``/ignore``
answers without reading the request body; ``/stall`` sends 5 body bytes, then nothing until
the client leaves; a websocket at ``/deny`` is denied with a 401 response (ASGI).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

__all__ = ["asgi_app", "wsgi_app", "FILE_BYTES"]

FILE_BYTES = 307_200
_ID_HEADER = b"x-gateway-tracer-req"


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The ASGI side (no lifespan: servers then run without it)."""
    if scope["type"] == "lifespan":
        return
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        start = {"type": "websocket.http.response.start", "status": 401, "headers": []}
        await send(start)
        await send({"type": "websocket.http.response.body", "body": b"nope"})
        return
    path = scope["path"]
    status, body = 200, b"ok"
    if path == "/headers":
        names = [name for name, _ in scope["headers"]]
        status = 409 if _ID_HEADER in names else 200
    elif path == "/head":
        body = b"x" * 1000
    elif path == "/stall":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part1", "more_body": True})
        while (await receive())["type"] != "http.disconnect":
            pass
        return
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """The WSGI side."""
    path = environ["PATH_INFO"]
    if path == "/file":
        start_response("200 OK", [("Content-Length", str(FILE_BYTES))])
        wrapper = environ["wsgi.file_wrapper"]
        return wrapper(io.BytesIO(b"f" * FILE_BYTES), 65536)  # type: ignore[no-any-return]
    if path == "/headers":
        seen = "HTTP_X_GATEWAY_TRACER_REQ" in environ
        start_response("409 Conflict" if seen else "200 OK", [("Content-Length", "2")])
        return [b"ok"]
    # "/ignore" and the rest: the request body is never read.
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]
