"""``trace replay`` of a demo's recording: its caption, side names and bookmarks in ``--lang``,
whatever language it was recorded in; texts no known scenario wrote stay as recorded."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from demo_cache import simulated

from tracer import events as K
from tracer.cli import main
from tracer.demos import SCENARIOS, save_demo
from tracer.demos.runner import with_marks
from tracer.recording import Recording, load
from tracer.tui.app import ReplayApp, open_recordings
from tracer.tui.caption import Caption
from tracer.tui.screen import ReplayScreen

pytestmark = pytest.mark.timeout(120)

SYNC = SCENARIOS["sync-vs-async"]


def _recorded(tmp_path: Path, lang: str) -> list[str]:
    """``trace demo sync-vs-async --sim --lang LANG --record DIR``'s two files."""
    return save_demo(simulated("sync-vs-async", lang), str(tmp_path / lang))


def _svg_text(svg: str) -> str:
    # The cells' spaces are written as no-break spaces.
    return "".join(ET.fromstring(svg).itertext()).replace("\xa0", " ")


def _replayed(paths: list[str], lang: str) -> ReplayApp:
    """The app ``trace replay PATHS --lang LANG`` opens."""
    from tracer.cli.replay import in_language

    recordings, caption = in_language(open_recordings(paths), lang)
    return ReplayApp(recordings, caption=caption, lang=lang)


def _caption(app: ReplayApp) -> str:
    return app.screen.query_one(Caption).shown(1000).plain


async def _captions(app: ReplayApp, presses: int) -> tuple[list[tuple[str, str]], list[str]]:
    """The screen's bookmarks, and the caption pane's text at first and after each ``m``."""
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        bookmarks = [(b.label, b.caption) for b in screen.bookmarks]
        shown = [_caption(app)]
        for _ in range(presses):
            await pilot.press("m")
            shown.append(_caption(app))
    return bookmarks, shown


def test_english_bookmarks_are_replayed_in_chinese(tmp_path: Path) -> None:
    """Recorded in English, compared with --lang zh: the scenario's caption in Chinese, then m
    shows each bookmark's Chinese label and caption (found by its key), the first
    recording's and then the other's."""
    app = _replayed(_recorded(tmp_path, "en"), "zh")
    bookmarks, shown = asyncio.run(_captions(app, 2))
    zh = [(SYNC.text("zh", key), SYNC.text("zh", f"{key}:caption")) for key in ("queue", "overlap")]
    assert bookmarks == zh
    assert shown == [SYNC.caption("zh"), *(f"{label}：{caption}" for label, caption in zh)]


def test_chinese_bookmarks_and_names_are_replayed_in_english(tmp_path: Path) -> None:
    """Recorded in Chinese, one side replayed with the default --lang en: English caption
    (of that side alone: the scenario's speaks of two), bookmark and side name."""
    app = _replayed(_recorded(tmp_path, "zh")[:1], "en")
    bookmarks, shown = asyncio.run(_captions(app, 1))
    en = (SYNC.text("en", "queue"), SYNC.text("en", "queue:caption"))
    assert bookmarks == [en]
    alone = f"WSGI, 4 threads (simulated). {SYNC.about('en', 0)}"
    assert shown == [alone, f"{en[0]}: {en[1]}"]
    assert app.models[0].recording.title_in("en").startswith("WSGI, 4 threads: ")


def test_replay_screenshot_shows_the_scenarios_caption_and_names(tmp_path: Path) -> None:
    """``trace replay A B --lang zh --screenshot`` of an English recording shows what
    ``trace demo`` shows in Chinese: the caption pane (once, for two sides of one scenario)
    and the sides' Chinese names, no English one; one side alone is captioned in Chinese too."""
    paths = _recorded(tmp_path, "en")
    for files, caption in (
        (paths, "上：WSGI，4 个线程。"),
        (paths[:1], "WSGI，4 个线程（模拟）。"),
    ):
        shot = tmp_path / "shot.svg"
        assert main(["replay", *files, "--lang", "zh", "--screenshot", str(shot)]) == 0
        text = _svg_text(shot.read_text(encoding="utf-8"))
        assert text.count(caption) == 1
        assert "WSGI，4 个线程：" in text
        assert "WSGI, 4 threads" not in text and "Top:" not in text


def _with_own_marks(recording: Recording) -> Recording:
    """A user's marks added to a demo's recording: one with a key of its own, one without."""
    return with_marks(
        recording,
        [
            (70, {"label": "my note", "caption": "look here", "key": "mine"}),
            (80, {"label": "another", "caption": "no key"}),
            (90, {"label": "a title?", "caption": "", "key": "title"}),
        ],
    )


def test_a_users_own_marks_keep_their_text(tmp_path: Path) -> None:
    """Only the scenario's bookmarks are said again; a user's marks (their own key, none, or a
    key naming another text of the scenario) keep what was recorded."""
    from tracer.cli.replay import in_language

    recording = _with_own_marks(load(_recorded(tmp_path, "en")[0]))
    (said,), _ = in_language([recording], "zh")
    marks = [(e.data["label"], e.data["caption"]) for e in said.events if e.kind == K.MARK]
    assert marks == [
        (SYNC.text("zh", "queue"), SYNC.text("zh", "queue:caption")),
        ("my note", "look here"),
        ("another", "no key"),
        ("a title?", ""),
    ]
    assert [e for e in said.events if e.kind != K.MARK] == [
        e for e in recording.events if e.kind != K.MARK
    ]


def test_an_unknown_scenarios_recording_keeps_its_texts(tmp_path: Path) -> None:
    """A demo recording of a scenario this version does not have: its marks and side name as
    recorded; its recorded caption in the pane for its sides in order, and for one side
    alone (which the caption of two does not describe) its side name and title."""
    from tracer.cli.replay import in_language

    def foreign(path: str) -> Recording:
        recording = load(path)
        header: dict[str, Any] = {**recording.header}
        header["demo"] = {**header["demo"], "name": "from-the-future"}
        return Recording(header=header, events=recording.events)

    first, second = (foreign(path) for path in _recorded(tmp_path, "en"))
    (said,), caption = in_language([first], "zh")
    assert said.header["label"] == "WSGI, 4 threads"
    assert [e.data["label"] for e in said.events if e.kind == K.MARK] == ["Requests queue"]
    assert caption == f"WSGI, 4 threads（模拟）。{SYNC.title('en')}"
    assert in_language([first, second], "zh")[1] == SYNC.caption("en")


def test_a_plain_recording_is_replayed_as_before(tmp_path: Path) -> None:
    """No demo header: no caption, the recording itself, and the scenarios (with the server
    models) are not imported for it."""
    plain = tmp_path / "plain.jsonl"
    assert main(["sim", "-n", "3", "--record", str(plain)]) == 0
    code = (
        "import sys; from tracer.cli.replay import in_language; "
        "from tracer.recording import load; "
        f"recs, caption = in_language([load({str(plain)!r})], 'zh'); "
        "assert caption == '' and recs[0].header.get('label') is None, caption; "
        "assert 'tracer.demos' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_without_lang_a_demo_recording_replays_in_its_own_language(tmp_path: Path) -> None:
    """``trace replay`` of a Chinese demo recording, no --lang: Chinese, as ``trace export``
    says it (it was English); a recording no demo made still replays in English."""
    paths = _recorded(tmp_path, "zh")
    shot = tmp_path / "shot.svg"
    assert main(["replay", *paths, "--screenshot", str(shot)]) == 0
    text = _svg_text(shot.read_text(encoding="utf-8"))
    assert "上：WSGI，4 个线程。" in text and "已暂停" in text and "paused" not in text
    plain = tmp_path / "plain.jsonl"
    assert main(["sim", "-n", "3", "--record", str(plain)]) == 0
    assert main(["replay", str(plain), "--screenshot", str(shot)]) == 0
    assert "paused" in _svg_text(shot.read_text(encoding="utf-8"))
