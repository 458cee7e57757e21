"""``request.end``'s ``route`` for Sanic (ASGI): the request's ``uri_template``.

Sanic keeps its request in a context variable of its ``Request`` class, set in the context the
app runs in; the scope holds nothing of it: every item of a Sanic app was a row of its own in
the report's latency by route.
"""

from __future__ import annotations

import asyncio
import itertools

import httpx
import pytest

sanic = pytest.importorskip("sanic")

import tracer  # noqa: E402
from tests.shim.route_rows import ends  # noqa: E402
from tracer.recorder import Recorder  # noqa: E402

pytestmark = pytest.mark.timeout(60)

_NAMES = itertools.count()


def sanic_app() -> sanic.Sanic:
    """A Sanic app with a typed parameter and a blueprint with a prefix."""
    sanic.Sanic.test_mode = True  # Sanic otherwise refuses a second app of a name
    app = sanic.Sanic(f"gt_routes_{next(_NAMES)}")

    @app.get("/items/<item_id:int>")
    async def item(request: sanic.Request, item_id: int) -> sanic.HTTPResponse:
        return sanic.text(str(item_id))

    users = sanic.Blueprint("users", url_prefix="/users")

    @users.get("/<name>")
    async def user(request: sanic.Request, name: str) -> sanic.HTTPResponse:
        return sanic.text(name)

    app.blueprint(users)
    return app


def test_sanic_route_is_its_uri_template() -> None:
    """A real Sanic app through ``tracer.instrument``: a 404 and a 405 have no route."""
    rec = Recorder()
    app = tracer.instrument(sanic_app(), recorder=rec)

    async def run() -> None:
        # Sanic routes only once its lifespan started (its router is finalised then).
        inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        outbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        lifespan = asyncio.create_task(app({"type": "lifespan"}, inbox.get, outbox.put))
        await inbox.put({"type": "lifespan.startup"})
        assert (await outbox.get())["type"] == "lifespan.startup.complete"
        await run_requests()
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
        await lifespan

    async def run_requests() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for method, target, status in [
                ("GET", "/items/1", 200),
                ("GET", "/items/2", 200),
                ("GET", "/users/ann", 200),
                ("GET", "/nope", 404),
                ("POST", "/items/1", 405),
            ]:
                assert (await client.request(method, target)).status_code == status, target

    asyncio.run(run())
    assert ends(rec) == [
        (200, "/items/<item_id:int>"),
        (200, "/items/<item_id:int>"),
        (200, "/users/<name:str>"),  # Sanic names the parameter's default type
        (404, None),
        (405, None),
        (None, None),  # the lifespan
    ]
