"""Redaction of query parameters separated by ``;`` as well as ``&``."""

from __future__ import annotations

from typing import Any

import tracer
from tracer import events as K
from tracer.recorder import Recorder
from tracer.redact import REDACTED, redact_query, redact_target


def test_semicolon_separated_secret_is_redacted_separators_kept() -> None:
    """``a=1;token=SECRET`` loses the secret; each separator stays as sent, mixed or not."""
    assert redact_query("a=1;token=SECRET") == f"a=1;token={REDACTED}"
    assert redact_query("token=x;a=1&sig=y;b=2") == f"token={REDACTED};a=1&sig={REDACTED};b=2"
    assert redact_query("a=1;b=2;flag") == "a=1;b=2;flag"
    assert redact_query(";;token=t;") == f";;token={REDACTED};"


def test_semicolon_secret_redacted_in_a_request_target() -> None:
    """The network client's targets (``request.queued``/``client.send`` paths) too."""
    assert redact_target("/p?a=1;token=SECRET") == f"/p?a=1;token={REDACTED}"


def test_wsgi_request_start_query_redacts_a_semicolon_parameter() -> None:
    """A WSGI request's ``request.start`` query keeps no ``;``-separated secret."""
    recorder = Recorder()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b""]

    shim = tracer.instrument(app, recorder=recorder)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/env",
        "QUERY_STRING": "a=1;token=SECRET&b=2",
        "SERVER_NAME": "x",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
    }
    body = shim(environ, lambda status, headers, exc_info=None: None)
    list(body)
    body.close()
    (start,) = [e for e in recorder.events if e.kind == K.REQUEST_START]
    assert start.data["query"] == f"a=1;token={REDACTED}&b=2"
    assert "SECRET" not in repr(recorder.events)
