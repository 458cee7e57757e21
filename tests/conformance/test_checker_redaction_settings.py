"""A finding quotes a header's value as the shim that made the checker records it: with the
shim's own ``redact_headers`` names, and as it is when the shim redacts nothing."""

from __future__ import annotations

from typing import Any

from tracer.conformance import AsgiChecker, WsgiChecker
from tracer.redact import header_verdicts, secret_header_names

SECRET = "cust-4711"


def _verdicts(redact: bool, names: set[str] | None) -> Any:
    """What a shim made with ``redact`` and ``redact_headers=names`` looks header names up in."""
    return header_verdicts(secret_header_names(redact, names))


def _messages() -> tuple[list[str], Any]:
    found: list[str] = []

    def report(rule_id: str, message: str, **data: Any) -> None:
        found.append(f"{rule_id} {message}")

    return found, report


def test_wsgi_finding_redacts_a_header_named_in_redact_headers() -> None:
    """``redact_headers={"x-customer-id"}``: the shim records that header as ``[redacted]``,
    and so does the WSGI-009 finding about its bytes value."""
    found, report = _messages()
    checker = WsgiChecker({}, report, verdicts=_verdicts(True, {"x-customer-id"}))
    checker.start_response("200 OK", [("X-Customer-Id", SECRET.encode())], None)
    assert len(found) == 1 and found[0].startswith("WSGI-009 ")
    assert SECRET not in found[0]
    assert "b'[redacted]'" in found[0]


def test_wsgi_finding_keeps_a_default_secret_the_names_no_longer_cover() -> None:
    """Given names replace the default: an ``Authorization`` value the shim keeps in clear
    is quoted in clear, and with ``redact=False`` every value is."""
    for verdicts in (_verdicts(True, {"x-customer-id"}), _verdicts(False, None)):
        found, report = _messages()
        checker = WsgiChecker({}, report, verdicts=verdicts)
        checker.start_response("200 OK", [("Authorization", b"Bearer abc")], None)
        assert found == [
            "WSGI-009 a header name or value is not a str: (str, bytes) in "
            "('Authorization', b'Bearer abc')"
        ]


def test_asgi_http_and_websocket_findings_redact_the_given_names() -> None:
    """HTTP-010 (a str value in ``http.response.start``) and WS-008 (in
    ``websocket.accept``) quote the named header's value redacted."""
    verdicts = _verdicts(True, {"x-customer-id"})
    found, report = _messages()
    http = AsgiChecker({"type": "http"}, report, verdicts=verdicts)
    http.send(
        {"type": "http.response.start", "status": 200, "headers": [(b"x-customer-id", SECRET)]}
    )
    socket = AsgiChecker({"type": "websocket"}, report, verdicts=verdicts)
    socket.receive({"type": "websocket.connect"})
    socket.send({"type": "websocket.accept", "headers": [(b"x-customer-id", SECRET)]})
    assert [message.split(" ")[0] for message in found] == ["HTTP-010", "WS-008"]
    assert all(SECRET not in message and "'[redacted]'" in message for message in found)


def test_checkers_made_without_settings_redact_the_default_names() -> None:
    """A checker made as before (no ``verdicts``) redacts what a default shim redacts."""
    found, report = _messages()
    WsgiChecker({}, report).start_response("200 OK", [("X-Api-Key", SECRET.encode())], None)
    AsgiChecker({"type": "http"}, report).send(
        {"type": "http.response.start", "status": 200, "headers": [(b"x-api-key", SECRET)]}
    )
    assert [message.split(" ")[0] for message in found] == ["WSGI-009", "HTTP-010"]
    assert all(SECRET not in message for message in found)
