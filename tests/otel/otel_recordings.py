"""Hand-built recordings in the documented event shapes (docs/recording-format.md).

Each builder emits onto a ``Recorder`` with explicit times, so tests know every instant.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from tracer import events as K
from tracer.recorder import Recorder

UNIX_NS = 1_764_100_000_000_000_000
LOOP_TID = 11
LOOP = "MainThread"
HEADERS = [
    ["host", "127.0.0.1:8000"],
    ["user-agent", "pytest-client/1.0"],
    ["authorization", "[redacted]"],
]


def recorder(**header: object) -> Recorder:
    """An in-memory recorder whose t=0 is ``UNIX_NS`` on the wall clock."""
    return Recorder(start_ns=0, clock=lambda: 0, wall_clock=lambda: UNIX_NS, **header)


def start_data(method: str = "GET", path: str = "/items", **extra: object) -> dict[str, object]:
    """``request.start`` data as the ASGI shim records it."""
    data: dict[str, object] = {
        "method": method,
        "path": path,
        "query": "page=2&token=[redacted]",
        "http_version": "1.1",
        "scheme": "http",
        "client": ["127.0.0.1", 50000],
        "server": ["127.0.0.1", 8000],
        "interface": "asgi",
        "scope_type": "http",
        "headers": HEADERS,
    }
    data.update(extra)
    return data


def asgi_request(
    rec: Recorder,
    req: int,
    t0: int,
    *,
    path: str = "/items",
    status: int = 200,
    queued: bool = True,
) -> None:
    """One ASGI request: queued at t0, start t0+100, receive, step, send x2, end t0+1000."""
    on_loop = partial(rec.emit, tid=LOOP_TID, thread=LOOP)
    if queued:
        on_loop(K.REQUEST_QUEUED, req, {"method": "GET", "path": path}, t=t0)
    on_loop(K.REQUEST_START, req, start_data(path=path), t=t0 + 100, task=f"Task-{req}")
    on_loop(
        K.ASGI_RECEIVE,
        req,
        {"type": "http.request", "bytes": 0, "more_body": False},
        t=t0 + 110,
        dur=20,
    )
    on_loop(
        K.SCHED_STEP,
        req,
        {"cpu_ns": 150, "awaiting": "asyncio.sleep", "location": "app.py:12"},
        t=t0 + 100,
        dur=200,
    )
    on_loop(K.ASGI_SEND, req, {"type": "http.response.start", "status": status}, t=t0 + 600, dur=30)
    on_loop(
        K.ASGI_SEND,
        req,
        {"type": "http.response.body", "bytes": 13, "more_body": False},
        t=t0 + 700,
        dur=250,
    )
    on_loop(
        K.SCHED_STEP, req, {"cpu_ns": 300, "awaiting": None, "location": None}, t=t0 + 590, dur=400
    )
    on_loop(
        K.REQUEST_END,
        req,
        {"status": status, "bytes_in": 0, "bytes_out": 13, "error": None},
        t=t0 + 1000,
    )


def label(span: Any) -> str:
    """A span's name, with the path for a request span named by its method alone (no route):
    ``GET /items`` for the span ``GET`` with ``url.path`` ``/items``. Takes SDK spans, OTLP
    protobuf spans and OTLP/JSON span objects."""
    if isinstance(span, dict):  # OTLP/JSON
        name = span["name"]
        attrs = {a["key"]: a["value"].get("stringValue") for a in span.get("attributes", ())}
    elif hasattr(span.attributes, "get"):  # an SDK span
        name, attrs = span.name, dict(span.attributes)
    else:  # a decoded protobuf span
        name = span.name
        attrs = {kv.key: kv.value.string_value for kv in span.attributes}
    path = attrs.get("url.path")
    if path and not attrs.get("http.route") and " " not in name:
        return f"{name} {path}"
    return name
