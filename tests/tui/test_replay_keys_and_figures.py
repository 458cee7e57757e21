"""The replay's save key, help, detail and summary figures, and worker lane labels."""

from __future__ import annotations

import pytest

from tracer import events as K
from tracer.events import Event
from tracer.recording import Recording, make_header
from tracer.tui.app import ReplayApp
from tracer.tui.detail import DetailPane, detail_text
from tracer.tui.help import HelpScreen, help_table
from tracer.tui.labels import labels
from tracer.tui.lane_strip import shorten
from tracer.tui.model import build_model
from tracer.tui.screen import ReplayScreen
from tracer.tui.summary_panel import summary_items

from .pilot_helpers import until

pytestmark = [pytest.mark.anyio]


async def test_s_into_a_missing_folder_is_a_notice_and_the_replay_goes_on(
    loop_rec: Recording,
) -> None:
    """s with the folder gone: an error notice naming the file and why; keys still work."""
    app = ReplayApp([loop_rec], screenshot_dir="/nonexistent")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("s")
        await until(pilot, lambda: app._notifications)
        (notice,) = list(app._notifications)
        assert notice.severity == "error"
        assert notice.message.startswith("could not save /nonexistent/")
        assert notice.message.endswith(": No such file or directory")
        assert isinstance(app.screen, ReplayScreen)
        await pilot.press("space")
        assert app.screen.viewport.playing


def _block_past_response() -> Recording:
    """One ASGI request whose blocking step (5 ms) ends after its response (4.95 ms)."""
    start = {"method": "GET", "path": "/b", "interface": "asgi", "scope_type": "http"}
    body = {"type": "http.response.body", "bytes": 2, "more_body": False}
    loop = {"tid": 7, "thread": "loop"}
    events = [
        Event(0, 0, K.REQUEST_QUEUED, 1, data={"method": "GET", "path": "/b"}),
        Event(1, 100_000, K.REQUEST_START, 1, **loop, data=start),
        Event(2, 100_000, K.SCHED_STEP, 1, **loop, dur=5_000_000, data={"cpu_ns": 4_000_000}),
        Event(3, 100_000, K.LOOP_BLOCKED, 1, **loop, dur=5_000_000, data={"delayed": []}),
        Event(4, 4_800_000, K.ASGI_SEND, 1, data={"type": "http.response.start", "status": 200}),
        Event(5, 4_900_000, K.ASGI_SEND, 1, dur=50_000, data=body),
        Event(6, 5_100_000, K.REQUEST_END, 1, data={"status": 200}),
    ]
    return Recording(make_header(interface="asgi", server={"model": "loop"}), events)


def test_blocked_the_loop_for_is_the_whole_block() -> None:
    """The pane names the block by its full duration, as its event row does; the time-spent
    row keeps the part before the response ended (its parts sum to the latency)."""
    model = build_model(_block_past_response())
    text = detail_text(model, model.by_request[0], labels("en")).plain
    assert "blocked the loop for 5.0 ms" in text
    assert "loop.blocked" in text and "5.0 ms" in text
    spent = next(line for line in text.splitlines() if line.startswith("time spent"))
    assert "blocked loop 4.85 ms" in spent


async def test_q_quits_from_the_help_and_the_help_lists_ctrl_q(loop_rec: Recording) -> None:
    """q means quit everywhere, the help screen included; ctrl+q (Textual's quit) is listed."""
    from io import StringIO

    from rich.console import Console

    console = Console(file=StringIO(), width=100, color_system=None)
    console.print(help_table(labels("en")))
    assert "q ctrl+q ctrl+c" in console.file.getvalue()
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("q")
        await until(pilot, lambda: app._exit)
    assert app.return_code == 0


async def test_zoom_in_brings_an_off_screen_cursor_into_view(loop_rec: Recording) -> None:
    """+ with the cursor off screen zooms around a cursor brought to the window's middle."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(100, 30)) as pilot:
        vp = app.screen.viewport
        for _ in range(4):
            await pilot.press("plus")
        await pilot.press("end")
        await pilot.press("home")
        for _ in range(3):
            await pilot.press("l")
        assert not vp.start <= vp.cursor < vp.end
        await pilot.press("plus")
        assert vp.start <= vp.cursor < vp.end


def test_summary_groups_thousands_and_names_the_queue_p99() -> None:
    """10,000 requests, 1,106ms, and "queue p99" (never a bare p99 after the queue's p50)."""
    summary = {
        "requests": 10000,
        "rps": 1234.5,
        "latency_ms": {"p50": 1106.0, "p95": 1200.0, "p99": 1300.0},
        "queue_ms": {"p50": 1106.0, "p99": 1222.0},
        "max_in_flight": 1000,
    }
    for lang in ("en", "zh"):
        words = labels(lang)
        items = [item.plain for item in summary_items(summary, words)]
        assert f"10,000 {words['requests']}" in items
        assert f"1,234.5 {words['rps']}" in items
        assert f"{words['queue']} p99 1,222ms" in items
        assert f"{words['latency']} p50 1,106ms" in items


def test_worker_labels_keep_the_pid_and_the_thread_number() -> None:
    """Four processes' lanes stay apart at 80 and 120 columns (12 and 19 cells), en and zh:
    the pid whole, the thread's number kept, a lead word whole or not at all."""
    pids = (41001, 41002, 41003, 41004)
    for word in ("loop", "事件循环"):
        for cells in (12, 19):
            loops = [shorten(f"{word} {pid}/MainThread", cells) for pid in pids]
            assert all(str(pid) in label for pid, label in zip(pids, loops, strict=True))
            assert all(label.startswith((f"{word} ", str(pids[0])[:2])) for label in loops)
            threads = [
                shorten(f"{pid}/ThreadPoolExecutor-0_{n}", cells) for pid in pids for n in (0, 1)
            ]
            assert len(set(threads)) == len(threads)
            assert all(label.endswith(("0_0", "0_1")) for label in threads)
    assert shorten("loop 41001/MainThread", 19) == "loop 41001/Main…ead"
    assert shorten("41001/ThreadPoolExecutor-0_0", 19) == "41001/ThreadPoo…0_0"
    # One process: the Chinese lead word is kept whole, never cut to its last character.
    assert shorten("事件循环 event-loop", 15) == "事件循环 …-loop"
    assert not shorten("事件循环 event-loop", 12).startswith("…环")


async def test_a_short_terminal_has_no_screen_scrollbar(loop_rec: Recording) -> None:
    """At 60x12 the screen does not scroll: the detail pane is as wide as its rows are cut
    for, and the legend is on screen."""
    app = ReplayApp([loop_rec])
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        detail = screen.query_one(DetailPane)
        assert not screen.show_vertical_scrollbar
        assert detail.scrollable_content_region.width == detail.text_width(60)
        legend = screen.query_one("#legend")
        assert legend.region.bottom <= 12 and legend.region.height >= 1
