"""A WSGI app that fails at each point of its response, one path per point (served by the
real-server tests from this folder)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["app"]

HEADERS = [("Content-Type", "text/plain")]


class _FailingClose:
    """A whole body whose ``close()`` raises."""

    def __iter__(self) -> Iterator[bytes]:
        yield b"all of it"

    def close(self) -> None:
        raise RuntimeError("in close")


def _body(path: str, start_response: Callable[..., Any]) -> Iterator[bytes]:
    start_response("200 OK", HEADERS)
    if path == "/empty-then":
        yield b""
    elif path == "/after-bytes":
        yield b"part"
    raise RuntimeError(f"in the body of {path}")


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    """``/call``: raises in the call after ``start_response``; ``/first``, ``/empty-then``,
    ``/after-bytes``: a generator that raises before any chunk, after an empty one, after a
    non-empty one; ``/close``: a whole body whose ``close()`` raises."""
    path = environ["PATH_INFO"]
    if path == "/call":
        start_response("200 OK", HEADERS)
        raise RuntimeError("in the call")
    if path == "/close":
        start_response("200 OK", HEADERS)
        return _FailingClose()
    return _body(path, start_response)
