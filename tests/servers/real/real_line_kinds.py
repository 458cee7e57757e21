"""Apps whose requests make every kind of event the shims record in a real server, for the
test that a recording's lines are the same whether made from the rows or from ``Event``
objects (served by the real-server tests from this folder)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

__all__ = ["asgi_app", "wsgi_app"]


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``/``: reads the body and answers in two parts with a header of non-ASCII text;
    ``/block``: holds the loop 120 ms; ``/violate``: a body before its start; ``/raise``:
    raises after the start."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    path = scope["path"]
    if path == "/violate":
        await send({"type": "http.response.body", "body": b"x"})
        return
    message = await receive()
    if path == "/block":
        time.sleep(0.12)  # the loop held: loop.blocked
    headers = [(b"content-type", b"text/plain"), (b"x-word", "naïve ☃".encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    if path == "/raise":
        raise RuntimeError("after the start: ☃")
    await send({"type": "http.response.body", "body": message.get("body", b""), "more_body": True})
    await send({"type": "http.response.body", "body": b" done"})


class _Body:
    """A response iterable with ``close`` (wsgi.body, wsgi.close)."""

    def __init__(self, parts: list[bytes]) -> None:
        self.parts = parts

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.parts)

    def close(self) -> None:
        """Nothing to release."""


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
    """``/``: reads the body, writes through ``write`` and returns a closable body;
    ``/raise``: raises before any response; ``/twice``: starts its response twice."""
    path = environ.get("PATH_INFO", "/")
    if path == "/raise":
        raise RuntimeError("before the response: ☃")
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    write = start_response("200 OK", [("Content-Type", "text/plain"), ("X-Word", "naive")])
    if path == "/twice":
        start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"written ")
    return _Body([body, b" done"])
