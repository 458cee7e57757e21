"""The lifespan's own loop blocking on a line of its own, in the live dashboard and the replay.

The run's "loop blocked" leaves out what a lifespan connection held the loop for (its startup
is not the load); the report says it on its lifespan line (``lifespan  blocked the loop
50.5 ms before the load``). The dashboard and the replay's summary panel said nothing of it,
so a 50 ms model load at startup read nowhere in the UI. They now say it as the report does,
only when there is something to say: an app whose lifespan blocks nothing shows no such line.

Real runs, in process on the loop model: a Starlette app whose lifespan startup calls
``time.sleep(0.05)``, and the same app with a lifespan that does nothing.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pilot_helpers import until
from textual.geometry import Region
from textual.widgets import Static

from tracer import events as K
from tracer.digest import Digest
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.recording import Recording, load
from tracer.run import RunConfig, run
from tracer.summary import summarize
from tracer.tui.app import ReplayApp
from tracer.tui.labels import labels
from tracer.tui.live import LiveApp, LiveScreen
from tracer.tui.live_stats import LiveStats
from tracer.tui.model import build_model
from tracer.tui.screen import ReplayScreen
from tracer.tui.summary_panel import SummaryPanel, summary_items

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

APP = """\
import time
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


@asynccontextmanager
async def lifespan(app):
    {startup}
    yield


async def hello(request):
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/", hello)], lifespan=lifespan)
"""

SLOW_START = APP.format(startup="time.sleep(0.05)  # loads a model before the first request")
PLAIN = APP.format(startup="pass")

SAID = {
    "en": "lifespan blocked the loop {ms} before the load",
    "zh": "生命周期 阻塞事件循环：负载开始前 {ms}",
}
"""The line, in each language, for a lifespan that blocked the loop at its startup only."""


def _config(tmp_path: Path, source: str) -> RunConfig:
    """Five requests, two clients, on the loop model, to the app of ``source``."""
    path = tmp_path / "startup_app.py"
    path.write_text(source, encoding="utf-8")
    return RunConfig(app=f"{path}:app", requests=5, concurrency=2)


def _lifespan_blocks(recording: Recording) -> list[Event]:
    """The lifespan connection's ``loop.blocked`` events."""
    (lifespan,) = [
        e.req
        for e in recording.events
        if e.kind == K.REQUEST_START and e.data.get("scope_type") == "lifespan"
    ]
    return [e for e in recording.events if e.kind == K.LOOP_BLOCKED and e.req == lifespan]


def _startup_ms(recording: Recording) -> float:
    """How long the lifespan's startup (its first ``loop.blocked``) held the loop (ms, to the
    µs, as the summary and the dashboard take it)."""
    return round((_lifespan_blocks(recording)[0].dur or 0) / 1e6, 3)


def _written(ms: float) -> str:
    """``ms`` as the panel and the dashboard write a time between 10 ms and 1 s."""
    return f"{ms:.1f}ms" if ms < 100 else f"{ms:.0f}ms"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Recording]:
    """One recorded run of each app, read back from its file."""
    found: dict[str, Recording] = {}
    for name, source in (("slow", SLOW_START), ("plain", PLAIN)):
        where = tmp_path_factory.mktemp(name)
        recorder = Recorder(where / "run.jsonl")
        run(_config(where, source), recorder)
        recorder.close()
        found[name] = load(where / "run.jsonl")
    return found


def _summed_up(app: ReplayApp | LiveApp) -> bool:
    """Whether the replay is on screen, its panel drawn with its figures."""
    screen = app.screen
    if not isinstance(screen, ReplayScreen) or not screen.query(SummaryPanel):
        return False
    return screen.summed_up and "5" in _panel_rows(app, 120)


def _panel_rows(app: ReplayApp | LiveApp, width: int) -> str:
    """The figures of the replay's summary panel as they read on screen (its title left
    out: it holds the app's path), its rows joined."""
    panel = app.screen.query_one(SummaryPanel)
    rows = [strip.text.strip() for strip in panel.render_lines(Region(0, 0, width, 4))]
    return " ".join(rows[1:])


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_replay_says_how_long_the_startup_blocked_the_loop(
    runs: dict[str, Recording], lang: str
) -> None:
    """The panel's line names the startup's block, with the report's figure for it; the
    loop's own blocked time still leaves it out."""
    recording = runs["slow"]
    digest = Digest()
    digest.feed(recording.events)
    before = digest.details().lifespan_blocked_ms[0]
    assert round(before, 1) == round(_startup_ms(recording), 1)
    app = ReplayApp([recording], lang=lang)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: _summed_up(app))
        shown = _panel_rows(app, 120)
        assert SAID[lang].format(ms=_written(before)) in shown, shown
        assert f"{labels(lang)['loop_blocked']} {_written(before)}" not in shown


async def test_the_replay_of_a_lifespan_that_blocks_nothing_has_no_such_line(
    runs: dict[str, Recording],
) -> None:
    assert _lifespan_blocks(runs["plain"]) == []
    app = ReplayApp([runs["plain"]])
    async with app.run_test(size=(120, 30)) as pilot:
        await until(pilot, lambda: _summed_up(app))
        shown = _panel_rows(app, 120)
        assert "5 requests" in shown and "lifespan" not in shown, shown


async def _live(tmp_path: Path, source: str, lang: str) -> tuple[str, str]:
    """A real run of the app of ``source`` under the dashboard: its header once every event
    of the run is in (the run not over yet), then the panel of the replay it becomes."""
    recorder = Recorder(tmp_path / "run.jsonl", flush_interval=0.02)
    ran = threading.Event()
    release = threading.Event()
    config = _config(tmp_path, source)

    def work(stop: threading.Event) -> None:
        run(config, recorder, stop=stop)
        recorder.drain()  # every event handed to the dashboard
        ran.set()
        release.wait(10)
        recorder.close()

    app = LiveApp(recorder, work, title="starlette", total_requests=5, lang=lang)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        # Taken in and drawn: the dashboard draws what it fed at once.
        await until(pilot, lambda: ran.is_set() and not app.inbox)
        assert app.stats.completed == 5
        header = str(screen.query_one("#live-header", Static).render())
        release.set()
        await until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        await until(pilot, lambda: _summed_up(app))
        replay = _panel_rows(app, 120)
        await pilot.press("q")
    assert app.error is None
    return header, replay


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_dashboard_says_it_on_a_line_of_its_own(tmp_path: Path, lang: str) -> None:
    """The header's last row says the startup's block (not counted in the loop's blocked
    time on its first row), and so does the replay the dashboard becomes."""
    header, replay = await _live(tmp_path, SLOW_START, lang)
    ms = _written(_startup_ms(load(tmp_path / "run.jsonl")))
    rows = header.splitlines()
    assert rows[-1].startswith(SAID[lang].format(ms=ms)), rows
    assert labels(lang)["lifespan"] not in " ".join(rows[:-1]), rows
    assert f"{labels(lang)['loop_blocked']} {ms}" not in rows[0], rows
    assert SAID[lang].format(ms=ms) in replay, replay


async def test_the_dashboard_of_a_lifespan_that_blocks_nothing_has_no_such_line(
    tmp_path: Path,
) -> None:
    header, replay = await _live(tmp_path, PLAIN, "en")
    rows = header.splitlines()
    assert rows[1].startswith("progress 5/5"), rows
    assert "lifespan" not in header and "lifespan" not in replay, (header, replay)


MS = 1_000_000
AT = {"pid": 7, "tid": 1, "thread": "event-loop"}


def _hand_built() -> Recording:
    """A lifespan connection (1) whose startup held the loop 200 ms, a task of which held it
    5 ms while the load ran, and whose shutdown held it 20 ms, then failed; one request (2)
    whose step held it 15 ms."""
    recorder = Recorder(app="app:app", interface="asgi")
    recorder.emit(K.REQUEST_START, 1, {"scope_type": "lifespan"}, t=0, **AT)
    recorder.emit(K.LOOP_BLOCKED, 1, {"delayed": []}, t=MS, dur=200 * MS, **AT)
    recorder.emit(K.REQUEST_QUEUED, 2, {"method": "GET", "path": "/"}, t=210 * MS, **AT)
    recorder.emit(K.REQUEST_START, 2, {"path": "/", "scope_type": "http"}, t=211 * MS, **AT)
    recorder.emit(K.LOOP_BLOCKED, 2, {"delayed": []}, t=211 * MS, dur=15 * MS, **AT)
    recorder.emit(K.LOOP_BLOCKED, 1, {"delayed": []}, t=226 * MS, dur=5 * MS, **AT)
    recorder.emit(K.REQUEST_END, 2, {"status": 200}, t=235 * MS, **AT)
    recorder.emit(K.LOOP_BLOCKED, 1, {"delayed": []}, t=240 * MS, dur=20 * MS, **AT)
    failed = {"type": "lifespan.shutdown.failed", "message": "pool\x1b[2J"}
    recorder.emit(K.ASGI_SEND, 1, failed, t=261 * MS, **AT)
    recorder.emit(K.REQUEST_END, 1, {"status": None}, t=262 * MS, **AT)
    return recorder.recording()


@pytest.mark.parametrize("order", ["recorded", "start last"])
def test_the_dashboard_splits_it_as_the_report_does(order: str) -> None:
    """Before the load, during it, after it: the report's figures, whether the lifespan's
    start comes first (the run's events in two batches) or after its other events in their
    batch; until the run is over, nothing is after the load yet (it goes on)."""
    recording = _hand_built()
    events = list(recording.events)
    stats = LiveStats()
    if order == "start last":
        stats.feed([*events[1:], events[0]])
    else:
        stats.feed(events[:5])
        stats.feed(events[5:])
    digest = Digest()
    digest.feed(recording.events)
    before, after, during = digest.details().lifespan_blocked_ms
    assert (before, during, after) == (200.0, 5.0, 20.0)
    snap = stats.snapshot()
    assert snap.lifespan_blocked_ns == (200 * MS, 5 * MS, 20 * MS)
    assert (snap.blocked_ns, snap.completed) == (15 * MS, 1)
    assert snap.lifespan_failed == ({"phase": "shutdown", "message": "pool\x1b[2J", "pid": 7},)
    assert stats.snapshot(now=300 * MS).lifespan_blocked_ns == (200 * MS, 25 * MS, 0)
    model = build_model(recording)
    assert model.lifespan_blocked_ms == {"before": 200.0, "during": 5.0, "after": 20.0}
    summary, samples = model.figures()
    items = [item.plain for item in summary_items(summary, labels("en"), samples)]
    assert (
        "lifespan blocked the loop 200ms before the load, 5.0ms during it, 20.0ms after it" in items
    )
    assert model.summary == summarize(recording)  # the summary's own keys, as they were


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_every_part_and_a_failure_on_the_line(lang: str, tmp_path: Path) -> None:
    """The dashboard's line while the run goes on: before the load and during it (the
    shutdown's block too, until the run is over), then the failed shutdown with the app's
    words, their controls escaped, as the replay's panel names it."""
    recording = _hand_built()
    recorder = Recorder(tmp_path / "run.jsonl", flush_interval=0.02)
    recorder.header.update(recording.header)

    def work(stop: threading.Event) -> None:
        recorder.extend(recording.events)
        stop.wait(30)
        recorder.close()

    app = LiveApp(recorder, work, title="starlette", lang=lang)
    said = {
        "en": "lifespan blocked the loop 200ms before the load, 25.0ms during it  "
        "lifespan shutdown failed: pool\\x1b[2J",
        "zh": "生命周期 阻塞事件循环：负载开始前 200ms，负载期间 25.0ms  "
        "生命周期关闭失败：pool\\x1b[2J",
    }
    async with app.run_test(size=(160, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        header = screen.query_one("#live-header", Static)
        await until(pilot, lambda: str(header.render()).splitlines()[-1] == said[lang])
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    assert app.error is None


def test_a_lifespan_task_blocking_all_through_a_run_is_not_kept_block_by_block() -> None:
    """A task the lifespan started blocks the loop once per request of a long run: those
    within the load are summed up as they come, only those at its edges are kept (every
    frame goes through them)."""
    stats = LiveStats()
    stats.feed([Event(0, 0, K.REQUEST_START, 1, data={"scope_type": "lifespan"})])
    for req in range(2, 1002):
        t = req * 10 * MS
        stats.feed(
            [
                Event(0, t, K.REQUEST_QUEUED, req, data={"path": "/"}),
                Event(0, t, K.REQUEST_START, req, data={"path": "/", "scope_type": "http"}),
                Event(0, t + MS, K.LOOP_BLOCKED, 1, dur=2 * MS, data={"delayed": []}),
                Event(0, t + 4 * MS, K.REQUEST_END, req, data={"status": 200}),
            ]
        )
    assert stats.snapshot().lifespan_blocked_ns == (0, 2000 * MS, 0)
    assert len(stats.lifespan_blocks) <= 1
