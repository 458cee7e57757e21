"""The ``loop`` and ``wsgi-on-loop`` models refuse the response headers real servers refuse.

uvicorn's h11 path raises into the app's ``send`` for a header name that is not a token, a value
holding CR, LF or NUL, or a str that is not ASCII (then resets the connection); hypercorn,
granian and daphne answer 500. The models raise what h11 raises and answer 500, and the
recording's ``request.end`` says what the client got, with the checker's ``violation`` kept.
"""

from __future__ import annotations

from typing import Any

import pytest
from model_driver import by_kind, running, send_all

from tracer import events as K
from tracer.recorder import Recorder
from tracer.servers import Request, Response
from tracer.servers.scope import LocalProtocolError, check_headers
from tracer.summary import request_spans, summarize

pytestmark = pytest.mark.timeout(60)

HEADERS: dict[str, list[tuple[Any, Any]]] = {
    "/good": [(b"content-type", b"text/plain")],
    "/ascii-str": [("content-type", "text/plain")],  # h11 takes an ASCII str
    "/crlf": [(b"x-bad", b"a\r\nInjected: yes")],
    "/lf": [(b"x-bad", b"a\nb")],
    "/nul": [(b"x-bad", b"a\x00b")],
    "/str": [("x-bad", "snow \u2603")],
    "/space": [(b"x bad", b"a")],
    "/colon": [(b"x:bad", b"a")],
    "/int": [(b"x-bad", 1)],
}


class _App:
    """Sends the headers of its path; notes what ``send`` raised into it, then lets it out."""

    def __init__(self, on_refusal: str = "raise") -> None:
        self.on_refusal = on_refusal
        self.raised: dict[str, str] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        start = {"type": "http.response.start", "status": 200, "headers": HEADERS[path]}
        try:
            await send(start)
        except Exception as exc:
            self.raised[path] = type(exc).__name__
            if self.on_refusal == "return":
                return
            if self.on_refusal != "recover":
                raise
            await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def _run(app: Any, paths: list[str], server: str = "loop") -> tuple[list[Response], Recorder]:
    with running(server, app) as (model, recorder):
        responses = send_all(model, [Request(path=path) for path in paths], concurrency=1)
    return responses, recorder


def _recorded_status(recorder: Recorder, response: Response) -> int | None:
    """The status the recording gives the request (its first ``request.end``)."""
    return request_spans(recorder.events)[response.req].outcome_status  # type: ignore[index]


def _rules(recorder: Recorder, response: Response) -> set[str]:
    return {e.data["rule"] for e in by_kind(recorder.events, K.VIOLATION) if e.req == response.req}


REFUSED = {
    "/crlf": ("LocalProtocolError", "HTTP-012"),
    "/lf": ("LocalProtocolError", "HTTP-012"),
    "/nul": ("LocalProtocolError", "HTTP-012"),
    "/str": ("UnicodeEncodeError", "HTTP-010"),
    "/space": ("LocalProtocolError", "HTTP-012"),
    "/colon": ("LocalProtocolError", "HTTP-012"),
    "/int": ("TypeError", "HTTP-010"),
}


def test_refused_headers_get_a_500_recorded_as_500() -> None:
    """Each bad header: ``send`` raises h11's exception into the app, which lets it out; the
    client gets 500, the recording's end says 500 with that error, the violation stays."""
    app = _App()
    paths = list(REFUSED)
    responses, recorder = _run(app, paths)
    assert app.raised == {path: error for path, (error, _) in REFUSED.items()}
    for path, response in zip(paths, responses, strict=True):
        error, rule = REFUSED[path]
        assert (response.status, response.bytes_out, response.error) == (500, 0, error), path
        assert _recorded_status(recorder, response) == 500, path
        assert request_spans(recorder.events)[response.req].error == error  # type: ignore[index]
        assert rule in _rules(recorder, response), path
    summary = summarize(recorder.events)
    assert summary["status"] == {"500": len(paths)}


def test_the_users_app_gets_500_not_200() -> None:
    """The reported app, /crlf and /str alternating: 500 for every request, none 200."""
    responses, recorder = _run(_App(), ["/crlf", "/str"] * 5)
    assert [r.status for r in responses] == [500] * 10
    assert summarize(recorder.events)["status"] == {"500": 10}


def test_good_headers_still_200() -> None:
    """Bytes headers, and an ASCII str one (h11 encodes it; the checker still flags it)."""
    app = _App()
    responses, recorder = _run(app, ["/good", "/ascii-str"])
    assert [(r.status, r.bytes_out, r.error) for r in responses] == [(200, 2, None)] * 2
    assert app.raised == {}
    assert [_recorded_status(recorder, r) for r in responses] == [200, 200]
    assert _rules(recorder, responses[0]) == set()
    assert "HTTP-010" in _rules(recorder, responses[1])
    assert not by_kind(recorder.events, K.ERROR)


def test_an_app_returning_after_the_refusal_gets_a_recorded_500() -> None:
    """The app swallows the exception and returns: the client gets 500, and the recording
    ends the request with 500 and the server's error (the shim saw nothing fail)."""
    responses, recorder = _run(_App(on_refusal="return"), ["/crlf"])
    [response] = responses
    assert (response.status, response.error) == (500, None)
    assert _recorded_status(recorder, response) == 500
    assert [e.data["type"] for e in by_kind(recorder.events, K.ERROR)] == ["LocalProtocolError"]


def test_an_app_may_start_another_response_after_the_refusal() -> None:
    """Nothing went out with the refused start: a valid one sent next is the response, as
    hypercorn allows."""
    responses, recorder = _run(_App(on_refusal="recover"), ["/crlf"])
    [response] = responses
    assert (response.status, response.bytes_out, response.error) == (503, 2, None)
    assert _recorded_status(recorder, response) == 503


def _wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    headers = {
        "/good": [("Content-Type", "text/plain")],
        "/crlf": [("X-Bad", "a\r\nInjected: yes")],
        "/lf": [("X-Bad", "a\nb")],
        "/space": [("X Bad", "a")],
    }[environ["PATH_INFO"]]
    start_response("200 OK", headers)
    return [b"ok"]


def test_wsgi_on_loop_refuses_crlf_in_a_wsgi_header() -> None:
    """asgiref passes the header on as bytes; the loop's ``send`` refuses it where asgiref
    sends the headers: 500, recorded as 500 with the error, the violation kept."""
    paths = ["/crlf", "/lf", "/space", "/good"]
    responses, recorder = _run(_wsgi_app, paths, server="wsgi-on-loop")
    statuses = [(r.status, r.error) for r in responses]
    assert statuses == [(500, "LocalProtocolError")] * 3 + [(200, None)]
    assert [_recorded_status(recorder, r) for r in responses] == [500, 500, 500, 200]
    assert "WSGI-012" in _rules(recorder, responses[0])
    errors = [e.data["type"] for e in by_kind(recorder.events, K.ERROR)]
    assert errors == ["LocalProtocolError"] * 3
    assert summarize(recorder.events)["status"] == {"200": 1, "500": 3}


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ([(b"x-bad", b"a\r\nb")], "Illegal header value b'a\\r\\nb'"),
        ([(b"x bad", b"a")], "Illegal header name b'x bad'"),
        ([(b"", b"a")], "Illegal header name b''"),
    ],
)
def test_check_headers_raises_h11s_messages(headers: Any, message: str) -> None:
    """The messages are h11's, word for word."""
    with pytest.raises(LocalProtocolError) as caught:
        check_headers(headers)
    assert str(caught.value) == message


def test_check_headers_takes_what_h11_takes() -> None:
    """Tokens, obs-text and inner spaces in values, bytearrays, ASCII str: all pass."""
    check_headers(
        [
            (b"x-ok!#$%&'*+.^_`|~", b"caf\xe9 au  lait"),
            (bytearray(b"x-array"), memoryview(b"v")),
            ("x-str", "ascii"),
        ]
    )


@pytest.mark.parametrize("path", sorted(HEADERS))
def test_check_headers_agrees_with_h11(path: str) -> None:
    """Each case raises what h11 (uvicorn's) raises for it, with the same message, or
    nothing when h11 takes it."""
    h11 = pytest.importorskip("h11")
    try:
        h11.Response(status_code=200, headers=HEADERS[path], reason=b"OK")
    except Exception as exc:
        theirs: tuple[str, str] | None = (type(exc).__name__, str(exc))
    else:
        theirs = None
    try:
        check_headers(HEADERS[path])
    except Exception as exc:
        ours: tuple[str, str] | None = (type(exc).__name__, str(exc))
    else:
        ours = None
    assert ours == theirs
