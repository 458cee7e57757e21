"""A violation's message that quotes a header's value quotes it as the shims record headers:
a secret's value redacted, a URL's credentials too, so neither the recording nor anything
made from it carries a secret the app sent in a malformed header."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

from conformance_cases import asgi_scope

import tracer
from tracer import events as K
from tracer.conformance.schema import asgi_headers, wsgi_headers
from tracer.recording import load
from tracer.redact import REDACTED, header_verdicts, secret_header_names

SECRET = "s3cr3t-Value"
"""What no message may quote while redaction is on."""


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Sends a secret in three malformed headers: a control character in ``Set-Cookie``, a
    bytes ``Authorization`` value, and a ``Location`` list pair with credentials."""
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/plain"),
            ("Set-Cookie", f"sid={SECRET}\r\nX-Injected: 1"),
            ("Authorization", f"Bearer {SECRET}".encode()),
            ["Location", f"http://user:{SECRET}@example.com/"],
        ],
    )
    return [b"ok"]


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Sends a secret in a ``set-cookie`` value with a line break (a header injected after
    it), an ``authorization`` value as text, and a ``cookie`` header of three items."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/plain"),
                (b"set-cookie", f"sid={SECRET}\r\nx: 1".encode()),
                (b"authorization", f"Bearer {SECRET}"),
                (b"cookie", SECRET.encode(), b"more"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"ok"})


def _violations(path: Path) -> dict[str, str]:
    """Rule -> message of the recording's violations."""
    return {e.data["rule"]: e.data["message"] for e in load(path).events if e.kind == K.VIOLATION}


def test_wsgi_violations_recorded_without_the_secret(tmp_path: Path) -> None:
    """The file holds the three findings, each quoting the header with its value redacted,
    and the secret nowhere: not in a message, not in ``wsgi.start_response``'s headers."""
    path = tmp_path / "run.jsonl"
    recorder = tracer.Recorder(path)
    traced = tracer.instrument(wsgi_app, recorder=recorder)
    environ: dict[str, Any] = {"wsgi.input": io.BytesIO()}
    setup_testing_defaults(environ)
    result = traced(environ, lambda status, headers, exc_info=None: None)
    assert list(result) == [b"ok"]
    getattr(result, "close", lambda: None)()
    recorder.close()
    assert SECRET not in path.read_text(encoding="utf-8")
    found = _violations(path)
    assert found["WSGI-012"].endswith(f"Set-Cookie: '{REDACTED}'")
    assert found["WSGI-009"].endswith(f"(str, bytes) in ('Authorization', b'{REDACTED}')")
    assert found["WSGI-008"].endswith(f"got ['Location', 'http://{REDACTED}@example.com/']")


def test_asgi_violations_recorded_without_the_secret(tmp_path: Path) -> None:
    """The same through the ASGI shim: ``HTTP-012``, ``HTTP-010`` and ``HTTP-009``."""
    path = tmp_path / "run.jsonl"
    recorder = tracer.Recorder(path)
    traced = tracer.instrument(asgi_app, recorder=recorder)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(traced(asgi_scope("http"), receive, send))
    recorder.close()
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert SECRET not in path.read_text(encoding="utf-8")
    found = _violations(path)
    assert found["HTTP-012"].endswith(f"b'set-cookie': b'{REDACTED}'")
    assert found["HTTP-010"].endswith(f"(bytes, str) in (b'authorization', '{REDACTED}')")
    assert found["HTTP-009"].endswith(f"got (b'cookie', b'{REDACTED}', b'{REDACTED}')")


def _flags() -> tuple[list[tuple[str, str]], Any]:
    found: list[tuple[str, str]] = []
    return found, lambda rule_id, detail="", **kw: found.append((rule_id, detail))


def test_the_checks_follow_the_shims_verdicts() -> None:
    """``verdicts`` is the shim's: None (``redact=False``) quotes the value as sent; names
    given in ``redact_headers`` replace the default ones, exactly."""
    headers = [("Set-Cookie", "a\nb"), ("X-Internal", "c\nd")]
    found, flag = _flags()
    wsgi_headers(headers, flag, verdicts=None)
    assert found == [("WSGI-012", "Set-Cookie: 'a\\nb'"), ("WSGI-012", "X-Internal: 'c\\nd'")]
    found, flag = _flags()
    wsgi_headers(headers, flag, verdicts=header_verdicts(secret_header_names(True, {"X-Internal"})))
    assert found == [("WSGI-012", "Set-Cookie: 'a\\nb'"), ("WSGI-012", f"X-Internal: '{REDACTED}'")]
    found, flag = _flags()
    wsgi_headers(headers, flag)  # the default: the shims' default names
    assert found == [("WSGI-012", f"Set-Cookie: '{REDACTED}'"), ("WSGI-012", "X-Internal: 'c\\nd'")]


def test_a_header_injected_into_a_kept_value_is_redacted() -> None:
    """A plain header's value with a line break: each line after the first is a header of
    its own, redacted by its name; the plain ones keep their text."""
    found, flag = _flags()
    asgi_headers([(b"x-note", b"1\r\nAuthorization:  Bearer x\r\nX-Other: 2")], flag)
    assert found == [("HTTP-012", f"b'x-note': b'1\\r\\nAuthorization:  {REDACTED}\\r\\nX-O")]
    found, flag = _flags()
    wsgi_headers([("X-Note", f"1\nCookie: {SECRET}\nReferer: http://u:{SECRET}@h/")], flag)
    assert SECRET not in found[0][1] and found[0][0] == "WSGI-012"


def test_conflicting_lengths_beside_a_malformed_header() -> None:
    """Two Content-Length values that disagree, beside a header of one item: both findings,
    and the check itself does not fail on the short item while listing the lengths."""
    found, flag = _flags()
    length = asgi_headers([(b"content-length", b"1"), (b"x",), (b"content-length", b"2")], flag)
    assert length == -1
    assert found == [
        ("HTTP-009", "got (b'x',)"),
        ("HTTP-018", "content-length values [b'1', b'2']"),
    ]
