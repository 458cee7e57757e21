"""A Starlette ``HTTPEndpoint`` class route is probed with the methods it has handlers for."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tracer.conformance.driver import check_app
from tracer.conformance.routes import discover_routes

pytestmark = pytest.mark.timeout(60)


class Thing(HTTPEndpoint):
    """GET and PUT, no POST."""

    async def get(self, request: Request) -> PlainTextResponse:
        return PlainTextResponse("thing")

    async def put(self, request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"{len(await request.body())} bytes")


class Anything(HTTPEndpoint):
    """No handler of its own: every method is answered 405."""


APP = Starlette(routes=[Route("/thing", Thing), Route("/any", Anything)])


def test_an_endpoint_class_declares_the_methods_it_handles() -> None:
    """``/thing`` takes GET and PUT; ``/any`` declares none (probed as any route is)."""
    routes = discover_routes(APP)
    assert routes is not None
    assert routes.methods == {"/thing": ["GET", "PUT"]}
    assert routes.http == ["/thing", "/any"]


def test_the_put_handler_is_probed() -> None:
    """PUT /thing is sent (in one piece and chunked), POST /thing is not."""
    report = check_app(APP, timeout=2.0)
    thing = [
        name
        for name in report.requests
        if name.split(" ")[1:2] == ["/thing"] and not name.startswith("websocket")
    ]
    assert thing == ["GET /thing", "HEAD /thing", "PUT /thing", "PUT /thing (chunked)"]
    assert report.findings == [] and report.crashes == []
