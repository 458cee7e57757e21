"""``trace demo --scenario FILE`` with ``[bookmarks.<key>]``: a bookmark in the file's own words.

The shipped example (docs/examples/threads-vs-loop.toml) says its ``overlap`` bookmark in its
own words, in English and Chinese; its ``queue`` bookmark keeps the tool's. The replay's ``m``
shows the file's label and caption, ``--headless`` and the events are as without the table,
a file without Chinese for a bookmark shows the tool's Chinese words for it, and a bad table is
refused in one line naming the file and the bookmark.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tracer import events as K
from tracer.cli import main
from tracer.demos import run_demo, save_demo
from tracer.demos.from_file import BOOKMARKS, load_scenario
from tracer.recording import load

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "threads-vs-loop.toml"

OWN_EN = (
    "All 50 overlap",
    "each request awaits its 100 ms on the one loop, so none waits for another.",
)
OWN_ZH = ("50 个全部重叠", "每个请求在同一个事件循环上 await 它的 100 毫秒，谁也不用等谁。")

HEAD = 'title = "T"\ncaption = "C"\n'
SIDE = '[[side]]\nname = "A"\nmodel = "loop"\nconcurrency = 5\nrequests = 10\nworkload = "mixed"\n'


def _without_table(tmp_path: Path, name: str = "lesson") -> Path:
    """The example without its ``[bookmarks.overlap]`` table (and its comment)."""
    text = EXAMPLE.read_text(encoding="utf-8")
    start, end = text.index("# Optional: a bookmark"), text.index("[[side]]")
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / f"{name}.toml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    return path


def _with_table(tmp_path: Path, table: str, name: str = "lesson") -> Path:
    """The example without its own table, with ``table`` in its place."""
    text = _without_table(tmp_path, "plain").read_text(encoding="utf-8")
    at = text.index("[[side]]")
    path = tmp_path / f"{name}.toml"
    path.write_text(text[:at] + table + "\n" + text[at:], encoding="utf-8")
    return path


def _marks(paths: list[str]) -> list[tuple[str, str, str]]:
    return [
        (e.data["key"], e.data["label"], e.data["caption"])
        for path in paths
        for e in load(path).events
        if e.kind == K.MARK
    ]


async def _walk(lang: str) -> list[str]:
    """The caption pane's text at first and after each ``m`` in the example's compare view."""
    from tracer.cli.demo import demo_app
    from tracer.tui.caption import Caption

    demo = run_demo(load_scenario(str(EXAMPLE)), simulated=True, lang=lang)
    count = sum(1 for r in demo.recordings for e in r.events if e.kind == K.MARK)
    app = demo_app(demo)
    shown = []
    async with app.run_test(size=(120, 40)) as pilot:
        shown.append(app.screen.query_one(Caption).text)
        for _ in range(count):
            await pilot.press("m")
            shown.append(app.screen.query_one(Caption).text)
    return shown[1:]


@pytest.mark.parametrize(("lang", "colon", "own"), [("en", ": ", OWN_EN), ("zh", "：", OWN_ZH)])
def test_m_shows_the_files_own_label_and_caption(
    lang: str, colon: str, own: tuple[str, str]
) -> None:
    """The compare view's m: the queue bookmark in the tool's words, then the overlap bookmark
    in the file's, in the language of the run."""
    words = BOOKMARKS[lang]
    assert asyncio.run(_walk(lang)) == [
        f"{words['queue']}{colon}{words['queue:caption']}",
        f"{own[0]}{colon}{own[1]}",
    ]


def test_a_replay_of_the_recordings_shows_the_files_bookmark(tmp_path: Path) -> None:
    """trace replay of the saved recordings: the screen's bookmarks are the recorded ones, the
    file's own for overlap; m shows its label and caption."""
    from tracer.cli.replay import in_language
    from tracer.tui.app import ReplayApp, open_recordings
    from tracer.tui.caption import Caption

    paths = save_demo(run_demo(load_scenario(str(EXAMPLE)), simulated=True), str(tmp_path))
    recordings, caption = in_language(open_recordings(paths), "en")
    app = ReplayApp(recordings, caption=caption, lang="en")

    async def walk() -> tuple[list[tuple[str, str]], list[str]]:
        async with app.run_test(size=(120, 40)) as pilot:
            found = [(b.label, b.caption) for b in app.screen.bookmarks]  # type: ignore[attr-defined]
            shown = []
            for _ in found:
                await pilot.press("m")
                shown.append(app.screen.query_one(Caption).text)
        return found, shown

    found, shown = asyncio.run(walk())
    queue = (BOOKMARKS["en"]["queue"], BOOKMARKS["en"]["queue:caption"])
    assert found == [queue, OWN_EN]
    assert shown == [f"{queue[0]}: {queue[1]}", f"{OWN_EN[0]}: {OWN_EN[1]}"]


def test_chinese_falls_back_to_the_tools_words_for_that_bookmark(tmp_path: Path) -> None:
    """A bookmark table without zh: --lang zh shows the tool's Chinese label and caption for
    it; in English the file's words."""
    lesson = _with_table(tmp_path, '[bookmarks.overlap]\nlabel = "L"\ncaption = "C."\n')
    marks = {}
    for lang in ("en", "zh"):
        folder = tmp_path / lang
        args = ["demo", "--scenario", str(lesson), "--sim", "--lang", lang, "--record"]
        assert main([*args, str(folder), "--headless"]) == 0
        marks[lang] = _marks([str(folder / f"lesson-{n}.jsonl") for n in (1, 2)])
    zh = BOOKMARKS["zh"]
    assert marks["zh"] == [
        ("queue", zh["queue"], zh["queue:caption"]),
        ("overlap", zh["overlap"], zh["overlap:caption"]),
    ]
    assert marks["en"][1] == ("overlap", "L", "C.")


def test_headless_is_the_same_with_or_without_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--headless names no bookmark's words: the example prints as it does without its table."""
    plain = _without_table(tmp_path, "threads-vs-loop")
    printed = []
    for path in (EXAMPLE, plain):
        assert main(["demo", "--scenario", str(path), "--sim", "--headless"]) == 0
        printed.append(capsys.readouterr())
    assert printed[0] == printed[1]
    assert printed[0].out.splitlines()[1].endswith("(simulated); 1 bookmark")


def test_only_the_marks_words_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--sim: a file without the table and one whose table gives the tool's own words write
    the same bytes; the example's own words change its overlap mark's label and caption only."""
    en = BOOKMARKS["en"]
    tools_words = "\n".join(
        f'[bookmarks.{key}]\nlabel = "{en[key]}"\ncaption = "{en[key + ":caption"]}"'
        for key in ("queue", "blocked", "overlap")
    )
    files = {
        "plain": _without_table(tmp_path / "plain", "threads-vs-loop"),
        "same": _with_table(tmp_path / "same", tools_words, "threads-vs-loop"),
        "own": EXAMPLE,
    }
    lines = {}
    for kind, path in files.items():
        folder = tmp_path / "rec" / kind
        assert main(["demo", "--scenario", str(path), "--sim", "--record", str(folder)]) == 0
        lines[kind] = [
            (folder / f"threads-vs-loop-{n}.jsonl").read_bytes().splitlines() for n in (1, 2)
        ]
    assert lines["same"] == lines["plain"]
    assert lines["own"][0] == lines["plain"][0]
    changed = [
        (old, new)
        for old, new in zip(lines["plain"][1], lines["own"][1], strict=True)
        if old != new
    ]
    assert len(changed) == 1
    old, new = changed[0]
    assert new == old.replace(en["overlap"].encode(), OWN_EN[0].encode()).replace(
        en["overlap:caption"].encode(), OWN_EN[1].encode()
    )


def test_the_scenario_holds_the_files_words_in_each_language() -> None:
    """load_scenario: the example's overlap texts are its own in both languages; the others
    are the tool's."""
    scenario = load_scenario(str(EXAMPLE))
    for lang, own in (("en", OWN_EN), ("zh", OWN_ZH)):
        assert (scenario.text(lang, "overlap"), scenario.text(lang, "overlap:caption")) == own
        for key in ("queue", "queue:caption", "blocked", "blocked:caption"):
            assert scenario.text(lang, key) == BOOKMARKS[lang][key]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            '[bookmarks.wait]\nlabel = "L"\ncaption = "C"\n',
            ": unknown bookmark 'wait'; expected [bookmarks.<key>] with key queue, blocked, overlap.",
        ),
        (
            '[bookmarks.queue]\nlabel = "L"\ncaption = "C"\ntext = "T"\n',
            ", [bookmarks.queue]: unknown key 'text'; expected label, caption, zh.",
        ),
        (
            '[bookmarks.blocked]\nlabel = "L"\n',
            ', [bookmarks.blocked]: missing key "caption"; add caption = "...".',
        ),
        (
            '[bookmarks.overlap]\nlabel = "L"\ncaption = "C"\nzh = { label = "标", title = "题" }\n',
            ", [bookmarks.overlap], zh: unknown key 'title'; expected label, caption.",
        ),
        (
            '[bookmarks.overlap]\nlabel = "L"\ncaption = "C"\nzh = { label = "标" }\n',
            ', [bookmarks.overlap], zh: missing key "caption"; add caption = "...".',
        ),
        (
            '[bookmarks.overlap]\nlabel = "L"\ncaption = "C"\nzh = "标"\n',
            ', [bookmarks.overlap]: zh must be a table, like zh = {label = "...", caption = "..."}.',
        ),
        (
            '[bookmarks.queue]\nlabel = "two\\nlines"\ncaption = "C"\n',
            ", [bookmarks.queue]: label must be one line without control characters, not "
            "'two\\nlines'.",
        ),
        (
            '[bookmarks.queue]\nlabel = ""\ncaption = "C"\n',
            ", [bookmarks.queue]: label must be a non-empty string, not ''.",
        ),
        (
            'bookmarks = "queue"\n',
            ': bookmarks must be tables, like [bookmarks.queue] with label = "..." and caption = '
            '"...".',
        ),
        (
            'bookmarks = { queue = "Q" }\n',
            ', [bookmarks.queue] must be a table, like [bookmarks.queue] with label = "..." and '
            'caption = "...".',
        ),
        (
            '[bookmark.queue]\nlabel = "L"\ncaption = "C"\n',
            ": unknown top-level key 'bookmark'; expected name, title, caption, [zh], "
            "[bookmarks.<key>], [[side]].",
        ),
    ],
)
def test_a_bad_bookmark_table_is_one_line_naming_the_file_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, message: str
) -> None:
    """Exit 2 before anything runs, one line: the file, the bookmark, the key."""
    lesson = tmp_path / "lesson.toml"
    # A top-level key must come before the first table, so ``bookmarks = ...`` goes first.
    first, rest = (table, "") if table.startswith("bookmarks =") else ("", table)
    lesson.write_text(first + HEAD + rest + SIDE, encoding="utf-8")
    assert main(["demo", "--scenario", str(lesson), "--sim", "--headless"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f'trace: error: scenario "{lesson}"{message}\n'
