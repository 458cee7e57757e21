"""``trace demo --scenario FILE``: a scenario file plays as a built-in scenario does.

The shipped example (docs/examples/threads-vs-loop.toml) restates ``sync-vs-async``: simulated,
its recordings have that scenario's shape, read from events, and its events; a real run of a
small file queues on threads and overlaps on the loop; the output, the recordings' bytes, the
screenshot, the Chinese texts and the replay of its recordings are the file's own.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from demo_cache import simulated

from tracer import events as K
from tracer.cli import main
from tracer.cli.demo import serve_command
from tracer.demos import SCENARIOS, run_demo
from tracer.demos.from_file import load_scenario
from tracer.demos.language import caption_of, demo_of, in_language
from tracer.demos.shapes import blocked, first_wait, in_flight_peak, threads_used
from tracer.recording import load

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "threads-vs-loop.toml"


def _marks(recording: object) -> list[tuple[int, str]]:
    return [(e.t, e.data["key"]) for e in recording.events if e.kind == K.MARK]  # type: ignore[attr-defined]


def test_the_example_has_the_shape_of_sync_vs_async() -> None:
    """Simulated, the example's recordings pass the built-in scenario's own shape check (a
    request waits for one of 4 threads; the loop has all 50 in flight), with the same events
    as the built-in's and its bookmarks at the same moments, on the same sides."""
    demo = run_demo(load_scenario(str(EXAMPLE)), simulated=True)
    builtin = simulated("sync-vs-async")
    assert SCENARIOS["sync-vs-async"].check(demo.recordings) == []
    wsgi, asgi = demo.recordings
    assert first_wait(wsgi) is not None and len(threads_used(wsgi)) == 4
    assert (in_flight_peak(wsgi), in_flight_peak(asgi)) == (4, 50)
    for own, theirs in zip(demo.recordings, builtin.recordings, strict=True):
        assert [e for e in own.events if e.kind != K.MARK] == [
            e for e in theirs.events if e.kind != K.MARK
        ]
        assert _marks(own) == _marks(theirs)
    assert [m[1] for r in demo.recordings for m in _marks(r)] == ["queue", "overlap"]


def test_headless_prints_the_files_title_sides_and_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--headless: the file's title and side names, a bookmark each, every side's figures, and
    no shape line (a file states no expected shape)."""
    assert main(["demo", "--scenario", str(EXAMPLE), "--sim", "--headless"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "threads-vs-loop: Threads or a loop: the same 100 ms I/O endpoint (simulated)",
        "  1. WSGI, 4 threads: sim:threads-vs-loop · WSGI threads (simulated); 1 bookmark",
        "  2. ASGI, one event loop: sim:threads-vs-loop · ASGI loop (simulated); 1 bookmark",
        "  side1_max_in_flight: 4",
        "  side1_p50_ms: 1,200.0",
        "  side2_max_in_flight: 50",
        "  side2_p50_ms: 100.0",
        "  side2_loop_blocked: 0",
    ]
    assert captured.err == "trace: simulating threads-vs-loop…\n"


def test_headless_in_chinese_uses_the_files_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    """--lang zh: the [zh] title and each side's zh name, the report's words in Chinese."""
    assert main(["demo", "--scenario", str(EXAMPLE), "--sim", "--headless", "--lang", "zh"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "threads-vs-loop: 线程还是事件循环：同一个 100 毫秒 I/O 接口（模拟）"
    assert out[1] == "  1. WSGI，4 个线程：sim:threads-vs-loop · WSGI threads（模拟）；1 个书签"


def test_a_file_without_chinese_says_so_in_chinese_and_shows_english(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--lang zh on a file with no [zh]: one line says the texts stay English; the bookmarks,
    the tool's own words, are in Chinese."""
    text = EXAMPLE.read_text(encoding="utf-8")
    english = tmp_path / "lesson.toml"
    start, end = text.index("[zh]"), text.index("[[side]]")
    english.write_text(text[:start] + text[end:], encoding="utf-8")
    folder = tmp_path / "rec"
    args = ["demo", "--scenario", str(english), "--sim", "--lang", "zh", "--record", str(folder)]
    assert main([*args, "--headless"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines()[:2] == [
        "trace：正在模拟 lesson…",
        f"trace：{english} 没有中文文本（[zh]），标题和说明以英文显示",
    ]
    assert captured.out.splitlines()[0].startswith("lesson: Threads or a loop")
    mark = next(e for e in load(folder / "lesson-1.jsonl").events if e.kind == K.MARK)
    assert mark.data["label"] == "请求开始排队"


def test_the_same_file_gives_the_same_bytes_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--sim is deterministic: the same file, copied elsewhere and run from another working
    folder, writes byte-identical recordings."""
    copy = tmp_path / "elsewhere" / EXAMPLE.name
    copy.parent.mkdir()
    shutil.copy(EXAMPLE, copy)
    assert main(["demo", "--scenario", str(EXAMPLE), "--sim", "--record", str(tmp_path / "a")]) == 0
    monkeypatch.chdir(copy.parent)
    assert main(["demo", "--scenario", EXAMPLE.name, "--sim", "--record", str(tmp_path / "b")]) == 0
    names = sorted(os.listdir(tmp_path / "a"))
    assert names == ["threads-vs-loop-1.jsonl", "threads-vs-loop-2.jsonl"]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    header = load(tmp_path / "a" / names[0]).header
    assert header["demo"]["file"] == "threads-vs-loop.toml"
    assert header["label"] == "WSGI, 4 threads"


def test_the_screenshot_shows_the_files_caption(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--screenshot renders the first screen with the file's caption and side names."""
    shot = tmp_path / "shot.svg"
    assert main(["demo", "--scenario", str(EXAMPLE), "--sim", "--screenshot", str(shot)]) == 0
    svg = shot.read_text(encoding="utf-8").replace("&#160;", " ")
    assert svg.startswith("<svg")
    assert "Each request holds a thread while it waits" in svg
    assert "WSGI, 4 threads" in svg
    assert capsys.readouterr().err.splitlines()[-1] == f"trace: screenshot written to {shot}"


def test_a_file_named_as_a_built_in_replays_with_its_own_texts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file's scenario called sync-vs-async is not the built-in: replayed, in any language,
    its recordings keep the caption and names the file gave."""
    text = EXAMPLE.read_text(encoding="utf-8")
    own = tmp_path / "own.toml"
    own.write_text('name = "sync-vs-async"\n' + text, encoding="utf-8")
    folder = tmp_path / "rec"
    assert main(["demo", "--scenario", str(own), "--sim", "--record", str(folder)]) == 0
    recordings = [load(folder / f"sync-vs-async-{n}.jsonl") for n in (1, 2)]
    assert demo_of(recordings[0]) is None
    caption = load_scenario(str(own)).caption("en")
    assert caption_of(recordings, "zh") == caption
    assert in_language(recordings[0], "zh").header["label"] == "WSGI, 4 threads"


def test_serve_runs_the_file_by_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each browser session reruns the file, found from any folder the session starts in."""
    monkeypatch.chdir(EXAMPLE.parent)
    command = serve_command("threads-vs-loop", "zh", simulated=True, file=EXAMPLE.name)
    assert command.endswith(f"demo --scenario {EXAMPLE} --lang zh --sim")


def test_a_real_run_of_a_file_queues_on_threads_and_overlaps_on_the_loop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --sim each side with an app runs it in-process on its model: the threads side's
    requests wait for one of its 2 threads, the loop has them all in flight; a side with no app
    is simulated."""
    lesson = tmp_path / "small.toml"
    lesson.write_text(
        """title = "Small"
caption = "Top: threads. Bottom: loop. Last: simulated."
[[side]]
name = "threads"
model = "threads"
threads = 2
concurrency = 6
requests = 12
app = "sample_apps.io_bound:wsgi_app"
path = "/?ms=30"
workload = "blocking"
[[side]]
name = "loop"
model = "loop"
concurrency = 6
requests = 12
app = "sample_apps.io_bound:asgi_app"
path = "/?ms=30"
workload = "blocking"
""",
        encoding="utf-8",
    )
    demo = run_demo(load_scenario(str(lesson)))
    threads, loop = demo.recordings
    assert threads.header["source"] != "simulated" and loop.header["source"] != "simulated"
    assert threads.header["app"] == "sample_apps.io_bound:wsgi_app"
    assert len(threads_used(threads)) == 2 and first_wait(threads) is not None
    assert (in_flight_peak(threads), in_flight_peak(loop)) == (2, 6)
    assert [m[1] for m in _marks(threads)] == ["queue"]
    # A loaded machine can hold the loop past the threshold once (a descheduled step): the
    # side is then bookmarked at that block, as any side whose loop was blocked is.
    assert [m[1] for m in _marks(loop)] == (["blocked"] if blocked(loop) else ["overlap"])


async def _walk_bookmarks(lang: str) -> tuple[list[int], list[str], list[int]]:
    from tracer.cli.demo import demo_app
    from tracer.tui.caption import Caption

    demo = run_demo(load_scenario(str(EXAMPLE)), simulated=True, lang=lang)
    marks = sorted(e.t for r in demo.recordings for e in r.events if e.kind == K.MARK)
    app = demo_app(demo)
    cursors, captions = [], []
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        captions.append(screen.query_one(Caption).text)
        for _ in marks:
            await pilot.press("m")
            cursors.append(int(screen.viewport.cursor))
            captions.append(screen.query_one(Caption).text)
    return cursors, captions, marks


@pytest.mark.parametrize(
    ("lang", "first", "bookmark"),
    [
        ("en", "Top: WSGI on 4 threads.", "Requests queue: every worker is busy"),
        ("zh", "上：WSGI，4 个线程。", "请求开始排队：所有工作线程都在忙"),
    ],
)
def test_the_ui_shows_the_files_caption_and_walks_its_bookmarks(
    lang: str, first: str, bookmark: str
) -> None:
    """The compare view opens on the file's caption; m jumps to each bookmark in time order
    and shows its caption, as a built-in scenario's."""
    cursors, captions, marks = asyncio.run(_walk_bookmarks(lang))
    assert cursors == marks and len(marks) == 2
    assert captions[0].startswith(first)
    assert captions[1].startswith(bookmark)


BLOCKING = """title = "Blocking"
caption = "Top: time.sleep in async def. Bottom: await asyncio.sleep."
[[side]]
name = "time.sleep"
model = "loop"
concurrency = 10
requests = 20
[[side.route]]
name = "blocking"
reads_body = false
phases = [{blocking-io = "100ms"}]
[[side]]
name = "await"
model = "loop"
concurrency = 10
requests = 20
[[side.route]]
name = "io"
reads_body = false
phases = [{io = "100ms"}]
"""


def test_a_blocked_loop_is_bookmarked_where_it_first_blocks(tmp_path: Path) -> None:
    """A file restating blocking-call has that scenario's shape (the built-in's check, from
    events); its blocking side is bookmarked at its first wait and its first loop.blocked,
    the awaiting side at its peak of requests in flight."""
    lesson = tmp_path / "blocking.toml"
    lesson.write_text(BLOCKING, encoding="utf-8")
    demo = run_demo(load_scenario(str(lesson)), simulated=True)
    assert SCENARIOS["blocking-call"].check(demo.recordings) == []
    stalled, awaiting = demo.recordings
    first = next(e for e in stalled.events if e.kind == K.LOOP_BLOCKED)
    queued = first_wait(stalled)
    assert queued is not None and queued[1] == first.t == 0
    # Both at 0: moved to 1 and 2, after the cursor's start, in the order found.
    marks = [(e.t, e.data["key"], e.data["req"]) for e in stalled.events if e.kind == K.MARK]
    assert marks == [(1, "queue", queued[0]), (2, "blocked", first.req)]
    assert [m[1] for m in _marks(awaiting)] == ["overlap"]
    assert demo.figures["side1_loop_blocked"] == 20 and demo.figures["side2_loop_blocked"] == 0
