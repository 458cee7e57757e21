"""Recording strings that hold terminal controls are shown as visible escapes, never written raw.

A path decoded from ``%1b]0;PWNED%07%1b[2J`` would retitle and clear the terminal of whoever
opens the replay; an error message with ``\\x1b[1;1H`` would draw over the top row; an SVG
screenshot holding either is not well-formed XML. Every string from a recording (paths, thread
names, error messages, violations, titles, captions, bookmarks, file names) reaches the screen
through ``tracer.printable.printable``.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from tracer import events as K
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.recording import Recording, load
from tracer.tui.app import ReplayApp, render_svg
from tracer.tui.detail import DetailPane
from tracer.tui.examples import threads_example
from tracer.tui.lane_strip import label_segment
from tracer.tui.live import LiveApp, LiveScreen
from tracer.tui.model import build_model
from tracer.tui.screen import ReplayScreen

from .conftest import write_recording

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

PATH = "/x\x1b]0;PWNED\x07\x1b[2J\x9b31m\u202eevil"
"""The request path of the report: OSC retitle, BEL, clear screen, C1 CSI, a bidi override."""
OVER = "\x1b[1;1HOVER"
"""An error message that moves the cursor to the top row."""
RAW = ("\x1b", "\x07", "\x9b", "\u202e")


def _hostile(*, path: str = PATH) -> Recording:
    """The threads example with controls in every string the replay shows: paths, thread
    names, the error message, the violation, the app's name, a bookmark."""
    base = threads_example(10, 4)
    events: list[Event] = []
    for event in base.events:
        data: dict[str, Any] = dict(event.data)
        if "path" in data:
            data["path"] = path
        if event.kind == K.ERROR:
            data["message"] = OVER
        if data.get("error"):
            data["error"] = f"KeyError: {OVER}"
        if event.kind == K.VIOLATION:
            data |= {"message": "m\x1b[2J", "hint": "h\x07", "location": "l\x9b1m"}
        thread = event.thread.replace("worker", "w\x1b]0;T\x07")
        events.append(event._replace(thread=thread, data=data))
    events.append(
        Event(len(events), 1, K.MARK, None, data={"label": "L\x1b[2J", "caption": "C\x07\nnext"})
    )
    header = dict(base.header) | {"app": "app\x1b]0;PWNED\x07", "source": "traced"}
    recording = Recording(header=header, events=events)
    recording.sort()
    return recording


def _assert_shown_escaped(text: str) -> None:
    for char in RAW:
        at = text.find(char)
        assert at < 0, f"raw {char!r} shown: {text[max(0, at - 60) : at + 20]!r}"


def _svg_text(svg: str) -> str:
    """The text of an SVG screenshot; fails if it is not well-formed XML."""
    # The cells' spaces are written as no-break spaces.
    return "".join(ET.fromstring(svg).itertext()).replace("\xa0", " ")


def _static(app: Any, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def test_lane_labels_escape_paths_and_thread_names() -> None:
    """The model's labels (cached per lane) and the label segment hold no controls, and a
    label is cut to its width counting the escapes' cells."""
    model = build_model(_hostile())
    label = model.by_request[0].label
    assert label == "#1 /x\\x1b]0;PWNED\\x07\\x1b[2J\\x9b31m\\u202eevil"
    assert model.by_request[0] is model.by_request[0]  # built once, so escaped once
    workers = [lane.label for lane in model.by_worker]
    assert workers and all("w\\x1b]0;T\\x07-" in name for name in workers)
    # The report's row is still found (by the thread's pid and id).
    assert model.worker(model.by_worker[0]) is not None
    segment = label_segment("#1 /a\x1b[2Jb", 12)
    assert segment.text == "#1 …x1b[2Jb " and segment.cell_length == 12


async def test_replay_screen_shows_escapes_not_controls(tmp_path: Path) -> None:
    """Lanes, title and the screenshot (``s`` too): visible escapes, no raw controls,
    well-formed SVG."""
    app = ReplayApp([_hostile()], screenshot_dir=str(tmp_path))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        svg = app.export_screenshot()
        text = _svg_text(svg)
        _assert_shown_escaped(svg)
        assert "\\u202eevil" in text  # the lanes' labels keep the path's end
        assert "app\\x1b]0;PWNED\\x07" in text  # the summary's title
        await pilot.press("v")
        await pilot.pause()
        svg = app.export_screenshot()
        _assert_shown_escaped(svg)
        assert "w\\x1b]0;T\\x07-" in _svg_text(svg)
        await pilot.press("s")
        await pilot.pause()
    (shot,) = tmp_path.glob("*.svg")
    saved = shot.read_text(encoding="utf-8")
    _assert_shown_escaped(saved)
    assert "w\\x1b]0;T\\x07-" in _svg_text(saved)


async def test_detail_pane_escapes_the_error_message_and_event_data() -> None:
    """Enter on the failed request: its path, error, events and violation are shown escaped."""
    app = ReplayApp([_hostile()])
    async with app.run_test(size=(160, 45)) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        failed = next(i for i, lane in enumerate(screen.timeline.lanes) if lane.error)
        screen.timeline.select(failed)
        await pilot.press("enter")
        await pilot.pause()
        assert screen.query_one(DetailPane).is_open
        body = _static(app, "#detail-body")
        _assert_shown_escaped(body)
        assert f"GET {PATH.encode('unicode_escape').decode()}" in body.splitlines()[0]
        assert "error: KeyError: \\x1b[1;1HOVER" in body
        assert "message=\\x1b[1;1HOVER" in body  # the error event's row
        _assert_shown_escaped(_svg_text(app.export_screenshot()))
        # The request that broke a rule: its violation, hint and location.
        broke = next(i for i, lane in enumerate(screen.timeline.lanes) if lane.markers)
        screen.action_select(broke - failed)  # as the arrows do: the open pane follows
        await pilot.pause()
        body = _static(app, "#detail-body")
        _assert_shown_escaped(body)
        assert "m\\x1b[2J" in body and "h\\x07" in body and "l\\x9b1m" in body
        # A worker lane's pane starts with its (escaped) name.
        await pilot.press("v", "enter")
        await pilot.pause()
        body = _static(app, "#detail-body")
        _assert_shown_escaped(body)
        assert "w\\x1b]0;T\\x07-" in body.splitlines()[0]


async def test_bookmark_and_caption_are_escaped_keeping_their_lines() -> None:
    """m shows a mark's label and caption escaped; a caption's own line break stays."""
    app = ReplayApp([_hostile()], caption="intro\x1b[2J\nsecond")
    async with app.run_test(size=(160, 45)) as pilot:
        caption = _static(app, "#caption")
        assert caption == "intro\\x1b[2J\nsecond"
        await pilot.press("m")
        await pilot.pause()
        caption = _static(app, "#caption")
        _assert_shown_escaped(caption)
        assert caption == "L\\x1b[2J: C\\x07\nnext"


async def test_compare_titles_and_file_names_are_escaped(tmp_path: Path) -> None:
    """Compare mode: each timeline's title and the detail pane's source line (title and file
    name) are escaped."""
    path = write_recording(_hostile(), tmp_path / "name\x1b[31mRED.jsonl")
    recording = load(path)
    app = ReplayApp([recording, _hostile()])
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        body = _static(app, "#detail-body")
        _assert_shown_escaped(body)
        assert "(name\\x1b[31mRED.jsonl)" in body.splitlines()[0]
        titles = [str(title.render()) for title in app.screen.query(".lane-title")]
        assert titles and all("app\\x1b]0;PWNED\\x07" in title for title in titles)
        _assert_shown_escaped(app.export_screenshot())


def test_render_svg_is_well_formed_with_controls_in_the_title() -> None:
    """``trace replay --screenshot``: the window title and the cells are escaped XML text."""
    svg = render_svg([_hostile(path="/a\x00b\x01c\x08d\x0be\x0cf\x1fg\ufffeh")], size=(120, 40))
    text = _svg_text(svg)
    _assert_shown_escaped(svg)
    assert "app\\x1b]0;PWNED\\x07" in text


async def test_live_recent_requests_are_escaped(tmp_path: Path) -> None:
    """The dashboard's recent-requests lanes and its header show escapes, not controls."""
    recording = _hostile()
    recorder = Recorder(tmp_path / "run.jsonl", flush_interval=0.02)
    recorder.header.update(recording.header)
    release = threading.Event()

    def work(stop: threading.Event) -> None:
        recorder.extend(recording.events)
        release.wait(10)
        recorder.close()

    app = LiveApp(recorder, work, title="run \x1b]0;T\x07")
    async with app.run_test(size=(160, 45)) as pilot:
        assert isinstance(app.screen, LiveScreen)
        for _ in range(400):
            if app.screen.query_one("#recent").lanes:
                break
            await pilot.pause(0.02)
        await pilot.pause(0.3)
        svg = app.export_screenshot()
        _assert_shown_escaped(svg)
        text = _svg_text(svg)
        assert "\\u202eevil" in text and "run \\x1b]0;T\\x07" in text
        release.set()
