"""``--to svg``: a static figure of one or two recordings on one time axis."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from export_recordings import two_requests

from tracer import events as K
from tracer.cli import main
from tracer.demos import SCENARIOS, run_demo
from tracer.export.svg import COLORS, timeline_svg
from tracer.recording import load

NS = "{http://www.w3.org/2000/svg}"


def test_the_figure_is_valid_svg_with_a_lane_per_request(tmp_path: Path) -> None:
    """Two requests: two lane labels, running and sending bars, the error cross, a legend."""
    recording = load(two_requests(tmp_path / "a.jsonl"))
    root = ET.fromstring(timeline_svg([recording]))
    texts = ["".join(t.itertext()) for t in root.iter(f"{NS}text")]
    assert "#1" in texts and "#2" in texts and "✖" in texts
    fills = {r.get("fill") for r in root.iter(f"{NS}rect")}
    assert {COLORS["running"], COLORS["sending"]} <= fills
    assert "blocked the loop" in texts


def test_only_the_namespace_names_a_url() -> None:
    """The standalone file declares the SVG namespace and nothing else external; inline: none."""
    demo = run_demo(SCENARIOS["sync-vs-async"], simulated=True)
    svg = timeline_svg(demo.recordings)
    assert svg.count("http") == 1 and 'xmlns="http://www.w3.org/2000/svg"' in svg
    assert "href" not in svg and "<script" not in svg and "url(" not in svg
    assert "http" not in timeline_svg(demo.recordings, standalone=False)


def test_long_runs_show_a_bounded_number_of_lanes() -> None:
    """200 requests: 60 lanes drawn and a note saying how many there were."""
    demo = run_demo(SCENARIOS["sync-vs-async"], simulated=True)
    svg = timeline_svg(demo.recordings[:1], max_lanes=60)
    assert "60 of 200 requests shown" in svg


def test_marks_are_drawn_with_their_labels(tmp_path: Path) -> None:
    """Demo bookmarks become labelled dashed lines; CJK labels are kept as text."""
    demo = run_demo(SCENARIOS["wsgi-on-asgi"], simulated=True, lang="zh")
    svg = timeline_svg(demo.recordings)
    labels = [e.data["label"] for r in demo.recordings for e in r.events if e.kind == K.MARK]
    assert labels and all(label in svg for label in labels)
    assert svg.count('stroke-dasharray="5,3"') == len(labels)


def test_trace_export_to_svg_from_two_files(tmp_path: Path) -> None:
    """``trace export A B --to svg -o OUT`` writes one parseable figure of both."""
    first = two_requests(tmp_path / "a.jsonl")
    out = tmp_path / "fig.svg"
    assert main(["export", first, first, "--to", "svg", "-o", str(out)]) == 0
    root = ET.parse(out).getroot()
    titles = [t for t in root.iter(f"{NS}text") if "shop:app" in "".join(t.itertext())]
    assert len(titles) == 2


def test_a_recording_that_starts_late_is_drawn_from_its_first_event(tmp_path: Path) -> None:
    """A real server's start-up leaves nothing recorded for a while: the figure begins at the
    first event (the first request's lane starts at the gutter; no tick at 0 on the axis)."""
    recording = load(two_requests(tmp_path / "a.jsonl"))
    late = 3 * max(e.end for e in recording.events)
    recording.events = [e._replace(t=e.t + late) for e in recording.events]
    root = ET.fromstring(timeline_svg([recording], width=1000))
    ticks = [
        "".join(t.itertext()) for t in root.iter(f"{NS}text") if t.get("text-anchor") == "middle"
    ]
    assert ticks and not any(tick in ("0µs", "0ms", "0s") for tick in ticks)
    lane_starts = [
        float(line.get("x1", "0"))
        for line in root.iter(f"{NS}line")
        if line.get("y1") == line.get("y2") and line.get("stroke") != "#212121"
    ]
    assert min(lane_starts) == 70.0  # GUTTER: the first request starts the figure
