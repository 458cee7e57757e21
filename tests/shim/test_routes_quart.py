"""``request.end``'s ``route`` for Quart: the rule of the request's ``url_rule``, as Flask's.

Quart keeps the matched rule on its request object only, which the scope does not hold: every
item of a Quart app was a row of its own in the report's latency by route. The shim matches
the path again with the app's ``url_map`` and records the rule (a blueprint's prefix included).
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
import quart

import tracer
from tests.shim.route_rows import ends, rows_by_route
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)


def quart_app() -> quart.Quart:
    """A Quart app with a typed converter, a blueprint with a prefix, a route that raises,
    and a route with a trailing slash."""
    app = quart.Quart(__name__)

    @app.get("/items/<int:item_id>")
    async def item(item_id: int) -> str:
        return str(item_id)

    @app.get("/boom/<int:n>")
    async def boom(n: int) -> str:
        raise RuntimeError(f"boom {n}")

    @app.get("/dir/")
    async def folder() -> str:
        return "dir"

    users = quart.Blueprint("users", __name__, url_prefix="/users")

    @users.get("/<name>")
    async def user(name: str) -> str:
        return name

    app.register_blueprint(users)
    return app


def _run(app: object, targets: list[tuple[str, str, int]], root_path: str = "") -> None:
    async def run() -> None:
        transport = httpx.ASGITransport(app=app, root_path=root_path)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for method, target, status in targets:
                answer = await client.request(method, target)
                assert answer.status_code == status, target

    asyncio.run(run())


def test_quart_route_is_its_url_rule() -> None:
    """A real Quart app through ``tracer.instrument``: a 404, a 405 and a redirect to the
    path with its slash have no route; a view that raised (Quart's 500) keeps its own."""
    rec = Recorder()
    _run(
        tracer.instrument(quart_app(), recorder=rec),
        [
            ("GET", "/items/1", 200),
            ("GET", "/items/2", 200),
            ("GET", "/users/ann", 200),
            ("GET", "/items/x", 404),
            ("POST", "/items/1", 405),
            ("GET", "/dir", 308),
            ("GET", "/dir/", 200),
            ("GET", "/boom/3", 500),
        ],
    )
    assert ends(rec) == [
        (200, "/items/<int:item_id>"),
        (200, "/items/<int:item_id>"),
        (200, "/users/<name>"),
        (404, None),
        (405, None),
        (308, None),
        (200, "/dir/"),
        (500, "/boom/<int:n>"),
    ]


def test_quart_under_a_root_path() -> None:
    """Under a root_path the rule is matched against the path below it, as Quart does."""
    rec = Recorder()
    _run(tracer.instrument(quart_app(), recorder=rec), [("GET", "/site/items/4", 200)], "/site")
    assert ends(rec) == [(200, "/items/<int:item_id>")]


def test_quart_items_are_one_row_of_the_report() -> None:
    """The report's latency by route names the items by their template: one row for them."""
    rec = Recorder(app="app:app", interface="asgi")
    _run(
        tracer.instrument(quart_app(), recorder=rec),
        [*(("GET", f"/items/{n}", 200) for n in range(1, 5)), ("GET", "/users/ann", 200)],
    )
    assert rows_by_route(rec) == {"/items/<int:item_id>": 4, "/users/<name>": 1}
