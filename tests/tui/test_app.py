"""The replay UI driven through Textual's pilot: every key binding, view switch and the mouse."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual import events
from textual.widgets import Static

from tracer.recording import Recording
from tracer.tui.app import Bookmark, ReplayApp
from tracer.tui.detail import DetailPane
from tracer.tui.help import KEYS, HelpScreen
from tracer.tui.screen import ReplayScreen
from tracer.tui.timeline import Timeline

# The project's default time limit (120 s): a pilot test takes 2-4 s alone, and a shared
# machine's load once stretched the longest past 60 s.
pytestmark = [pytest.mark.anyio]


def _screen(app: ReplayApp) -> ReplayScreen:
    screen = app.screen
    assert isinstance(screen, ReplayScreen)
    return screen


def _text(app: ReplayApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_v_switches_between_request_and_worker_lanes(threads_rec: Recording) -> None:
    """v shows one lane per thread, v again one lane per request; the status line says which."""
    app = ReplayApp([threads_rec])
    async with app.run_test(size=(120, 40)) as pilot:
        screen = _screen(app)
        assert [lane.kind for lane in screen.timeline.lanes] == ["request"] * 10
        await pilot.press("v")
        assert screen.view == "worker"
        assert [lane.kind for lane in screen.timeline.lanes] == ["thread"] * 4
        assert "by worker" in _text(app, "#status")
        await pilot.press("v")
        assert screen.view == "request" and "by request" in _text(app, "#status")


async def test_space_plays_and_pauses(loop_rec: Recording) -> None:
    """space starts the cursor moving; space again stops it where it is."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(80, 24)) as pilot:
        vp = _screen(app).viewport
        await pilot.press("space")
        assert vp.playing and "playing" in _text(app, "#status")
        for _ in range(200):  # bounded wait for the timer to move the cursor
            if vp.cursor > 0:
                break
            await pilot.pause(0.02)
        assert vp.cursor > 0
        await pilot.press("space")
        stopped = vp.cursor
        await pilot.pause(0.1)
        assert not vp.playing and vp.cursor == stopped


async def test_brackets_change_speed_within_bounds(loop_rec: Recording) -> None:
    """] speeds up to 10x at most, [ slows down to 0.1x at least."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(80, 24)) as pilot:
        vp = _screen(app).viewport
        await pilot.press("right_square_bracket")
        assert vp.speed == 2.0
        await pilot.press(*["right_square_bracket"] * 8)
        assert vp.speed == 10.0 and "10×" in _text(app, "#status")
        await pilot.press(*["left_square_bracket"] * 12)
        assert vp.speed == 0.1


async def test_comma_and_full_stop_step_event_by_event(loop_rec: Recording) -> None:
    """. moves the cursor to the next event time, , back to the previous one."""
    app = ReplayApp([loop_rec])
    times = sorted({e.t for e in loop_rec.events})
    async with app.run_test(size=(80, 24)) as pilot:
        vp = _screen(app).viewport
        await pilot.press("full_stop")
        assert vp.cursor == times[1]
        await pilot.press("full_stop", "full_stop")
        assert vp.cursor == times[3]
        await pilot.press("comma")
        assert vp.cursor == times[2]


async def test_b_jumps_to_the_blocking_step_and_selects_its_request(loop_rec: Recording) -> None:
    """b puts the cursor on the next loop.blocked and the selection on the culprit."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = _screen(app)
        await pilot.press("b")
        (block,) = screen.models[0].blocked
        assert screen.viewport.cursor == block.t
        assert screen.timeline.selected_lane.req == block.req


async def test_m_jumps_to_bookmarks_and_shows_their_caption(loop_rec: Recording) -> None:
    """m moves to the next mark event and shows its caption; given bookmarks replace them."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = _screen(app)
        await pilot.press("m")
        mark = screen.models[0].marks[-1]
        assert screen.viewport.cursor == mark.t
        assert "time.sleep" in _text(app, "#caption")
    marks = [Bookmark(1_000_000, "one", "first ms"), (2_000_000, "two", "second ms")]
    app = ReplayApp([loop_rec], bookmarks=marks, caption="intro")
    async with app.run_test(size=(80, 24)) as pilot:
        assert "intro" in _text(app, "#caption")
        await pilot.press("m")
        assert _screen(app).viewport.cursor == 1_000_000
        assert "first ms" in _text(app, "#caption")
        await pilot.press("m")
        assert _screen(app).viewport.cursor == 2_000_000
        assert "two: second ms" in _text(app, "#caption")
    app = ReplayApp([loop_rec], bookmarks=marks, lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m")
        assert "one：first ms" in _text(app, "#caption")  # Chinese: a full-width colon


async def test_zoom_keys_and_fit(loop_rec: Recording) -> None:
    """+ and = zoom in, - zooms out, 0 fits the whole recording again."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(80, 24)) as pilot:
        vp = _screen(app).viewport
        fitted = vp.ns_per_cell
        await pilot.press("plus")
        assert vp.ns_per_cell < fitted
        await pilot.press("equals_sign")
        zoomed = vp.ns_per_cell
        await pilot.press("minus")
        assert zoomed < vp.ns_per_cell < fitted
        await pilot.press("0")
        assert vp.ns_per_cell == fitted and vp.start == 0


async def test_zooming_out_from_the_end_keeps_the_axis_on_the_recording(
    loop_rec: Recording,
) -> None:
    """The cursor at the end, then - twice: the axis shows no time before the recording's
    start (it zoomed out past the whole recording, the end kept in its column: "-40ms ...
    0ms ... 40ms"), and the cursor is still drawn; zoomed in first, the same."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("end", "minus", "minus")
        vp = _screen(app).viewport
        console = Console(file=io.StringIO(), width=80, color_system=None)
        console.print(_screen(app).query_one("#axis").render())
        labels, ruler = console.file.getvalue().splitlines()[:2]  # type: ignore[attr-defined]
        assert "-" not in labels and "▼" in ruler
        assert vp.start >= vp.t_min and vp.cursor == vp.t_max
        await pilot.press("plus", "plus", "plus", "minus", "minus", "minus", "minus")
        assert vp.start >= vp.t_min and vp.at_fit


async def test_the_cursor_reads_with_the_digits_the_zoom_gives_it() -> None:
    """Deep in a 3 s recording, the cursor at 2.225 s exactly reads "2.225s" (it read
    "2.2250000s"), and 30 ns later "2.22500003s": a cell's precision; the status line keeps
    its layout as the cursor moves."""
    from tracer import events as K
    from tracer.events import Event
    from tracer.recording import make_header

    second = 1_000_000_000
    events = [
        Event(0, 0, K.REQUEST_START, 1, data={"scope_type": "http", "path": "/"}),
        Event(1, 3 * second, K.REQUEST_END, 1, data={"status": 200}),
    ]
    recording = Recording(make_header(interface="asgi"), events)
    app = ReplayApp([recording], cursor=2_225_000_000)
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.press(*["plus"] * 60)
        vp = _screen(app).viewport
        assert vp.ns_per_cell == 10
        status = _text(app, "#status")
        assert "cursor 2.225s " in status and "2.2250000" not in status
        view_at = status.index("view:")
        vp.set_cursor(2_225_000_030)
        await pilot.press("plus")  # redraws
        status = _text(app, "#status")
        assert "cursor 2.22500003s" in status and status.index("view:") == view_at


async def test_arrows_pan_and_home_end_move_the_cursor(loop_rec: Recording) -> None:
    """left/right (h/l) pan the window; home/end put the cursor at either end."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(80, 24)) as pilot:
        vp = _screen(app).viewport
        await pilot.press("plus", "plus", "plus")
        start = vp.start
        await pilot.press("right")
        assert vp.start > start
        await pilot.press("l")
        further = vp.start
        await pilot.press("left", "h")
        assert vp.start < further
        await pilot.press("end")
        assert vp.cursor == vp.t_max and vp.start <= vp.cursor < vp.end
        await pilot.press("home")
        assert vp.cursor == 0


async def test_lane_selection_and_detail_pane(loop_rec: Recording) -> None:
    """down/j and up/k move the selection; enter opens the request's detail with its events and
    what delayed it; escape closes it."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(120, 40)) as pilot:
        screen = _screen(app)
        await pilot.press("down", "j", "j", "k")
        assert screen.timeline.selected == 2
        await pilot.press("enter")
        pane = screen.query_one(DetailPane)
        assert pane.is_open
        text = str(pane.query_one("#detail-body", Static).render())
        req = screen.timeline.selected_lane.req
        assert f"#{req} GET" in text and "request.start" in text and "what delayed it" in text
        await pilot.press("up")
        text = str(pane.query_one("#detail-body", Static).render())
        assert f"#{screen.timeline.selected_lane.req} GET" in text
        await pilot.press("escape")
        assert not pane.is_open
        await pilot.press("enter", "enter")
        assert not pane.is_open


async def test_arrow_keys_select_and_pan_when_lanes_overflow() -> None:
    """With more lanes than rows, down/up still move the selection (the selected lane scrolled
    into view) and left/home still pan and move the cursor: the lanes never swallow them."""
    from tracer.tui.examples import threads_example

    app = ReplayApp([threads_example(60, 4)])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = _screen(app)
        timeline = screen.timeline
        assert len(timeline.lanes) > timeline.size.height
        await pilot.press("down", "down")
        assert timeline.selected == 2 and timeline.scroll_y == 0
        await pilot.press(*["down"] * 40)
        assert timeline.selected == 42
        assert timeline.scroll_y <= 42 < timeline.scroll_y + timeline.size.height
        await pilot.press("up")
        assert timeline.selected == 41
        await pilot.press("enter")
        text = str(screen.query_one(DetailPane).query_one("#detail-body", Static).render())
        assert f"#{timeline.selected_lane.req} " in text
        vp = screen.viewport
        await pilot.press("plus", "plus", "end")
        start = vp.start
        await pilot.press("left")
        assert vp.start < start
        await pilot.press("home")
        assert vp.cursor == 0


async def test_detail_names_the_request_that_held_the_loop(loop_rec: Recording) -> None:
    """A request delayed by another's blocking step says who held the loop and where."""
    app = ReplayApp([loop_rec])
    block = next(e for e in loop_rec.events if e.kind == "loop.blocked")
    victim = block.data["delayed"][0]
    async with app.run_test(size=(120, 40)) as pilot:
        screen = _screen(app)
        index = next(i for i, lane in enumerate(screen.timeline.lanes) if lane.req == victim)
        screen.timeline.select(index)
        await pilot.press("enter")
        text = str(screen.query_one("#detail-body", Static).render())
        assert f"loop held by #{block.req}" in text and block.data["location"] in text


async def test_s_saves_an_svg_screenshot(loop_rec: Recording, tmp_path: Path) -> None:
    """s writes an SVG of the screen into the screenshot folder."""
    app = ReplayApp([loop_rec], screenshot_dir=str(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")
        await pilot.pause()
    (shot,) = tmp_path.glob("*.svg")
    assert shot.read_text(encoding="utf-8").lstrip().startswith("<svg")


async def test_question_mark_lists_every_key(loop_rec: Recording) -> None:
    """? opens a screen listing every binding; escape closes it."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        console = Console(file=io.StringIO(), width=100, color_system=None)
        for widget in app.screen.query(Static):
            console.print(widget.content)
        text = console.file.getvalue()
        for key in KEYS:
            assert app.labels[key.label] in text
        await pilot.press("escape")
        assert isinstance(app.screen, ReplayScreen)


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
async def test_q_and_ctrl_c_quit(loop_rec: Recording, key: str) -> None:
    """q ends the app; ctrl+c too, as in the live phase (not Textual's "press q" hint)."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(key)
        await pilot.pause()
        assert not app.is_running


async def test_click_selects_a_lane_and_moves_the_cursor(loop_rec: Recording) -> None:
    """Clicking a lane selects it, puts the cursor at the clicked time and opens its detail."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(120, 40)) as pilot:
        screen = _screen(app)
        timeline = screen.timeline
        x = timeline.label_width + 30
        await pilot.click(Timeline, offset=(x, 3))
        assert timeline.selected == 3
        assert screen.viewport.cursor == screen.viewport.time_at(30)
        assert screen.query_one(DetailPane).is_open


async def test_mouse_wheel_zooms_and_pans(loop_rec: Recording) -> None:
    """ctrl+wheel zooms around the pointer, shift+wheel pans, plain wheel scrolls lanes."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(120, 40)) as pilot:
        screen = _screen(app)
        timeline = screen.timeline
        vp = screen.viewport
        fitted = vp.ns_per_cell

        def wheel(kind: type[events.MouseEvent], **mods: bool) -> events.MouseEvent:
            return kind(
                timeline,
                timeline.label_width + 10,
                1,
                0,
                1,
                0,
                mods.get("shift", False),
                False,
                mods.get("ctrl", False),
            )

        timeline._on_mouse_scroll_up(wheel(events.MouseScrollUp, ctrl=True))
        assert vp.ns_per_cell < fitted
        start = vp.start
        timeline._on_mouse_scroll_down(wheel(events.MouseScrollDown, shift=True))
        assert vp.start > start
        await pilot.pause()


async def test_dragging_pans_the_time_axis(loop_rec: Recording) -> None:
    """Press, move left and release over the lanes: the window moves right by the same cells,
    and the release is not taken for a click."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(120, 40)) as pilot:
        screen = _screen(app)
        timeline = screen.timeline
        vp = screen.viewport
        await pilot.press("plus", "plus")
        start = vp.start
        x = timeline.label_width + 40
        await pilot.mouse_down(Timeline, offset=(x, 2))
        await pilot.hover(Timeline, offset=(x - 10, 2))
        await pilot.mouse_up(Timeline, offset=(x - 10, 2))
        assert vp.start == pytest.approx(start + 10 * vp.ns_per_cell)
        assert not screen.query_one(DetailPane).is_open


async def test_compare_stacks_two_recordings_on_one_axis(
    threads_rec: Recording, loop_rec: Recording
) -> None:
    """Two recordings: two titled timelines, two summaries, one viewport; keys zoom both."""
    app = ReplayApp([threads_rec, loop_rec])
    async with app.run_test(size=(120, 40)) as pilot:
        screen = _screen(app)
        first, second = screen.timelines
        assert first.viewport is second.viewport is screen.viewport
        titles = [str(w.render()) for w in screen.query(".lane-title")]
        assert "WSGI threads" in titles[0] and "ASGI loop" in titles[1]
        assert len(screen.query("SummaryPanel")) == 2
        await pilot.press("plus")
        await pilot.press("v")
        assert first.view == second.view == "worker"
        await pilot.press("tab")
        assert screen.active == 1


async def test_resize_keeps_the_labels_and_axis_aligned(loop_rec: Recording) -> None:
    """Growing the terminal widens the label gutter and the time axis together."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = _screen(app)
        await pilot.resize_terminal(200, 50)
        await pilot.pause()
        assert screen.timeline.label_width == screen.query_one("#axis").label_offset == 24
        assert screen.viewport.width == 200 - 24 - 1


async def test_chinese_labels(loop_rec: Recording) -> None:
    """lang="zh" translates the legend, the status line and a simulated recording's title
    (the figures said （模拟） while the replay said "(simulated)")."""
    assert loop_rec.header.get("source") == "simulated"
    app = ReplayApp([loop_rec], lang="zh")
    async with app.run_test(size=(100, 30)):
        assert "排队" in _text(app, "#legend")
        assert "按请求" in _text(app, "#status")
    from tracer.tui.app import render_svg

    svg = render_svg([loop_rec], size=(100, 30), lang="zh")
    assert "模拟" in svg and "simulated" not in svg


async def test_empty_recording_says_so(loop_rec: Recording) -> None:
    """A recording with no requests shows a line saying so instead of lanes."""
    empty = Recording(loop_rec.header, [])
    app = ReplayApp([empty])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        line = app.screen.query_one(Timeline).render_line(0)
        assert "no requests" in line.text


def test_render_svg_without_a_terminal(loop_rec: Recording) -> None:
    """render_svg draws the replay (keys pressed first) and returns SVG text."""
    from tracer.tui.app import render_svg

    svg = render_svg([loop_rec], size=(80, 24), keys=["v"])
    assert svg.lstrip().startswith("<svg") and "by&#160;worker" in svg


async def test_render_svg_from_inside_an_event_loop(loop_rec: Recording) -> None:
    """Called while an event loop runs (a notebook, another app), it renders on its own thread."""
    from tracer.tui.app import render_svg

    svg = render_svg([loop_rec], size=(80, 24), lang="zh")
    assert "排队" in svg


def test_open_recordings_restores_the_collector(tmp_path: Path, loop_rec: Recording) -> None:
    """Reading pauses the collector and freezes what it loaded; the collector is on afterwards,
    and a missing file is still a RecordingError."""
    import gc
    import json

    from tracer.errors import RecordingError
    from tracer.tui.app import open_recordings

    path = tmp_path / "run.jsonl"
    lines = [json.dumps(loop_rec.header)] + [json.dumps(e.to_dict()) for e in loop_rec.events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        (recording,) = open_recordings([path])
        assert len(recording.events) == len(loop_rec.events)
        assert gc.isenabled() and gc.get_freeze_count() > 0
        with pytest.raises(RecordingError):
            open_recordings([tmp_path / "missing.jsonl"])
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_opening_a_recording_says_so_first_on_a_terminal(
    tmp_path: Path, loop_rec: Recording
) -> None:
    """`trace replay` says which file it is loading, and how big, before it reads it (a big
    one left the terminal blank for many seconds): on stderr when that is a terminal, and
    not at all when it is not (a script's output stays as it was)."""
    import os
    import subprocess
    import sys

    from .conftest import write_recording

    path = write_recording(loop_rec, tmp_path / "run.jsonl")
    assert 10_000 <= os.path.getsize(path) < 100_000
    size = f"{os.path.getsize(path) / 1000:.0f} KB"  # two digits, none after the point
    command = [sys.executable, "-m", "tracer", "replay", str(path), "--screenshot"]
    primary, secondary = os.openpty()
    try:
        done = subprocess.run(
            [*command, str(tmp_path / "a.svg")],
            stdout=subprocess.PIPE,
            stderr=secondary,
            timeout=60,
            check=False,
        )
        os.close(secondary)
        try:
            said = os.read(primary, 65536).decode()
        except OSError:  # EIO: nothing was written, and no one holds the terminal now
            said = ""
    finally:
        os.close(primary)
    assert done.returncode == 0
    assert said.splitlines() == [f"trace: loading {path} ({size})…"]
    piped = subprocess.run(
        [*command, str(tmp_path / "b.svg")], capture_output=True, timeout=60, check=False
    )
    assert piped.returncode == 0 and piped.stderr == b""
    from tracer.tui.app import open_recordings

    told: list[str] = []
    open_recordings([path], notice=told.append)
    assert told == [f"loading {path} ({size})…"]
    import gc

    gc.unfreeze()


async def test_a_recording_that_starts_late_opens_on_its_activity(loop_rec: Recording) -> None:
    """A real server's recording starts with its start-up (nothing for a while): the replay
    opens on the first event, and home goes there, not to t=0."""
    late = 2 * max(e.t + (e.dur or 0) for e in loop_rec.events)
    shifted = [e._replace(t=e.t + late) for e in loop_rec.events]
    app = ReplayApp([Recording(header=loop_rec.header, events=shifted)])
    async with app.run_test(size=(80, 24)) as pilot:
        vp = _screen(app).viewport
        first = shifted[0].t
        assert vp.t_min == first and vp.start == first and vp.cursor == first
        await pilot.press("end")
        assert vp.cursor == vp.t_max
        await pilot.press("home")
        assert vp.cursor == first


def _visible(timeline: Timeline) -> bool:
    """Whether the selected lane is on one of the timeline's rows."""
    top = int(timeline.scroll_y)
    return timeline.size.height > 0 and top <= timeline.selected < top + timeline.size.height


@pytest.mark.parametrize("size", [(120, 40), (60, 15)])
async def test_the_selection_stays_on_screen_when_the_pane_opens_and_closes(
    size: tuple[int, int],
) -> None:
    """Opening the detail pane shrinks the lanes: the selected lane is still shown (it was
    scrolled off, #2..#18 shown with #34 selected); closing it and resizing keep it too."""
    from tracer.tui.examples import threads_example

    app = ReplayApp([threads_example(60, 4)])
    async with app.run_test(size=size) as pilot:
        timeline = _screen(app).timeline
        await pilot.press(*["j"] * 33)
        assert timeline.selected == 33 and _visible(timeline)
        await pilot.press("enter")
        await pilot.pause()
        assert _screen(app).query_one(DetailPane).is_open and _visible(timeline)
        await pilot.press("escape")
        await pilot.pause()
        assert _visible(timeline)
        await pilot.resize_terminal(size[0], size[1] // 2 + 4)
        await pilot.pause()
        assert _visible(timeline)


async def test_compare_keeps_both_selections_on_screen_with_the_pane_open() -> None:
    """Two recordings at 60x15, the pane open: each timeline still shows its selected lane."""
    from tracer.tui.examples import threads_example

    app = ReplayApp([threads_example(60, 4), threads_example(60, 4)])
    async with app.run_test(size=(60, 15)) as pilot:
        screen = _screen(app)
        await pilot.press(*["j"] * 33, "tab", *["j"] * 20, "enter")
        await pilot.pause()
        first, second = screen.timelines
        assert (first.selected, second.selected) == (33, 20)
        assert _visible(first) and _visible(second)


def _detail(app: ReplayApp) -> str:
    return str(_screen(app).query_one("#detail-body", Static).render())


async def test_b_moves_an_open_detail_pane_to_the_culprit(loop_rec: Recording) -> None:
    """b selects the request that blocked the loop; the open pane shows it, as up/down do."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        assert _detail(app).startswith("#1 ")
        await pilot.press("b")
        (block,) = _screen(app).models[0].blocked
        assert _detail(app).startswith(f"#{block.req} ")


async def test_a_view_at_fit_fits_again_after_the_terminal_shrinks_and_grows() -> None:
    """10x3 and back to 120x40: the whole recording fits again (it stayed zoomed far out)."""
    from tracer.tui.examples import threads_example

    app = ReplayApp([threads_example(60, 4)])
    async with app.run_test(size=(120, 40)) as pilot:
        vp = _screen(app).viewport
        fitted = (vp.start, vp.ns_per_cell)
        await pilot.resize_terminal(10, 3)
        await pilot.pause()
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert (vp.start, vp.ns_per_cell) == fitted
        assert "per cell" in _text(app, "#status")


async def test_page_keys_move_the_selection_by_a_page() -> None:
    """pagedown scrolls a page and takes the selection with it (the next j goes on from
    there, not back to where it was); pageup goes back; both stop at the ends."""
    from tracer.tui.examples import threads_example

    app = ReplayApp([threads_example(60, 4)])
    async with app.run_test(size=(80, 24)) as pilot:
        timeline = _screen(app).timeline
        page = timeline.size.height
        await pilot.press("j", "pagedown")
        assert timeline.selected == 1 + page and _visible(timeline)
        await pilot.press("j")
        assert timeline.selected == 2 + page
        await pilot.press("pageup")
        assert timeline.selected == 2 and _visible(timeline)
        await pilot.press(*["pagedown"] * 10)
        assert timeline.selected == len(timeline.lanes) - 1 and _visible(timeline)
        await pilot.press("enter", "pageup")
        assert _detail(app).startswith(f"#{timeline.selected_lane.req} ")


async def _help_text(app: ReplayApp, pilot: Any) -> str:
    """Open the ``?`` screen and return its text as printed at 100 columns, without colour."""
    await pilot.press("question_mark")
    console = Console(file=io.StringIO(), width=100, color_system=None)
    for widget in app.screen.query(Static):
        console.print(widget.content)
    return console.file.getvalue()


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_help_lists_the_page_tab_and_ctrl_c_keys(loop_rec: Recording, lang: str) -> None:
    """Keys that work are in the ? screen, in the UI's language."""
    app = ReplayApp([loop_rec], lang=lang)
    async with app.run_test(size=(100, 50)) as pilot:
        text = await _help_text(app, pilot)
        for shown, label in (
            ("pgup", "key_page_up"),
            ("pgdn", "key_page_down"),
            ("tab", "key_next_timeline"),
            ("ctrl+c", "key_quit"),
        ):
            assert shown in text and app.labels[label] in text


async def test_switching_view_and_back_keeps_the_selection(loop_rec: Recording) -> None:
    """v v comes back to the request that was selected (it went back to #1)."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(80, 24)) as pilot:
        timeline = _screen(app).timeline
        await pilot.press("j", "j", "j")
        req = timeline.selected_lane.req
        await pilot.press("v", "v")
        assert timeline.selected_lane.req == req


async def test_deep_zoom_writes_the_cursor_and_ticks_in_seconds() -> None:
    """Zoomed to the floor two seconds in, the status line and axis say 2.0677…s, not a
    ten-digit number of nanoseconds."""
    import re

    from tracer.tui.examples import threads_example

    recording = threads_example(10, 4)
    late = [e._replace(t=e.t + 2_000_000_000) for e in recording.events]
    app = ReplayApp([Recording(header=recording.header, events=late)])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("full_stop", *["plus"] * 40)
        await pilot.pause()
        status = _text(app, "#status")
        console = Console(file=io.StringIO(), width=120, color_system=None)
        console.print(_screen(app).query_one("#axis").render())
        axis = console.file.getvalue()
        for text in (status, axis):
            assert not re.search(r"\d{5,}(ns|µs)", text), text
        assert re.search(r"cursor 2\.\d{6,}s", status), status
        assert re.search(r"2\.\d{6,}s", axis), axis


async def test_no_further_blocked_or_bookmark_says_so_in_the_ui_language(
    threads_rec: Recording,
) -> None:
    """b with no loop.blocked ahead and m past the last bookmark both explain themselves, in
    Chinese too."""
    app = ReplayApp([threads_rec], lang="zh", bookmarks=[])
    said: list[str] = []
    notify = app.notify

    def kept(message: str, *args: object, **kwargs: object) -> None:
        said.append(str(message))  # toasts expire: on a loaded machine, before they are read
        notify(message, *args, **kwargs)  # type: ignore[arg-type]

    app.notify = kept  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("b", "m")
        await pilot.pause()
        assert said == ["后面没有 loop.blocked 了", "后面没有书签了"]


async def test_space_at_the_end_plays_from_the_start(loop_rec: Recording) -> None:
    """At the end (on the last event, or in the last cell), space starts over from the start."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = _screen(app)
        vp = screen.viewport
        vp.set_cursor(vp.t_max - vp.ns_per_cell / 2)
        screen.action_toggle_play()
        assert vp.playing and vp.cursor == vp.t_min
        await pilot.press("space", "end", "comma", "full_stop")
        assert vp.cursor == screen.models[0].t_last
        await pilot.press("space")
        assert vp.playing and vp.cursor < vp.t_max / 2


async def test_compare_detail_names_its_recording(
    threads_rec: Recording, loop_rec: Recording
) -> None:
    """Two recordings have a #1 each: the pane says which recording this one is from."""
    app = ReplayApp([threads_rec, loop_rec])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        assert _detail(app).splitlines()[0] == f"recording: {threads_rec.title}"
        await pilot.press("tab", "j")
        assert _detail(app).splitlines()[0] == f"recording: {loop_rec.title}"
        assert _detail(app).splitlines()[1].startswith("#2 ")


def test_compared_recordings_start_together_at_their_first_request(loop_rec: Recording) -> None:
    """A real server's start-up put one side half a second late in the compare view (the
    exported figures aligned them): the replay aligns them too."""
    from tracer.summary import first_request

    late = Recording(loop_rec.header, [e._replace(t=e.t + 500_000_000) for e in loop_rec.events])
    app = ReplayApp([loop_rec, late])
    firsts = [first_request(model.recording) for model in app.models]
    assert firsts[0] == firsts[1] == first_request(loop_rec)


async def test_the_cursor_never_hides_a_cell_of_a_lane() -> None:
    """A request shorter than a cell, in the cursor's column (the replay opens with the
    cursor at the start): its cell shows, and the cursor is drawn only on lanes idle there.
    The cursor's glyph replaced the cell, so a 50 ms loop-blocking request at 75 ms per
    cell was a blank lane."""
    from tracer.tui.examples import loop_example
    from tracer.tui.lane_strip import paint
    from tracer.tui.palette import CURSOR_GLYPH, GLYPHS

    app = ReplayApp([loop_example(40)])
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        timeline = app.screen.query_one(Timeline)
        vp = timeline.viewport
        column = timeline.label_width + vp.column(vp.cursor)
        lanes = timeline.lanes
        rows = [timeline.render_line(y).text for y in range(min(len(lanes), 20))]
        painted = 0
        for lane, row in zip(lanes, rows, strict=False):
            code = paint(lane, vp.start, vp.ns_per_cell, vp.column(vp.cursor) + 1)[0][-1]
            under = row[column]
            if code:  # the lane has something there: its cell shows, not the cursor
                assert under == GLYPHS[code] or under in "─▁▂▃▄▅▆▇█!", (lane.label, row)
                painted += 1
            else:
                assert under == CURSOR_GLYPH, (lane.label, row)
        assert painted > 0  # the example has lanes busy at the cursor


_DEEP = "sample_apps/some/deeply/nested/package/with/a/long/path/handlers.py:1234"


def _chatty(requests: int = 3, sends: int = 80) -> Recording:
    """``requests`` ASGI requests; the second streams ``sends`` body chunks (85 events in
    all), each step noting a long file:line."""
    from tracer import events as K
    from tracer.events import Event
    from tracer.recording import make_header

    ms = 1_000_000
    events: list[Event] = []

    def add(t: int, kind: str, req: int, data: dict[str, object], dur: int | None = None) -> None:
        events.append(Event(len(events), t, kind, req, dur=dur, data=data))

    for req in range(1, requests + 1):
        t0 = req * ms
        add(t0, K.REQUEST_QUEUED, req, {"method": "GET", "path": "/stream"})
        add(t0, K.REQUEST_START, req, {"method": "GET", "path": "/stream", "scope_type": "http"})
        add(t0, K.SCHED_STEP, req, {"cpu_ns": 1000, "location": _DEEP}, dur=1000)
        add(t0 + 1000, K.ASGI_SEND, req, {"type": "http.response.start", "status": 200})
        chunks = sends if req == 2 else 1
        for i in range(chunks):
            more = i < chunks - 1
            body = {"type": "http.response.body", "bytes": 10, "more_body": more}
            add(t0 + 2000 + i * 1000, K.ASGI_SEND, req, body, dur=100)
        add(t0 + 2000 + chunks * 1000, K.REQUEST_END, req, {"status": 200})
    events.sort(key=lambda e: (e.t, e.seq))
    return Recording(make_header(interface="asgi", server={"model": "loop"}), events)


async def test_the_detail_pane_scrolls_from_the_keyboard() -> None:
    """A request with 85 events shows about ten rows: shift+down / J and shift+up / K scroll
    the pane by a row, shift+pgdn / ctrl+d and shift+pgup / ctrl+u by a page of it, while the
    lanes keep their selection and the cursor stays."""
    app = ReplayApp([_chatty()])
    async with app.run_test(size=(120, 30)) as pilot:
        screen = _screen(app)
        await pilot.press("j", "enter")
        pane = screen.query_one(DetailPane)
        assert len(screen.timeline.model.events_by_req[2]) == 85
        await pilot.pause()
        assert pane.max_scroll_y > 20
        cursor = screen.viewport.cursor
        for key, row in (("J", 1), ("shift+down", 2), ("K", 1), ("shift+up", 0)):
            await pilot.press(key)
            assert pane.scroll_y == row, key
        page = pane.scrollable_content_region.height
        await pilot.press("ctrl+d")
        assert pane.scroll_y == page
        await pilot.press("shift+pagedown")
        assert pane.scroll_y == 2 * page
        await pilot.press("shift+pageup", "ctrl+u")
        assert pane.scroll_y == 0
        assert screen.timeline.selected == 1 and screen.viewport.cursor == cursor
        await pilot.press("escape", "J")  # closed: nothing to scroll, nothing else moves
        assert screen.timeline.selected == 1


async def test_event_rows_use_the_width_of_the_pane() -> None:
    """At 160 columns a step's row shows its file:line whole (rows were cut at 70
    characters whatever the width); at 90 every row is cut to the pane, not wrapped."""
    app = ReplayApp([_chatty()])
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("enter")
        assert f"location={_DEEP}\n" in _detail(app)
        await pilot.resize_terminal(90, 40)
        await pilot.pause()
        pane = _screen(app).query_one(DetailPane)
        rows = [line for line in _detail(app).splitlines() if line.strip().startswith("+")]
        room = pane.size.width - pane.styles.scrollbar_size_vertical  # a scrollbar may come
        assert rows and all(len(row) <= room for row in rows)
        assert any(row.endswith("…") for row in rows)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_help_lists_the_keys_that_scroll_the_detail_pane(
    loop_rec: Recording, lang: str
) -> None:
    """The pane's scroll keys are in the ? screen, in the UI's language, and named on the
    pane's top border while it is open."""
    app = ReplayApp([loop_rec], lang=lang)
    async with app.run_test(size=(100, 50)) as pilot:
        text = await _help_text(app, pilot)
        for shown, label in (
            ("shift+↑ K", "key_detail_up"),
            ("shift+↓ J", "key_detail_down"),
            ("shift+pgup ctrl+u", "key_detail_page_up"),
            ("shift+pgdn ctrl+d", "key_detail_page_down"),
        ):
            assert shown in text and app.labels[label] in text
        await pilot.press("escape", "enter")
        assert "J K" in str(_screen(app).query_one(DetailPane).border_title)


async def test_compare_highlights_the_recording_the_keys_act_on(
    threads_rec: Recording, loop_rec: Recording
) -> None:
    """Which recording tab made active shows before any pane opens: its title is marked, and
    tab, a click or b move the mark with the keys."""
    app = ReplayApp([threads_rec, loop_rec])
    async with app.run_test(size=(120, 40)) as pilot:
        screen = _screen(app)

        def marked() -> list[bool]:
            return [title.has_class("active") for title in screen.query(".lane-title")]

        assert marked() == [True, False]
        await pilot.press("tab")
        assert screen.active == 1 and marked() == [False, True]
        await pilot.press("tab")
        assert marked() == [True, False]
        await pilot.press("b")  # the loop recording's blocking step
        assert screen.active == 1 and marked() == [False, True]
        await pilot.click(screen.timelines[0], offset=(30, 0))
        assert screen.active == 0 and marked() == [True, False]
