"""``trace export --to perfetto``'s own line is said in the trace's language, as the figures'
lines are: ``--lang zh`` (or a Chinese recording) says it in Chinese, with ``trace：``;
``--lang en`` (or an English recording) in English."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracer.cli import main
from tracer.demos import SCENARIOS, run_demo, save_demo
from tracer.export.titles import FULL_WIDTH

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Language -> the first side of the simulated cpu-gil demo, recorded in it."""
    found = {}
    for lang in ("en", "zh"):
        folder = tmp_path_factory.mktemp(lang)
        demo = run_demo(SCENARIOS["cpu-gil"], simulated=True, lang=lang)
        found[lang] = save_demo(demo, str(folder))[0]
    return found


def _line(capsys: pytest.CaptureFixture[str], path: str, out: str, *lang: str) -> str:
    """The one line ``trace export PATH --to perfetto -o OUT [--lang L]`` says."""
    capsys.readouterr()
    assert main(["export", path, "--to", "perfetto", "-o", out, *lang]) == 0
    [line] = capsys.readouterr().err.splitlines()
    return line


@pytest.mark.parametrize("made", ["en", "zh"])
def test_lang_says_the_line_in_that_language(
    recorded: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], made: str
) -> None:
    """Whichever language the recording was made in, ``--lang`` chooses the line's."""
    out = str(tmp_path / "trace.json")
    zh = _line(capsys, recorded[made], out, "--lang", "zh")
    count = zh.removeprefix("trace：").split(" ")[0]
    assert zh == f"trace：{count} 个追踪事件已写入 {out}（在 ui.perfetto.dev 中打开）"
    en = _line(capsys, recorded[made], out, "--lang", "en")
    assert en == f"trace: wrote {count} trace events to {out} (open it in ui.perfetto.dev)"


@pytest.mark.parametrize("made", ["en", "zh"])
def test_without_lang_the_line_is_in_the_recordings_language(
    recorded: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], made: str
) -> None:
    """As the trace's title and bookmarks are."""
    line = _line(capsys, recorded[made], str(tmp_path / "trace.json"))
    assert line.startswith("trace：" if made == "zh" else "trace: wrote ")


def test_stdout_is_named_in_chinese(
    recorded: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``-o -``: the trace on stdout, the line saying 标准输出 (as the figures' lines do), with
    no space beside its full-width brackets."""
    capsys.readouterr()
    assert main(["export", recorded["en"], "--to", "perfetto", "-o", "-", "--lang", "zh"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("{")
    assert err.startswith("trace：") and err.endswith(
        " 个追踪事件已写入 标准输出（在 ui.perfetto.dev 中打开）\n"
    )
    assert not any(f" {mark}" in err or f"{mark} " in err for mark in FULL_WIDTH)
