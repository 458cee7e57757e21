"""``request.end``'s ``route`` for Falcon, WSGI and ASGI: the route's ``uri_template``.

Falcon keeps the template on its request object only (``req.uri_template``), which neither the
environ nor the scope holds: every item of a Falcon app was a row of its own in the report's
latency by route. The shim finds the route again with the app's router and records its
``uri_template``, as OpenTelemetry's Falcon instrumentation does.
"""

from __future__ import annotations

import asyncio
from typing import Any

import falcon
import falcon.asgi
import httpx
import pytest

import tracer
from tests.shim.route_rows import ends, rows_by_route
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)

EXPECTED = [
    (200, "/items/{item_id:int}"),
    (200, "/items/{item_id:int}"),
    (200, "/items"),  # a suffixed responder (on_get_collection) of the same resource
    (404, None),
    (405, None),  # the resource has no on_delete: Falcon's own 405
    (200, None),  # a sink: no template
]


class Items:
    """Responders for one item and, suffixed, for the collection."""

    def on_get(self, req: Any, resp: Any, item_id: int) -> None:
        resp.text = str(item_id)

    def on_get_collection(self, req: Any, resp: Any) -> None:
        resp.text = "all"


class AsyncItems:
    """The same, for Falcon's ASGI app."""

    async def on_get(self, req: Any, resp: Any, item_id: int) -> None:
        resp.text = str(item_id)

    async def on_get_collection(self, req: Any, resp: Any) -> None:
        resp.text = "all"


def _sink(req: Any, resp: Any, **kwargs: Any) -> None:
    resp.text = "sunk"


async def _async_sink(req: Any, resp: Any, **kwargs: Any) -> None:
    resp.text = "sunk"


TARGETS = [
    ("GET", "/items/1", 200),
    ("GET", "/items/2", 200),
    ("GET", "/items", 200),
    ("GET", "/items/x", 404),
    ("DELETE", "/items/3", 405),
    ("GET", "/files/a/b", 200),
]


def test_falcon_wsgi_route_is_the_uri_template() -> None:
    """A real Falcon WSGI app through ``tracer.instrument``."""
    app = falcon.App()
    app.add_route("/items/{item_id:int}", Items())
    app.add_route("/items", Items(), suffix="collection")
    app.add_sink(_sink, "/files")
    rec = Recorder()
    transport = httpx.WSGITransport(app=tracer.instrument(app, recorder=rec))
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        for method, target, status in TARGETS:
            assert client.request(method, target).status_code == status, target
    assert ends(rec) == EXPECTED


def test_falcon_asgi_route_is_the_uri_template() -> None:
    """A real Falcon ASGI app through ``tracer.instrument``."""
    app = falcon.asgi.App()
    app.add_route("/items/{item_id:int}", AsyncItems())
    app.add_route("/items", AsyncItems(), suffix="collection")
    app.add_sink(_async_sink, "/files")
    rec = Recorder()
    shimmed = tracer.instrument(app, recorder=rec)

    async def run() -> None:
        transport = httpx.ASGITransport(app=shimmed)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for method, target, status in TARGETS:
                assert (await client.request(method, target)).status_code == status, target

    asyncio.run(run())
    assert ends(rec) == EXPECTED


def test_falcon_items_are_one_row_of_the_report() -> None:
    """The report's latency by route names the items by their template: one row for them."""
    app = falcon.App()
    app.add_route("/items/{item_id:int}", Items())
    app.add_route("/items", Items(), suffix="collection")
    rec = Recorder(app="app:app", interface="wsgi")
    transport = httpx.WSGITransport(app=tracer.instrument(app, recorder=rec))
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        for n in range(1, 5):
            assert client.get(f"/items/{n}").status_code == 200
        assert client.get("/items").status_code == 200
    assert rows_by_route(rec) == {"/items/{item_id:int}": 4, "/items": 1}
