"""The figures' abandoned work where a thread was still held, and the legend's spacing.

A WSGI ``threads`` run whose client gives up at 50 ms while the app sleeps 100 ms: its lane has
the thread's 4 px waiting bar to the app's end and the abandoned tail over its second half.
The tail must be seen on that bar (drawn above it, in a colour apart from it, covering it),
as the replay draws it apart from waiting. The legend's entries must not run into each other.
Real recordings from ``trace run`` of the bundled sample app; the assertions read the SVG.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from test_palette_access import contrast

from tracer.cli import main
from tracer.demos import SCENARIOS, run_demo
from tracer.export.drawing import COLORS, LANE_H, WAIT_H, luminance, text_width
from tracer.export.legend import LEGENDS
from tracer.export.svg import timeline_svg
from tracer.recording import Recording, load

pytestmark = pytest.mark.timeout(60)

NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def threads_timeout(tmp_path_factory: Any) -> Recording:
    """Two requests on WSGI threads, each sleeping 100 ms, their client giving up at 50 ms."""
    path = tmp_path_factory.mktemp("wsgi_timeout") / "t.jsonl"
    argv = ["sample_apps.io_bound:wsgi_app", "--timeout", "0.05", "-n", "2", "-c", "2"]
    assert main(["run", *argv, "--json", "--record", str(path)]) == 0
    return load(str(path))


def _span(element: ET.Element) -> tuple[float, float]:
    if element.tag == f"{NS}rect":
        left = float(element.get("x", "0"))
        return left, left + float(element.get("width", "0"))
    return float(element.get("x1", "0")), float(element.get("x2", "0"))


def test_the_abandoned_tail_shows_over_the_threads_waiting_bar(
    threads_timeout: Recording,
) -> None:
    """In each lane: the thread's bar runs under the whole tail; the tail comes after it (on
    top), is dashed, as tall as the bar, and its colour is not the bar's (30 apart in
    luminance, as the grayscale rule asks of neighbouring phases)."""
    root = ET.fromstring(timeline_svg([threads_timeout]))
    lanes = [g for g in root.iter(f"{NS}g") if g.get("class") == "lane"]
    assert len(lanes) == 2
    for lane in lanes:
        marks = list(lane)
        (bar,) = [m for m in marks if m.tag == f"{NS}rect" and m.get("class") == "phase-waiting"]
        (tail,) = [m for m in marks if "abandoned" in (m.get("class") or "").split()]
        (bar_left, bar_right), (left, right) = _span(bar), _span(tail)
        assert bar_left < left < right <= bar_right + 0.2  # the thread was still held
        assert marks.index(tail) > marks.index(bar)  # drawn above it
        assert tail.get("stroke-dasharray")
        assert float(tail.get("stroke-width", "0")) >= float(bar.get("height", "0")) == WAIT_H
        assert tail.get("stroke") != bar.get("fill")
        assert abs(luminance(tail.get("stroke", "")) - luminance(bar.get("fill", ""))) >= 30


def test_the_abandoned_colour_keeps_apart_from_its_neighbours_and_shows_on_white() -> None:
    """Abandoned work lies on waiting and under late steps and sends: 30 apart in luminance
    from waiting, running and sending; 3:1 at least against the page (the 50 below its white
    of a light gray was not: 1.88:1). No gray of 3:1 keeps 30 from blocked as well: its shape
    does (a ``WAIT_H`` dashed line beside a lane-high bar)."""
    shade = luminance(COLORS["abandoned"])
    for neighbour in ("waiting", "running", "sending"):
        assert abs(shade - luminance(COLORS[neighbour])) >= 30, neighbour
    assert contrast(COLORS["abandoned"]) >= 3.0
    assert WAIT_H <= LANE_H / 3


def _extent(element: ET.Element) -> tuple[float, float]:
    """Where a swatch's element starts and ends along x."""
    if element.tag == f"{NS}text":
        left = float(element.get("x", "0"))
        return left, left + text_width("".join(element.itertext()), 13)
    return _span(element)


def _legend_entries(root: ET.Element, lang: str) -> list[tuple[float, float, float, float, str]]:
    """Each legend entry as (left, swatch's right, text x, right, text): the extent of its
    swatch (the elements between the previous entry's text and its own), where its text starts
    and where it ends by ``text_width`` (the estimate the legend lays out with)."""
    words = {text for _, text in LEGENDS[lang]}
    entries = []
    swatch: list[tuple[float, float]] = []
    # The legend follows the axis, whose labels are the last anchored texts.
    marks = list(root)
    last_label = max(i for i, m in enumerate(marks) if m.get("text-anchor"))
    for element in marks[last_label + 1 :]:
        text = "".join(element.itertext()) if element.tag == f"{NS}text" else ""
        if text in words:
            at = float(element.get("x", "0"))
            left, edge = min(a for a, _ in swatch), max(b for _, b in swatch)
            entries.append((left, edge, at, at + text_width(text, 13), text))
            swatch = []
        else:
            swatch.append(_extent(element))
    return entries


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_legend_entries_leave_room_between_them(threads_timeout: Recording, lang: str) -> None:
    """On each row, an entry's text starts right of its swatch, and the next swatch starts a
    character (13 px) or more past where the text is estimated to end: the estimate is short
    for a short word in a wide font ("queued": 45 px estimated, 49 px in DejaVu Sans)."""
    demo = run_demo(SCENARIOS["blocking-call"], simulated=True)
    for recordings in ([threads_timeout], demo.recordings):
        root = ET.fromstring(timeline_svg(recordings, lang=lang))
        entries = _legend_entries(root, lang)
        assert len(entries) >= 4
        for _, edge, at, _, text in entries:
            assert at >= edge + 4, text  # the text clear of its own swatch
        for (*_, right, text), (left, *_) in zip(entries, entries[1:], strict=False):
            if left > right - 200:  # same row (a new row starts at the gutter again)
                assert left - right >= 13, (text, left - right)


def test_the_brief_figure_renders_from_the_cli(threads_timeout: Recording, tmp_path: Path) -> None:
    """``trace export --to svg`` of that run writes the figure with the abandoned entry."""
    assert threads_timeout.path is not None
    out = tmp_path / "t.svg"
    assert main(["export", threads_timeout.path, "--to", "svg", "-o", str(out)]) == 0
    svg = out.read_text(encoding="utf-8")
    assert svg.count('class="phase-waiting abandoned"') == 2
    assert dict(LEGENDS["en"])["abandoned"] in svg
