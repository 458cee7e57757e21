"""The environ and scope builders of the in-process models: the body's framing is theirs."""

from __future__ import annotations

from typing import Any

import pytest
from model_driver import by_kind, running, send_all

from sample_apps import echo
from tracer import events as K
from tracer.servers import Request
from tracer.servers.environ import body_headers, build_environ
from tracer.servers.scope import build_scope

pytestmark = pytest.mark.timeout(90)

BODY = b"hello world"

CONTRADICTING = {
    "Content-Length: 3": (("Content-Length", "3"),),
    "Transfer-Encoding: chunked": (("Transfer-Encoding", "chunked"),),
    "both": (("Content-Length", "3"), ("Transfer-Encoding", "chunked")),
}


def _request(given: tuple[tuple[str, str], ...], body: bytes = BODY) -> Request:
    return Request(method="POST", path="/", headers=(("X-A", "1"), *given, ("X-B", "2")), body=body)


@pytest.mark.parametrize("given", CONTRADICTING.values(), ids=CONTRADICTING.keys())
def test_a_given_content_length_or_transfer_encoding_gives_way_to_the_body(given: Any) -> None:
    """-d 'hello world' with -H 'Content-Length: 3' or -H 'Transfer-Encoding: chunked': the
    environ and the scope say Content-Length 11, once, in the place of the one given (else
    last), and no Transfer-Encoding, as a real server's client sends them."""
    request = _request(given)
    environ = build_environ(request, 1)
    assert environ["CONTENT_LENGTH"] == "11" and "HTTP_TRANSFER_ENCODING" not in environ
    assert environ["wsgi.input"].read() == BODY
    length = (b"content-length", b"11")
    if ("Content-Length", "3") in given:
        expected = [(b"x-a", b"1"), length, (b"x-b", b"2")]
    else:
        expected = [(b"x-a", b"1"), (b"x-b", b"2"), length]
    assert build_scope(request, 1)["headers"] == expected


def test_without_a_body_no_framing_header_is_left() -> None:
    """No body: a given Content-Length or Transfer-Encoding is dropped, none is added."""
    request = _request(CONTRADICTING["both"], body=b"")
    assert body_headers(request) == [("X-A", "1"), ("X-B", "2")]
    assert "CONTENT_LENGTH" not in build_environ(request, 1)
    assert body_headers(Request(headers=(("X-A", "1"),))) == [("X-A", "1")]


@pytest.mark.parametrize(
    "model,app",
    [
        ("threads", {"app": echo.wsgi_app}),
        ("wsgi-on-loop", {"app": echo.wsgi_app}),
        ("loop", {"app": echo.asgi_app}),
        ("processes", {"app_spec": "sample_apps.echo:wsgi_app"}),
    ],
)
def test_every_in_process_model_hands_the_app_the_whole_body(model: str, app: Any) -> None:
    """Through each in-process model, an app that reads CONTENT_LENGTH bytes (echo) gets the
    whole 11-byte body despite -H 'Content-Length: 3', and the recorded request.start has
    the one content-length the app saw and no transfer-encoding."""
    with running(model, **app) as (server, recorder):
        [response] = send_all(server, [_request(CONTRADICTING["both"])], concurrency=1)
    assert (response.status, response.bytes_out) == (200, len(BODY))
    (start,) = [e for e in by_kind(recorder.events, K.REQUEST_START) if e.req == response.req]
    headers = [(str(k).lower(), v) for k, v in start.data["headers"]]
    assert [v for k, v in headers if k == "content-length"] == ["11"]
    assert "transfer-encoding" not in dict(headers)


PATHS = {
    # (as sent, PATH_INFO: the bytes it stands for as latin-1, the path an ASGI server gives)
    "utf-8": ("/caf%c3%a9/%C3%A9", "/caf\xc3\xa9/\xc3\xa9", "/café/é"),
    "not utf-8": ("/x%ff%fe", "/x\xff\xfe", "/x\ufffd\ufffd"),
    "ascii": ("/a%20b", "/a b", "/a b"),
}


@pytest.mark.parametrize(("sent", "path_info", "text"), PATHS.values(), ids=PATHS.keys())
def test_path_info_holds_the_bytes_the_path_stands_for(
    sent: str, path_info: str, text: str
) -> None:
    """``--path '/x%ff%fe'``: waitress and gunicorn give the app ``PATH_INFO`` '/x\\xff\\xfe',
    the bytes as latin-1 (PEP 3333), where ``unquote``'s U+FFFD made it '/xï¿½ï¿½'. The scope
    keeps uvicorn's path, U+FFFD for bytes that are not UTF-8, and the bytes as sent."""
    request = Request(path=sent)
    assert build_environ(request, 1)["PATH_INFO"] == path_info
    scope = build_scope(request, 1)
    assert (scope["path"], scope["raw_path"]) == (text, sent.encode("ascii"))


@pytest.mark.parametrize("model", ["threads", "wsgi-on-loop"])
def test_a_wsgi_model_gives_the_app_the_paths_bytes_and_records_its_text(model: str) -> None:
    """Through ``threads`` the app sees each path's bytes in ``PATH_INFO``; through
    ``wsgi-on-loop`` what asgiref's ``WsgiToAsgi`` makes of uvicorn's path (its text in UTF-8,
    U+FFFD for the bytes that were not). Either way the recorded ``request.start`` says the
    path as the ASGI shim records the same request's."""
    seen: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    requests = [Request(path=sent) for sent, _, _ in PATHS.values()]
    with running(model, app=app) as (server, recorder):
        responses = send_all(server, requests, concurrency=1)
    assert [r.status for r in responses] == [200] * len(PATHS)
    if model == "wsgi-on-loop":
        assert seen == [text.encode("utf-8").decode("latin-1") for _, _, text in PATHS.values()]
    else:
        assert seen == [path_info for _, path_info, _ in PATHS.values()]
    starts = {e.req: e.data["path"] for e in by_kind(recorder.events, K.REQUEST_START)}
    assert [starts[r.req] for r in responses] == [text for _, _, text in PATHS.values()]
