"""A compare's default figure shows the whole run: its lanes spread over each recording's
requests (the first, the last, the bookmarked ones), not the first 15 that end at 400 ms of
sync-vs-async's 2.5 s; and a standalone SVG says the scenario's title and its key numbers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.demos.demo_cache import simulated
from tracer.demos.runner import save_demo
from tracer.export import COMPARE_LANES, ExportOptions
from tracer.export.drawn import lanes_chosen
from tracer.export.stream import RecordingFile
from tracer.export.svg import export_svg

NS = "{http://www.w3.org/2000/svg}"


def test_spread_lanes_take_the_first_the_last_and_the_marked() -> None:
    order = [(t, t + 1) for t in range(100)]  # requests 1..100 in arrival order
    assert lanes_chosen(order, 15) == set(range(1, 16))
    chosen = lanes_chosen(order, 15, spread=True, marked={5})
    assert len(chosen) == 14 and {1, 100} <= chosen and 5 not in chosen
    assert lanes_chosen(order[:10], 15, spread=True) == set(range(1, 11))


def _lane_numbers(root: ET.Element) -> list[int]:
    numbers = []
    for g in root.iter(f"{NS}g"):
        if g.get("class") == "lane":
            title = next(g.iter(f"{NS}title"))
            numbers.append(int(re.match(r"#(\d+)", title.text or "").group(1)))  # type: ignore[union-attr]
    return numbers


@pytest.mark.parametrize("from_files", [False, True])
def test_sync_vs_async_slide_reaches_the_end_of_the_run(tmp_path: Path, from_files: bool) -> None:
    demo = simulated("sync-vs-async")
    first, second = demo.recordings
    if from_files:
        paths = save_demo(demo, str(tmp_path))
        first, second = (RecordingFile(p) for p in paths)  # type: ignore[assignment]
    out = tmp_path / "c.svg"
    export_svg(first, ExportOptions(output=str(out), compare=(second,)), lang="en")
    root = ET.fromstring(out.read_text(encoding="utf-8"))
    lanes = _lane_numbers(root)
    assert len(lanes) == 2 * COMPARE_LANES
    assert 100 in lanes  # the last request of each side
    assert lanes.count(100) == 2 and lanes.count(1) == 2
    texts = ["".join(t.itertext()) for t in root.iter(f"{NS}text")]
    assert texts.count("15 of 100 requests shown, spread over the whole run") == 2
    captions = [
        "".join(t.itertext()) for t in root.iter(f"{NS}text") if t.get("class") == "caption"
    ]
    assert captions == [
        demo.scenario.title("en"),
        "WSGI, 4 threads: p50 1,200.0 ms, 40.0 req/s, 2.5 s in all",
        "ASGI, one event loop: p50 100.0 ms, 500.0 req/s, 0.2 s in all",
    ]


def test_lanes_asked_for_are_the_first_ones(tmp_path: Path) -> None:
    first, second = simulated("sync-vs-async").recordings
    out = tmp_path / "c.svg"
    export_svg(first, ExportOptions(output=str(out), compare=(second,), lanes=10), lang="en")
    root = ET.fromstring(out.read_text(encoding="utf-8"))
    assert sorted(set(_lane_numbers(root))) == list(range(1, 11))


def test_the_caption_is_said_in_chinese(tmp_path: Path) -> None:
    first, second = simulated("sync-vs-async", "zh").recordings
    out = tmp_path / "c.svg"
    export_svg(first, ExportOptions(output=str(out), compare=(second,)), lang="zh")
    root = ET.fromstring(out.read_text(encoding="utf-8"))
    captions = [
        "".join(t.itertext()) for t in root.iter(f"{NS}text") if t.get("class") == "caption"
    ]
    assert captions[1:] == [
        "WSGI，4 个线程：p50 1,200.0 毫秒，每秒 40.0 个请求，共 2.5 秒",
        "ASGI，一个事件循环：p50 100.0 毫秒，每秒 500.0 个请求，共 0.2 秒",
    ]
