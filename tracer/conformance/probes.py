"""The representative requests of ``trace check``: what they are and how each looks on the wire.

``plan(paths)`` lists the probes; ``environ(probe)`` and ``scope(probe)`` build the PEP 3333
environ and the ASGI scope a server would hand the app for them. Imports nothing of ours.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BODY",
    "WS_TEXT",
    "WS_BYTES",
    "DEFAULT_METHODS",
    "NEXT_REQUEST",
    "Probe",
    "plan",
    "make_environ",
    "make_scope",
]

BODY = b'{"probe": "gateway-tracer check"}'
WS_TEXT = BODY.decode()
"""The text message of a websocket probe: JSON, so a handler that reads text
(``receive_text``) and one that reads JSON (``receive_json``, ``iter_json``) both take it as
their clients' own messages; a plain word made the second raise on the probe's input, which
read as the app's fault."""
WS_BYTES = BODY
"""The binary message of a websocket probe, sent instead of ``WS_TEXT`` to an endpoint that
refused the text one (Starlette's ``receive_bytes`` raises on a text frame): the same JSON."""
# What a keep-alive client sends next: an app reading past CONTENT_LENGTH gets these bytes.
NEXT_REQUEST = b"GET /next HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@dataclass(frozen=True, slots=True)
class Probe:
    """One representative request."""

    name: str
    """How findings name it: ``GET /``, ``POST / (chunked)``, ``websocket /``, ``lifespan``."""
    kind: str
    """``http`` or ``websocket`` (lifespan is driven around the others)."""
    method: str = "GET"
    path: str = "/"
    chunks: tuple[bytes, ...] = ()
    """The request body; more than one chunk means a streamed (chunked) body."""
    trailers: bool = False
    """The client reads response trailers (``TE: trailers``), and the ASGI server says it can
    send them (``http.response.trailers`` in the scope's extensions): the GET probes. The
    others leave both out, so an app that announces trailers without looking at the scope
    is told (HTTP-024), and one that looks gets its trailers judged (HTTP-021 to 023)."""
    http_answer_judged: bool = False
    """A websocket probe of an app whose framework routes websocket scopes itself
    (``Routes.serves_websockets``): an HTTP answer to it is that framework's, judged (WS-010),
    not the answer of an HTTP-only app that ignores the scope's type, which is skipped."""


DEFAULT_METHODS = ("GET", "POST")
"""The methods a path is probed with when nothing says which it takes (``--path``)."""
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def plan(
    paths: Sequence[str],
    *,
    websocket: bool = True,
    websocket_paths: Sequence[str] | None = None,
    methods: Mapping[str, Sequence[str]] | None = None,
) -> list[Probe]:
    """The probes for ``paths``: each method of the path (``methods``, by default GET and
    POST), a method with a body twice (in one piece and chunked), and HEAD after each GET;
    then websocket sessions (unless ``websocket`` is false) at ``websocket_paths``, by default
    at every path. The GET probes read trailers (``Probe.trailers``).

    HEAD because every server answers it (RFC 9110 9.1) and a handler that branches on the
    method can leave it with no response, or a framework's 500, that no GET shows."""
    probes = []
    for path in paths:
        declared = (methods or {}).get(path) or DEFAULT_METHODS
        for method in declared:
            if method not in _BODY_METHODS:
                trailers = method == "GET"
                probes.append(Probe(f"{method} {path}", "http", method, path, trailers=trailers))
                if method == "GET":
                    probes.append(Probe(f"HEAD {path}", "http", "HEAD", path))
                continue
            probes.append(Probe(f"{method} {path}", "http", method, path, (BODY,)))
            chunked = (BODY[:10], BODY[10:20], BODY[20:])
            probes.append(Probe(f"{method} {path} (chunked)", "http", method, path, chunked))
    if websocket:
        where = paths if websocket_paths is None else websocket_paths
        probes.extend(Probe(f"websocket {path}", "websocket", "GET", path) for path in where)
    return probes


def _split(path: str) -> tuple[str, str]:
    path, _, query = path.partition("?")
    return path or "/", query


def _headers(probe: Probe) -> list[tuple[str, str]]:
    headers = [("host", "127.0.0.1:8000"), ("user-agent", "gateway-tracer-check")]
    if probe.chunks:
        headers.append(("content-type", "application/json"))
        if len(probe.chunks) == 1:
            headers.append(("content-length", str(len(probe.chunks[0]))))
        else:
            headers.append(("transfer-encoding", "chunked"))
    return headers


def make_environ(probe: Probe) -> dict[str, Any]:
    """The PEP 3333 environ of ``probe``; a one-chunk body is followed by ``NEXT_REQUEST``."""
    path, query = _split(probe.path)
    body = b"".join(probe.chunks)
    env: dict[str, Any] = {
        "REQUEST_METHOD": probe.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body + (NEXT_REQUEST if len(probe.chunks) == 1 else b"")),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in _headers(probe):
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            env[key] = value
        else:
            env[f"HTTP_{key}"] = value
    if len(probe.chunks) > 1:
        env["wsgi.input_terminated"] = True
    return env


def make_scope(probe: Probe, state: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ASGI 3 scope of ``probe`` (http or websocket), as uvicorn would build it: ``state``
    is the lifespan's, of which each request gets a shallow copy."""
    path, query = _split(probe.path)
    built: dict[str, Any] = {
        "type": probe.kind,
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "http" if probe.kind == "http" else "ws",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in _headers(probe)],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": dict(state or {}),
        "extensions": {},
    }
    if probe.kind == "http":
        built["method"] = probe.method
        if probe.trailers:
            # As hypercorn does for a client that reads trailers: HTTP-022 and HTTP-023 can be
            # judged here without HTTP-024, and an app that checks the scope uses them.
            built["headers"].append((b"te", b"trailers"))
            built["extensions"]["http.response.trailers"] = {}
    else:
        built["subprotocols"] = []
        # uvicorn advertises denial responses; frameworks answer HTTPException with one then.
        built["extensions"]["websocket.http.response"] = {}
    return built
