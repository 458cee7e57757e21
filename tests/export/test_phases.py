"""The slide exports draw each stretch in the phase the replay UI gives it.

A WSGI thread asleep in ``time.sleep`` (``sched.thread`` with a tiny ``cpu_ns``) is waiting, not
running; a thread spinning on the CPU is running; a coroutine step that held the loop is blocked.
Recordings are made through the real shim (``tracer.instrument``) and exported with
``trace export --to svg|html``; the assertions read the drawn elements' classes and fills.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import flask
import httpx
import pytest

import tracer
from tracer import events as K
from tracer.cli import main
from tracer.demos import SCENARIOS, run_demo
from tracer.export.drawing import COLORS
from tracer.export.legend import LEGENDS
from tracer.phases import CPU_BUSY_SHARE, request_phases
from tracer.recording import Recording, load
from tracer.tui import lane as tui_lane
from tracer.tui.examples import loop_example, threads_example
from tracer.tui.model import build_model

pytestmark = pytest.mark.timeout(120)

SLEEP_S = 0.05
SPIN_CPU_S = 0.03


# -- real recordings -------------------------------------------------------------------------


def _wsgi_recording(path: Path) -> str:
    """Flask through the WSGI shim: /sleep sleeps 50 ms (off the CPU), /spin computes 30 ms.

    On a crowded machine the spinning thread may be preempted for over half its span (and so
    truly waiting): record again, a few times, for a run where it had the CPU most of the time.
    """
    for _ in range(5):
        saved = _wsgi_attempt(path)
        recording = load(saved)
        if _share(recording, _req_of(recording, "/spin")) >= CPU_BUSY_SHARE:
            break
    return saved


def _wsgi_attempt(path: Path) -> str:
    app = flask.Flask("slides")

    @app.get("/sleep")
    def sleep() -> str:
        time.sleep(SLEEP_S)
        return "slept"

    @app.get("/spin")
    def spin() -> str:
        # Spin until this thread has really had 30 ms of CPU, however busy the machine is.
        start = time.thread_time()
        n = 0
        while time.thread_time() - start < SPIN_CPU_S:
            n += 1
        return str(n)

    rec = tracer.Recorder()
    traced = tracer.instrument(app, recorder=rec)
    with httpx.Client(transport=httpx.WSGITransport(app=traced), base_url="http://t") as client:
        assert [client.get(p).status_code for p in ("/sleep", "/spin")] == [200, 200]
    return rec.save(path)


async def _asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """/block holds the loop in ``time.sleep`` (a blocking call in async code); /await awaits."""
    if scope["type"] != "http":
        return
    if scope["path"] == "/block":
        time.sleep(0.04)
    else:
        await asyncio.sleep(0.02)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _asgi_recording(path: Path) -> str:
    rec = tracer.Recorder()
    traced = tracer.instrument(_asgi_app, recorder=rec, block_threshold_ms=10)

    async def drive() -> list[int]:
        transport = httpx.ASGITransport(app=traced)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return [(await client.get(p)).status_code for p in ("/block", "/await")]

    assert asyncio.run(drive()) == [200, 200]
    return rec.save(path)


@pytest.fixture(scope="module")
def wsgi_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _wsgi_recording(tmp_path_factory.mktemp("wsgi") / "wsgi.jsonl")


@pytest.fixture(scope="module")
def asgi_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _asgi_recording(tmp_path_factory.mktemp("asgi") / "asgi.jsonl")


def _req_of(recording: Recording, path: str) -> int:
    (req,) = [
        e.req
        for e in recording.events
        if e.kind == K.REQUEST_START and e.data.get("path") == path and e.req is not None
    ]
    return req


def _share(recording: Recording, req: int) -> float:
    (thread,) = [e for e in recording.events if e.kind == K.SCHED_THREAD and e.req == req]
    assert thread.dur
    return float(thread.data["cpu_ns"]) / thread.dur


# -- reading the drawn marks -----------------------------------------------------------------


class _Marks(HTMLParser):
    """Per request lane (``<g class="lane" data-req=N>``): each mark's (tag, class, fill)."""

    def __init__(self) -> None:
        super().__init__()
        self.lanes: dict[int, list[tuple[str, str, str]]] = {}
        self._lane: int | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "g":
            self._depth += 1
            if a.get("class") == "lane":
                self._lane = int(a["data-req"])
                self.lanes[self._lane] = []
        elif self._lane is not None and a.get("class", "").startswith("phase-"):
            self.lanes[self._lane].append((tag, a["class"], a.get("fill") or a.get("stroke", "")))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "g":
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "g":
            self._depth -= 1
            self._lane = None


def _lanes(text: str) -> dict[int, list[tuple[str, str, str]]]:
    parser = _Marks()
    parser.feed(text)
    return parser.lanes


def _export(path: str, to: str, out: Path) -> dict[int, list[tuple[str, str, str]]]:
    assert main(["export", path, "--to", to, "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    if to == "svg":
        ET.fromstring(text)  # still a well-formed figure
    return _lanes(text)


def _bars(marks: list[tuple[str, str, str]], phase: str) -> list[str]:
    """Fills of the ``<rect>`` bars drawn in ``phase``."""
    return [fill for tag, cls, fill in marks if tag == "rect" and cls == f"phase-{phase}"]


# -- the figures -----------------------------------------------------------------------------


@pytest.mark.parametrize("to", ["svg", "html"])
def test_a_sleeping_wsgi_thread_is_waiting_and_a_spinning_one_running(
    wsgi_path: str, to: str, tmp_path: Path
) -> None:
    """time.sleep in a Flask view: the thread's span is a waiting bar, no running bar at all; a
    busy loop: a running bar (the TUI's rule: on-CPU share below one half is waiting)."""
    recording = load(wsgi_path)
    sleep, spin = _req_of(recording, "/sleep"), _req_of(recording, "/spin")
    assert _share(recording, sleep) < CPU_BUSY_SHARE  # asleep: a sliver of CPU
    lanes = _export(wsgi_path, to, tmp_path / f"wsgi.{to}")

    assert _bars(lanes[sleep], "waiting") == [COLORS["waiting"]]
    assert _bars(lanes[sleep], "running") == []
    assert COLORS["running"] not in {fill for _, _, fill in lanes[sleep]}

    # Running, unless even five attempts saw the spinner preempted most of the time (then it
    # really waited, and is drawn so): the drawing follows the recorded share either way.
    drawn, other = ("running", "waiting")
    if _share(recording, spin) < CPU_BUSY_SHARE:
        drawn, other = other, drawn
    assert _bars(lanes[spin], drawn) == [COLORS[drawn]]
    assert _bars(lanes[spin], other) == []
    # Both were scheduled on a thread: the thin in-flight line under their bars is waiting.
    for req in (sleep, spin):
        assert ("line", "phase-waiting", COLORS["waiting"]) in lanes[req]


@pytest.mark.parametrize("to", ["svg", "html"])
def test_a_step_that_blocked_the_loop_is_blocked(asgi_path: str, to: str, tmp_path: Path) -> None:
    """time.sleep in async code: its step is drawn blocked (red), not running; a request that
    awaits has running steps and nothing blocked."""
    recording = load(asgi_path)
    block, awaits = _req_of(recording, "/block"), _req_of(recording, "/await")
    assert any(e.kind == K.LOOP_BLOCKED and e.req == block for e in recording.events)
    steps = [e for e in recording.events if e.kind == K.SCHED_STEP and e.req == block and e.dur]
    held = [
        s
        for s in steps
        if any(
            b.kind == K.LOOP_BLOCKED and b.req == block and b.t < s.end and s.t < b.end
            for b in recording.events
        )
    ]
    assert held
    lanes = _export(asgi_path, to, tmp_path / f"asgi.{to}")

    assert _bars(lanes[block], "blocked") == [COLORS["blocked"]] * len(held)
    assert _bars(lanes[block], "waiting") == []  # blocked however little CPU the step used
    assert len(_bars(lanes[block], "running")) == len(steps) - len(held)
    assert _bars(lanes[awaits], "blocked") == []
    assert _bars(lanes[awaits], "running") and set(_bars(lanes[awaits], "running")) == {
        COLORS["running"]
    }


@pytest.mark.parametrize("to", ["svg", "html"])
def test_bundled_thread_spans_are_split_by_their_cpu_share(to: str, tmp_path: Path) -> None:
    """The UI's hand-built 4-thread WSGI run (fixed times): the thread spans mostly on the CPU
    (#8, #9) are running bars, the ones mostly in I/O are waiting bars."""
    recording = threads_example(10, 4)
    path = tmp_path / "threads.jsonl"
    lines = [json.dumps(recording.header)] + [json.dumps(e.to_dict()) for e in recording.events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    lanes = _export(str(path), to, tmp_path / f"threads.{to}")
    busy = {req for req in lanes if _share(recording, req) >= CPU_BUSY_SHARE}
    assert busy == {8, 9}
    for req, marks in lanes.items():
        drawn, other = ("running", "waiting") if req in busy else ("waiting", "running")
        assert _bars(marks, drawn) == [COLORS[drawn]], req
        assert _bars(marks, other) == [], req


def test_the_legend_says_what_waiting_is(wsgi_path: str, tmp_path: Path) -> None:
    """The legend explains waiting as a thread in I/O or a lock (its bar), or an await (its
    line) (en and zh)."""
    assert main(["export", wsgi_path, "--to", "html", "-o", str(tmp_path / "p.html")]) == 0
    page = (tmp_path / "p.html").read_text(encoding="utf-8")
    english = dict(LEGENDS["en"])
    assert english["waiting"] in page and "I/O" in english["waiting"]
    assert "lock" in english["waiting"] and "await" in english["awaiting"]
    chinese = dict(LEGENDS["zh"])
    assert "I/O" in chinese["waiting"] and "锁" in chinese["waiting"]


# -- the same rule as the replay UI ----------------------------------------------------------


def _tui_spans(recording: Recording) -> dict[int, list[tuple[int, int, str]]]:
    model = build_model(recording)
    return {
        lane.req: sorted((s.start, s.end, tui_lane.PHASE_NAMES[s.phase]) for s in lane.spans)
        for lane in model.by_request
        if lane.req is not None
    }


def _export_spans(recording: Recording) -> dict[int, list[tuple[int, int, str]]]:
    model = build_model(recording)
    return {
        req: sorted(
            (p.start, p.end, p.phase) for p in request_phases(model.events_by_req[req], model.t_end)
        )
        for req in model.by_request.order
    }


def test_the_threshold_is_the_tuis() -> None:
    """One CPU share splits running from waiting in the UI and on the slides."""
    assert CPU_BUSY_SHARE == tui_lane.CPU_BUSY_SHARE


def test_real_recordings_get_the_tuis_phases(wsgi_path: str, asgi_path: str) -> None:
    """Every request lane of the real recordings: the same spans, phase for phase, as the UI."""
    for path in (wsgi_path, asgi_path):
        recording = load(path)
        assert _export_spans(recording) == _tui_spans(recording)


def test_bundled_and_simulated_recordings_get_the_tuis_phases() -> None:
    """The UI's example shapes and every simulated demo: the same spans as the UI's model."""
    recordings = [threads_example(10, 4), loop_example(8)]
    for name in ("sync-vs-async", "blocking-call", "cpu-gil", "threadpool-offload"):
        recordings += run_demo(SCENARIOS[name], simulated=True).recordings
    for recording in recordings:
        assert _export_spans(recording) == _tui_spans(recording), recording.title


def test_the_exporters_do_not_load_textual() -> None:
    """The slide exporters stay free of the UI toolkit (they share the rule, not the UI)."""
    code = (
        "import sys, tracer.export.svg, tracer.export.html, tracer.phases\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'tracer.tui')"
        " or m.startswith('tracer.tui'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_5xx_or_no_answer_is_marked_as_the_error_the_summary_counts() -> None:
    """A 503 (no exception anywhere) and a request that ended with no status get the error
    instant, as the summary counts them; a 404 and the lifespan do not."""
    from tracer import events as K
    from tracer.events import Event
    from tracer.phases import ERROR, request_phases

    def run(status: object, scope_type: str = "http") -> list[str]:
        events = [
            Event(0, 0, K.REQUEST_START, 1, data={"scope_type": scope_type}),
            Event(1, 10, K.REQUEST_END, 1, data={"status": status, "error": None}),
        ]
        return [s.phase for s in request_phases(events, t_end=100) if s.phase == ERROR]

    assert run(503) == [ERROR] and run(None) == [ERROR]
    assert run(404) == [] and run(200) == [] and run(None, "lifespan") == []


def test_one_error_gets_one_mark_where_it_was_raised() -> None:
    """An exception is also an errored end and (real servers) a broken response: the lane and
    the figure drew up to three ✖ a few ms apart. One mark, where it was raised; without an
    exception, one where the request ended in error."""
    from tracer import events as K
    from tracer.events import Event
    from tracer.phases import ERROR, request_phases

    raised = [
        Event(0, 0, K.REQUEST_START, 1, data={"scope_type": "http"}),
        Event(1, 5, K.ERROR, 1, data={"type": "ValueError"}),
        Event(2, 8, K.REQUEST_END, 1, data={"status": 200, "error": "ValueError"}),
        Event(3, 9, K.CLIENT_RESPONSE, 1, data={"status": None, "error": "ConnectionResetError"}),
    ]
    marks = [(s.start, s.kind) for s in request_phases(raised, t_end=100) if s.phase == ERROR]
    assert marks == [(5, K.ERROR)]
    timed_out = [
        Event(0, 0, K.REQUEST_QUEUED, 2, data={}),
        Event(1, 50, K.REQUEST_END, 2, data={"status": None, "error": "timeout"}),
    ]
    marks = [(s.start, s.kind) for s in request_phases(timed_out, t_end=100) if s.phase == ERROR]
    assert marks == [(50, K.REQUEST_END)]


def test_the_figure_legend_explains_the_error_mark() -> None:
    """The figures draw ✖ for errors: their legend says what it means (in Chinese too)."""
    from tracer.export.svg import timeline_svg
    from tracer.tui.examples import threads_example

    for lang, words in (("en", "error (raised, no response, or 5xx)"), ("zh", "错误")):
        svg = timeline_svg([threads_example(10, 4)], lang=lang)
        assert words in svg
