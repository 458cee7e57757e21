"""A WSGI app whose response list has a broken ``__len__``, one way per path (served by the
real-server tests from this folder): waitress asks ``len()`` for a Content-Length."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["app"]


class _Body(list[bytes]):
    """A one-chunk response whose ``__len__`` answers what ``how`` says."""

    def __init__(self, how: str) -> None:
        super().__init__([b"hello"])
        self.how = how

    def __len__(self) -> Any:
        if self.how == "/raises":
            raise LookupError("no length")
        return -1 if self.how == "/negative" else "one"


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """``/raises``: ``__len__`` raises; ``/negative``: returns -1; ``/not-an-int``: a str."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return _Body(environ["PATH_INFO"])
