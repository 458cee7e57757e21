"""``trace check`` without ``--path``: the routes of real Quart, Litestar, Falcon, Bottle, Sanic
and Django apps, their parameters filled with values their converters accept, found through
middleware. A framework that is not installed is skipped."""

from __future__ import annotations

import sys
import types
import uuid
from datetime import date  # Litestar reads the handlers' annotations from this module
from typing import Any

import pytest

import tracer
from tracer import events as K
from tracer.cli import main
from tracer.conformance.driver import check_app
from tracer.conformance.routes import discover_routes

pytestmark = pytest.mark.timeout(60)

NIL = "00000000-0000-0000-0000-000000000000"


class Wrapper:
    """A middleware that keeps the app it wraps as ``.app``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, *args: Any) -> Any:
        return self.app(*args)


def _statuses(app: Any) -> tuple[Any, dict[str, set[int]]]:
    """Check ``app`` without paths; each probed method and path -> the statuses it got."""
    recorder = tracer.Recorder()
    report = check_app(app, recorder=recorder)
    recorder.drain()
    starts = {
        e.req: f"{e.data.get('method') or 'websocket'} {e.data.get('path')}"
        for e in recorder.events
        if e.kind == K.REQUEST_START and e.data.get("scope_type") != "lifespan"
    }
    statuses: dict[str, set[int]] = {}
    for event in recorder.events:
        if event.kind == K.REQUEST_END and event.req in starts:
            statuses.setdefault(starts[event.req], set()).add(event.data["status"])
    return report, statuses


# -- Quart ----------------------------------------------------------------------------------------


def test_quart_url_map_is_read_as_flask_s_with_its_websocket_rules() -> None:
    """Quart keeps a Werkzeug ``url_map`` as Flask does: its rules (websocket ones as
    websocket paths) are the probed paths, named as Quart's."""
    quart = pytest.importorskip("quart")
    app = quart.Quart("quart_routes")

    @app.get("/items/<int:item_id>")
    async def item(item_id: int) -> str:
        return f"item {item_id}"

    @app.post("/items")
    async def make() -> str:
        return "made"

    @app.websocket("/ws/<room>")
    async def room(room: str) -> None:
        await quart.websocket.accept()
        await quart.websocket.send(room)

    routes = discover_routes(Wrapper(app))
    assert routes is not None and routes.framework == "quart" and routes.serves_websockets
    assert routes.http == ["/static/1", "/items/1", "/items"]
    assert routes.methods == {"/static/1": ["GET"], "/items/1": ["GET"], "/items": ["POST"]}
    assert routes.websocket == ["/ws/1"]


# -- Litestar -------------------------------------------------------------------------------------


# Written as most Litestar 2 apps are (types inferred from the handlers' signatures), which
# Litestar 2.2x warns about; the routes found must not depend on it.
@pytest.mark.filterwarnings("ignore::DeprecationWarning:litestar")
def test_litestar_routes_get_values_of_their_parameter_types() -> None:
    """``{id:int}`` -> 1, ``{u:uuid}`` -> the nil UUID, ``{d:date}`` -> an ISO date,
    ``{x:float}`` -> 1.0; a Router's prefix and a controller's methods; websocket routes;
    each probe reaches its handler (200, 201 for Litestar's POST)."""
    litestar = pytest.importorskip("litestar")

    @litestar.get("/items/{item_id:int}")
    async def item(item_id: int) -> str:
        return f"item {item_id}"

    @litestar.post("/items")
    async def make() -> str:
        return "made"

    @litestar.get("/orders/{order:uuid}")
    async def order(order: uuid.UUID) -> str:
        return str(order)

    @litestar.get("/days/{day:date}")
    async def day(day: date) -> str:
        return day.isoformat()

    @litestar.get("/price/{amount:float}")
    async def price(amount: float) -> str:
        return str(amount)

    @litestar.websocket("/ws/{room:str}")
    async def room(socket: Any, room: str) -> None:
        await socket.accept()
        await socket.send_text(room)
        await socket.close()

    class Users(litestar.Controller):
        path = "/users"

        @litestar.get("/{uid:int}")
        async def one(self, uid: int) -> str:
            return "user"

        @litestar.put("/{uid:int}")
        async def update(self, uid: int) -> str:
            return "updated"

    api = litestar.Router("/api", route_handlers=[Users])
    app = litestar.Litestar([item, make, order, day, price, room, api], openapi_config=None)
    routes = discover_routes(Wrapper(app))
    assert routes is not None and routes.framework == "litestar" and routes.serves_websockets
    assert routes.http == [
        "/items/1",
        "/items",
        f"/orders/{NIL}",
        "/days/2000-01-01",
        "/price/1.0",
        "/api/users/1",
    ]
    assert routes.methods["/items"] == ["POST"]
    assert routes.methods["/api/users/1"] == ["GET", "PUT"]
    assert routes.websocket == ["/ws/1"]
    report, statuses = _statuses(app)
    assert report.findings == [] and report.skipped == []
    gets = {probe: got for probe, got in statuses.items() if probe.startswith("GET ")}
    assert set(gets) == {f"GET {path}" for path in routes.http if path != "/items"}
    assert all(got == {200} for got in gets.values()), gets
    assert statuses["POST /items"] == {201}
    assert statuses["PUT /api/users/1"] == {200}
    assert statuses["websocket /ws/1"] == {101}


# -- Falcon ---------------------------------------------------------------------------------------


def _falcon_resources() -> dict[str, Any]:
    class Item:
        def on_get(self, req: Any, resp: Any, item_id: int) -> None:
            resp.text = f"item {item_id}"

        def on_put(self, req: Any, resp: Any, item_id: int) -> None:
            resp.text = "updated"

    class Items:
        def on_get(self, req: Any, resp: Any) -> None:
            resp.text = "items"

        def on_post(self, req: Any, resp: Any) -> None:
            resp.text = "made"

    class Echo:
        def on_get(self, req: Any, resp: Any, **fields: Any) -> None:
            resp.text = " ".join(f"{k}={v}" for k, v in fields.items())

    return {
        "/items": Items(),
        "/items/{item_id:int}": Item(),
        "/orders/{order:uuid}": Echo(),
        "/codes/{code:int(4, min=5)}": Echo(),
        "/days/{day:dt('%Y-%m-%d')}": Echo(),
        "/price/{amount:float}": Echo(),
        "/files/{rest:path}": Echo(),
        "/names/{name}.{ext}": Echo(),
    }


FALCON_PATHS = [
    "/items",
    "/items/1",
    f"/orders/{NIL}",
    "/codes/0005",
    "/days/2000-01-01",
    "/price/1.0",
    "/files/1",
    "/names/1.1",
]


def test_falcon_wsgi_templates_get_values_their_converters_accept() -> None:
    """Each URI template with its fields filled (``int(4, min=5)`` -> ``0005``, a ``dt``
    format -> a date in it); the responders the resource defines are the methods, and every
    probe reaches its responder."""
    falcon = pytest.importorskip("falcon")
    app = falcon.App()
    for template, resource in _falcon_resources().items():
        app.add_route(template, resource)
    routes = discover_routes(Wrapper(app))
    assert routes is not None and routes.framework == "falcon"
    assert not routes.serves_websockets  # a WSGI app
    assert routes.http == FALCON_PATHS and routes.websocket == []
    assert routes.methods["/items"] == ["GET", "POST"]
    assert routes.methods["/items/1"] == ["GET", "PUT"]
    report, statuses = _statuses(app)
    assert report.findings == []
    for path in FALCON_PATHS:
        assert statuses[f"GET {path}"] == {200}, (path, statuses[f"GET {path}"])
    assert statuses["POST /items"] == statuses["PUT /items/1"] == {200}


def test_falcon_asgi_websocket_responders_are_websocket_paths() -> None:
    """``on_websocket`` makes a websocket path (and only that, without ``on_get``)."""
    pytest.importorskip("falcon")
    import falcon.asgi

    class Chat:
        async def on_get(self, req: Any, resp: Any, room: str) -> None:
            resp.text = room

        async def on_websocket(self, req: Any, ws: Any, room: str) -> None:
            await ws.accept()

    class Feed:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()

    app = falcon.asgi.App()
    app.add_route("/chat/{room}", Chat())
    app.add_route("/feed", Feed())
    routes = discover_routes(app)
    assert routes is not None and routes.serves_websockets
    assert routes.http == ["/chat/1"] and routes.methods == {"/chat/1": ["GET"]}
    assert routes.websocket == ["/chat/1", "/feed"]


# -- Bottle ---------------------------------------------------------------------------------------


def _bottle_app() -> Any:
    bottle = pytest.importorskip("bottle")
    app = bottle.Bottle()

    @app.get("/items/<item_id:int>")
    def item(item_id: int) -> str:
        return f"item {item_id}"

    @app.route("/items", method=["POST", "PUT"])
    def make() -> str:
        return "made"

    @app.get("/price/<amount:float>/<rest:path>")
    def price(amount: float, rest: str) -> str:
        return f"{amount} {rest}"

    @app.get("/codes/<code:re:[a-z]{3}>/<name>")
    def code(code: str, name: str) -> str:
        return f"{code} {name}"

    @app.route("/anything", method="ANY")
    def anything() -> str:
        return "any"

    inner = bottle.Bottle()

    @inner.get("/inner/<n:int>")
    def nested(n: int) -> str:
        return f"inner {n}"

    app.mount("/sub/", inner)
    return app


BOTTLE_PATHS = ["/items/1", "/items", "/price/1.0/1", "/codes/aaa/1", "/anything", "/sub/inner/1"]


def test_bottle_rules_filters_and_mounted_apps() -> None:
    """``<id:int>`` -> 1, ``<x:float>`` -> 1.0, ``<c:re:[a-z]{3}>`` -> a match of the pattern;
    ``ANY`` takes any method; a mounted Bottle app's routes come with the mount's prefix; each
    probe reaches its handler."""
    app = _bottle_app()
    routes = discover_routes(Wrapper(app))
    assert routes is not None and routes.framework == "bottle"
    assert routes.http == BOTTLE_PATHS
    assert routes.methods == {
        "/items/1": ["GET"],
        "/items": ["POST", "PUT"],
        "/price/1.0/1": ["GET"],
        "/codes/aaa/1": ["GET"],
        "/sub/inner/1": ["GET"],
    }
    report, statuses = _statuses(app)
    assert report.findings == []
    for path in BOTTLE_PATHS:
        method = "POST" if path == "/items" else "GET"
        assert statuses[f"{method} {path}"] == {200}, path


def test_trace_check_probes_a_bottle_app_s_routes_end_to_end(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The command line: no --path, the Bottle app's routes are the probed paths, all clean."""
    module = types.ModuleType("bottle_routes_app")
    module.app = _bottle_app()  # type: ignore[attr-defined]
    sys.modules["bottle_routes_app"] = module
    try:
        assert main(["check", "bottle_routes_app:app", "--timeout", "5"]) == 0
    finally:
        del sys.modules["bottle_routes_app"]
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "paths: " + ", ".join(BOTTLE_PATHS),
        "bottle_routes_app:app (wsgi): no violations in 16 requests",
    ]


# -- Sanic ----------------------------------------------------------------------------------------


def test_sanic_routes_patterns_and_websockets() -> None:
    """Typed and pattern parameters get a value the router's pattern matches (``ymd`` a date,
    ``slug`` ``1``, ``alpha`` ``a``, ``[a-z]{3}`` ``aaa``, ``ext`` ``1.txt``); a blueprint's
    prefix; websocket routes; a route that needs a host name is left out."""
    sanic = pytest.importorskip("sanic")
    app = sanic.Sanic(f"routes_{uuid.uuid4().hex[:8]}")

    async def ok(request: Any, **params: Any) -> Any:
        return sanic.text("ok")

    for uri in (
        "/items/<item_id:int>",
        "/orders/<order:uuid>",
        "/days/<d:ymd>",
        "/slugs/<s:slug>",
        "/words/<w:alpha>",
        "/codes/<code:[a-z]{3}>",
        "/files/<f:ext=txt>",
    ):
        app.add_route(ok, uri, name=uri.strip("/").split("/")[0])
    app.add_route(ok, "/items", methods=["POST", "PUT"], name="make")
    app.add_route(ok, "/admin", host="admin.example.com", name="admin")

    async def room(request: Any, ws: Any, name: str) -> None:
        await ws.send(name)

    app.add_websocket_route(room, "/ws/<name>")
    bp = sanic.Blueprint("api", url_prefix="/api")
    bp.add_route(ok, "/users/<uid:int>", name="user")
    app.blueprint(bp)
    routes = discover_routes(Wrapper(app))
    assert routes is not None and routes.framework == "sanic" and routes.serves_websockets
    assert sorted(routes.http) == sorted(
        [
            "/items/1",
            f"/orders/{NIL}",
            "/days/2000-01-01",
            "/slugs/1",
            "/words/a",
            "/codes/aaa",
            "/files/1.txt",
            "/items",
            "/api/users/1",
        ]
    )
    assert routes.methods["/items"] == ["POST", "PUT"]
    assert routes.websocket == ["/ws/1"]


# -- Django ---------------------------------------------------------------------------------------


def _django_urls() -> None:
    """Configure Django (once per process) with this test's URL module as ROOT_URLCONF."""
    pytest.importorskip("django")
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            ROOT_URLCONF="gateway_tracer_test_urls",
            ALLOWED_HOSTS=["*"],
            MIDDLEWARE=[],
            SECRET_KEY="test",
        )
    elif settings.ROOT_URLCONF != "gateway_tracer_test_urls":
        pytest.skip("Django is configured with other URLs in this process")
    import django
    from django.http import HttpResponse
    from django.urls import include, path, re_path, register_converter
    from django.views import View

    django.setup()

    def echo(request: Any, **params: Any) -> HttpResponse:
        return HttpResponse(" ".join(f"{k}={v}" for k, v in params.items()))

    class Things(View):
        def get(self, request: Any) -> HttpResponse:
            return HttpResponse("things")

        def post(self, request: Any) -> HttpResponse:
            return HttpResponse("made")

    class FourDigits:
        regex = "[0-9]{4}"

        def to_python(self, value: str) -> int:
            return int(value)

        def to_url(self, value: int) -> str:
            return f"{value:04d}"

    register_converter(FourDigits, "yyyy")
    api = [
        path("users/<int:uid>/", echo),
        re_path(r"^archive/(?P<year>[0-9]{4})/(?:page/)?$", echo),
    ]
    module = types.ModuleType("gateway_tracer_test_urls")
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("items/<int:pk>", echo),
        path("slugs/<slug:s>/", echo),
        path("orders/<uuid:order>", echo),
        path("years/<yyyy:year>", echo),
        path("things/", Things.as_view()),
        re_path(r"^(?P<section>news|blog)/$", echo),
        path("api/", include(api)),
        path("", echo),
    ]
    sys.modules["gateway_tracer_test_urls"] = module


DJANGO_PATHS = [
    "/items/1",
    "/slugs/1/",
    f"/orders/{NIL}",
    "/years/1111",
    "/things/",
    "/news/",
    "/api/users/1/",
    "/api/archive/1111/",
    "/",
]


def test_django_url_patterns_through_includes() -> None:
    """``path()`` converters (a registered one by its regex), ``re_path()`` groups (a group of
    words by its first), ``include()`` prefixes; a class-based view's handlers are its
    methods. WSGI and ASGI handlers alike, and every probe reaches its view."""
    _django_urls()
    from django.core.asgi import get_asgi_application
    from django.core.wsgi import get_wsgi_application

    for app in (get_wsgi_application(), get_asgi_application()):
        routes = discover_routes(Wrapper(app))
        assert routes is not None and routes.framework == "django"
        assert routes.http == DJANGO_PATHS
        assert routes.methods == {"/things/": ["GET", "POST"]}
    report, statuses = _statuses(get_wsgi_application())
    assert report.findings == []
    for path in DJANGO_PATHS:
        assert statuses[f"GET {path}"] == {200}, path


def test_a_plain_wsgi_app_mounted_in_bottle_is_probed_at_its_root() -> None:
    """Bottle forwards a mount point's whole subtree to a WSGI app it cannot read: its root."""
    bottle = pytest.importorskip("bottle")

    def legacy(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"legacy"]

    app = bottle.Bottle()
    app.mount("/legacy/", legacy)
    routes = discover_routes(app)
    assert routes is not None and routes.http == ["/legacy/"] and routes.methods == {}
