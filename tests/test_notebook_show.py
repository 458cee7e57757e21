"""``tracer.notebook.show``: a recording's timeline inline in a notebook, checked on the markup
it produces (valid SVG, one lane per request, scaled to the output area)."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

import sim
import tracer
from tracer.errors import UsageError
from tracer.notebook import NOTEBOOK_WIDTH, Timeline, show

SVG = "{http://www.w3.org/2000/svg}"


def _simulated(model: str, requests: int = 12) -> tracer.Recorder:
    recorder = tracer.Recorder()
    sim.simulate(
        sim.SimConfig(model=model, requests=requests, concurrency=4, threads=2), recorder=recorder
    )
    return recorder


def _lanes(svg: str) -> list[str]:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    assert root.tag == f"{SVG}svg"
    return [g.get("data-req", "") for g in root.iter(f"{SVG}g") if g.get("class") == "lane"]


def test_a_recorder_is_shown_inline_with_a_lane_per_request() -> None:
    timeline = show(_simulated("loop"))
    assert isinstance(timeline, Timeline)
    html = timeline._repr_html_()
    # Inline (tooltips kept), as wide as the output area allows, no wider than asked.
    assert html.startswith('<svg style="max-width:100%;height:auto" ')
    assert f'width="{NOTEBOOK_WIDTH}"' in html
    assert _lanes(html) == [str(n) for n in range(1, 13)]
    assert _lanes(timeline.svg) == _lanes(html)
    root = ET.fromstring(timeline.svg)
    assert root.findtext(f"{SVG}title") == "sim:inline · ASGI loop (simulated)"
    assert "12 requests" in (root.findtext(f"{SVG}desc") or "")


def test_two_recordings_compared_on_one_axis() -> None:
    html = show(_simulated("threads"), _simulated("loop").recording())._repr_html_()
    titles = re.findall(r'<text class="heading"[^>]*>([^<]*)</text>', html)
    assert titles == ["sim:inline · WSGI threads (simulated)", "sim:inline · ASGI loop (simulated)"]
    assert len(_lanes(html)) == 24


def test_a_file_is_shown_and_lanes_are_capped(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    _simulated("loop", requests=30).save(path)
    timeline = show(str(path), lanes=5)
    assert _lanes(timeline._repr_html_()) == ["1", "2", "3", "4", "5"]
    assert "5 of 30 requests shown" in timeline.svg
    saved = timeline.save(tmp_path / "fig.svg")
    assert Path(saved).read_text(encoding="utf-8") == timeline.svg


def test_chinese_labels() -> None:
    svg = show(_simulated("loop"), lang="zh").svg
    assert 'lang="zh"' in svg
    assert "共 12 个请求" in svg


def test_requests_recorded_in_a_running_loop_are_shown() -> None:
    """A notebook cell: an ASGI app driven with httpx's ASGITransport, awaited in the loop."""

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        await asyncio.sleep(0.001)
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"hi"})  # type: ignore[operator]

    async def cell() -> tracer.Recorder:
        recorder = tracer.Recorder()
        traced = tracer.instrument(app, recorder=recorder)
        transport = httpx.ASGITransport(app=traced)
        async with httpx.AsyncClient(transport=transport, base_url="http://nb") as client:
            await asyncio.gather(*(client.get(f"/n{i}") for i in range(3)))
        return recorder

    svg = show(asyncio.run(cell())).svg
    assert sorted(_lanes(svg)) == ["1", "2", "3"]
    assert {f"GET /n{i}: 200" for i in range(3)} <= {
        t.split(",")[0].split(" ", 1)[1] for t in re.findall(r"<title>(#[^<]*)</title>", svg)
    }


@pytest.mark.parametrize(
    ("args", "options", "said"),
    [
        ((), {}, "show takes one recording or two to compare, not 0."),
        (
            (1,),
            {},
            "show takes a Recording (tracer.load), a Recorder or the path of a recording, not int.",
        ),
        (("r",), {"lanes": 0}, "lanes must be a whole number above 0, not 0."),
        (
            ("r",),
            {"width": 50},
            "width must be a whole number of pixels from 300 to 10000, not 50.",
        ),
    ],
)
def test_a_mistake_is_one_usage_error(args: tuple, options: dict, said: str) -> None:
    with pytest.raises(UsageError) as caught:
        show(*args, **options)
    assert str(caught.value) == said


def test_report_prints_the_summary_tables(tmp_path: Path) -> None:
    from rich.console import Console

    from tracer.notebook import report

    recorder = _simulated("loop")
    path = tmp_path / "run.jsonl"
    recorder.save(path)
    said = []
    for source in (recorder, recorder.recording(), str(path)):
        console = Console(record=True, width=100, color_system=None)
        report(source, console=console)
        said.append(console.export_text())
    assert said[0] == said[1] == said[2]
    lines = said[0].splitlines()
    assert lines[0] == "sim:inline · ASGI loop (simulated)"
    assert any(line.split()[:2] == ["requests", "12"] for line in lines)
