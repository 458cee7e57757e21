"""The Chinese texts of the demos read naturally and use the UI's words (事件循环, 记录文件)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracer.cli import main
from tracer.cli.demo import PROGRESS
from tracer.demos import SCENARIOS

pytestmark = pytest.mark.timeout(120)


def _zh_texts() -> str:
    return "\n".join(text for s in SCENARIOS.values() for text in s.texts["zh"].values())


def test_the_chinese_demo_texts_say_event_loop_and_at_the_same_time() -> None:
    """事件循环, never a bare 循环; "同时运行 4 个请求"; c10k's loop resumes its requests only
    once all have started (said naturally); a side name holds no colon of its own."""
    text = _zh_texts()
    bare = [line for line in text.splitlines() if "循环" in line.replace("事件循环", "")]
    assert "事件循环" in text and not bare, bare
    assert (
        SCENARIOS["wsgi-on-asgi"].texts["zh"]["four:caption"]
        == "WSGI 服务器可以同时运行 4 个请求。"
    )
    assert "再恢复其中任何一个" not in text and "然后才逐个恢复它们" in text
    for scenario in SCENARIOS.values():
        for key in ("side0", "side1"):
            assert "：" not in scenario.texts["zh"].get(key, ""), scenario.name


def test_the_serving_line_reads_as_chinese_word_order() -> None:
    """ "trace：正在 URL 上提供 NAME", not "trace：NAME 已在 URL 提供"."""
    line = PROGRESS["zh"]["serving"].format(name="c10k", url="http://127.0.0.1:8000")
    assert line == (
        "trace：正在 http://127.0.0.1:8000 上提供 c10k（请在本机的浏览器中打开；按 Ctrl-C 停止）"
    )


def test_recording_lines_say_recording_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--record --lang zh: "trace：记录文件已写入 …" (记录, as the replay calls a recording)."""
    folder = tmp_path / "rec"
    assert main(["demo", "blocking-call", "--sim", "--lang", "zh", "--record", str(folder)]) == 0
    err = capsys.readouterr().err
    assert f"trace：记录文件已写入 {folder / 'blocking-call-1.jsonl'}" in err
    assert "录制" not in err
