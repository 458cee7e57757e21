"""The report's latency by route tells the methods of one path apart.

``GET /item`` and ``POST /item`` are two handlers of very different latencies; the report
merged them into one route ``/item`` (and with one route left, dropped the table). A path
served with more than one method is now a row for each, its method before it; a path of one
method keeps its plain name, as before.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

import tracer
from tracer import events as K
from tracer.cli import main
from tracer.digest import Digest
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.recording import Recording, load
from tracer.report import print_report
from tracer.routes import FROM_END, FROM_QUEUED, FROM_START, MOST_ROUTES, RouteCodes
from tracer.summary import summarize

_WORKLOAD = """
name = "item"
description = "one path read and written"

[[route]]
name = "read"
path = "/item"
weight = 1
phases = [{ io = "5ms" }]

[[route]]
name = "write"
path = "/item"
method = "POST"
weight = 1
phases = [{ io = "200ms" }]

[[route]]
name = "health"
path = "/health"
weight = 1
phases = [{ io = "1ms" }]
"""


@pytest.fixture
def anyio_backend() -> str:
    """The app's handler sleeps on asyncio."""
    return "asyncio"


def _rows(report: str) -> dict[str, int]:
    """The by-route table's rows: each route's name and its requests."""
    lines = report.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("Latency by route")))
    rows = {}
    for line in lines[start + 4 :]:
        if line.startswith("└"):
            return rows
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        rows[cells[0]] = int(cells[1])
    raise AssertionError(report)


def _sent(path: Path) -> Counter[str]:
    """The requests of the recording by the method and path they went out with, read from its
    lines by this file's own reading: each request's ``request.queued``."""
    sent: Counter[str] = Counter()
    for line in path.read_text().splitlines()[1:]:
        event = json.loads(line)
        if event["kind"] == "request.queued":
            sent[f"{event['data']['method']} {event['data']['path']}"] += 1
    return sent


def test_a_simulated_path_of_two_methods_is_two_routes(tmp_path: Path, capsys: Any) -> None:
    workload = tmp_path / "item.toml"
    workload.write_text(_WORKLOAD)
    path = tmp_path / "item.jsonl"
    argv = ["sim", "--workload", str(workload), "-n", "60", "--headless", "--record", str(path)]
    assert main(argv) == 0
    shown = _rows(capsys.readouterr().out)
    sent = _sent(path)
    assert set(sent) == {"GET /item", "POST /item", "GET /health"}
    assert shown == {
        "GET /item": sent["GET /item"],
        "POST /item": sent["POST /item"],
        "/health": sent["GET /health"],  # one method: its plain path, as before
    }
    # The writes (200 ms of I/O) took the most time: they come first.
    assert next(iter(shown)) == "POST /item"
    assert main(["summary", str(path)]) == 0
    assert _rows(capsys.readouterr().out) == shown


async def _starlette_run(recorder: Recorder) -> None:
    """A Starlette app whose ``/item`` has a handler for GET and another for POST (the
    template ``/item`` names both in ``request.end``), through the ASGI shim."""
    starlette = pytest.importorskip("starlette")
    assert starlette
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def read(request: Any) -> PlainTextResponse:
        return PlainTextResponse("item")

    async def write(request: Any) -> PlainTextResponse:
        await asyncio.sleep(0.02)
        return PlainTextResponse("saved", status_code=201)

    async def other(request: Any) -> PlainTextResponse:
        return PlainTextResponse("other")

    app = Starlette(
        routes=[
            Route("/item", read, methods=["GET"]),
            Route("/item", write, methods=["POST"]),
            Route("/other", other),
        ]
    )
    transport = httpx.ASGITransport(app=tracer.instrument(app, recorder=recorder))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for _ in range(3):
            assert (await client.get("/item")).status_code == 200
        for _ in range(2):
            assert (await client.post("/item", content=b"x")).status_code == 201
        assert (await client.get("/other")).status_code == 200


def _report(recording: Recording, digest: Digest) -> str:
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None)
    print_report(recording, summarize(recording), console=console, details=digest.details())
    return out.getvalue()


@pytest.mark.anyio
async def test_a_starlette_path_of_two_handlers_is_two_routes(tmp_path: Path) -> None:
    recorder = Recorder(app="items:app", interface="asgi")
    await _starlette_run(recorder)
    recording = load(recorder.save(tmp_path / "items.jsonl"))
    ends = [e for e in recording.events if e.kind == K.REQUEST_END]
    assert {e.data.get("route") for e in ends} == {"/item", "/other"}  # no method in them
    digest = Digest()
    digest.feed(recording.events)
    assert _rows(_report(recording, digest)) == {"POST /item": 2, "GET /item": 3, "/other": 1}
    details = digest.details()
    assert details.route_count == 3
    # Whatever order the events come in: a template read before the start's method too.
    for order in range(3):
        events = list(recording.events)
        if order:
            random.Random(order).shuffle(events)
        else:
            events.reverse()
        shuffled = Digest()
        shuffled.feed(events)
        assert shuffled.details().routes == details.routes


def _request(req: int, method: str | None, path: str, t: int) -> list[Event]:
    start: dict[str, Any] = {"path": path, "query": "", "scope_type": "http"}
    if method is not None:
        start["method"] = method
    return [
        Event(2 * req, t, K.REQUEST_START, req, data=start),
        Event(2 * req + 1, t + 1_000_000, K.REQUEST_END, req, data={"status": 200}),
    ]


def test_requests_that_say_no_method_keep_the_plain_path() -> None:
    """Events made by hand may name no method: beside a method of the same path they are a
    row of the plain path, not merged into the method's."""
    events = [
        *_request(1, "GET", "/a", 0),
        *_request(2, "GET", "/a", 10),
        *_request(3, None, "/a", 20),
        *_request(4, None, "/b", 30),
    ]
    digest = Digest()
    digest.feed(events)
    routes = {(r.route, r.requests) for r in digest.details().routes}
    assert routes == {("GET /a", 2), ("/a", 1), ("/b", 1)}


def test_the_method_is_kept_from_whichever_event_said_it() -> None:
    codes = RouteCodes()
    codes.note(1, "/item", FROM_END)  # a template first: no method
    codes.note(1, "/item?x=1", FROM_QUEUED, "POST")
    assert (codes.route(1), codes.method(1)) == ("/item", "POST")
    codes.note(2, "/item", FROM_START, "GET")
    codes.note(2, "/item", FROM_END)
    assert (codes.route(2), codes.method(2)) == ("/item", "GET")
    codes.note(3, "/item", FROM_START, 7)  # not a method: none
    assert (codes.route(3), codes.method(3)) == ("/item", None)


def test_a_full_table_keeps_a_named_route_when_its_method_comes() -> None:
    """Past ``MOST_ROUTES`` routes a method the table has no room for leaves the request's
    route as it was named: it does not fall among the others."""
    codes = RouteCodes()
    codes.note(1, "/p/{n}", FROM_END)
    for req in range(2, MOST_ROUTES + 1):
        codes.note(req, f"/p/{req}", FROM_START, "GET")
    codes.note(1, "/p/1", FROM_START, "GET")
    assert (codes.route(1), codes.method(1)) == ("/p/{n}", None)
