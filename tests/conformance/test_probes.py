"""The probes of ``trace check`` and the environ/scope a server would build for them."""

from __future__ import annotations

from tracer.conformance.probes import BODY, NEXT_REQUEST, make_environ, make_scope, plan


def test_plan_covers_get_post_chunked_and_websocket() -> None:
    """Each path gets a GET, a HEAD, a POST with a body and a chunked POST; websockets come
    last."""
    names = [probe.name for probe in plan(["/", "/a"])]
    assert names == [
        "GET /",
        "HEAD /",
        "POST /",
        "POST / (chunked)",
        "GET /a",
        "HEAD /a",
        "POST /a",
        "POST /a (chunked)",
        "websocket /",
        "websocket /a",
    ]
    assert all(probe.kind == "http" for probe in plan(["/"], websocket=False))
    assert b"".join(plan(["/"])[3].chunks) == BODY and len(plan(["/"])[3].chunks) == 3


def test_environ_of_a_post_has_the_next_request_behind_the_body() -> None:
    """CONTENT_LENGTH covers the body; the stream goes on, as on a keep-alive socket."""
    post = plan(["/items?x=1"])[2]
    env = make_environ(post)
    assert (env["REQUEST_METHOD"], env["PATH_INFO"], env["QUERY_STRING"]) == (
        "POST",
        "/items",
        "x=1",
    )
    assert env["CONTENT_LENGTH"] == str(len(BODY)) and env["CONTENT_TYPE"] == "application/json"
    assert env["wsgi.input"].read() == BODY + NEXT_REQUEST


def test_environ_of_a_chunked_post_is_terminated_input() -> None:
    """A chunked body has no CONTENT_LENGTH; wsgi.input_terminated says the stream ends."""
    env = make_environ(plan(["/"])[3])
    assert "CONTENT_LENGTH" not in env and env["wsgi.input_terminated"] is True
    assert env["HTTP_TRANSFER_ENCODING"] == "chunked"
    assert env["wsgi.input"].read() == BODY


def test_scopes() -> None:
    """http scopes carry the method; websocket scopes the subprotocols; headers are bytes."""
    http = make_scope(plan(["/p?q=2"])[0])
    assert (http["type"], http["method"], http["path"], http["query_string"]) == (
        "http",
        "GET",
        "/p",
        b"q=2",
    )
    assert all(isinstance(k, bytes) and isinstance(v, bytes) for k, v in http["headers"])
    ws = make_scope(plan(["/ws"])[-1])
    assert ws["type"] == "websocket" and ws["scheme"] == "ws" and ws["subprotocols"] == []
