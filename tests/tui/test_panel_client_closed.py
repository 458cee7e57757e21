"""The replay says of a stream the client left on purpose (``trace run --read-for``) what the
summary says: the panel counts it as "closed by client", never as "cut short" (though the
server's end says its response was cut short too), and its detail pane says why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from textual.geometry import Region
from textual.widgets import Static

from tracer import events as K
from tracer.recording import Recording, load
from tracer.tui.app import ReplayApp
from tracer.tui.labels import labels
from tracer.tui.summary_panel import SummaryPanel

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

REAL_APPS = str(Path(__file__).resolve().parent.parent / "servers" / "real")
"""Where ``real_streams`` lives: a WSGI generator streaming its chunks slowly."""


@pytest.fixture(scope="module")
def left_streams(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """waitress, two streams the client left 0.2 s after their first byte: each end says
    ``cut_short``, each ``client.response`` ``client_closed: "read-for"``."""
    pytest.importorskip("waitress")
    path = tmp_path_factory.mktemp("left") / "run.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "run", "real_streams:wsgi_stream", "--server",
         "waitress", "--app-dir", REAL_APPS, "-c", "1", "-n", "2", "--read-for", "0.2s",
         "--timeout", "10s", "--json", "--record", str(path)],
        capture_output=True, text=True, timeout=100,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    recording = load(path)
    events = recording.events
    assert [e.data.get("cut_short") for e in events if e.kind == K.REQUEST_END] == [True, True]
    assert [e.data.get("client_closed") for e in events if e.kind == K.CLIENT_RESPONSE] == [
        "read-for",
        "read-for",
    ]
    return recording


async def _panel_rows(rec: Recording, lang: str) -> list[str]:
    """The summary panel's rows, rendered in the real app."""
    app = ReplayApp([rec], lang=lang)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        panel = app.screen.query_one(SummaryPanel)
        return [strip.text.strip() for strip in panel.render_lines(Region(0, 0, 120, 3))]


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_streams_left_on_purpose_are_closed_by_the_client_not_cut_short(
    left_streams: Recording, lang: str
) -> None:
    """Right after the request count (no errors): "closed by client 2"; no "cut short"."""
    said = labels(lang)
    rows = await _panel_rows(left_streams, lang)
    assert rows[1].startswith(f"2 {said['requests']}  {said['client_closed']} 2  ")
    assert not any(said["cut_short"] in row for row in rows)


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
async def test_the_detail_pane_says_the_client_closed_it(
    left_streams: Recording, lang: str
) -> None:
    """Its reason (``read-for``), in place of the line of a response cut short."""
    said = labels(lang)
    req = min(e.req for e in left_streams.events if e.kind == K.CLIENT_RESPONSE)
    pane = await _pane(left_streams, lang, req)
    assert " ".join(said["client_closed_detail"].format(reason="read-for").split()) in pane
    assert " ".join(said["cut_short_detail"].split()) not in pane
