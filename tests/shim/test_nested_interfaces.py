"""A WSGI app inside an ASGI app through an adapter: each request is one request per recorder."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import flask
import httpx
import pytest
from asgiref.wsgi import WsgiToAsgi
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.routing import Mount

import tracer
from tracer import events as K
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.shim.wsgi import WsgiShim

with warnings.catch_warnings():  # Starlette deprecates it in favour of a2wsgi; it still works
    warnings.simplefilter("ignore")
    from starlette.middleware.wsgi import WSGIMiddleware

pytestmark = pytest.mark.timeout(60)


def legacy(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"legacy"]


def get(app: Any, url: str, method: str = "GET", **kwargs: Any) -> httpx.Response:
    """One request to an ASGI app through httpx's in-process ASGI transport."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.request(method, url, **kwargs)

    return asyncio.run(go())


def only(events: list[Event], kind: str) -> list[Event]:
    return [event for event in events if event.kind == kind]


def interfaces(rec: Recorder) -> list[str]:
    return [event.data["interface"] for event in only(rec.events, K.REQUEST_START)]


def mounted(wsgi_app: Any, rec: Recorder) -> Any:
    """``wsgi_app`` mounted at /legacy through asgiref's adapter, in an app traced by ``rec``."""
    return tracer.instrument(
        Starlette(routes=[Mount("/legacy", app=WsgiToAsgi(wsgi_app))]), recorder=rec
    )


@pytest.mark.parametrize("url", ["/legacy/x", "/legacy/caf%C3%A9/?q=1&r=%20"])
def test_wsgi_app_mounted_in_asgi_app_with_one_recorder_is_one_asgi_request(url: str) -> None:
    """Both instrumented with one recorder: the ASGI shim records the request (its sends and the
    thread hop); the WSGI shim, called in that request for it, passes it straight to its app."""
    rec = Recorder()
    app = mounted(tracer.instrument(legacy, recorder=rec), rec)

    response = get(app, url)

    assert response.status_code == 200
    assert response.content == b"legacy"
    assert interfaces(rec) == ["asgi"]
    assert {event.req for event in rec.events} == {only(rec.events, K.REQUEST_START)[0].req}
    assert not [event for event in rec.events if event.kind.startswith("wsgi.")]
    sends = [
        (e.data["type"], e.data["status"], e.data["bytes"]) for e in only(rec.events, K.ASGI_SEND)
    ]
    assert sends == [
        ("http.response.start", 200, None),
        ("http.response.body", None, 6),
        ("http.response.body", None, 0),
    ]
    assert [event.data["via"] for event in only(rec.events, K.SCHED_THREAD)] == ["sync_to_async"]
    (end,) = only(rec.events, K.REQUEST_END)
    assert (end.data["status"], end.data["bytes_out"], end.data["error"]) == (200, 6, None)
    assert tracer.summarize(rec.recording())["requests"] == 1


def test_wsgi_app_instrumented_twice_inside_asgi_app_is_one_request() -> None:
    """Two WSGI shims of the recorder (different settings, so both kept) inside its ASGI shim:
    still one request."""
    rec = Recorder()
    inner = WsgiShim(WsgiShim(legacy, recorder=rec, checks=False), recorder=rec)
    app = mounted(inner, rec)

    assert get(app, "/legacy/x").content == b"legacy"
    assert interfaces(rec) == ["asgi"]


def test_two_recorders_each_record_their_own_request() -> None:
    """The ASGI app traced by one recorder, the mounted WSGI app by another: each records the
    request in full, through its own interface."""
    outer, inner = Recorder(), Recorder()
    app = mounted(tracer.instrument(legacy, recorder=inner), outer)

    assert get(app, "/legacy/x").content == b"legacy"

    assert interfaces(outer) == ["asgi"]
    assert [e.data["status"] for e in only(outer.events, K.ASGI_SEND)] == [200, None, None]
    assert interfaces(inner) == ["wsgi"]
    # asgiref iterates the response but never closes it: the request ends when it is dropped.
    assert [event.kind for event in inner.events] == [
        K.REQUEST_START,
        K.WSGI_START_RESPONSE,
        K.WSGI_BODY,
        K.SCHED_THREAD,
        K.REQUEST_END,
    ]
    (start,) = only(inner.events, K.REQUEST_START)
    assert (start.data["method"], start.data["path"]) == ("GET", "/legacy/x")
    (end,) = only(inner.events, K.REQUEST_END)
    assert (end.data["status"], end.data["bytes_out"], end.data["close_called"]) == (200, 6, False)


def test_wsgi_app_instrumented_alone_behind_the_adapter_is_one_wsgi_request() -> None:
    """No ASGI shim around the adapter: the WSGI shim records the request, once (asgiref never
    closes the response: it ends when dropped)."""
    rec = Recorder()
    app = WsgiToAsgi(tracer.instrument(legacy, recorder=rec))

    assert get(app, "/x").content == b"legacy"

    assert interfaces(rec) == ["wsgi"]
    (end,) = only(rec.events, K.REQUEST_END)
    assert (end.data["status"], end.data["bytes_out"], end.data["close_called"]) == (200, 6, False)


def flask_app() -> flask.Flask:
    app = flask.Flask("legacy")

    @app.post("/echo")
    def echo() -> str:
        return f"{flask.request.args['n']}:{flask.request.get_data(as_text=True)}"

    return app


def test_flask_mounted_in_fastapi_through_wsgi_middleware_is_one_request() -> None:
    """Flask under FastAPI through Starlette's WSGIMiddleware (a thread hop of anyio), a POST
    with a query and a body, both instrumented with one recorder: one ASGI request."""
    rec = Recorder()
    api = FastAPI()
    api.mount("/flask", WSGIMiddleware(tracer.instrument(flask_app(), recorder=rec)))
    app = tracer.instrument(api, recorder=rec)

    response = get(app, "/flask/echo?n=7", method="POST", content=b"hello")

    assert (response.status_code, response.text) == (200, "7:hello")
    assert interfaces(rec) == ["asgi"]
    assert sum(e.data["bytes"] for e in only(rec.events, K.ASGI_RECEIVE)) == 5
    (end,) = only(rec.events, K.REQUEST_END)
    assert (end.data["status"], end.data["bytes_in"], end.data["bytes_out"]) == (200, 5, 7)


def test_new_request_to_a_wsgi_app_made_inside_an_asgi_request_is_its_own() -> None:
    """A ``def`` endpoint calling an instrumented WSGI app in-process (a new request, not the
    connection's) with the same recorder: two requests, the inner one recorded as WSGI."""
    rec = Recorder()
    inner = tracer.instrument(legacy, recorder=rec)
    api = FastAPI()

    @api.get("/outer")
    def outer() -> str:
        with httpx.Client(transport=httpx.WSGITransport(app=inner), base_url="http://i") as c:
            return c.get("/inner").text

    response = get(tracer.instrument(api, recorder=rec), "/outer")

    assert response.json() == "legacy"
    assert interfaces(rec) == ["asgi", "wsgi"]
    starts = only(rec.events, K.REQUEST_START)
    assert [event.data["path"] for event in starts] == ["/outer", "/inner"]
    assert [e.data["status"] for e in only(rec.events, K.REQUEST_END)] == [200, 200]
