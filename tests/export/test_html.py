"""``--to html``: one self-contained page (no URL, script or remote reference) for slides."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from export_recordings import hostile_recording, two_requests

from tracer.cli import main
from tracer.demos import SCENARIOS, run_demo, save_demo
from tracer.export import ExportOptions
from tracer.export.html import export_html, html_page
from tracer.export.titles import figure_title
from tracer.recording import load


class _Tags(HTMLParser):
    """Collects every tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _assert_self_contained(page: str) -> None:
    lowered = page.lower()
    for needle in ("http://", "https://", "@import", "//cdn", "url("):
        assert needle not in lowered, needle
    parser = _Tags()
    parser.feed(page)
    for tag, attrs in parser.tags:
        assert tag not in ("script", "link", "iframe", "img", "object", "embed"), tag
        assert "src" not in attrs and "href" not in attrs, (tag, attrs)
    assert not re.search(r"\bsrc\s*=", lowered)


def test_a_compared_demo_page_is_self_contained(tmp_path: Path) -> None:
    """Two demo recordings: both titles, lanes, marks, legend, summary; nothing external."""
    demo = run_demo(SCENARIOS["blocking-call"], simulated=True, lang="zh")
    page = html_page(demo.recordings, title="blocking-call", caption=demo.caption, lang="zh")
    _assert_self_contained(page)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="zh">' in page
    assert page.count("<svg") == 1 and page.count("<rect") > 40
    assert page.count("事件循环被阻塞") >= 2  # a bookmark, and the legend's phase: one word
    assert page.count("<table>") == 1 and "延迟 p50（毫秒）" in page
    # Figure and table titles say "simulated" in the page's language.
    assert all(figure_title(r, "zh") in page for r in demo.recordings)
    assert "(simulated)" not in page and "（模拟）" in page
    # Chinese text takes full-width colons: after a side's label and before a bookmark's caption.
    assert all("：" in figure_title(r, "zh") for r in demo.recordings)
    assert re.search(r"毫秒）：\S", page) and not re.search(r"ms\): ", page)


def test_a_saved_demo_exports_with_its_caption_and_language(tmp_path: Path) -> None:
    """Recordings saved by ``trace demo --record`` carry the caption and language to the slide."""
    demo = run_demo(SCENARIOS["wsgi-on-asgi"], simulated=True, lang="zh")
    first, second = save_demo(demo, str(tmp_path))
    out = tmp_path / "slide.html"
    assert main(["export", first, second, "--to", "html", "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    _assert_self_contained(page)
    title = SCENARIOS["wsgi-on-asgi"].title("zh")
    assert f"<h1>{title}</h1>" in page and '<html lang="zh">' in page
    assert f'<p class="caption">{demo.caption}</p>' in page


def test_trace_export_writes_the_page_from_two_files(tmp_path: Path) -> None:
    """``trace export A B --to html -o OUT`` writes one page comparing both recordings."""
    first = two_requests(tmp_path / "a.jsonl")
    second = two_requests(tmp_path / "b.jsonl")
    out = tmp_path / "slides.html"
    assert main(["export", first, second, "--to", "html", "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    _assert_self_contained(page)
    assert page.count("shop:app") >= 5  # heading (twice), two lane titles, two table heads
    assert "authorization" not in page.lower()  # headers never reach a slide


def test_default_output_sits_next_to_the_recording(tmp_path: Path) -> None:
    """Without -o the page is written next to the recording as .html."""
    recording = load(two_requests(tmp_path / "run.jsonl"))
    line = export_html(recording, ExportOptions())
    assert (tmp_path / "run.html").exists() and "run.html" in line


def test_file2_is_refused_for_a_single_recording_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """FILE2 with --to perfetto: exit 2 and one line naming the targets that compare."""
    path = two_requests(tmp_path / "a.jsonl")
    assert main(["export", path, path, "--to", "perfetto"]) == 2
    assert "html or svg" in capsys.readouterr().err


def test_an_unwritable_output_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """-o under a file: exit 2 with the path in the message."""
    path = two_requests(tmp_path / "a.jsonl")
    assert main(["export", path, "--to", "html", "-o", str(tmp_path / "a.jsonl" / "x.html")]) == 2
    assert "x.html" in capsys.readouterr().err


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_static_page_tells_no_keys_to_press_and_is_headed_by_the_title(
    tmp_path: Path, lang: str
) -> None:
    """blocking-call: the caption loses "Press m, then space to play." (the page has no
    script), keeps the rest; the heading is the scenario's title, not the command."""
    demo = run_demo(SCENARIOS["blocking-call"], simulated=True, lang=lang)
    first, second = save_demo(demo, str(tmp_path))
    out = tmp_path / "slide.html"
    assert main(["export", first, second, "--to", "html", "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "Press m" not in page and "按 m" not in page and "空格" not in page
    assert "time.sleep(0.1)" in page  # the rest of the caption stays
    assert f"<h1>{SCENARIOS['blocking-call'].title(lang)}</h1>" in page
    assert "trace demo" not in page


def test_two_runs_of_one_app_on_one_server_are_told_apart_by_file_name(tmp_path: Path) -> None:
    """The usual before/after slide: page title, heading, lane headings and table columns
    all read "shop:app · ASGI loop"; each now says its file."""
    before = two_requests(tmp_path / "before.jsonl")
    after = two_requests(tmp_path / "after.jsonl")
    out = tmp_path / "slides.html"
    assert main(["export", before, after, "--to", "html", "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    first, second = "shop:app · ASGI loop (before.jsonl)", "shop:app · ASGI loop (after.jsonl)"
    assert f"<title>{first} vs {second}</title>" in page
    assert f"<h1>{first} vs {second}</h1>" in page
    assert f'<th scope="col">{first}</th><th scope="col">{second}</th>' in page
    assert f">{first}</text>" in page and f">{second}</text>" in page


def test_control_characters_in_the_page_are_shown_as_escapes(tmp_path: Path) -> None:
    """Heading, table, bookmark list and the inline figure show a recording's control
    characters as ``\\x1b`` escapes: none reaches the page (a NUL is an HTML parse error, and
    the figure copied out as SVG would not parse)."""
    out = tmp_path / "page.html"
    assert (
        main(["export", hostile_recording(tmp_path / "h.jsonl"), "--to", "html", "-o", str(out)])
        == 0
    )
    page = out.read_text(encoding="utf-8")
    assert all(c.isprintable() or c == "\n" for c in page)
    assert "label\\x00\\x01" in page and "mark\\x00" in page and "cap\\x00" in page
    svg = page[page.index("<svg") : page.index("</svg>") + len("</svg>")]
    ET.fromstring(svg)
