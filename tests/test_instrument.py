"""The library API of DESIGN.md: instrument, Recorder, save, load, summarize — WSGI and ASGI."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import fastapi
import flask
import httpx
import pytest

import tracer
from sample_apps.hello import application, asgi_app
from tracer import events as K
from tracer.errors import InterfaceError, UsageError
from tracer.redact import REDACTED

pytestmark = pytest.mark.timeout(60)


def get_wsgi(app: Any, *paths: str, **kwargs: Any) -> list[httpx.Response]:
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as client:
        return [client.get(path, **kwargs) for path in paths]


def get_asgi(app: Any, *paths: str, **kwargs: Any) -> list[httpx.Response]:
    async def main() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return [await client.get(path, **kwargs) for path in paths]

    return asyncio.run(main())


def kinds_of(events: list[tracer.Event], req: int) -> list[str]:
    return [event.kind for event in events if event.req == req]


def test_wsgi_round_trip_record_save_load_summarize(tmp_path: Path) -> None:
    """instrument -> requests -> rec.events -> rec.save -> tracer.load -> tracer.summarize."""
    rec = tracer.Recorder()
    app = tracer.instrument(application, recorder=rec)
    responses = get_wsgi(app, "/", "/a", "/b")
    assert [r.text for r in responses] == ["Hello, World!"] * 3
    events = rec.events
    assert all(isinstance(event, tracer.Event) for event in events)
    assert kinds_of(events, 2) == [
        K.REQUEST_START,
        K.WSGI_START_RESPONSE,
        K.WSGI_BODY,
        K.WSGI_CLOSE,
        K.SCHED_THREAD,
        K.REQUEST_END,
    ]
    path = rec.save(tmp_path / "run.jsonl")
    recording = tracer.load(path)
    assert isinstance(recording, tracer.Recording)
    assert recording.header["format"] == "gateway-trace"
    assert [e.to_dict() for e in recording.events] == [
        e.to_dict() for e in sorted(events, key=lambda e: (e.t, e.seq))
    ]
    summary = tracer.summarize(recording)
    assert summary["requests"] == summary["completed"] == 3
    assert summary["errors"] == 0 and summary["violations"] == 0
    assert summary["status"] == {"200": 3}
    assert summary["max_in_flight"] == 1


def test_wsgi_errors_are_data_in_the_summary() -> None:
    """An app that raises: the exception reaches the caller and the summary counts an error."""

    def broken(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise ZeroDivisionError("no")

    rec = tracer.Recorder()
    app = tracer.instrument(broken, recorder=rec)
    with pytest.raises(ZeroDivisionError):
        get_wsgi(app, "/")
    summary = tracer.summarize(rec.recording())
    assert summary["requests"] == 1 and summary["errors"] == 1


def test_flask_app_instrumented() -> None:
    """A Flask app object is detected as WSGI and answers exactly as unwrapped."""
    flask_app = flask.Flask("instrumented")
    flask_app.add_url_rule("/", "index", lambda: {"ok": True})
    rec = tracer.Recorder()
    wrapped = get_wsgi(tracer.instrument(flask_app, recorder=rec), "/")[0]
    plain = get_wsgi(flask_app, "/")[0]
    assert (wrapped.status_code, wrapped.content) == (plain.status_code, plain.content)
    assert [e.data["interface"] for e in rec.events if e.kind == K.REQUEST_START] == ["wsgi"]


def test_options_reach_the_wsgi_shim() -> None:
    """redact, redact_headers and checks are passed through; an unknown option is refused."""
    rec = tracer.Recorder()
    app = tracer.instrument(application, recorder=rec, redact=False, checks=False)
    get_wsgi(app, "/", headers={"Authorization": "Bearer kept"})
    start = next(e for e in rec.events if e.kind == K.REQUEST_START)
    assert ["authorization", "Bearer kept"] in start.data["headers"]
    rec2 = tracer.Recorder()
    app2 = tracer.instrument(application, recorder=rec2, redact_headers={"x-mine"})
    get_wsgi(app2, "/", headers={"X-Mine": "hidden"})
    start2 = next(e for e in rec2.events if e.kind == K.REQUEST_START)
    assert ["x-mine", REDACTED] in start2.data["headers"]
    with pytest.raises(UsageError):
        tracer.instrument(application, recorder=tracer.Recorder(), colour="blue")


def test_interface_forced_and_undecidable() -> None:
    """interface= overrides detection; an app of unknowable kind is an InterfaceError."""
    with pytest.raises(InterfaceError):
        tracer.instrument(lambda *args: None, recorder=tracer.Recorder())
    rec = tracer.Recorder()
    app = tracer.instrument(lambda *args: application(*args), recorder=rec, interface="wsgi")
    assert get_wsgi(app, "/")[0].text == "Hello, World!"
    assert any(e.kind == K.REQUEST_END for e in rec.events)


def test_default_recorder_is_on_the_wrapped_app() -> None:
    """Without recorder=, events still go somewhere the caller can reach: app.recorder."""
    app = tracer.instrument(application)
    get_wsgi(app, "/")
    assert [e.kind for e in app.recorder.events][0] == K.REQUEST_START


# -- ASGI through the same API ------------------------------------------------------------------


def test_asgi_round_trip_record_save_load_summarize(tmp_path: Path) -> None:
    """The ASGI seed app: start, the two sends, end for each request; saved, loaded and
    summarised like the WSGI one."""
    rec = tracer.Recorder()
    app = tracer.instrument(asgi_app, recorder=rec)
    responses = get_asgi(app, "/", "/x")
    assert [r.text for r in responses] == ["Hello, World!"] * 2
    events = rec.events
    for req in (1, 2):
        kinds = kinds_of(events, req)
        assert kinds[0] == K.REQUEST_START and kinds[-1] == K.REQUEST_END
        sends = [e for e in events if e.req == req and e.kind == K.ASGI_SEND]
        assert [e.data["type"] for e in sends] == ["http.response.start", "http.response.body"]
        assert K.SCHED_STEP in kinds
    start = next(e for e in events if e.kind == K.REQUEST_START)
    assert start.data["interface"] == "asgi" and start.data["scope_type"] == "http"
    recording = tracer.load(rec.save(tmp_path / "asgi.jsonl.gz"))
    assert len(recording.events) == len(events)
    summary = tracer.summarize(recording)
    assert summary["requests"] == summary["completed"] == 2
    assert summary["status"] == {"200": 2} and summary["errors"] == 0


def test_fastapi_app_instrumented() -> None:
    """A FastAPI app answers exactly as unwrapped; its ASGI requests are recorded."""
    api = fastapi.FastAPI()

    @api.get("/items/{item}")
    async def item(item: int) -> dict[str, int]:
        return {"item": item}

    rec = tracer.Recorder()
    wrapped = get_asgi(tracer.instrument(api, recorder=rec), "/items/3", "/items/x")
    plain = get_asgi(api, "/items/3", "/items/x")
    assert [(r.status_code, r.content) for r in wrapped] == [
        (r.status_code, r.content) for r in plain
    ]
    assert tracer.summarize(rec.events)["status"] == {"200": 1, "422": 1}


def test_asgi_secret_headers_redacted() -> None:
    """Redaction is on by default for ASGI too."""
    rec = tracer.Recorder()
    get_asgi(tracer.instrument(asgi_app, recorder=rec), "/?token=abc", headers={"Cookie": "s=1"})
    start = next(e for e in rec.events if e.kind == K.REQUEST_START)
    assert ["cookie", REDACTED] in start.data["headers"]
    assert "abc" not in start.data["query"]


# -- OpenTelemetry through the same call ------------------------------------------------------


def _provider() -> tuple[Any, Any]:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
def test_tracer_provider_gets_one_server_span_per_request(interface: str) -> None:
    """instrument(app, tracer_provider=tp): each request becomes a SERVER span with the
    stable HTTP attributes, built when the recorder drains (off the request path)."""
    from opentelemetry.trace import SpanKind

    provider, exporter = _provider()
    rec = tracer.Recorder()
    app = tracer.instrument(
        application if interface == "wsgi" else asgi_app, recorder=rec, tracer_provider=provider
    )
    get = get_wsgi if interface == "wsgi" else get_asgi
    assert [r.status_code for r in get(app, "/one?x=1", "/two")] == [200, 200]
    rec.drain()
    spans = sorted(exporter.get_finished_spans(), key=lambda span: span.start_time)
    # No route: named by the method alone (semantic conventions); url.path tells them apart.
    assert [span.name for span in spans] == ["GET", "GET"]
    assert [span.attributes["url.path"] for span in spans] == ["/one", "/two"]
    assert all(span.kind == SpanKind.SERVER for span in spans)
    assert spans[0].attributes["http.response.status_code"] == 200
    assert spans[0].attributes["url.query"] == "x=1"


def test_tracer_provider_alone_keeps_no_events() -> None:
    """With only a tracer_provider the shim's own recorder keeps nothing in memory."""
    provider, _ = _provider()
    app = tracer.instrument(application, tracer_provider=provider)
    get_wsgi(app, "/")
    assert app.recorder.keep is False and app.recorder.events == []


def test_a_saved_library_recording_names_its_app_and_interface(tmp_path: Path) -> None:
    """A hand-made Recorder's header gets the app and interface ``instrument`` saw, so a saved
    recording is titled (``trace summary``); what a caller set is kept. ``summarize`` takes
    the Recorder itself."""
    rec = tracer.Recorder()
    get_wsgi(tracer.instrument(application, recorder=rec), "/")
    recording = tracer.load(rec.save(tmp_path / "lib.jsonl"))
    assert (recording.header["app"], recording.header["interface"]) == (
        "sample_apps.hello:application",
        "wsgi",
    )
    assert tracer.summarize(rec) == tracer.summarize(recording)
    named = tracer.Recorder(app="mine:app")
    tracer.instrument(asgi_app, recorder=named)
    assert (named.header["app"], named.header["interface"]) == ("mine:app", "asgi")


FLASK_APP = flask.Flask("named")


def test_an_app_object_is_named_by_the_global_that_holds_it() -> None:
    """``instrument(app)`` in a module names the app ``module:variable`` (as ``trace run``
    takes it), not by its framework's class (``flask.app:Flask``)."""
    rec = tracer.Recorder()
    tracer.instrument(FLASK_APP, recorder=rec)
    assert rec.header["app"] == f"{__name__}:FLASK_APP"
    local = flask.Flask("local")  # not a global: named by its class, as before
    other = tracer.Recorder()
    tracer.instrument(local, recorder=other)
    assert other.header["app"] == "flask.app:Flask"


@pytest.mark.parametrize(
    "settings,message",
    [
        ({"redact_headers": "x-internal-token"}, "not the single str 'x-internal-token'"),
        ({"redact_headers": b"cookie"}, "not the single bytes b'cookie'"),
        ({"redact_headers": ["x-a", 3]}, "redact_headers holds 3"),
        ({"redact_headers": 5}, "redact_headers takes a collection of header names"),
        ({"redact": "no"}, "redact must be True or False, not 'no'."),
        ({"checks": "no"}, "checks must be True or False, not 'no'."),
        ({"block_threshold_ms": float("nan")}, "block_threshold_ms must be a number"),
        ({"block_threshold_ms": "10"}, "not '10'; try 10."),
        ({"block_threshold_ms": 0}, "above 0, not 0;"),
    ],
)
def test_a_setting_of_the_wrong_kind_is_a_usage_error(
    settings: dict[str, Any], message: str
) -> None:
    """A string of header names would be read as letters and turn every redaction off
    (Authorization recorded in clear); checks="no" would leave checks on; a NaN threshold
    failed deep inside with a bare ValueError. For WSGI and ASGI apps alike."""
    for app in (application, asgi_app):
        with pytest.raises(UsageError) as raised:
            tracer.instrument(app, **settings)
        assert message in str(raised.value)


def test_redact_headers_replaces_the_default_names() -> None:
    """A set of names is the whole list: given {"x-internal-token"}, Authorization is kept."""
    rec = tracer.Recorder()
    app = tracer.instrument(application, recorder=rec, redact_headers={"X-Internal-Token"})
    get_wsgi(app, "/", headers={"X-Internal-Token": "t0k", "Authorization": "Bearer b"})
    [start] = [e for e in rec.events if e.kind == K.REQUEST_START]
    headers = dict(start.data["headers"])
    assert headers["x-internal-token"] == REDACTED and headers["authorization"] == "Bearer b"
