"""``trace check`` without ``--path`` on a FastAPI app of every usual shape: each route is found
(included routers with their prefixes, mounted apps, websockets) and probed with path values
that pass FastAPI's validation, so every handler runs.

No ``from __future__ import annotations`` here: FastAPI resolves the string annotations it
would make in the module's globals, where the dependencies defined in ``_walk_app`` are not."""

import datetime
import enum
import uuid
from typing import TYPE_CHECKING, Annotated, Any, Literal

import pytest
from fastapi import APIRouter, Depends, FastAPI, Path, WebSocket
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tracer.conformance.driver import check_app, plan_for
from tracer.conformance.routes import discover_routes

if TYPE_CHECKING:
    from decimal import Decimal as Money  # only for type checkers: never resolves at run time

pytestmark = pytest.mark.timeout(60)

NIL = "00000000-0000-0000-0000-000000000000"


class Color(enum.StrEnum):
    """A path parameter restricted to these values (FastAPI answers 422 to any other)."""

    red = "red"
    blue = "blue"


def _walk_app(seen: list[str]) -> FastAPI:
    """Dependencies (app-wide, in a parameter, a router's), path parameters of many types,
    an alias, routers with prefixes (one nested, one whose prefix holds a parameter), a
    websocket route at the top and in a router, a mounted FastAPI app and Starlette app."""

    def authorised() -> None:
        seen.append("app dependency")

    def user(user_id: uuid.UUID) -> str:
        return str(user_id)

    def tenant(tenant_id: Annotated[int, Path(gt=100)]) -> int:
        return tenant_id

    app = FastAPI(dependencies=[Depends(authorised)])

    @app.get("/items/{item_id}")
    def item(item_id: int) -> dict[str, Any]:
        seen.append("int")
        return {}

    @app.get("/price/{amount}")
    def price(amount: float) -> dict[str, Any]:
        seen.append("float")
        return {}

    @app.get("/colors/{color}")
    def color(color: Color) -> dict[str, Any]:
        seen.append("enum")
        return {}

    @app.get("/kinds/{kind}")
    def kind(kind: Literal["a", "b"]) -> dict[str, Any]:
        seen.append("literal")
        return {}

    @app.get("/days/{day}")
    def day(day: datetime.date) -> dict[str, Any]:
        seen.append("date")
        return {}

    @app.get("/flags/{on}")
    def flag(on: bool) -> dict[str, Any]:
        seen.append("bool")
        return {}

    @app.get("/big/{n}")
    def big(n: Annotated[int, Path(ge=10)]) -> dict[str, Any]:
        seen.append("bounded int")
        return {}

    @app.get("/users/{user_id}/profile")
    def profile(name: Annotated[str, Depends(user)]) -> dict[str, Any]:
        seen.append("dependency's parameter")
        return {}

    @app.get("/alias/{itemId}")
    def alias(item_id: Annotated[uuid.UUID, Path(alias="itemId")]) -> dict[str, Any]:
        seen.append("alias")
        return {}

    @app.get("/files/{rest:path}")
    def files(rest: str) -> dict[str, Any]:
        seen.append("path convertor")
        return {}

    @app.websocket("/ws/{room}")
    async def room(websocket: WebSocket, room: int) -> None:
        seen.append("websocket")
        await websocket.accept()
        await websocket.close()

    orders = APIRouter(prefix="/v1")

    @orders.post("/orders/{order_id}")
    def order(order_id: uuid.UUID) -> dict[str, Any]:
        seen.append("router")
        return {}

    @orders.websocket("/feed/{order_id}")
    async def feed(websocket: WebSocket, order_id: uuid.UUID) -> None:
        seen.append("router websocket")
        await websocket.accept()
        await websocket.close()

    tenants = APIRouter(prefix="/tenants/{tenant_id}", dependencies=[Depends(tenant)])

    @tenants.get("/report")
    def report() -> dict[str, Any]:
        seen.append("router dependency")
        return {}

    outer, inner = APIRouter(prefix="/api"), APIRouter(prefix="/v2")

    @inner.get("/things/{thing}")
    def thing(thing: uuid.UUID) -> dict[str, Any]:
        seen.append("nested router")
        return {}

    outer.include_router(inner)
    app.include_router(orders)
    app.include_router(tenants)
    app.include_router(outer)

    sub = FastAPI()

    @sub.get("/parts/{part}")
    def part(part: uuid.UUID) -> dict[str, Any]:
        seen.append("mounted FastAPI")
        return {}

    async def plain(request: Request) -> PlainTextResponse:
        seen.append("mounted Starlette")
        return PlainTextResponse("ok")

    app.mount("/sub", sub)
    app.mount("/star", Starlette(routes=[Route("/p/{x:int}", plain)]))
    return app


def test_every_route_is_found_with_values_fastapi_accepts() -> None:
    """The routes of included routers carry their prefixes; each parameter its type's value."""
    routes = discover_routes(_walk_app([]))
    assert routes is not None
    docs = ("/openapi.json", "/docs", "/redoc", "/sub/openapi.json", "/sub/docs", "/sub/redoc")
    assert [path for path in routes.http if not path.startswith(docs)] == [
        "/items/1",
        "/price/1.0",
        "/colors/red",
        "/kinds/a",
        "/days/2000-01-01",
        "/flags/true",
        "/big/10",
        f"/users/{NIL}/profile",
        f"/alias/{NIL}",
        "/files/1",
        f"/v1/orders/{NIL}",
        "/tenants/101/report",
        f"/api/v2/things/{NIL}",
        f"/sub/parts/{NIL}",
        "/star/p/1",
    ]
    assert routes.websocket == ["/ws/1", f"/v1/feed/{NIL}"]
    assert routes.methods[f"/v1/orders/{NIL}"] == ["POST"]


def test_every_handler_runs() -> None:
    """The check reaches every handler (none answered 404, 405 or 422) and finds nothing."""
    seen: list[str] = []
    report = check_app(_walk_app(seen), timeout=5.0)
    assert report.findings == [] and report.crashes == []
    assert sorted(set(seen)) == sorted(
        [
            "app dependency",
            "int",
            "float",
            "enum",
            "literal",
            "date",
            "bool",
            "bounded int",
            "dependency's parameter",
            "alias",
            "path convertor",
            "websocket",
            "router",
            "router websocket",
            "router dependency",
            "nested router",
            "mounted FastAPI",
            "mounted Starlette",
        ]
    )


def test_what_cannot_be_read_is_probed_with_1() -> None:
    """An annotation that does not resolve at run time (a name imported for type checkers
    only) and a type with no plain value (a pattern) leave their parameter at ``1``; the
    other parameters of the same route still get their values, and the probes are planned."""
    app = FastAPI()

    @app.get("/mixed/{a}/{b}")
    def mixed(a: uuid.UUID, b: "Money") -> dict[str, Any]:
        return {}

    @app.get("/slugs/{slug}")
    def slug(slug: Annotated[str, Path(pattern="^[a-z]+$")]) -> dict[str, Any]:
        return {}

    routes = discover_routes(app)
    assert routes is not None
    assert routes.http[-2:] == [f"/mixed/{NIL}/1", "/slugs/1"]
    assert [probe.name for probe in plan_for(app, None, websocket=True)][-5:] == [
        f"GET /mixed/{NIL}/1",
        f"HEAD /mixed/{NIL}/1",
        "GET /slugs/1",
        "HEAD /slugs/1",
        "websocket /openapi.json",
    ]
