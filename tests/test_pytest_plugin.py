"""The pytest plugin, exercised with ``pytester``: real test files run by a real pytest."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

pytestmark = pytest.mark.timeout(120)

APPS = """
import asyncio
import time


async def good(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def body_first(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.body", "body": b"ok"})


async def upper_header(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"Content-Type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def sleeps_blocking(scope, receive, send):
    if scope["type"] != "http":
        return
    time.sleep(0.15)  # a blocking call in an async handler
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"late"})


async def leaves_startup_unanswered(scope, receive, send):
    if scope["type"] == "lifespan":
        await receive()
        return  # never answers lifespan.startup


def lifespan(app):
    # Start the app's lifespan, as a server does; returns what it sent.
    sent = []

    async def receive():
        return {"type": "lifespan.startup"}

    async def send(message):
        sent.append(message)

    asyncio.run(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    return sent


def get(app):
    # One GET / through the app, as a server would drive it; returns the sent messages.
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": "/", "raw_path": b"/", "query_string": b"",
             "root_path": "", "headers": [], "client": ("127.0.0.1", 5000),
             "server": ("127.0.0.1", 8000)}
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent
"""


def _run(pytester: pytest.Pytester, *args: str, subprocess: bool = False) -> pytest.RunResult:
    # Nested in-process runs: the snapshot plugin's session state would break, and the other
    # third-party plugins only slow each run down (hypothesis alone costs seconds here).
    blocked = ("cacheprovider", "textual-snapshot", "hypothesispytest", "syrupy", "benchmark")
    run = pytester.runpytest_subprocess if subprocess else pytester.runpytest
    return run(*[f"-pno:{name}" for name in blocked], *args)


def test_registered_as_a_pytest11_entry_point() -> None:
    """pip-installing the project registers the plugin; no conftest is needed."""
    (found,) = entry_points(group="pytest11", name="gateway_tracer")
    assert found.value == "tracer.pytest_plugin"


def test_clean_app_passes(pytester: pytest.Pytester) -> None:
    """A conforming app that never blocks: the test passes."""
    pytester.makepyfile(apps=APPS)
    pytester.makepyfile(
        """
        from apps import get, good

        def test_home(gateway_tracer):
            assert get(gateway_tracer.wrap(good))[0]["status"] == 200
            assert gateway_tracer.violations == []
        """
    )
    _run(pytester).assert_outcomes(passed=1)


def test_violation_fails_the_test_with_rule_and_hint(pytester: pytest.Pytester) -> None:
    """A body before the start message fails the test, naming the rule, request and hint."""
    pytester.makepyfile(apps=APPS)
    pytester.makepyfile(
        """
        from apps import get, body_first

        def test_home(gateway_tracer):
            get(gateway_tracer.wrap(body_first))
        """
    )
    result = _run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*gateway-tracer found:*",
            "*HTTP-001 GET /: http.response.body sent before http.response.start (at *apps.py:*)",
            "*hint: Send http.response.start*",
        ]
    )


def test_warnings_fail_only_when_strict(pytester: pytest.Pytester) -> None:
    """A warning passes by default; the marker's strict=True (or the ini option) fails it."""
    pytester.makepyfile(apps=APPS)
    pytester.makepyfile(
        """
        import pytest
        from apps import get, upper_header

        def test_lenient(gateway_tracer):
            get(gateway_tracer.wrap(upper_header))

        @pytest.mark.gateway_tracer(strict=True)
        def test_strict(gateway_tracer):
            get(gateway_tracer.wrap(upper_header))

        @pytest.mark.gateway_tracer(strict=True, allow=["HTTP-011"])
        def test_allowed(gateway_tracer):
            get(gateway_tracer.wrap(upper_header))
        """
    )
    result = _run(pytester)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*test_strict*", "*HTTP-011*"])
    pytester.makeini("[pytest]\ngateway_tracer_strict = true\n")
    _run(pytester).assert_outcomes(passed=1, failed=2)
    result = _run(pytester, "-k", "lenient")
    result.assert_outcomes(failed=1)


def test_blocking_call_in_async_handler_fails(pytester: pytest.Pytester) -> None:
    """time.sleep in an async handler holds the loop past max_block_ms: the test fails.

    The same with a real FastAPI app under Starlette's TestClient, lifespan included, and
    behind FastAPI's http middleware (the endpoint then runs in a task of its own).
    """
    pytester.makepyfile(apps=APPS)
    pytester.makepyfile(
        """
        import time

        import pytest
        from apps import get, sleeps_blocking
        from fastapi import FastAPI
        from starlette.testclient import TestClient

        api = FastAPI()

        @api.get("/slow")
        async def slow():
            time.sleep(0.15)
            return {"ok": True}

        @pytest.mark.gateway_tracer(max_block_ms=50)
        def test_blocks(gateway_tracer):
            get(gateway_tracer.wrap(sleeps_blocking))

        @pytest.mark.gateway_tracer(max_block_ms=5000)
        def test_generous_limit(gateway_tracer):
            get(gateway_tracer.wrap(sleeps_blocking))
            assert gateway_tracer.blocks == []

        @pytest.mark.gateway_tracer(max_block_ms=50)
        def test_fastapi_blocks(gateway_tracer):
            with TestClient(gateway_tracer.wrap(api)) as client:
                assert client.get("/slow").status_code == 200

        behind = FastAPI()

        @behind.middleware("http")
        async def passthrough(request, call_next):
            return await call_next(request)

        @behind.get("/behind")
        async def slow_behind_middleware():
            time.sleep(0.15)
            return {"ok": True}

        @pytest.mark.gateway_tracer(max_block_ms=50)
        def test_fastapi_blocks_behind_http_middleware(gateway_tracer):
            with TestClient(gateway_tracer.wrap(behind)) as client:
                assert client.get("/behind").status_code == 200
        """
    )
    result = _run(pytester)
    result.assert_outcomes(passed=1, failed=3)
    result.stdout.fnmatch_lines(
        [
            "*event loop blocked * ms (limit 50 ms) by GET / at *apps.py:*",
            "*event loop blocked * ms (limit 50 ms) by GET /slow at *test_blocking*.py:*",
            "*event loop blocked * ms (limit 50 ms) by GET /behind at *test_blocking*.py:*",
        ]
    )


def test_an_app_instrumented_already_is_judged_in_full(pytester: pytest.Pytester) -> None:
    """An app the module instrumented already (its own recorder, for production) and wrapped
    again by the fixture: the test's recorder sees the block in the endpoint's task behind
    FastAPI's http middleware, at the endpoint's line, and the test fails."""
    pytester.makepyfile(
        """
        import time

        import pytest
        import tracer
        from fastapi import FastAPI
        from starlette.testclient import TestClient

        app = FastAPI()

        @app.middleware("http")
        async def passthrough(request, call_next):
            return await call_next(request)

        @app.get("/")
        async def home():
            time.sleep(0.15)
            return {"ok": True}

        instrumented = tracer.instrument(app)

        @pytest.mark.gateway_tracer(max_block_ms=50)
        def test_already_instrumented(gateway_tracer):
            client = TestClient(gateway_tracer.wrap(instrumented))
            assert client.get("/").status_code == 200
        """
    )
    result = _run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*event loop blocked * ms (limit 50 ms) by GET / at *test_an_app_instrumented*.py:16;*"]
    )


def test_check_false_records_without_failing(pytester: pytest.Pytester) -> None:
    """check=False keeps the events for the test to inspect and never fails on its own."""
    pytester.makepyfile(apps=APPS)
    pytester.makepyfile(
        """
        import pytest
        from apps import get, body_first

        @pytest.mark.gateway_tracer(check=False)
        def test_inspect(gateway_tracer):
            get(gateway_tracer.wrap(body_first))
            assert [e.data["rule"] for e in gateway_tracer.violations] == ["HTTP-001"]
        """
    )
    _run(pytester).assert_outcomes(passed=1)


def test_a_failing_test_keeps_its_own_failure(pytester: pytest.Pytester) -> None:
    """When the test body itself fails, that failure is reported, not the plugin's; what the
    plugin found is shown under it, in a section of its own, rather than thrown away."""
    pytester.makepyfile(apps=APPS)
    pytester.makepyfile(
        """
        import pytest
        from apps import get, body_first

        def test_fails(gateway_tracer):
            get(gateway_tracer.wrap(body_first))
            assert 1 == 2, "the test's own reason"

        @pytest.mark.gateway_tracer(check=False)
        def test_fails_unchecked(gateway_tracer):
            get(gateway_tracer.wrap(body_first))
            assert 1 == 2, "unchecked, so nothing to add"
        """
    )
    result = _run(pytester)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*_ test_fails _*",
            "E * AssertionError: the test's own reason",
            "*- Captured gateway-tracer call -*",
            "gateway-tracer found (not judged: the test failed on its own):",
            "  HTTP-001 GET /: http.response.body sent before http.response.start (at *apps.py:*)",
            "      hint: Send http.response.start*",
            "*_ test_fails_unchecked _*",
        ]
    )
    assert "gateway-tracer found:" not in result.stdout.str()  # not the failure itself
    assert result.stdout.str().count("Captured gateway-tracer") == 1  # check=False: none


def test_a_tests_recorder_is_released_after_its_teardown(pytester: pytest.Pytester) -> None:
    """A test's recorder and events go once the test is over, not when the session ends:
    items live all session, and 100 tests of 500 requests each kept 187 MB instead of 60."""
    pytester.makepyfile(apps=APPS)
    pytester.makepyfile(
        """
        import gc
        import weakref

        import pytest
        from apps import get, body_first, good

        RECORDERS = []

        @pytest.mark.parametrize("i", range(20))
        def test_many(gateway_tracer, i):
            RECORDERS.append(weakref.ref(gateway_tracer.recorder))
            get(gateway_tracer.wrap(good))

        def test_failing(gateway_tracer):
            RECORDERS.append(weakref.ref(gateway_tracer.recorder))
            get(gateway_tracer.wrap(body_first))
            assert 1 == 2

        def test_violating(gateway_tracer):
            RECORDERS.append(weakref.ref(gateway_tracer.recorder))
            get(gateway_tracer.wrap(body_first))

        def test_zz_none_left():
            gc.collect()
            assert len(RECORDERS) == 22
            assert [i for i, ref in enumerate(RECORDERS) if ref() is not None] == []
        """
    )
    # In a subprocess: an in-process run's hook recorder keeps each failure's traceback.
    _run(pytester, subprocess=True).assert_outcomes(passed=21, failed=2)


def test_wsgi_apps_too(pytester: pytest.Pytester) -> None:
    """WSGI apps are wrapped the same way; a bad status line fails the test."""
    pytester.makepyfile(
        """
        def bad(environ, start_response):
            start_response("200", [("Content-Type", "text/plain")])
            return [b"ok"]

        def test_wsgi(gateway_tracer):
            app = gateway_tracer.wrap(bad)
            body = app({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.input": None},
                       lambda status, headers, exc_info=None: None)
            list(body)
            body.close()
        """
    )
    result = _run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*WSGI-005 GET /: status is not of the form*"])


def test_a_lifespan_failure_names_the_lifespan(pytester: pytest.Pytester) -> None:
    """A lifespan has no method and no path: the failure says ``lifespan``, nothing after it."""
    pytester.makepyfile(apps=APPS)
    pytester.makepyfile(
        """
        from apps import leaves_startup_unanswered, lifespan

        def test_lifespan(gateway_tracer):
            assert lifespan(gateway_tracer.wrap(leaves_startup_unanswered)) == []
        """
    )
    result = _run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*LS-005 lifespan: the app returned without answering lifespan.startup"]
    )
    assert "None" not in result.stdout.str()


def test_allow_takes_one_rule_id_as_a_string(pytester: pytest.Pytester) -> None:
    """``allow="HTTP-011"`` allows that rule (not the set of its characters)."""
    pytester.makepyfile(apps=APPS)
    pytester.makepyfile(
        """
        import pytest
        from apps import get, upper_header

        @pytest.mark.gateway_tracer(strict=True, allow="HTTP-011")
        def test_allowed(gateway_tracer):
            get(gateway_tracer.wrap(upper_header))
            assert gateway_tracer.allow == {"HTTP-011"}
        """
    )
    _run(pytester).assert_outcomes(passed=1)


MARKER_MISTAKES = [
    pytest.param(
        "50",
        "@pytest.mark.gateway_tracer takes keyword arguments only: max_block_ms,"
        " strict, allow, check; it was given the positional argument(s) 50.*",
        id="positional",
    ),
    pytest.param(
        "max_block=50",
        "@pytest.mark.gateway_tracer takes keyword arguments only: max_block_ms,"
        " strict, allow, check; it does not know max_block (did you mean max_block_ms?).",
        id="misspelt",
    ),
    pytest.param(
        'max_block_ms="abc"',
        "@pytest.mark.gateway_tracer(max_block_ms='abc'): max_block_ms must be a"
        " positive number of milliseconds, e.g. 50.",
        id="max_block_ms-not-a-number",
    ),
    pytest.param(
        "max_block_ms=0",
        "@pytest.mark.gateway_tracer(max_block_ms=0): max_block_ms must be a"
        " positive number of milliseconds, e.g. 50.",
        id="max_block_ms-zero",
    ),
    pytest.param(
        'strict="yes"',
        "@pytest.mark.gateway_tracer(strict='yes'): strict must be True or False.",
        id="strict-not-a-bool",
    ),
    pytest.param(
        "allow=11",
        "@pytest.mark.gateway_tracer(allow=11): allow must be a rule id or a list"
        " of rule ids, e.g. *HTTP-011*",
        id="allow-not-rule-ids",
    ),
]


@pytest.mark.parametrize("arguments,message", MARKER_MISTAKES)
def test_a_marker_mistake_is_a_usage_error_naming_the_marker(
    pytester: pytest.Pytester, arguments: str, message: str
) -> None:
    """A positional argument, an unknown keyword or a wrong value in the marker errors the
    test, naming the marker and what it takes (never ignored, never blamed on the ini)."""
    pytester.makeini("[pytest]\ngateway_tracer_max_block_ms = 300\n")
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.gateway_tracer({arguments})
        def test_marked(gateway_tracer):
            pass
        """
    )
    result = _run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([message])
    assert "gateway_tracer_max_block_ms" not in result.stdout.str()


def test_a_bad_ini_limit_is_blamed_on_the_ini_option(pytester: pytest.Pytester) -> None:
    """Without the marker's max_block_ms, a bad ini value is named as the ini option."""
    pytester.makeini("[pytest]\ngateway_tracer_max_block_ms = abc\n")
    pytester.makepyfile(
        """
        def test_plain(gateway_tracer):
            pass
        """
    )
    result = _run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "gateway_tracer_max_block_ms must be a positive number of milliseconds,"
            " not 'abc'; try gateway_tracer_max_block_ms = 100."
        ]
    )
