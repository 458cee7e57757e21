"""WSGI middleware between the shim and the app: the recording is the app's, its route included.

A timing or logging middleware written as a generator function returns its generator at once:
the app it wraps (Flask, Bottle) runs, routes and calls ``start_response`` only when the server
iterates the response. The route the app's router leaves in the environ is then there after
the shim's call to the app returned; it was read only during that call, so every request of
such an app was recorded without ``route``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import bottle
import flask
import httpx
import pytest

import tracer
from tracer import events as K
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Any]


def timing(app: WsgiApp) -> WsgiApp:
    """A timing middleware as they are often written: a generator that adds a header."""

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        began = time.perf_counter()

        def timed_start_response(status: str, headers: list[Any], exc_info: Any = None) -> Any:
            headers.append(("X-Elapsed", f"{time.perf_counter() - began:.6f}"))
            return start_response(status, headers, exc_info)

        body = app(environ, timed_start_response)
        try:
            yield from body
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return middleware


def flask_app() -> flask.Flask:
    app = flask.Flask(__name__)

    @app.post("/items/<int:item_id>")
    def item(item_id: int) -> str:
        return f"{item_id}:{len(flask.request.get_data())}"

    return app


def bottle_app() -> bottle.Bottle:
    app = bottle.Bottle()

    @app.post("/items/<item_id:int>")
    def item(item_id: int) -> str:
        return f"{item_id}:{len(bottle.request.body.read())}"

    return app


def post(app: WsgiApp) -> httpx.Response:
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as client:
        return client.post("/items/7?q=1", content=b"abc")


@pytest.mark.parametrize(
    ("make", "template"),
    [
        (lambda: flask_app().wsgi_app, "/items/<int:item_id>"),
        (bottle_app, "/items/<item_id:int>"),
    ],
    ids=["flask", "bottle"],
)
def test_route_of_an_app_under_a_generator_middleware(
    make: Callable[[], WsgiApp], template: str
) -> None:
    """The app routes while the server iterates the middleware's generator: the route is
    still the request's, and the events are those of the same app without the middleware."""
    rec = Recorder()
    response = post(tracer.instrument(timing(make()), recorder=rec))

    assert response.status_code == 200
    assert response.text == "7:3"
    assert "x-elapsed" in response.headers
    assert [event.kind for event in rec.events] == [
        K.REQUEST_START,
        K.WSGI_INPUT_READ,
        K.WSGI_START_RESPONSE,
        K.WSGI_BODY,
        K.WSGI_CLOSE,
        K.SCHED_THREAD,
        K.REQUEST_END,
    ]
    end = rec.events[-1].data
    assert (end["status"], end["bytes_in"], end["bytes_out"], end["route"]) == (200, 3, 3, template)


def test_route_of_a_generator_app_that_never_starts_a_response() -> None:
    """A generator middleware over Flask that the server closes before iterating: no response
    started, no route, and the environ is let go (no reference cycle left through it)."""
    rec = Recorder()
    app = tracer.instrument(timing(flask_app().wsgi_app), recorder=rec)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/items/1",
        "SERVER_NAME": "t",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
    }
    body = app(environ, lambda status, headers, exc_info=None: None)
    body.close()

    end = rec.events[-1]
    assert end.kind == K.REQUEST_END
    assert "route" not in end.data
    assert end.data["close_called"] is True
