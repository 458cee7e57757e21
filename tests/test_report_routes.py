"""The report's latency by route: one row per route, the routes that took the most time first.

A run of several routes had one latency table for all of them: which route was slow could not
be read. A request's route is its ``request.end``'s ``route`` (the template FastAPI records),
else its ``request.start``'s path, else its ``request.queued`` target without the query (a
request the app never started); a WebSocket session is a route of its own (``ws:``). The rows
stop at ten, then a line counts the rest, so thousands of paths without templates stay short.
"""

from __future__ import annotations

import io
import random
from typing import Any

import pytest
from rich.console import Console

from tracer import events as K
from tracer.digest import Digest
from tracer.events import Event
from tracer.figures import ms as number
from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.report import print_report
from tracer.routes import FROM_END, FROM_QUEUED, FROM_START, MOST_ROUTES, OTHER_ROUTES, RouteCodes
from tracer.summary import summarize

MS = 1_000_000
LOOP = 1


def _request(
    recorder: Recorder,
    req: int,
    t_ms: int,
    latency_ms: int,
    *,
    path: str | None,
    route: str | None = None,
    queued: str | None = None,
    status: int = 200,
    scope_type: str = "http",
) -> None:
    """One request: queued at ``t_ms`` (with the target ``queued``), started 1 ms later with
    ``path`` (no start when None), ended ``latency_ms`` after its arrival."""

    def emit(kind: str, t_ms: int, data: dict[str, Any]) -> None:
        recorder.emit(kind, req, data, t=t_ms * MS, pid=7, tid=LOOP, thread="event-loop")

    emit(K.REQUEST_QUEUED, t_ms, {"method": "GET", "path": queued or path})
    if path is not None:
        start = {"method": "GET", "path": path, "query": "", "scope_type": scope_type}
        emit(K.REQUEST_START, t_ms + 1, start)
    end: dict[str, Any] = {"status": status, "error": None}
    if route is not None:
        end["route"] = route
    emit(K.REQUEST_END, t_ms + latency_ms, end)


def _mixed() -> Recording:
    """Templated item routes (one a 500), a path without a template, a WebSocket session, and
    a request the server answered 503 without starting the app (its target has a query)."""
    recorder = Recorder(app="app:app", interface="asgi")
    for req, latency in zip(range(1, 5), (10, 20, 30, 40), strict=True):
        _request(recorder, req, 10 * req, latency, path=f"/items/{req}", route="/items/{item_id}")
    _request(recorder, 5, 60, 5, path="/health")
    _request(recorder, 6, 70, 7, path="/health")
    _request(recorder, 7, 80, 100, path="/ws", route="/ws", status=101, scope_type="websocket")
    _request(recorder, 8, 90, 2, path=None, queued="/search?q=secret", status=503)
    _request(recorder, 9, 95, 50, path="/items/9", route="/items/{item_id}", status=500)
    return recorder.recording()


def _report(recording: Recording, details_of: Digest, width: int = 100) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None)
    print_report(recording, summarize(recording), console=console, details=details_of.details())
    return out.getvalue()


def _table(text: str) -> list[str]:
    """The lines of the by-route table, its title to its bottom border (a busy machine may add
    a blocking-places table before Workers)."""
    lines = text.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("Latency by route")))
    titles = ("Loop blocked", "Workers")
    end = next(i for i in range(start, len(lines)) if lines[i].startswith(titles))
    return [line.rstrip() for line in lines[start:end]]


def test_each_route_has_its_row_the_busiest_first() -> None:
    """The template names FastAPI's requests, a path the others, the target without its
    query a request never started; p90 and p99 measure none of these samples (10 and 100
    values), so they have no column, and a route of one value has no p50."""
    recording = _mixed()
    digest = Digest()
    digest.feed(recording.events)
    assert _table(_report(recording, digest)) == [
        "Latency by route (ms)",
        "┏━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━┳━━━━━━┳━━━━━━━┓",
        "┃ route            ┃ requests ┃ errors ┃  p50 ┃   max ┃",
        "┡━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━╇━━━━━━╇━━━━━━━┩",
        "│ /items/{item_id} │        5 │      1 │ 30.0 │  50.0 │",
        "│ ws:/ws           │        1 │      0 │    – │ 100.0 │",
        "│ /health          │        2 │      0 │  6.0 │   7.0 │",
        "│ /search          │        1 │      1 │    – │   2.0 │",
        "└──────────────────┴──────────┴────────┴──────┴───────┘",
    ]
    details = digest.details()
    assert details.route_count == 4
    assert [(r.route, r.total_ms) for r in details.routes] == [
        ("/items/{item_id}", 150.0),
        ("ws:/ws", 100.0),
        ("/health", 12.0),
        ("/search", 2.0),
    ]


@pytest.mark.parametrize("order", ["reversed", "shuffled"])
def test_the_routes_are_the_same_whatever_order_the_events_come_in(order: str) -> None:
    """A template read before the path of the start, or the queued target after both, still
    names the request: the end's template outranks the start's path, which outranks the
    target."""
    recording = _mixed()
    events = list(recording.events)
    if order == "reversed":
        events.reverse()
    else:
        random.Random(5).shuffle(events)
    in_order, fed = Digest(), Digest()
    in_order.feed(recording.events)
    for start in range(0, len(events), 3):
        fed.feed(events[start : start + 3])
    assert fed.details().routes == in_order.details().routes


def test_one_route_has_no_table() -> None:
    """Every request of one route: the latency table says it all."""
    recorder = Recorder(app="app:app", interface="asgi")
    for req in range(1, 4):
        _request(recorder, req, 10 * req, 5, path=f"/items/{req}", route="/items/{item_id}")
    recording = recorder.recording()
    digest = Digest()
    digest.feed(recording.events)
    assert digest.details().route_count == 1
    assert "by route" not in _report(recording, digest)


def test_ten_thousand_paths_without_templates_make_ten_rows_and_a_count() -> None:
    """A Flask-like app's ``/items/<id>``: every path its own route. The ten that took the
    most time are listed, the other 9,990 counted in one line; p90 and p99, measured by no
    route's sample, have no column."""
    events = []
    for req in range(1, 10_001):
        t = req * MS
        data = {"method": "GET", "path": f"/items/{req}", "query": "", "scope_type": "http"}
        events.append(Event(2 * req, t, K.REQUEST_START, req, data=data))
        events.append(Event(2 * req + 1, t + req * 1000, K.REQUEST_END, req, data={"status": 200}))
    recording = Recording(header=Recorder(app="app:app", interface="wsgi").header, events=events)
    digest = Digest()
    digest.feed(events)
    assert _table(_report(recording, digest)) == [
        "Latency by route (ms)",
        "┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━┳━━━━━━━┓",
        "┃ route               ┃ requests ┃   max ┃",
        "┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━╇━━━━━━━┩",
        *[  # 10.0 (up to /items/9996) over 9.99: their points lined up
            f"│ /items/{req:<12} │        1 │ {number(req / 1000) + ' ' * (req > 9_995):>5} │"
            for req in range(10_000, 9_990, -1)
        ],
        "│ … 9,990 more routes │          │       │",
        "└─────────────────────┴──────────┴───────┘",
    ]


def test_a_narrow_console_keeps_every_figure_of_each_route() -> None:
    """At 40 columns the table loses its inner borders, its headers shorten, and a route too
    long for its column is cut in the middle, on one line: every figure is printed whole and
    every line fits."""
    recording = _mixed()
    digest = Digest()
    digest.feed(recording.events)
    assert _table(_report(recording, digest, width=40)) == [
        "Latency by route (ms)",
        "route            reqs  errs   p50    max",
        "────────────────────────────────────────",
        "/items/…tem_id}     5     1  30.0   50.0",
        "ws:/ws              1     0     –  100.0",
        "/health             2     0   6.0    7.0",
        "/search             1     1     –    2.0",
    ]


def test_routes_past_the_table_are_counted_together_until_a_template_names_them() -> None:
    """Past ``MOST_ROUTES`` distinct routes a new path is kept as ``OTHER_ROUTES`` (its
    request's memory stays 2 bytes, the table's bounded); a template the table holds still
    names it, and a target's query never makes a route of its own."""
    codes = RouteCodes()
    codes.note(1, "/p/1", FROM_START)
    codes.note(1, "/p/{n}", FROM_END)
    for req in range(2, MOST_ROUTES):
        codes.note(req, f"/p/{req}", FROM_START)
    late = MOST_ROUTES
    codes.note(late, f"/p/{late}", FROM_START)
    assert codes.route(1) == "/p/{n}"
    assert codes.route(late - 1) == f"/p/{late - 1}"
    assert codes.route(late) == OTHER_ROUTES
    codes.note(late, "/p/{n}", FROM_END)
    assert codes.route(late) == "/p/{n}"
    codes.note(late + 1, "/q/{n}", FROM_END)  # a template the full table does not hold
    assert codes.route(late + 1) == OTHER_ROUTES
    fresh = RouteCodes()
    fresh.note(3, "/search?q=1", FROM_QUEUED)
    fresh.note(4, "/search?q=2", FROM_QUEUED)
    assert fresh.route(3) == fresh.route(4) == "/search"
    fresh.note(3, "/find", FROM_START)
    fresh.note(3, "/items", FROM_QUEUED)  # weaker than the start's path: left out
    assert fresh.route(3) == "/find"
    assert fresh.route(5) is None


def test_a_fastapi_run_is_reported_by_its_route_templates() -> None:
    """A real in-process run of a FastAPI app: the item paths are one route, the template
    FastAPI matched; the index is another; the table lists both."""
    fastapi = pytest.importorskip("fastapi")
    from tracer.run import RunConfig, open_server, run

    app = fastapi.FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @app.get("/")
    async def index() -> dict[str, str]:
        return {"hello": "world"}

    recorder = Recorder()
    config = RunConfig(
        app="items:app",
        server="loop",
        interface="asgi",
        paths=("/items/1?full=1", "/items/2", "/"),
        requests=20,
        concurrency=2,
    )
    run(config, recorder, server=open_server(config, recorder, app=app))
    recording = recorder.recording()
    digest = Digest()
    digest.feed(recording.events)
    details = digest.details()
    assert {(r.route, r.requests, r.errors) for r in details.routes} == {
        ("/items/{item_id}", 14, 0),
        ("/", 6, 0),
    }
    table = _table(_report(recording, digest))
    assert [line.split("│")[1].strip() for line in table[4:-1]] == [
        route.route for route in details.routes
    ]
