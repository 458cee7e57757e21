"""``request.end``'s ``route`` for Django, WSGI and ASGI: the match's ``route``.

Django keeps the match on its request object only (``request.resolver_match``), which neither
the environ nor the scope holds: every item of a Django app was a row of its own in the
report's latency by route. The shim resolves the path again with Django's resolver and records
the match's ``route`` as OpenTelemetry's Django instrumentation does (relative, ``include()``
prefixes joined, a ``re_path`` as its pattern).
"""

from __future__ import annotations

import asyncio
import sys
import types
from collections.abc import Iterator

import django
import httpx
import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test.utils import override_settings
from django.urls import include, path, re_path

import tracer
from tests.shim.route_rows import ends, rows_by_route
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)

URLS = "gateway_tracer_route_template_urls"


def item(request: HttpRequest, pk: int) -> HttpResponse:
    """An item by its number."""
    return HttpResponse(str(pk))


def index(request: HttpRequest) -> HttpResponse:
    """The root."""
    return HttpResponse("hello")


def boom(request: HttpRequest, pk: int) -> HttpResponse:
    """A view that raises: Django answers 500."""
    raise RuntimeError(f"boom {pk}")


@pytest.fixture(scope="module")
def urls() -> Iterator[None]:
    """Django set up with this module's URLs: a path() with a converter, an include() with a
    prefix (a path() and a re_path() under it), a re_path(), the root, and a view that raises."""
    module = types.ModuleType(URLS)
    api = [path("items/<int:pk>", item), re_path(r"^old/(?P<pk>[0-9]+)/$", item)]
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("items/<int:pk>", item),
        path("api/", include(api)),
        re_path(r"^legacy/(?P<pk>[0-9]+)/$", item),
        path("boom/<int:pk>", boom),
        path("", index),
    ]
    sys.modules[URLS] = module
    if not settings.configured:
        settings.configure(ALLOWED_HOSTS=["*"], MIDDLEWARE=[], SECRET_KEY="test", ROOT_URLCONF=URLS)
    django.setup()
    with override_settings(ROOT_URLCONF=URLS, ALLOWED_HOSTS=["*"], MIDDLEWARE=[], DEBUG=False):
        yield
    del sys.modules[URLS]


EXPECTED = [
    (200, "items/<int:pk>"),
    (200, "items/<int:pk>"),
    (200, "api/items/<int:pk>"),
    (200, "api/old/(?P<pk>[0-9]+)/$"),
    (200, "^legacy/(?P<pk>[0-9]+)/$"),
    (200, None),  # the root: Django's route is "", no template (as in OpenTelemetry)
    (404, None),
    (500, "boom/<int:pk>"),
]


def _requests(client: httpx.Client) -> None:
    for target, status in [
        ("/items/1", 200),
        ("/items/2", 200),
        ("/api/items/3", 200),
        ("/api/old/4/", 200),
        ("/legacy/5/", 200),
        ("/", 200),
        ("/items/x", 404),
        ("/boom/6", 500),
    ]:
        assert client.get(target).status_code == status, target


@pytest.mark.usefixtures("urls")
def test_django_wsgi_route_is_the_match_route() -> None:
    """A real Django WSGI app through ``tracer.instrument``: the route is the match's."""
    from django.core.handlers.wsgi import WSGIHandler

    rec = Recorder()
    transport = httpx.WSGITransport(app=tracer.instrument(WSGIHandler(), recorder=rec))
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        _requests(client)
    assert ends(rec) == EXPECTED


@pytest.mark.usefixtures("urls")
def test_django_asgi_route_is_the_match_route() -> None:
    """The same through Django's ASGI handler, under a root_path."""
    from django.core.handlers.asgi import ASGIHandler

    rec = Recorder()
    app = tracer.instrument(ASGIHandler(), recorder=rec)

    async def run() -> None:
        transport = httpx.ASGITransport(app=app, root_path="/site")
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            assert (await client.get("/site/items/7")).text == "7"
            assert (await client.get("/site/api/items/8")).text == "8"
            assert (await client.get("/site/nope")).status_code == 404

    asyncio.run(run())
    assert ends(rec) == [(200, "items/<int:pk>"), (200, "api/items/<int:pk>"), (404, None)]


@pytest.mark.usefixtures("urls")
def test_django_items_are_one_row_of_the_report() -> None:
    """The report's latency by route names the items by their template: one row for them."""
    from django.core.handlers.wsgi import WSGIHandler

    rec = Recorder(app="urls:application", interface="wsgi")
    transport = httpx.WSGITransport(app=tracer.instrument(WSGIHandler(), recorder=rec))
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        for n in range(1, 6):
            assert client.get(f"/items/{n}").status_code == 200
        assert client.get("/").status_code == 200
    assert rows_by_route(rec) == {"items/<int:pk>": 5, "/": 1}
