"""``trace check`` without ``--path``: the routes of real Flask, Starlette and FastAPI apps."""

from __future__ import annotations

import uuid
from typing import Any

import framework_apps
import pytest
from fastapi import FastAPI
from flask import Flask
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Host, Mount, Route, Router, WebSocketRoute
from starlette.websockets import WebSocket

import sample_apps.hello as hello
import tracer
from tracer import events as K
from tracer.cli import main
from tracer.conformance.driver import check_app
from tracer.conformance.routes import MAX_PATHS, discover_routes

pytestmark = pytest.mark.timeout(60)

NIL = "00000000-0000-0000-0000-000000000000"
# The paths of _flask_with_converters(), Flask's own static route first.
FLASK_PATHS = [
    "/static/1",
    "/items/1",
    "/users/1/files/1",
    f"/orders/{NIL}",
    "/about",
    "/price/1.0",
]


def _flask_with_converters() -> Flask:
    app = Flask("converters")

    @app.get("/items/<int:item_id>")
    def item(item_id: int) -> str:
        return f"item {item_id}"

    @app.get("/users/<name>/files/<path:rest>")
    def files(name: str, rest: str) -> str:
        return f"{name} {rest}"

    @app.get("/orders/<uuid:order>")
    def order(order: uuid.UUID) -> str:
        return str(order)

    @app.get("/<any(about, help):page>")
    def page(page: str) -> str:
        return page

    @app.get("/price/<float:amount>")
    def price(amount: float) -> str:
        return str(amount)

    return app


async def _text(request: Any) -> PlainTextResponse:
    return PlainTextResponse(str(request.path_params))


async def _echo(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.close()


async def _plain_asgi(scope: Any, receive: Any, send: Any) -> None:
    """An app of its own under a Mount (like StaticFiles): no route table to read."""
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _starlette_app() -> Starlette:
    api = Router([Route("/users/{user_id:int}", _text), Route("/orders/{order:uuid}", _text)])
    return Starlette(
        routes=[
            Route("/", _text),
            Route("/files/{rest:path}", _text),
            WebSocketRoute("/ws/{room}", _echo),
            Mount("/api", routes=api.routes),
            Mount("/static", app=_plain_asgi),
            Host("admin.example.com", app=Router([Route("/secret", _text)])),
        ]
    )


def test_flask_rules_get_values_their_converters_accept() -> None:
    """Each Flask rule becomes one path: int/str/path -> 1, float -> 1.0, uuid -> nil, any ->
    its first word."""
    routes = discover_routes(_flask_with_converters())
    assert routes is not None and routes.framework == "flask"
    assert routes.http == FLASK_PATHS
    assert routes.websocket == [] and not routes.truncated


def test_flask_probes_reach_the_handlers() -> None:
    """The filled-in values pass Flask's converters: the GETs are answered 200, not 404."""
    recorder = tracer.Recorder()
    report = check_app(_flask_with_converters(), recorder=recorder)
    assert report.findings == []
    recorder.drain()
    starts = {e.req: e.data["path"] for e in recorder.events if e.kind == K.REQUEST_START}
    assert report.paths() == FLASK_PATHS
    # Each rule declares GET only: that is what is sent (with the HEAD every GET gets), and it
    # gets through.
    assert {name.split()[0] for name in report.requests} == {"GET", "HEAD"}
    statuses: dict[str, set[int]] = {}
    for event in recorder.events:
        if event.kind == K.REQUEST_END:
            statuses.setdefault(starts[event.req], set()).add(event.data["status"])
    assert statuses["/static/1"] == {404}  # no such file
    for path in FLASK_PATHS[1:]:
        assert statuses[path] == {200}, (path, statuses[path])


def test_starlette_routes_mounts_and_websockets() -> None:
    """Routes, websocket routes, mounted routers (prefixed) and mounted apps (their root);
    a Host route needs a host name and is left out."""
    routes = discover_routes(_starlette_app())
    assert routes is not None and routes.framework == "starlette"
    assert routes.http == ["/", "/files/1", "/api/users/1", f"/api/orders/{NIL}", "/static/"]
    assert routes.websocket == ["/ws/1"]


def test_routes_are_found_through_middleware_and_the_shim() -> None:
    """Middleware keeping the app as ``.app`` (and our own shim) is looked through."""
    wrapped = CORSMiddleware(app=framework_apps.api, allow_origins=["*"])
    traced = tracer.instrument(wrapped, recorder=tracer.Recorder(keep=False))
    routes = discover_routes(traced)
    assert routes is not None
    assert {"/", "/sync", "/stream"} <= set(routes.http)
    assert routes.websocket == ["/ws"]
    flask_routes = discover_routes(framework_apps.flask_app.wsgi_app)  # a bound method
    assert flask_routes is not None and flask_routes.http == ["/static/1", "/", "/stream"]
    from asgiref.wsgi import WsgiToAsgi

    # asgiref keeps the WSGI app as ``.wsgi_application``: a Flask app served as ASGI.
    bridged = discover_routes(WsgiToAsgi(framework_apps.flask_app))
    assert bridged is not None and bridged.http == ["/static/1", "/", "/stream"]


def test_a_raw_app_has_no_route_table() -> None:
    """Plain callables: nothing to discover, and the check probes / as before."""
    assert discover_routes(hello.application) is None
    assert discover_routes(hello.asgi_app) is None
    report = check_app(hello.application)
    assert report.requests == ["GET /", "HEAD /", "POST /", "POST / (chunked)"]


def test_check_without_paths_probes_every_route_and_websockets_only_where_declared() -> None:
    """FastAPI: every route gets its declared methods (the ones with a body twice, in one piece
    and chunked); websocket sessions go to /ws alone."""
    report = check_app(framework_apps.api)
    assert {"GET /", "POST /", "POST / (chunked)", "GET /sync", "GET /openapi.json"} <= set(
        report.requests
    )
    assert "POST /sync" not in report.requests  # GET only
    assert [name for name in report.requests if name.startswith("websocket")] == ["websocket /ws"]
    assert report.findings == [] and report.skipped == []


def test_an_http_only_router_still_gets_one_websocket_probe() -> None:
    """With no websocket route, one session at the first path shows the refusal is clean."""
    app = Starlette(routes=[Route("/a", _text), Route("/b", _text)])
    report = check_app(app)
    assert [name for name in report.requests if name.startswith("websocket")] == ["websocket /a"]
    assert report.findings == []


def test_many_routes_are_cut_and_the_cli_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    """At most MAX_PATHS paths per kind; the command line names the cut on stderr."""
    app = FastAPI()
    for i in range(MAX_PATHS + 5):
        app.add_api_route(f"/r{i}", _text)
    routes = discover_routes(app)
    assert routes is not None and routes.truncated
    assert len(routes.http) == MAX_PATHS and routes.total > MAX_PATHS
    import sys

    module = type(sys)("many_routes_app")
    module.app = app  # type: ignore[attr-defined]
    sys.modules["many_routes_app"] = module
    try:
        assert main(["check", "many_routes_app:app", "--timeout", "5"]) == 0
    finally:
        del sys.modules["many_routes_app"]
    captured = capsys.readouterr()
    assert captured.err.strip() == (
        f"trace check: probing {MAX_PATHS} paths of each kind of the {routes.total} routes "
        "found; name others with --path."
    )
    assert captured.out.splitlines()[-2].startswith("paths: /openapi.json, ")


def test_given_paths_win_over_discovery(capsys: pytest.CaptureFixture[str]) -> None:
    """--path still means exactly those paths."""
    assert main(["check", "sample_apps.flask_app:app", "--path", "/io?ms=1"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == ["sample_apps.flask_app:app (wsgi): no violations in 4 requests"]


def test_declared_methods_and_fastapi_annotations_reach_the_handlers() -> None:
    """A PUT-only route is sent PUTs (not a GET and POSTs it would answer 405), a DELETE route
    a DELETE, and a FastAPI parameter annotated uuid.UUID gets a UUID (not a 422)."""
    app = FastAPI()
    seen: list[str] = []

    @app.put("/items/{item_id}")
    async def put_item(item_id: int, body: dict[str, Any]) -> dict[str, int]:
        seen.append(f"PUT {item_id}")
        return {"id": item_id}

    @app.delete("/orders/{order}")
    async def delete_order(order: uuid.UUID) -> dict[str, str]:
        seen.append(f"DELETE {order}")
        return {"deleted": str(order)}

    routes = discover_routes(app)
    assert routes is not None
    assert routes.methods["/items/1"] == ["PUT"]
    assert routes.methods[f"/orders/{NIL}"] == ["DELETE"]
    report = check_app(app)
    ours = [name for name in report.requests if "/items" in name or "/orders" in name]
    assert ours == ["PUT /items/1", "PUT /items/1 (chunked)", f"DELETE /orders/{NIL}"]
    assert seen == ["PUT 1", "PUT 1", f"DELETE {NIL}"]
    assert report.findings == []
