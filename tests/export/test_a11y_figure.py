"""The slide figures for readers who cannot rely on colour or sight: a blocked step is told
apart from running without its colour (a greyscale handout, a protanope), and the figure, as a
``.svg`` file and inline in the page, is named and described to a screen reader in the
figure's language.

Real demo recordings (``trace demo --sim --record``), exported by the real CLI; the outputs
are read with ``xml.etree`` and ``html.parser``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tracer.cli import main
from tracer.export.drawing import COLORS, LANE_H
from tracer.export.legend import LEGENDS

NS = "{http://www.w3.org/2000/svg}"


def _relative_luminance(colour: str) -> float:
    if len(colour) == 4:  # #rgb
        colour = "#" + "".join(c * 2 for c in colour[1:])
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(one: str, other: str) -> float:
    dark, light = sorted(_relative_luminance(c) for c in (one, other))
    return (light + 0.05) / (dark + 0.05)


@pytest.fixture(scope="module")
def blocking(tmp_path_factory: Any) -> list[str]:
    """The blocking-call demo's two simulated recordings (a blocking side and an awaiting one)."""
    where = tmp_path_factory.mktemp("demo")
    argv = ["demo", "blocking-call", "--sim", "--headless", "--record", str(where)]
    assert main(argv) == 0
    return [str(where / "blocking-call-1.jsonl"), str(where / "blocking-call-2.jsonl")]


def _export(files: list[str], to: str, out: Path, lang: str) -> str:
    assert main(["export", *files, "--to", to, "-o", str(out), "--lang", lang]) == 0
    return out.read_text(encoding="utf-8")


def _svg_of(page: str) -> ET.Element:
    found = re.search(r"<svg.*</svg>", page, re.S)
    assert found is not None
    return ET.fromstring(found.group())


def _x_range(mark: ET.Element) -> tuple[float, float]:
    """Where a lane's rect or a horizontal line/path spans, left to right."""
    if mark.tag == f"{NS}rect":
        x = float(mark.get("x", "0"))
        return x, x + float(mark.get("width", "0"))
    if mark.tag == f"{NS}line":
        return float(mark.get("x1", "0")), float(mark.get("x2", "0"))
    raise AssertionError(mark.tag)


def _y_of(mark: ET.Element) -> float:
    if mark.tag == f"{NS}rect":
        return float(mark.get("y", "0"))
    return float(mark.get("y1", "0"))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_blocked_step_is_marked_apart_from_running_without_its_colour(
    blocking: list[str], tmp_path: Path, lang: str
) -> None:
    """Blocked and running bars are the same full-lane rectangle, 1.44:1 apart in a greyscale
    print and CIEDE2000 14 apart for a protanope: each blocked bar carries a dashed line along
    its middle, in a colour 3:1 off the bar (so it shows in grey too), and no running bar
    does; the legend's blocked swatch carries it as well."""
    root = ET.fromstring(_export(blocking, "svg", tmp_path / "f.svg", lang))
    lanes = [g for g in root.iter(f"{NS}g") if g.get("class") == "lane"]
    blocked_seen = 0
    for g in lanes:
        marks = [m for m in g if m.get("class") == "blocked-mark"]
        bars = {
            phase: [
                _x_range(m)
                for m in g
                if m.get("class") == f"phase-{phase}" and m.tag == f"{NS}rect"
            ]
            for phase in ("blocked", "running")
        }
        covered = sorted(_x_range(m) for m in marks)
        assert covered == sorted(bars["blocked"]), g.get("data-req")
        for m in marks:
            assert m.get("stroke-dasharray"), m.attrib
            assert _contrast(m.get("stroke", ""), COLORS["blocked"]) >= 3.0
            bar_y = [float(b.get("y", "0")) for b in g if b.get("class") == "phase-blocked"][0]
            assert bar_y < _y_of(m) < bar_y + LANE_H
        blocked_seen += len(marks)
        assert not any(r in covered for r in bars["running"])
    assert blocked_seen >= 10
    legend_marks = [m for m in root.iter() if m.get("class") == "legend blocked-mark"]
    assert len(legend_marks) == 1
    assert dict(LEGENDS[lang])["blocked"] in "".join(root.itertext())


def _texts(element: ET.Element, tag: str) -> dict[str, str]:
    """Each ``tag`` element's text by its id (with the SVG namespace, as a file declares it, or
    without, as a page's inline figure is parsed)."""
    return {
        e.get("id", ""): "".join(e.itertext())
        for e in element.iter()
        if e.tag in (f"{NS}{tag}", tag)
    }


@pytest.mark.parametrize(
    "lang, says",
    [
        ("en", ["Request lanes", "15 of 20 requests", "time axis", "blocked the loop"]),
        ("zh", ["请求泳道", "显示 20 个请求中的 15 个", "时间轴", "事件循环被阻塞"]),
    ],
)
def test_the_svg_file_is_named_and_described_in_its_language(
    blocking: list[str], tmp_path: Path, lang: str, says: list[str]
) -> None:
    """``role="img"`` with ``aria-labelledby`` its ``<title>`` and ``aria-describedby`` a
    ``<desc>`` saying what the figure shows (its lanes, how many of the requests, the time
    axis, what the marks mean), in the chosen language; ``lang`` as well as ``xml:lang``."""
    root = ET.fromstring(_export(blocking, "svg", tmp_path / "f.svg", lang))
    assert root.get("role") == "img"
    assert (
        root.get("lang") == lang and root.get("{http://www.w3.org/XML/1998/namespace}lang") == lang
    )
    titles, descs = _texts(root, "title"), _texts(root, "desc")
    label, described = root.get("aria-labelledby", ""), root.get("aria-describedby", "")
    assert root[0].tag == f"{NS}title" and root[0].get("id") == label != ""
    assert titles[label] == root[0].text
    desc = descs[described]
    for words in says:
        assert words in desc, (words, desc)
    assert desc.count(says[1]) == 2  # each side of the compare


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_page_figure_has_a_text_alternative(
    blocking: list[str], tmp_path: Path, lang: str
) -> None:
    """Inline in the page the figure is an image too (its lanes' tooltips are not read out):
    named by its ``<desc>`` (the page's heading is right above it, and not said twice), whose
    id exists once in the page."""
    page = _export(blocking, "html", tmp_path / "p.html", lang)
    ids: list[str] = []

    class Ids(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            ids.extend(v or "" for k, v in attrs if k == "id")

    Ids().feed(page)
    svg = _svg_of(page)
    assert svg.get("role") == "img" and svg.get("lang") == lang
    label = svg.get("aria-labelledby", "")
    assert label and ids.count(label) == 1
    desc = _texts(svg, "desc")[label]
    assert dict(LEGENDS[lang])["blocked"] in desc
