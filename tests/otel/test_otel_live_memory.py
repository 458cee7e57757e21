"""Live export memory: what ``instrument(app, tracer_provider=tp)`` keeps of the requests it
has emitted stays flat over a long run (a compact record of each recent end, not the end
event; the ids as runs), while the spans it exports are those it always made."""

from __future__ import annotations

import gc
import io
import sys
import tracemalloc
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind

import tracer

pytestmark = pytest.mark.timeout(120)


class _Counting(SpanExporter):
    """Counts the server spans it is given and keeps none (as a collector far away would)."""

    def __init__(self) -> None:
        self.servers = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.servers += sum(span.kind is SpanKind.SERVER for span in spans)
        return SpanExportResult.SUCCESS


def _hello(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    yield b"hello"


def _environ(i: int) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/hello",
        "QUERY_STRING": f"i={i}",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def _serve(app: Any, first: int, count: int) -> None:
    """``count`` requests, one after another, as a WSGI server calls the app."""
    for i in range(first, first + count):
        body = app(_environ(i), lambda status, headers, exc_info=None: None)
        for _ in body:
            pass
        body.close()


def _retained(app: Any) -> int:
    """Bytes still allocated once every recorded event has become spans."""
    app.recorder.drain()
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def test_memory_of_a_long_run_is_flat_once_its_bounds_are_reached() -> None:
    """16,000 requests through an instrumented WSGI app: past the 10,000 most recent ends
    (whose records the model keeps for work after the end) the retained memory no longer
    grows — 5,000 more requests keep under 40 bytes each, where keeping every end event
    (about 600 bytes a request) took 3 MB — and every request was exported."""
    exporter = _Counting()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = tracer.instrument(_hello, tracer_provider=provider)
    tracemalloc.start()
    try:
        _serve(app, 0, 11_000)
        before = _retained(app)
        _serve(app, 11_000, 5_000)
        after = _retained(app)
    finally:
        tracemalloc.stop()
    assert exporter.servers == 16_000
    assert (after - before) / 5_000 < 40, f"{after - before} bytes more after 5,000 requests"
