"""Chinese text puts no space before or after full-width punctuation (，；：（）。、！？), in the
demos' texts, the exports' words and the figures and pages made of a demo's recordings; and
the captions write a product with ×, in English as in Chinese."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from tests.demos.demo_cache import simulated
from tracer.demos import SCENARIOS
from tracer.export import html as html_export
from tracer.export import key_numbers, svg
from tracer.export.html import html_page
from tracer.export.svg import timeline_svg
from tracer.export.titles import FULL_WIDTH, against, demo_title

SPACED = re.compile(rf"[ \u00a0\u3000][{FULL_WIDTH}]|[{FULL_WIDTH}][ \u00a0\u3000]")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def _spaced(texts: list[str]) -> list[str]:
    return [t[max(0, m.start() - 12) : m.end() + 12] for t in texts for m in SPACED.finditer(t)]


def test_the_demos_chinese_texts() -> None:
    texts = [s for scenario in SCENARIOS.values() for s in _strings(scenario.texts["zh"])]
    assert texts and _spaced(texts) == []


def test_the_exports_chinese_words() -> None:
    tables = [
        svg.SHOWN["zh"],
        svg.SPREAD["zh"],
        svg.EMPTY["zh"],
        svg.WRITTEN["zh"],
        key_numbers.WORDS["zh"],
        key_numbers.PLACES["zh"],
        [zh for _, _, zh in html_export.SUMMARY_ROWS],
        [zh for _, _, zh in html_export.WHEN_ANY_ROWS],
        html_export.LIFESPAN_FAILED["zh"],
        html_export.WRITTEN["zh"],
    ]
    texts = _strings(tables)
    # A word that ends the text before a full-width mark is the caller's, but within a word
    # (a template such as "p50 {} 毫秒") nothing may stand beside one.
    assert texts and _spaced(texts) == []


def test_a_compare_heading_has_no_space_beside_a_bracket() -> None:
    assert against(["sim:io · ASGI loop（模拟）", "WSGI（模拟）"], "zh") == (
        "sim:io · ASGI loop（模拟）对比 WSGI（模拟）"
    )
    assert against(["a (simulated)", "b"], "en") == "a (simulated) vs b"


def _visible(document: str) -> list[str]:
    return [html.unescape(t) for t in re.split(r"<[^>]+>", document) if t.strip()]


@pytest.mark.parametrize("name", ["sync-vs-async", "blocking-call", "threadpool-offload"])
def test_a_chinese_figure_and_page_of_a_demo(name: str) -> None:
    demo = simulated(name, "zh")
    recs = demo.recordings
    page = html_page(recs, title=demo_title(recs[0]), caption=demo.caption, lang="zh")
    figure = timeline_svg(recs, lang="zh")  # titled by its recordings' titles
    assert _spaced(_visible(page)) == []
    assert _spaced(_visible(figure)) == []


def test_c10k_writes_times_as_a_times_sign_in_both_languages() -> None:
    scenario = SCENARIOS["c10k"]
    for lang in ("en", "zh"):
        caption = scenario.caption(lang)
        assert "10,000 × 0.1" in caption
        assert not re.search(r"\d x \d", caption)
