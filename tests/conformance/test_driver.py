"""``check_app``: representative requests through the real shim, findings per request."""

from __future__ import annotations

import os

import check_apps
import framework_apps
import pytest

import sample_apps.hello as hello
import tracer
from tracer import events as K
from tracer.conformance.driver import check_app
from tracer.sourcepath import display_path

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("app", [hello.application, hello.asgi_app], ids=["wsgi", "asgi"])
def test_seed_examples_are_clean(app: object) -> None:
    """The bundled hello apps break no rule; the HTTP-only ASGI app's websocket probe is skipped."""
    report = check_app(app, paths=["/", "/other"])
    assert report.findings == []
    assert not report.failed(strict=True)
    if report.interface == "asgi":
        assert "lifespan" in report.requests
        assert report.skipped == [
            "websocket /: the app does not handle websocket scopes",
            "websocket /other: the app does not handle websocket scopes",
        ]


def test_real_flask_app_is_clean() -> None:
    """A real Flask app's ordinary routes (text, JSON POST, streamed body, 404) break nothing."""
    report = check_app(framework_apps.flask_app, paths=framework_apps.FLASK_PATHS)
    assert report.interface == "wsgi"
    assert len(report.requests) == 4 * len(framework_apps.FLASK_PATHS)
    assert report.findings == []


def test_real_fastapi_app_is_clean() -> None:
    """A real FastAPI app (async, sync, streaming, websocket, lifespan, 404) breaks nothing."""
    report = check_app(framework_apps.api, paths=framework_apps.FASTAPI_PATHS)
    assert report.interface == "asgi"
    assert "websocket /ws" in report.requests and "lifespan" in report.requests
    assert report.skipped == []
    assert report.findings == []


def test_wsgi_findings_name_rule_request_and_location() -> None:
    """Each broken rule is a finding with its request and the app's file:line."""
    report = check_app(check_apps.wsgi_bad, paths=["/"])
    get = [(f.rule, f.severity) for f in report.findings if f.request == "GET /"]
    assert get == [
        ("WSGI-005", "error"),
        ("WSGI-013", "error"),
        ("WSGI-016", "warning"),
        ("WSGI-019", "error"),
    ]
    status = next(f for f in report.findings if f.rule == "WSGI-005")
    assert status.location is not None and status.location.startswith(
        display_path(check_apps.__file__) + ":"
    )
    assert status.hint and "got '200'" in status.message
    assert report.failed() and report.errors == 11 and report.warnings == 4


def test_a_body_item_finding_points_at_the_app_not_the_server_thread() -> None:
    """A str in the returned list is located at the app (no app frame is left on the stack)."""
    report = check_app(check_apps.wsgi_str_body)
    assert {f.rule for f in report.findings} == {"WSGI-014"}
    for finding in report.findings:
        assert finding.location is not None
        assert finding.location.startswith(display_path(check_apps.__file__) + ":")


def test_a_body_item_of_a_list_is_located_at_the_app_definition() -> None:
    """A list has no line of its own: the finding names the line the app is defined on."""
    report = check_app(check_apps.wsgi_str_body)
    where = (
        f"{display_path(check_apps.__file__)}:{check_apps.wsgi_str_body.__code__.co_firstlineno}"
    )
    assert [f.location for f in report.findings] == [where] * 4


def test_a_generator_chunk_finding_points_at_its_yield() -> None:
    """A str yielded by a generator: the line is that yield (its frame is suspended there),
    not the function's definition."""
    report = check_app(check_apps.wsgi_yields_str)
    line = check_apps.line_of(check_apps.wsgi_yields_str, "WSGI-014")
    assert [(f.rule, f.location) for f in report.findings] == [
        ("WSGI-014", f"{display_path(check_apps.__file__)}:{line}")
    ] * 4


def test_a_content_length_finding_points_at_the_start_response_that_declared_it() -> None:
    """WSGI-019 is judged when the request ends; it names the start_response call."""
    report = check_app(check_apps.wsgi_length_lies)
    line = check_apps.line_of(check_apps.wsgi_length_lies, "WSGI-019")
    assert [(f.rule, f.location) for f in report.findings] == [
        ("WSGI-019", f"{display_path(check_apps.__file__)}:{line}")
    ] * 3


def test_an_app_that_raises_is_said_so_not_just_clean() -> None:
    """The report lists the exception and the app; raising in every probe, the app never
    answered one: CHK-003 on each, and the check fails."""
    report = check_app(check_apps.wsgi_not_iterable)
    probes = ["GET /", "HEAD /", "POST /", "POST / (chunked)"]
    assert [(f.rule, f.request) for f in report.findings] == [("CHK-003", p) for p in probes]
    assert report.failed()
    assert report.requests == probes and [c["request"] for c in report.crashes] == probes
    crash = report.crashes[0]
    assert crash["type"] == "TypeError" and "not iterable" in str(crash["message"])
    # The app's definition line (the shim's iter() of its result raised, not an app line),
    # the file shown as recordings show it: relative to the current directory.
    file, _, line = str(crash["where"]).rpartition(":")
    assert os.path.abspath(file) == check_apps.__file__
    assert int(line) == check_apps.wsgi_not_iterable.__code__.co_firstlineno


@pytest.mark.parametrize("raised", [SystemExit(3), KeyboardInterrupt()])
def test_an_asgi_app_raising_a_base_exception_is_a_crash_not_a_hung_loop(
    raised: BaseException,
) -> None:
    """asyncio re-raises SystemExit and KeyboardInterrupt out of the loop itself: the check's
    loop died, the probe read as CHK-001 after the whole timeout and every later probe was
    skipped. Now each is a crash of its request, and the other paths are probed."""

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/bad":
            raise raised
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    report = check_app(app, paths=["/bad", "/"], timeout=2.0)
    assert {f.rule for f in report.findings} == set()
    assert {c["type"] for c in report.crashes} == {type(raised).__name__}
    assert "GET /" in report.requests and not report.failed()


def test_warnings_fail_only_when_strict() -> None:
    """A warning-only app passes unless strict."""
    report = check_app(check_apps.wsgi_untyped)
    assert {f.rule for f in report.findings} == {"WSGI-016"}
    assert not report.failed() and report.failed(strict=True)


def test_reading_past_content_length_is_seen() -> None:
    """The POST body is followed by the next request's bytes: read() without a size takes them."""
    report = check_app(check_apps.wsgi_reads_past)
    assert [(f.rule, f.request) for f in report.findings] == [("WSGI-023", "POST /")]


def test_asgi_findings_per_scope() -> None:
    """Lifespan, websocket and http violations are each filed under their own request."""
    report = check_app(check_apps.asgi_bad, paths=["/"])
    found = {(f.request, f.rule) for f in report.findings}
    assert ("lifespan", "LS-001") in found
    assert ("websocket /", "WS-001") in found
    assert ("GET /", "HTTP-001") in found and ("POST / (chunked)", "HTTP-001") in found
    assert all(f.location for f in report.findings)


def test_a_hanging_app_times_out_as_chk_001() -> None:
    """A request that never finishes is cut at the timeout and reported, and the check ends."""
    report = check_app(check_apps.asgi_hangs, paths=["/"], timeout=0.05)
    assert [f.rule for f in report.findings] == ["CHK-001"] * 4
    assert report.findings[0].location is not None


def test_an_app_raising_cancelled_error_is_a_crash_not_a_timeout() -> None:
    """An app's own ``raise CancelledError()`` ends its request at once: it is reported as the
    app raising it (as a ValueError is), never as CHK-001, the timeout it did not reach. In
    every request: CHK-003 on each, as for any app that raised in all of them."""
    report = check_app(check_apps.asgi_raises_cancelled, paths=["/"], timeout=30.0)
    probes = ["GET /", "HEAD /", "POST /", "POST / (chunked)"]
    assert [(f.rule, f.request) for f in report.findings] == [("CHK-003", p) for p in probes]
    assert [c["request"] for c in report.crashes] == probes
    line = check_apps.line_of(check_apps.asgi_raises_cancelled, "raised")
    assert report.crashes[0] == {
        "request": "GET /",
        "type": "CancelledError",
        "message": "by the app",
        "where": f"{display_path(check_apps.__file__)}:{line}",
    }


@pytest.mark.parametrize(
    ("app", "phase"),
    [
        (check_apps.asgi_lifespan_hangs, "lifespan.startup"),
        (check_apps.asgi_shutdown_hangs, "lifespan.shutdown"),
    ],
)
def test_a_lifespan_phase_never_answered_is_chk_001(app: object, phase: str) -> None:
    """A lifespan startup (or shutdown) the app never answers is CHK-001 of the lifespan,
    naming the phase; the requests are probed all the same."""
    report = check_app(app, paths=["/"], timeout=0.2)
    assert [(f.rule, f.request) for f in report.findings] == [("CHK-001", "lifespan")]
    assert report.findings[0].message.endswith(f": {phase} not answered")
    assert report.requests[:4] == ["GET /", "HEAD /", "POST /", "POST / (chunked)"]


def test_the_check_is_a_recording() -> None:
    """The events go to the given recorder: violations are ordinary violation events."""
    recorder = tracer.Recorder()
    check_app(check_apps.wsgi_untyped, recorder=recorder)
    violations = [e for e in recorder.events if e.kind == K.VIOLATION]
    assert len(violations) == 4
    assert violations[0].data["rule"] == "WSGI-016"
    assert violations[0].data["severity"] == "warning" and violations[0].data["hint"]
    assert tracer.summarize(recorder.recording())["violations"] == 4


SEED_APPS = [
    "blocking:app",
    "cpu_bound:wsgi_app",
    "cpu_bound:asgi_app",
    "echo:wsgi_app",
    "echo:asgi_app",
    "fastapi_app:app",
    "flask_app:app",
    "hello:application",
    "hello:asgi_app",
    "io_bound:wsgi_app",
    "io_bound:asgi_app",
    "streaming:wsgi_app",
    "streaming:asgi_app",
    "websocket:app",
]


@pytest.mark.parametrize("spec", SEED_APPS)
def test_every_seed_example_is_clean(spec: str) -> None:
    """No bundled sample app breaks a rule, warnings included, on any probe."""
    from tracer.loading import load_app

    loaded = load_app(f"sample_apps.{spec}")
    report = check_app(loaded.app, paths=["/?ms=1", "/ws"], timeout=10)
    assert report.findings == [], report.findings
    assert report.requests  # something was actually driven


def test_a_streaming_recorder_works_too(tmp_path: object) -> None:
    """With a recorder that writes to disk and keeps nothing, findings and the file agree."""
    from pathlib import Path

    path = Path(str(tmp_path)) / "check.jsonl"
    with tracer.Recorder(path) as recorder:
        report = check_app(check_apps.wsgi_untyped, recorder=recorder)
    assert [f.rule for f in report.findings] == ["WSGI-016"] * 4
    assert tracer.summarize(tracer.load(path))["violations"] == 4


@pytest.mark.parametrize("raised", [SystemExit(3), KeyboardInterrupt()])
def test_a_wsgi_app_raising_a_base_exception_is_a_crash_said_once(
    raised: BaseException, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A WSGI app raising SystemExit or KeyboardInterrupt: a crash of its request, and no
    exception escapes the worker thread (it printed "Exception in thread trace-check")."""
    import threading

    escaped: list[object] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: escaped.append(args.exc_type))

    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        raise raised

    report = check_app(app, paths=["/"], timeout=2.0)
    assert {c["type"] for c in report.crashes} == {type(raised).__name__}
    assert escaped == []
