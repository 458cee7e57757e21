"""The live dashboard's final throughput is the report's: the completed requests over the time
from the load's first event to the last request's end, not to the last event.

A run whose app works on after its client gave up (a timeout) ended its dashboard at
``rps`` computed to the app's last event, a third below the report's and the summary's
``rps`` printed after it. The figure here is computed from the recording's raw lines, by
this file's own arithmetic, and compared with the CLI's JSON, its report and the dashboard.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from pilot_helpers import until
from textual.widgets import Static

from tracer import events as K
from tracer.cli import main
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.recording import Recording, load, make_header
from tracer.summary import summarize
from tracer.tui.live import LiveApp, LiveScreen
from tracer.tui.live_stats import LiveStats

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

_APP = '''
import asyncio


async def app(scope, receive, send):
    """/slow works 300 ms, past its client's 100 ms timeout; / answers at once."""
    if scope["path"] == "/slow":
        await asyncio.sleep(0.3)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
'''


def _raw_rate(path: Path) -> tuple[int, float]:
    """``(completed, requests a second)`` from the file's lines: a request is over at the
    client's answer, else at the first of its last body message and its ``request.end``;
    the rate is over the first event to the last request's end (every request ended). A
    lifespan connection is no request of the load."""
    lines = path.read_text().splitlines()
    events = [json.loads(line) for line in lines[1:] if line.strip()]
    lifespan = {
        event["req"]
        for event in events
        if event["kind"] == "request.start" and event["data"].get("scope_type") == "lifespan"
    }
    events = [event for event in events if event.get("req") not in lifespan]
    over: dict[int, int] = {}
    client: dict[int, int] = {}
    for event in events:
        end = event["t"] + (event.get("dur") or 0)
        req, kind, data = event.get("req"), event["kind"], event["data"]
        body = kind == "asgi.send" and data.get("type") == "http.response.body"
        if kind == "client.response":
            client[req] = min(client.get(req, end), end)
        elif kind == "request.end" or (body and not data.get("more_body")):
            over[req] = min(over.get(req, end), end)
    over.update(client)
    first = min(event["t"] for event in events)
    return len(over), len(over) / ((max(over.values()) - first) / 1e9)


def _run(tmp_path: Path, capsys: Any) -> tuple[Path, dict[str, Any]]:
    """A real run on the loop model: 4 quick requests and 4 that time out, JSON on stdout."""
    (tmp_path / "late_app.py").write_text(_APP)
    path = tmp_path / "run.jsonl"
    code = main(
        [
            "run",
            "late_app:app",
            "--app-dir",
            str(tmp_path),
            "--server",
            "loop",
            "-n",
            "8",
            "-c",
            "4",
            "--path",
            "/",
            "--path",
            "/slow",
            "--timeout",
            "100ms",
            "--headless",
            "--json",
            "--record",
            str(path),
        ]
    )
    assert code == 0
    return path, json.loads(capsys.readouterr().out)


async def _final_header(events: list[Any]) -> str:
    """The dashboard's header once every event of the run is in and the run is over."""
    recorder = Recorder()

    def work(stop: threading.Event) -> None:
        recorder.extend(events)

    app = LiveApp(recorder, work, title="late", total_requests=8)
    async with app.run_test(size=(200, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        await until(pilot, lambda: app.done.is_set() and app.stats.completed == 8)
        await pilot.pause(0.4)  # a redraw of the run's final figures
        header = screen.query_one("#live-header", Static)
        rows = [header.render_line(y).text for y in range(header.size.height)]
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    return " ".join(rows)


async def test_the_dashboards_final_rate_is_the_reports(tmp_path: Path, capsys: Any) -> None:
    path, summary = _run(tmp_path, capsys)
    completed, rate = _raw_rate(path)
    assert completed == summary["completed"] == 8
    assert summary["timeouts"] == 4  # the app's work went on after these ended
    assert summary["rps"] == round(rate, 1)

    assert main(["summary", str(path)]) == 0
    report = capsys.readouterr().out
    assert f"throughput {round(rate, 1)} req/s" in " ".join(report.split())

    recording = load(path)
    stats = LiveStats(load=recording.header.get("load"))
    stats.feed(recording.events)
    assert stats.snapshot().rps == pytest.approx(rate, rel=1e-9)

    header = await _final_header(recording.events)
    shown = re.search(r"rps (\S+)", header)
    assert shown is not None, header
    assert shown.group(1) == f"{round(rate, 1)}"


def test_an_open_loop_takes_the_time_its_arrivals_were_offered_in() -> None:
    """``--rate 10`` of 4 requests that all came at once: over the 0.4 s the rate offers
    them in, as the summary's ``rps``, not over the 10 ms they took."""
    events = []
    for req in range(1, 5):
        for t, kind, data in (
            (0, K.REQUEST_QUEUED, {}),
            (0, K.REQUEST_START, {"scope_type": "http"}),
            (10_000_000, K.REQUEST_END, {"status": 200}),
        ):
            events.append(Event(len(events), t, kind, req, 1, req, f"w{req}", data=data))
    load = {"rate": 10, "duration_s": None}
    stats = LiveStats(load=load)
    stats.feed(events)
    assert stats.snapshot().rps == pytest.approx(4 / 0.4)
    assert summarize(Recording(make_header(load=load), events))["rps"] == 10.0
