"""``tracer.instrument``'s arguments: a mistake is a ``UsageError`` worded for the library
caller, raised before the recorder is touched (no subscriber attached, no header filled in)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

import tracer
from sample_apps.hello import application, asgi_app
from tracer.errors import InterfaceError, UsageError

pytestmark = pytest.mark.timeout(60)


def _provider() -> tuple[Any, Any]:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def _get(app: Any, interface: str) -> None:
    if interface == "wsgi":
        with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as client:
            assert client.get("/").status_code == 200
        return

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/")).status_code == 200

    asyncio.run(main())


APPS = [pytest.param(application, "wsgi", id="wsgi"), pytest.param(asgi_app, "asgi", id="asgi")]

MISTAKES = [
    pytest.param({"redact_header": {"x-a"}}, "redact_header", id="misspelt-keyword"),
    pytest.param({"otel": {"colour": "blue"}}, "colour", id="unknown-otel-option"),
    pytest.param({"otel": "spans"}, "otel", id="otel-not-a-dict"),
    pytest.param({"otel": {"detail": "lines"}}, "lines", id="unknown-otel-detail"),
    pytest.param({"interface": "grpc"}, "grpc", id="unknown-interface"),
    pytest.param({"checks": "no"}, "checks", id="bad-setting"),
]


@pytest.mark.parametrize("app,interface", APPS)
@pytest.mark.parametrize("mistake,named", MISTAKES)
def test_a_rejected_call_leaves_the_recorder_as_it_was(
    app: Any, interface: str, mistake: dict[str, Any], named: str
) -> None:
    """A call refused for any of its options attaches no span exporter and names nothing in
    the header: once the call is corrected, each request is exported once, not once more per
    refused attempt."""
    provider, exporter = _provider()
    rec = tracer.Recorder()
    header = dict(rec.header)
    for _ in range(2):
        with pytest.raises(tracer.TracerError) as raised:
            tracer.instrument(app, recorder=rec, tracer_provider=provider, **mistake)
        assert named in str(raised.value)
    assert rec.header == header
    traced = tracer.instrument(app, recorder=rec, tracer_provider=provider)
    _get(traced, interface)
    rec.drain()
    assert [span.name for span in exporter.get_finished_spans()] == ["GET"]


@pytest.mark.parametrize("app,interface", APPS)
def test_an_unknown_keyword_is_named_as_instruments_with_a_suggestion(
    app: Any, interface: str
) -> None:
    """The message names ``instrument()``, not a shim class inside it, and offers the option
    a typo was meant to be."""
    with pytest.raises(UsageError) as raised:
        tracer.instrument(app, redact_header={"x-a"}, bogus=1)
    message = str(raised.value)
    assert message.startswith(
        "instrument() does not know the option(s) bogus, "
        "redact_header (did you mean redact_headers?)"
    )
    assert "Shim" not in message


def test_otel_without_a_tracer_provider_is_refused() -> None:
    """``otel=`` sets up the spans of ``tracer_provider=``; alone it would do nothing."""
    rec = tracer.Recorder()
    with pytest.raises(UsageError) as raised:
        tracer.instrument(application, recorder=rec, otel={"detail": "spans"})
    assert "tracer_provider" in str(raised.value) and "Shim" not in str(raised.value)
    assert rec.header["app"] is None


@pytest.mark.parametrize("path", ["run.jsonl", Path("run.jsonl")])
def test_a_file_name_as_recorder_says_to_make_a_recorder(path: Any, tmp_path: Path) -> None:
    """``recorder="run.jsonl"`` failed with "'str' object has no attribute 'header'"."""
    with pytest.raises(UsageError) as raised:
        tracer.instrument(application, recorder=path)
    assert "pass recorder=tracer.Recorder('run.jsonl')" in str(raised.value)
    assert not (tmp_path / "run.jsonl").exists()


def test_any_other_object_as_recorder_is_a_usage_error() -> None:
    """Anything but a ``tracer.Recorder`` is refused up front, naming what was given."""
    with pytest.raises(UsageError) as raised:
        tracer.instrument(asgi_app, recorder=object())
    assert str(raised.value).startswith("recorder must be a tracer.Recorder, not object")


def test_an_undecidable_app_asks_for_the_interface_argument() -> None:
    """The library caller is told about ``interface=``, not the CLI's ``--interface``."""

    def vague(*args: Any) -> None:
        return None

    with pytest.raises(InterfaceError) as raised:
        tracer.instrument(vague)
    assert str(raised.value) == (
        "Cannot tell whether 'vague' is a WSGI or an ASGI app from its signature. "
        'Pass interface="wsgi" or interface="asgi" to instrument().'
    )
