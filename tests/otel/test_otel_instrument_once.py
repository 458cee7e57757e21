"""A tracer provider gets each request once, however often the app is instrumented."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from otel_recordings import label

import tracer
from sample_apps.hello import asgi_app, wsgi_app
from tracer.errors import UsageError
from tracer.otel.testing import memory_provider

pytestmark = pytest.mark.timeout(60)


def _get_wsgi(app: Any, *paths: str) -> None:
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as client:
        for path in paths:
            assert client.get(path).status_code == 200


def _get_asgi(app: Any, *paths: str) -> None:
    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for path in paths:
                assert (await client.get(path)).status_code == 200

    asyncio.run(main())


def _names(app: Any, exporter: Any) -> list[str]:
    """The names of the spans exported once the app's recorder has handed everything over."""
    app.recorder.drain()
    return sorted(label(span) for span in exporter.get_finished_spans())


class _Middleware:
    """ASGI middleware as Starlette's and uvicorn's are written: it keeps the app as ``.app``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
def test_instrumenting_twice_in_a_row_exports_each_request_once(interface: str) -> None:
    """instrument(instrument(app, tracer_provider=p), tracer_provider=p) is the first app,
    and each request is one span."""
    provider, exporter = memory_provider()
    app = wsgi_app if interface == "wsgi" else asgi_app
    get = _get_wsgi if interface == "wsgi" else _get_asgi
    once = tracer.instrument(app, tracer_provider=provider)
    twice = tracer.instrument(once, tracer_provider=provider)
    assert twice is once
    get(twice, "/a", "/b")
    assert _names(twice, exporter) == ["GET /a", "GET /b"]


def test_the_same_recorder_and_provider_twice_exports_each_request_once() -> None:
    """Two instrument() calls with one recorder and one provider subscribe one export."""
    provider, exporter = memory_provider()
    rec = tracer.Recorder()
    first = tracer.instrument(asgi_app, recorder=rec, tracer_provider=provider)
    second = tracer.instrument(first, recorder=rec, tracer_provider=provider)
    _get_asgi(second, "/a")
    assert _names(second, exporter) == ["GET /a"]


def test_other_settings_on_the_same_recording_still_export_once() -> None:
    """Wrapped again with another setting: the outer shim records the request (the inner one
    passes it through: same recorder), and the provider gets it once."""
    provider, exporter = memory_provider()
    once = tracer.instrument(asgi_app, tracer_provider=provider)
    again = tracer.instrument(once, tracer_provider=provider, block_threshold_ms=50)
    assert again is not once and again.recorder is once.recorder
    _get_asgi(again, "/a")
    assert _names(again, exporter) == ["GET /a"]


def test_another_recorder_for_the_same_provider_is_refused() -> None:
    """A second recorder would export every request again: a UsageError that names the
    earlier instrumentation, and the provider still gets each request once."""
    provider, exporter = memory_provider()
    once = tracer.instrument(asgi_app, tracer_provider=provider)
    with pytest.raises(UsageError) as raised:
        tracer.instrument(once, recorder=tracer.Recorder(), tracer_provider=provider)
    assert str(raised.value) == (
        "app is already instrumented with this tracer_provider (by tracer.instrument, with "
        'otel={"detail": "events"}); instrumenting it again would export every request '
        "twice. Use the instrumented app as it is, or instrument the original app once."
    )
    _get_asgi(once, "/a")
    assert _names(once, exporter) == ["GET /a"]


def test_an_instrumented_app_inside_middleware_is_refused() -> None:
    """Middleware around an instrumented app: the error says where the earlier one is."""
    provider, _ = memory_provider()
    wrapped = _Middleware(tracer.instrument(asgi_app, tracer_provider=provider))
    with pytest.raises(UsageError, match=r"^app\.app is already instrumented with this "):
        tracer.instrument(wrapped, tracer_provider=provider)


def test_another_detail_for_the_same_provider_is_refused() -> None:
    """The same requests as events and as spans would reach the provider twice."""
    provider, exporter = memory_provider()
    once = tracer.instrument(wsgi_app, tracer_provider=provider)
    with pytest.raises(UsageError) as raised:
        tracer.instrument(once, tracer_provider=provider, otel={"detail": "spans"})
    assert 'with otel={"detail": "events"}' in str(raised.value)
    assert 'again with otel={"detail": "spans"} would send every request twice' in str(raised.value)
    _get_wsgi(once, "/a")
    assert _names(once, exporter) == ["GET /a"]


def test_two_providers_each_get_each_request_once() -> None:
    """Another provider is another export, as before: one span each."""
    first, first_spans = memory_provider()
    second, second_spans = memory_provider()
    inner = tracer.instrument(asgi_app, tracer_provider=first)
    outer = tracer.instrument(inner, tracer_provider=second)
    _get_asgi(outer, "/a")
    inner.recorder.drain()
    assert _names(outer, second_spans) == ["GET /a"]
    assert [label(span) for span in first_spans.get_finished_spans()] == ["GET /a"]
