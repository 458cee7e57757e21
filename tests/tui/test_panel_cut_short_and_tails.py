"""The replay says what the report says: the summary panel shows a percentile only of a sample
that measures it (``tracer.report.measures``), counts responses cut short and names a failed
lifespan with the app's words; the detail pane says a request's response was cut short."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from rich.cells import cell_len
from textual.geometry import Region
from textual.widgets import Static

from tracer import events as K
from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.shim.asgi import AsgiShim
from tracer.shim.wsgi import WsgiShim
from tracer.tui import summary_panel
from tracer.tui.app import ReplayApp
from tracer.tui.labels import labels
from tracer.tui.model import build_model
from tracer.tui.summary_panel import SummaryPanel, summary_items

from .conftest import simulated

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


def _three_chunks(environ: Any, start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"a"
    yield b"b"
    yield b"c"


def _wsgi_run(cut: tuple[bool, ...]) -> Recording:
    """One request through the WSGI shim per item of ``cut``, served by hand as a server does:
    read to its end, or (True) closed after its first chunk (the server gave up on it)."""
    rec = Recorder(app="streams:app", interface="wsgi")
    shim = WsgiShim(_three_chunks, recorder=rec)
    for early in cut:
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/stream", "wsgi.input": None}
        body = shim(environ, lambda status, headers, exc_info=None: None)
        try:
            for taken, _chunk in enumerate(body, 1):
                if early and taken == 1:
                    break
        finally:
            body.close()
    return rec.recording()


async def _failed_startup(message: str) -> Recording:
    """An ASGI app whose lifespan startup fails with ``message``, run as a server runs it."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "lifespan.startup"
        await send({"type": "lifespan.startup.failed", "message": message})

    rec = Recorder(app="failing:app", interface="asgi")
    talk = ApplicationCommunicator(
        AsgiShim(app, recorder=rec), {"type": "lifespan", "asgi": {"version": "3.0"}}
    )
    await talk.send_input({"type": "lifespan.startup"})
    assert (await talk.receive_output(5))["type"] == "lifespan.startup.failed"
    await talk.wait(5)
    return rec.recording()


def _items(rec: Recording, lang: str = "en") -> list[str]:
    model = build_model(rec)
    return [item.plain for item in summary_items(model.summary, labels(lang), model.samples)]


def _without_queued_but(rec: Recording, keep: int) -> Recording:
    """``rec`` with the ``request.queued`` of all but its first ``keep`` requests left out."""
    queued = sorted({e.req for e in rec.events if e.kind == K.REQUEST_QUEUED})[:keep]
    return Recording(
        rec.header, [e for e in rec.events if e.kind != K.REQUEST_QUEUED or e.req in queued]
    )


def _percentiles(items: list[str]) -> list[str]:
    """The percentile items, each as its label and name (``latency p50``, ``p95``)."""
    return [item.rsplit(" ", 1)[0] for item in items if " p" in f" {item}"]


@pytest.mark.parametrize(
    ("requests", "shown"),
    [
        (8, ["latency p50", "queue p50"]),
        (19, ["latency p50", "queue p50"]),
        (20, ["latency p50", "p95", "queue p50"]),
        (99, ["latency p50", "p95", "queue p50"]),
        (100, ["latency p50", "p95", "p99", "queue p50", "queue p99"]),
    ],
)
def test_a_percentile_is_shown_once_its_sample_measures_it(requests: int, shown: list[str]) -> None:
    """p50 from 2 values, p95 from 20, p99 from 100 (as the report): fewer leave it out."""
    assert _percentiles(_items(simulated("threads", requests, 4))) == shown


def test_each_figure_is_judged_by_its_own_sample() -> None:
    """100 requests of which one queued: the latency's p99 is measured, the queue's p50 not
    (one value), so the queue's figures are left out."""
    rec = _without_queued_but(simulated("threads", 100, 4), keep=1)
    assert build_model(rec).samples == {"latency_ms": 100, "queue_ms": 1}
    assert _percentiles(_items(rec)) == ["latency p50", "p95", "p99"]


def test_one_request_has_no_latency_p50() -> None:
    """One value measures no percentile: the headline latency reads "–", not the value."""
    items = _items(simulated("threads", 1, 1))
    assert "latency p50 –" in items
    assert not any(item.startswith(("p95", "p99", "queue")) for item in items)


@pytest.mark.parametrize(("lang", "word"), [("en", "cut short"), ("zh", "截断")])
def test_responses_cut_short_are_counted_after_the_errors(lang: str, word: str) -> None:
    """Two of three responses cut short: "cut short 2" right after the request count (no
    errors); a run with none has no such item."""
    items = _items(_wsgi_run((True, False, True)), lang)
    assert items[1] == f"{word} 2"
    assert not any(word in item for item in _items(_wsgi_run((False, False)), lang))


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "lifespan startup failed: db unreachable \\x1b[2J"),
        ("zh", "生命周期启动失败：db unreachable \\x1b[2J"),
    ],
)
async def test_a_failed_lifespan_is_named_with_the_apps_words(lang: str, said: str) -> None:
    """The replay's panel: the app's message with its controls escaped."""
    app = ReplayApp([await _failed_startup("db unreachable \x1b[2J")], lang=lang)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        panel = app.screen.query_one(SummaryPanel)
        rows = [strip.text.strip() for strip in panel.render_lines(Region(0, 0, 120, 3))]
        # The title, then the figures: the failure after the request count.
        assert rows[1].startswith(f"0 {labels(lang)['requests']}  {said}")


def test_a_long_lifespan_message_is_cut() -> None:
    """A 500-character message shows its first cells, ending in "…"."""
    rec = asyncio.run(_failed_startup("x" * 500))
    [item] = [i for i in _items(rec) if i.startswith("lifespan")]
    message = item.removeprefix("lifespan startup failed: ")
    cells = summary_panel.MESSAGE_CELLS
    assert cell_len(message) == cells and message == "x" * (cells - 1) + "…"


async def _pane(rec: Recording, lang: str, req: int) -> str:
    """The detail pane's text for request ``req``, opened with enter as a reader would."""
    app = ReplayApp([rec], lang=lang)
    async with app.run_test(size=(160, 40)) as pilot:
        screen: Any = app.screen
        screen.timeline.select(screen.timeline.lanes.index_of(req))
        await pilot.press("enter")
        await pilot.pause()
        return " ".join(str(screen.query_one("#detail-body", Static).render()).split())


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_detail_pane_says_a_response_was_cut_short(lang: str) -> None:
    """The request whose ``request.end`` says ``cut_short`` says so; a whole one does not."""
    rec = _wsgi_run((False, True))
    whole, cut = sorted({e.req for e in rec.events if e.kind == K.REQUEST_END})
    said = " ".join(labels(lang)["cut_short_detail"].split())
    assert said in await _pane(rec, lang, cut)
    assert said not in await _pane(rec, lang, whole)
