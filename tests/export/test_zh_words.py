"""A Chinese page or figure says each thing one way: one word per concept, one style of
number, full-width brackets around Chinese text, and ``trace export``'s own line in Chinese."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from demo_cache import simulated

from tracer.cli import main
from tracer.demos import SCENARIOS, run_demo, save_demo
from tracer.export.html import html_page
from tracer.export.legend import LEGENDS
from tracer.export.svg import timeline_svg

pytestmark = pytest.mark.timeout(120)


def _texts(markup: str) -> list[str]:
    """The text between the tags (what a reader sees, tooltips included)."""
    return [t.strip() for t in re.findall(r">([^<]+)<", markup) if t.strip()]


def _page(name: str) -> str:
    demo = simulated(name, "zh")  # the session's run: c10k's takes seconds
    return html_page(
        demo.recordings, title=SCENARIOS[name].title("zh"), caption=demo.caption, lang="zh"
    )


def test_a_chinese_page_says_blocked_loop_rps_and_cpu_share_one_way() -> None:
    """blocking-call in Chinese: the legend, the summary and the bookmarks say 事件循环被阻塞;
    never 阻塞循环 / 循环阻塞 / a bare 循环被阻塞; 每秒请求数; CPU 占比."""
    text = "\n".join(_texts(_page("blocking-call")))
    assert "事件循环被阻塞" in text and "事件循环被阻塞（毫秒）" in text
    assert "阻塞循环" not in text and "循环阻塞" not in text
    assert not re.search(r"(?<!事件)循环被阻塞", text)
    assert "每秒请求数" in text and not re.search(r"每秒请求(?!数)", text)
    # No thread shares a CPU here, so the legend leaves that entry out: its words, said once.
    assert "CPU 占用" not in text and "CPU 占比" in dict(LEGENDS["zh"])["cpu"]
    assert "等待期间事件循环运行其他请求" in text


def test_a_chinese_page_writes_its_bookmark_times_in_full_width_brackets() -> None:
    """The bookmark list: "事件循环被阻塞（… 毫秒）：…", as the tooltips say 毫秒."""
    page = _page("blocking-call")
    marks = page[page.index('<ol class="marks">') :]
    marks = marks[: marks.index("</ol>")]
    assert re.search(r"</b>（[^<]*\d 毫秒）：\S", marks), marks
    assert " ms)" not in marks and "ms）" not in marks


def test_c10k_in_chinese_writes_every_number_one_way() -> None:
    """Title, caption, side names and the "shown" note group thousands alike (10,000; the
    summary table and tooltips group them too): no 10000 beside 10,000."""
    texts = _texts(_page("c10k"))
    assert any("显示 10,000 个请求中的" in t for t in texts)
    assert any(t.startswith("C10k（模拟）：10,000 个连接") for t in texts)
    ungrouped = [t for t in texts if re.search(r"(?<![\d.,])\d{4,}(?![\d])", t)]
    assert not ungrouped, ungrouped


def test_a_side_name_and_its_title_are_joined_by_one_colon() -> None:
    """websocket in Chinese: "WSGI，每个会话一个线程：sim:…", not "WSGI：…：sim:…"."""
    demo = run_demo(SCENARIOS["websocket"], simulated=True, lang="zh")
    svg = timeline_svg(demo.recordings, lang="zh")
    headings = [t for t in _texts(svg) if "sim:" in t and "WSGI" in t.split("sim:")[0]]
    assert headings and all(h.split("sim:")[0].count("：") == 1 for h in headings), headings


@pytest.mark.parametrize(
    ("to", "zh", "en"),
    [
        ("svg", "SVG 图已写入", "SVG figure written to"),
        ("html", "HTML 页面已写入", "HTML page written to"),
    ],
)
def test_trace_export_says_its_line_in_the_figures_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], to: str, zh: str, en: str
) -> None:
    """--lang zh: "trace：SVG 图已写入 …"; --lang en, and an English recording by default:
    the English line."""
    first, _ = save_demo(run_demo(SCENARIOS["cpu-gil"], simulated=True), str(tmp_path / "rec"))
    out = tmp_path / f"fig.{to}"
    assert main(["export", first, "--to", to, "-o", str(out), "--lang", "zh"]) == 0
    assert capsys.readouterr().err.strip() == f"trace：{zh} {out}"
    assert main(["export", first, "--to", to, "-o", str(out), "--lang", "en"]) == 0
    assert capsys.readouterr().err.strip() == f"trace: {en} {out}"
    assert main(["export", first, "--to", to, "-o", str(out)]) == 0
    assert capsys.readouterr().err.strip() == f"trace: {en} {out}"
