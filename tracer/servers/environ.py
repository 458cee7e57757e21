"""Building a WSGI environ from a ``Request``, as a real WSGI server (waitress) does.

Also the small pieces the WSGI models share: the client/server addresses a request appears to
come from and the default status line parser. Imports only ``tracer.servers``.
"""

from __future__ import annotations

import io
import sys
from typing import Any
from urllib.parse import unquote_to_bytes

from tracer.servers import Request

__all__ = [
    "FileWrapper",
    "REQ_KEY",
    "SERVER_ADDRESS",
    "body_headers",
    "build_environ",
    "client_address",
    "parse_status",
]

REQ_KEY = "gateway_tracer.req"
"""The environ key carrying the request id from the server model to the WSGI shim."""

SERVER_ADDRESS = ("127.0.0.1", 8000)
"""Where the in-process server models pretend to listen."""


class FileWrapper:
    """``wsgi.file_wrapper`` (PEP 3333): a file read in blocks; ``close()`` closes the file.

    The server recognises its own wrapper and may send the file its own way, as waitress does.
    """

    def __init__(self, filelike: Any, block_size: int = 32768) -> None:
        self.filelike = filelike
        self.block_size = block_size

    def __iter__(self) -> FileWrapper:
        return self

    def __next__(self) -> bytes:
        data: bytes = self.filelike.read(self.block_size)
        if data:
            return data
        raise StopIteration

    def close(self) -> None:
        """Close the wrapped file, if it can be closed."""
        close = getattr(self.filelike, "close", None)
        if close is not None:
            close()


def client_address(req: int) -> tuple[str, int]:
    """A loopback client address with an ephemeral port that differs between requests."""
    return ("127.0.0.1", 32768 + req % 28000)


def build_environ(
    request: Request,
    req: int,
    *,
    http_version: str = "1.1",
    multiprocess: bool = False,
    errors: Any = None,
) -> dict[str, Any]:
    """The PEP 3333 environ of ``request``; ``wsgi.input`` is a stream over its body."""
    host, port = client_address(req)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method.upper(),
        "SCRIPT_NAME": "",
        # PEP 3333: the path is unquoted to its bytes, carried as latin-1 "bytes in a str", as
        # waitress and gunicorn give it: '/x%ff' is '/x\xff'. (``unquote`` would make the byte
        # a U+FFFD, as the ASGI scope's path rightly has it: uvicorn's does.)
        "PATH_INFO": unquote_to_bytes(request.path).decode("latin-1"),
        "QUERY_STRING": request.query,
        "SERVER_NAME": SERVER_ADDRESS[0],
        "SERVER_PORT": str(SERVER_ADDRESS[1]),
        "SERVER_PROTOCOL": f"HTTP/{http_version}",
        "SERVER_SOFTWARE": "gateway-tracer",
        "REMOTE_ADDR": host,
        "REMOTE_HOST": host,
        "REMOTE_PORT": str(port),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(request.body),
        "wsgi.errors": sys.stderr if errors is None else errors,
        "wsgi.multithread": True,
        "wsgi.multiprocess": multiprocess,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
        "wsgi.file_wrapper": FileWrapper,
        REQ_KEY: req,
    }
    for name, value in body_headers(request):
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        # Repeated headers are joined with commas, as RFC 9110 allows and servers do.
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


_FRAMING = ("content-length", "transfer-encoding")


def body_headers(request: Request) -> list[tuple[str, str]]:
    """``request.headers`` with the framing the server model owns: one ``Content-Length``,
    the body's own length (in the place of the first one given, else last), none without a
    body, and no ``Transfer-Encoding`` (the body is whole). A ``-H`` that said otherwise would
    contradict the body the app reads, as no real server lets it (the network client writes
    these headers itself)."""
    headers = request.headers
    if not any(name.lower() in _FRAMING for name, _ in headers):
        if request.body:
            return [*headers, ("content-length", str(len(request.body)))]
        return list(headers)
    kept: list[tuple[str, str]] = []
    length = str(len(request.body)) if request.body else None
    for name, value in headers:
        lower = name.lower()
        if lower == "content-length" and length is not None:
            kept.append((name, length))
            length = None  # the first one carries it; repeats go
        elif lower not in _FRAMING:
            kept.append((name, value))
    if length is not None:
        kept.append(("content-length", length))
    return kept


def parse_status(status: Any) -> int | None:
    """The integer code of a WSGI status line such as ``"200 OK"`` (None if malformed)."""
    try:
        return int(str(status).split(" ", 1)[0])
    except ValueError:
        return None
