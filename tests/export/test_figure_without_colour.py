"""The figures told apart without colour, for a projector, a greyscale handout and a screen
reader: abandoned work's dashes have WCAG's 3:1 against the page and against the waiting bar
they lie on; a send is a mark of its own shape (it stands out above its lane, which no running
step does), as its legend swatch draws it; and the page lists each lane's request, status and
latency in a table (the figure's tooltips reach neither a keyboard nor a screen reader).

Real recordings (``trace run`` of a bundled sample app, a recording saved by the recorder),
exported by the real CLI; the SVG and HTML read with ``xml.etree`` and ``html.parser``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from export_recordings import two_requests

from tracer.cli import main
from tracer.export.drawing import COLORS, LANE_H

pytestmark = pytest.mark.timeout(60)

NS = "{http://www.w3.org/2000/svg}"


def _relative_luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(one: str, other: str) -> float:
    dark, light = sorted(_relative_luminance(c) for c in (one, other))
    return (light + 0.05) / (dark + 0.05)


def _export(files: list[str], to: str, out: Path, lang: str = "en") -> str:
    assert main(["export", *files, "--to", to, "-o", str(out), "--lang", lang]) == 0
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def timed_out(tmp_path_factory: Any) -> str:
    """Two requests on WSGI threads sleeping 100 ms, their client giving up at 50 ms."""
    path = tmp_path_factory.mktemp("gave_up") / "t.jsonl"
    argv = ["sample_apps.io_bound:wsgi_app", "--timeout", "0.05", "-n", "2", "-c", "2"]
    assert main(["run", *argv, "--json", "--record", str(path)]) == 0
    return str(path)


def test_abandoned_dashes_have_3_to_1_on_the_page_and_on_the_waiting_bar(
    timed_out: str, tmp_path: Path
) -> None:
    """Every abandoned mark drawn (the lanes' and the legend's swatch) is in a colour of 3:1
    at least against the white page and against the held thread's bar under it."""
    root = ET.fromstring(_export([timed_out], "svg", tmp_path / "f.svg"))
    dashes = [
        line
        for line in root.iter(f"{NS}line")
        if "abandoned" in (line.get("class") or "").split() or line.get("class") == "legend"
    ]
    strokes = {line.get("stroke") for line in dashes if line.get("stroke-dasharray") == "4 3"}
    assert strokes == {COLORS["abandoned"]}
    stroke = COLORS["abandoned"]
    assert _contrast(stroke, "#ffffff") >= 3.0, round(_contrast(stroke, "#ffffff"), 2)
    assert _contrast(stroke, COLORS["waiting"]) >= 3.0, round(
        _contrast(stroke, COLORS["waiting"]), 2
    )


def _lanes(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{NS}g") if g.get("class") == "lane"]


def _lane_top(lane: ET.Element) -> float:
    """The lane's top: its number's baseline is ``LANE_H - 2`` below it."""
    number = lane.find(f"{NS}text")
    assert number is not None
    return float(number.get("y", "0")) - (LANE_H - 2)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_send_stands_out_above_its_lane_and_a_running_step_does_not(
    tmp_path: Path, lang: str
) -> None:
    """GET /items: a running step, then two sends of 10 ns right after it (hairlines beside
    its bar, 1.67:1 from it in grey). Each send rises above the lane's top, the running bar
    does not; the legend's sending swatch rises above its row's bar swatches the same way."""
    root = ET.fromstring(
        _export([two_requests(tmp_path / "a.jsonl")], "svg", tmp_path / "f.svg", lang)
    )
    (first, _) = _lanes(root)
    top = _lane_top(first)
    rects = [(r.get("class"), float(r.get("y", "0"))) for r in first.iter(f"{NS}rect")]
    sends = [y for cls, y in rects if cls == "phase-sending"]
    running = [y for cls, y in rects if cls == "phase-running"]
    assert len(sends) == 2 and running
    assert all(y < top for y in sends), (sends, top)
    assert all(y >= top for y in running), (running, top)
    swatches = {
        r.get("fill"): (float(r.get("y", "0")), float(r.get("height", "0")))
        for r in root.iter(f"{NS}rect")
        if r.get("class") == "legend"
    }
    send_y, send_h = swatches[COLORS["sending"]]
    run_y, run_h = swatches[COLORS["running"]]
    assert send_y < run_y and send_y + send_h == run_y + run_h


class _Tables(HTMLParser):
    """The page's tables as rows of (tag, scope, text) cells, with the ``<details>`` summary
    each one sits in (None for a table outside one)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[str | None, list[list[tuple[str, str | None, str]]]]] = []
        self._summary: str | None = None
        self._in_summary = False
        self._cell: list[Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "summary":
            self._in_summary, self._summary = True, ""
        elif tag == "table":
            self.tables.append((self._summary, []))
        elif tag == "tr":
            self.tables[-1][1].append([])
        elif tag in ("th", "td"):
            self._cell = [tag, dict(attrs).get("scope"), ""]

    def handle_endtag(self, tag: str) -> None:
        if tag == "summary":
            self._in_summary = False
        elif tag == "details":
            self._summary = None
        elif tag in ("th", "td") and self._cell is not None:
            self.tables[-1][1][-1].append((self._cell[0], self._cell[1], self._cell[2]))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._in_summary and self._summary is not None:
            self._summary += data
        if self._cell is not None:
            self._cell[2] += data


@pytest.mark.parametrize(
    ("lang", "summary", "rows"),
    [
        (
            "en",
            "Each lane: request, status and latency",
            [
                [
                    ("th", "col", "lane"),
                    ("th", "col", "request"),
                    ("th", "col", "status"),
                    ("th", "col", "latency"),
                ],
                [
                    ("th", "row", "#1"),
                    ("td", None, "GET /items"),
                    ("td", None, "200"),
                    ("td", None, "0.21 µs"),
                ],
                [
                    ("th", "row", "#2"),
                    ("td", None, "GET /fail"),
                    ("td", None, "500"),
                    ("td", None, "1.0 µs"),
                ],
            ],
        ),
        (
            "zh",
            "各泳道：请求、状态与延迟",
            [
                [
                    ("th", "col", "泳道"),
                    ("th", "col", "请求"),
                    ("th", "col", "状态"),
                    ("th", "col", "延迟"),
                ],
                [
                    ("th", "row", "#1"),
                    ("td", None, "GET /items"),
                    ("td", None, "200"),
                    ("td", None, "0.21 微秒"),
                ],
                [
                    ("th", "row", "#2"),
                    ("td", None, "GET /fail"),
                    ("td", None, "500"),
                    ("td", None, "1.0 微秒"),
                ],
            ],
        ),
    ],
)
def test_the_page_lists_each_lane_in_a_table(
    tmp_path: Path, lang: str, summary: str, rows: list[list[tuple[str, str | None, str]]]
) -> None:
    """What a lane's tooltip says (request, status, latency) is in a table under a
    ``<details>`` the keyboard reaches, its header cells scoped, in the page's language."""
    page = _export([two_requests(tmp_path / "a.jsonl")], "html", tmp_path / "p.html", lang)
    parser = _Tables()
    parser.feed(page)
    lanes = [table for table in parser.tables if table[0] is not None]
    assert lanes == [(summary, rows)]
    # After the figure, so the page reads figure, then its lanes.
    assert page.index("</figure>") < page.index("<details")


def test_a_compare_lists_each_recordings_lanes_under_its_title(tmp_path: Path) -> None:
    """Two recordings: a table each, captioned with the recording's title as its lanes are
    headed."""
    a = two_requests(tmp_path / "before.jsonl")
    b = two_requests(tmp_path / "after.jsonl")
    page = _export([a, b], "html", tmp_path / "p.html")
    captions = re.findall(r"<caption>(.*?)</caption>", page)
    assert captions == ["shop:app · ASGI loop (before.jsonl)", "shop:app · ASGI loop (after.jsonl)"]
    assert page.count('<th scope="row">#1</th>') == 2
