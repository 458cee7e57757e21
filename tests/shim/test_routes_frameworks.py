"""``request.end``'s ``route`` from frameworks other than Starlette and FastAPI: Bottle's
``environ["bottle.route"]`` (WSGI) and Litestar's ``scope["path_template"]`` (ASGI)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import warnings
import wsgiref.util
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import bottle
import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from tracer import events as K
from tracer.export import ExportOptions
from tracer.export.otlp import export_otlp_json
from tracer.recorder import Recorder
from tracer.shim.asgi import AsgiShim
from tracer.shim.wsgi import WsgiShim

pytestmark = pytest.mark.timeout(60)


def ends(rec: Recorder) -> list[dict[str, Any]]:
    """The data of every ``request.end`` recorded, in order."""
    return [event.data for event in rec.events if event.kind == K.REQUEST_END]


def environ(path: str, **extra: Any) -> dict[str, Any]:
    """A PEP 3333 environ for driving an app by hand, as a server would."""
    base: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    base.update(extra)
    return base


def drive(app: Any, env: dict[str, Any], chunks: int | None = None) -> None:
    """Serve ``env`` as a server does: start_response, iterate (only ``chunks`` items when
    given: the client left), then close."""
    body = app(env, lambda status, headers, exc_info=None: None)
    try:
        for n, _ in enumerate(body, 1):
            if chunks is not None and n >= chunks:
                break
    finally:
        body.close()


# -- Bottle ---------------------------------------------------------------------------------------


def bottle_app() -> bottle.Bottle:
    """A Bottle app with a typed wildcard, a child app mounted as Bottle advises, a route that
    raises (``catchall`` off, so the exception reaches the server), one that streams and one
    that returns a file."""
    app, child = bottle.Bottle(), bottle.Bottle()
    app.config["catchall"] = child.config["catchall"] = False

    @app.get("/items/<item_id:int>")
    def item(item_id: int) -> str:
        return str(item_id)

    @app.get("/boom/<n>")
    def boom(n: str) -> str:
        raise RuntimeError(n)

    @app.get("/stream")
    def stream() -> Iterator[bytes]:
        yield b"a"
        yield b"b"

    @app.get("/file")
    def file() -> Any:
        return io.BytesIO(b"file body")

    @child.get("/users/<name>")
    def user(name: str) -> str:
        return name

    app.mount("/child/", child)
    return app


def test_bottle_route_is_its_rule() -> None:
    """Bottle's matched route's rule is ``request.end``'s route: the typed wildcard as Bottle
    writes it, a mounted child's prefix included, kept when the handler raises; a 404 (no
    route matched) has none."""
    rec = Recorder()
    shim = WsgiShim(bottle_app(), recorder=rec)
    transport = httpx.WSGITransport(app=shim, raise_app_exceptions=False)
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        assert client.get("/items/3").text == "3"
        assert client.get("/child/users/ann").text == "ann"
        assert client.get("/items/x").status_code == 404
        with pytest.raises(RuntimeError):
            client.get("/boom/7")
    assert [(end["status"], end.get("route")) for end in ends(rec)] == [
        (200, "/items/<item_id:int>"),
        (200, "/child/users/<name>"),
        (404, None),
        (500, "/boom/<n>"),
    ]


def test_bottle_route_in_the_rarer_end_layouts() -> None:
    """The route is kept in a response cut short (the client left mid-body) and in a
    ``wsgi.file_wrapper`` response the server sends itself."""
    rec = Recorder()
    shim = WsgiShim(bottle_app(), recorder=rec)
    drive(shim, environ("/stream"), chunks=1)
    drive(shim, environ("/file", **{"wsgi.file_wrapper": wsgiref.util.FileWrapper}))
    cut, wrapped = ends(rec)
    assert (cut["route"], cut["cut_short"]) == ("/stream", True)
    assert (wrapped["route"], wrapped["file_wrapper"]) == ("/file", True)


def test_bottle_route_names_the_otel_span(tmp_path: Any) -> None:
    """The OpenTelemetry export of a Bottle request has ``http.route`` and the span's name
    made of it."""
    rec = Recorder()
    drive(WsgiShim(bottle_app(), recorder=rec), environ("/items/3"))
    out = tmp_path / "spans.otlp.json"
    export_otlp_json(rec.recording(), ExportOptions(output=str(out)))
    (line,) = out.read_text().splitlines()
    (span,) = json.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"]
    attrs = {a["key"]: a["value"].get("stringValue") for a in span["attributes"]}
    assert (span["name"], attrs["http.route"]) == (
        "GET /items/<item_id:int>",
        "/items/<item_id:int>",
    )


class OddRoute:
    """An object in ``environ["bottle.route"]`` whose ``rule`` raises."""

    @property
    def rule(self) -> str:
        raise LookupError("no rule")


@pytest.mark.parametrize(
    "value",
    [OddRoute(), object(), SimpleNamespace(rule=b"/x"), SimpleNamespace(rule="")],
    ids=["rule-raises", "no-rule", "bytes-rule", "empty-rule"],
)
def test_an_odd_bottle_route_is_no_route(value: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Whatever sits under the key (a rule that raises, none, no object with one): the request
    ends as usual, without a route, and the shim reports no failure of its own."""

    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        env["bottle.route"] = value
        start_response("200 OK", [])
        return [b"ok"]

    rec = Recorder()
    with caplog.at_level(logging.WARNING, logger="tracer"):
        drive(WsgiShim(app, recorder=rec), environ("/"))
    (end,) = ends(rec)
    assert (end["status"], "route" in end) == (200, False)
    assert not caplog.records


# -- Litestar's key, on a raw ASGI app ----------------------------------------------------------


def litestar_like(template: Any) -> Any:
    """A raw ASGI app that leaves ``scope["path_template"]`` as Litestar's router does."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope["path_template"] = template
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def served(app: Any, *paths: str) -> list[dict[str, Any]]:
    """``request.end`` of each path served in turn through the ASGI shim around ``app``."""
    rec = Recorder()
    shim = AsgiShim(app, recorder=rec)

    async def main() -> None:
        transport = httpx.ASGITransport(app=shim)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for path in paths:
                await client.get(path)

    asyncio.run(main())
    return ends(rec)


@pytest.mark.parametrize(
    "template,route",
    [
        ("/api/items/{item_id}", "/api/items/{item_id}"),
        ("", None),  # Litestar's value for a request handed to a mounted ASGI app
        (42, None),
        (None, None),
    ],
    ids=repr,
)
def test_litestar_path_template_is_the_route(template: Any, route: str | None) -> None:
    """A non-empty string in ``scope["path_template"]`` is the route; anything else none."""
    (end,) = served(litestar_like(template), "/api/items/1")
    assert (end["status"], end.get("route")) == (200, route)


def test_litestar_under_a_starlette_mount_gets_the_mount_chain_first() -> None:
    """Litestar's template is relative to the root_path a Starlette Mount set: the mount's
    template comes before it."""
    outer = Starlette(routes=[Mount("/t/{tenant}", app=litestar_like("/items/{item_id}"))])
    (end,) = served(outer, "/t/acme/items/1")
    assert end["route"] == "/t/{tenant}/items/{item_id}"


# -- a real Litestar app (not in the test extra: skipped without it) ------------------------------


def test_real_litestar_routes() -> None:
    """Litestar's own router: Router prefix and a typed parameter (written without its type),
    a plain route; a 404 and a request to a mounted ASGI app have no route."""
    litestar = pytest.importorskip("litestar")
    from litestar.types import Receive, Scope, Send

    @litestar.get("/items/{item_id:int}")
    async def item(item_id: int) -> str:
        return str(item_id)

    @litestar.get("/health")
    async def health() -> str:
        return "ok"

    @litestar.asgi("/static", is_mount=True)
    async def static(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"s"})

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        app = litestar.Litestar(
            [litestar.Router(path="/api", route_handlers=[item]), health, static],
            logging_config=None,
        )
    got = served(app, "/api/items/3", "/health", "/api/items/x", "/static/a.css")
    assert [(end["status"], end.get("route")) for end in got] == [
        (200, "/api/items/{item_id}"),
        (200, "/health"),
        (404, None),
        (200, None),
    ]
