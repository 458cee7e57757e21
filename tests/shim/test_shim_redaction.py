"""Both shims redact alike, end to end through real apps: request headers named like secrets
(``X-Auth-Token``), URL-valued headers (``Referer``, ``Origin``; ``Location`` in a WSGI
response) kept without their secrets, ``;name=value`` path parameters named like secrets;
``redact_headers={...}`` names exactly the headers hidden; ``redact=False`` keeps everything."""

from __future__ import annotations

import asyncio
from typing import Any

import flask
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

import tracer
from tracer import events as K
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.redact import REDACTED

R = REDACTED
SENT = {
    "X-Auth-Token": "T-auth",
    "X-CSRF-Token": "T-csrf",
    "Authorization": "Bearer T-bearer",
    "X-Internal": "T-internal",
    "Referer": "https://u:T-pw@example.com/list?token=T-ref&page=2",
    "Origin": "https://u:T-origin@example.com",
    "Accept": "text/html",
}
"""Request headers: every secret in them starts with ``T-``."""

PATH = "/items;jsessionid=T-sid/7;v=1"
"""A request path with a session id in a path parameter and a harmless one."""

LOCATION = "https://idp.example/cb?code=1&access_token=T-loc"

REDACTED_REQUEST = {
    "x-auth-token": R,
    "x-csrf-token": R,
    "authorization": R,
    "x-internal": "T-internal",
    "referer": f"https://{R}@example.com/list?token={R}&page=2",
    "origin": f"https://{R}@example.com",
    "accept": "text/html",
}
"""What the default redaction records of ``SENT`` (names as the shims record them)."""

REDACTED_PATH = f"/items;jsessionid={R}/7;v=1"


async def raw_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A plain ASGI app answering a redirect that sets a cookie."""
    await receive()
    headers = [(b"location", LOCATION.encode()), (b"set-cookie", b"sid=T-cookie; Path=/")]
    await send({"type": "http.response.start", "status": 302, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def login(request: Request) -> RedirectResponse:
    """A Starlette endpoint redirecting with a token in the URL and setting a session cookie."""
    response = RedirectResponse(LOCATION, status_code=302)
    response.set_cookie("session", "T-cookie")
    response.headers["X-Session-Token"] = "T-resp"
    return response


starlette_app = Starlette(routes=[Route("/{rest:path}", login)])

flask_app = flask.Flask(__name__)


@flask_app.route("/<path:rest>")
def flask_login(rest: str) -> flask.Response:
    """A Flask view answering the same redirect, cookie and token header."""
    response = flask.redirect(LOCATION, code=302)
    response.set_cookie("session", "T-cookie")
    response.headers["X-Session-Token"] = "T-resp"
    return response


def asgi_get(app: Any, headers: dict[str, str] = SENT, **options: Any) -> Recorder:
    """``app`` instrumented with ``options``, sent one GET of ``PATH`` with ``headers``."""
    recorder = Recorder()
    shim = tracer.instrument(app, recorder=recorder, **options)

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=shim)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.get(PATH, headers=headers)

    assert asyncio.run(go()).status_code == 302
    return recorder


def wsgi_get(app: Any, headers: dict[str, str] = SENT, **options: Any) -> Recorder:
    """The WSGI twin of ``asgi_get``."""
    recorder = Recorder()
    shim = tracer.instrument(app, recorder=recorder, **options)
    transport = httpx.WSGITransport(app=shim)
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        assert client.get(PATH, headers=headers).status_code == 302
    return recorder


def only(events: list[Event], kind: str) -> Event:
    """The one event of ``kind``."""
    (event,) = [e for e in events if e.kind == kind]
    return event


def request_headers(start: Event) -> dict[str, str]:
    """``request.start``'s headers of ``SENT`` (the clients add their own), by name."""
    wanted = {name.lower() for name in SENT}
    return {name: value for name, value in start.data["headers"] if name in wanted}


def test_asgi_raw_app_records_no_secret_of_the_request() -> None:
    """A raw ASGI app: ``X-Auth-Token`` and ``X-CSRF-Token`` hidden as ``Authorization`` is,
    ``Referer`` and ``Origin`` without credentials or token, the session path parameter
    hidden; ``asgi.send`` carries no response headers, so no secret of the response either."""
    recorder = asgi_get(raw_asgi)
    start = only(recorder.events, K.REQUEST_START)
    assert request_headers(start) == REDACTED_REQUEST
    assert start.data["path"] == REDACTED_PATH
    (response_start,) = [e for e in recorder.events if e.data.get("type") == "http.response.start"]
    assert response_start.data == {
        "type": "http.response.start",
        "status": 302,
        "bytes": None,
        "more_body": None,
    }
    recorded = repr(recorder.events)
    assert "T-" not in recorded.replace("T-internal", "")


def test_starlette_app_records_no_secret_of_the_request() -> None:
    """The same through Starlette's router and a ``RedirectResponse`` setting a cookie."""
    recorder = asgi_get(starlette_app)
    start = only(recorder.events, K.REQUEST_START)
    assert request_headers(start) == REDACTED_REQUEST
    assert start.data["path"] == REDACTED_PATH
    assert only(recorder.events, K.REQUEST_END).data["status"] == 302
    assert "T-" not in repr(recorder.events).replace("T-internal", "")


def test_flask_app_records_no_secret_of_request_or_response() -> None:
    """Flask through WSGI: the request as under ASGI; ``start_response``'s ``Set-Cookie`` and
    ``X-Session-Token`` hidden, ``Location`` kept without its token."""
    recorder = wsgi_get(flask_app)
    start = only(recorder.events, K.REQUEST_START)
    assert request_headers(start) == REDACTED_REQUEST
    assert start.data["path"] == REDACTED_PATH
    response = dict(only(recorder.events, K.WSGI_START_RESPONSE).data["headers"])
    assert response["Location"] == f"https://idp.example/cb?code=1&access_token={R}"
    assert response["Set-Cookie"] == R
    assert response["X-Session-Token"] == R
    assert "T-" not in repr(recorder.events).replace("T-internal", "")


@pytest.mark.parametrize(
    "get,app",
    [(asgi_get, raw_asgi), (asgi_get, starlette_app), (wsgi_get, flask_app)],
    ids=["asgi", "starlette", "flask"],
)
def test_path_parameters_named_like_secrets_are_redacted(get: Any, app: Any) -> None:
    """``request.start``'s ``path`` keeps its segments and ``;v=1``, not the session id."""
    start = only(get(app, {}).events, K.REQUEST_START)
    assert start.data["path"] == REDACTED_PATH
    assert start.data["query"] == ""


def test_wsgi_response_location_keeps_its_url_without_the_token() -> None:
    """A Flask redirect's ``Location`` is recorded with its token redacted, its other
    parameters as sent; ``Set-Cookie`` and ``X-Session-Token`` hidden."""
    recorder = wsgi_get(flask_app, {})
    response = only(recorder.events, K.WSGI_START_RESPONSE).data["headers"]
    assert response[2:] == [
        ["Location", f"https://idp.example/cb?code=1&access_token={R}"],
        ["Set-Cookie", R],
        ["X-Session-Token", R],
    ]
    assert [name for name, _ in response[:2]] == ["Content-Type", "Content-Length"]


@pytest.mark.parametrize(
    "get,app", [(asgi_get, starlette_app), (wsgi_get, flask_app)], ids=["starlette", "flask"]
)
def test_given_names_replace_the_default_and_redact_false_keeps_all(get: Any, app: Any) -> None:
    """``redact_headers={"X-Internal"}`` hides exactly that header (``X-Auth-Token`` and even
    ``Authorization`` are recorded), URL values and path parameters still lose their secrets;
    ``redact=False`` records every header, URL and path as sent."""
    given = get(app, redact_headers={"X-Internal"})
    start = only(given.events, K.REQUEST_START)
    assert request_headers(start) == {
        **REDACTED_REQUEST,
        "x-auth-token": "T-auth",
        "x-csrf-token": "T-csrf",
        "authorization": "Bearer T-bearer",
        "x-internal": R,
    }
    assert start.data["path"] == REDACTED_PATH

    plain = get(app, redact=False)
    start = only(plain.events, K.REQUEST_START)
    assert request_headers(start) == {name.lower(): value for name, value in SENT.items()}
    assert start.data["path"] == PATH
    if get is wsgi_get:
        response = dict(only(plain.events, K.WSGI_START_RESPONSE).data["headers"])
        assert response["Location"] == LOCATION
        assert response["Set-Cookie"].startswith("session=T-cookie;")
        assert response["X-Session-Token"] == "T-resp"
        given_response = dict(only(given.events, K.WSGI_START_RESPONSE).data["headers"])
        assert given_response["Set-Cookie"].startswith("session=T-cookie;")
        assert given_response["Location"] == f"https://idp.example/cb?code=1&access_token={R}"
