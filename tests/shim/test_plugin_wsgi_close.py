"""WSGI-022 through the pytest plugin: ordinary Flask tests (the test client never closes) pass.

Werkzeug's test client (Flask's ``app.test_client()``) hands the app's iterable to a
``TestResponse`` and calls its ``close()`` only on ``response.close()`` or at the end of a
``with`` block, so a test that just reads ``r.data`` drops a closable iterable unclosed. That is
the test harness, not the app under test: the plugin records it and fails nothing.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

pytestmark = pytest.mark.timeout(120)


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # As in tests/test_pytest_plugin.py: keep the nested in-process runs lean.
    blocked = ("cacheprovider", "textual-snapshot", "hypothesispytest", "syrupy", "benchmark")
    return pytester.runpytest(*[f"-pno:{name}" for name in blocked], *args)


FLASK_APP = """
import flask


def make_app(wrap):
    app = flask.Flask(__name__)

    @app.get("/")
    def home():
        return "hello"

    @app.get("/json")
    def json_route():
        return {"ok": True}

    @app.get("/stream")
    def stream():
        def chunks():
            yield "a"
            yield "b"

        return app.response_class(chunks(), mimetype="text/plain")

    app.wsgi_app = wrap(app.wsgi_app)
    return app
"""


def test_flask_test_client_get_is_clean(pytester: pytest.Pytester) -> None:
    """test_client().get() read fully and never closed fails no test; the recording still
    says close was not called (a fact), and the WSGI-022 event is there for who looks."""
    pytester.makepyfile(flaskapp=FLASK_APP)
    pytester.makepyfile(
        """
        import gc

        from flaskapp import make_app

        def test_home(gateway_tracer):
            client = make_app(gateway_tracer.wrap).test_client()
            r = client.get("/")
            assert r.status_code == 200 and r.data == b"hello"
            assert client.get("/json").json == {"ok": True}
            assert client.get("/stream").data == b"ab"

        def test_close_is_still_recorded_as_a_fact(gateway_tracer):
            client = make_app(gateway_tracer.wrap).test_client()
            assert client.get("/").data == b"hello"
            with client.get("/") as closed:
                assert closed.data == b"hello"
            gc.collect()
            ends = [e.data["close_called"] for e in gateway_tracer.events
                    if e.kind == "request.end"]
            assert sorted(ends) == [False, True]
            rules = [e.data["rule"] for e in gateway_tracer.events if e.kind == "violation"]
            assert rules == ["WSGI-022"]
            assert gateway_tracer.violations == [] and gateway_tracer.problems() == []
        """
    )
    result = _run(pytester)
    result.assert_outcomes(passed=2)


def test_flask_app_violation_still_fails(pytester: pytest.Pytester) -> None:
    """Rules about the app itself still fail the test through the same client."""
    pytester.makepyfile(
        """
        import flask

        def test_bad(gateway_tracer):
            app = flask.Flask("bad")

            @app.get("/")
            def home():
                return flask.Response(b"x", headers={"Connection": "close"})

            app.wsgi_app = gateway_tracer.wrap(app.wsgi_app)
            assert app.test_client().get("/").data == b"x"
        """
    )
    result = _run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*WSGI-013 GET /: hop-by-hop header*"])
    assert "WSGI-022" not in result.stdout.str()
