"""``--to html|svg``: what a viewer reads around the lanes: bookmark labels kept in the figure,
whose bookmark each is in a compare, one number format, titles and lane tooltips."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from export_recordings import two_requests
from test_html import _assert_self_contained

from sim import SimConfig, simulate
from sim.workload import load_workload
from tracer import events as K
from tracer.cli import main
from tracer.demos import SCENARIOS, run_demo, save_demo
from tracer.export.drawing import text_width
from tracer.export.html import html_page
from tracer.export.svg import timeline_svg
from tracer.recorder import Recorder
from tracer.recording import Recording, load

NS = "{http://www.w3.org/2000/svg}"
LONG = "The event loop was blocked here by a synchronous call " * 4


def _marked(path: Path, app: str, marks: list[tuple[int, str]]) -> str:
    """One request from 0 to 10 µs and a bookmark (time, label) for each of ``marks``."""
    rec = Recorder(start_ns=0, clock=lambda: 0, app=app, interface="asgi")
    rec.emit(K.REQUEST_START, 1, {"method": "GET", "path": "/"}, t=0)
    rec.emit(K.SCHED_STEP, 1, {"cpu_ns": 10}, t=0, dur=10_000)
    for at, label in marks:
        rec.emit(K.MARK, None, {"label": label, "caption": f"about {label[:4]}"}, t=at)
    rec.emit(K.REQUEST_END, 1, {"status": 200}, t=10_000)
    return rec.save(path)


def _label_boxes(root: ET.Element) -> list[tuple[float, float, str]]:
    boxes = []
    for t in root.iter(f"{NS}text"):
        if t.get("class") == "bookmark-label":
            text, x = "".join(t.itertext()), float(t.get("x", "0"))
            w = text_width(text, 13)
            left = x - w if t.get("text-anchor") == "end" else x
            boxes.append((left, left + w, text))
    return boxes


@pytest.mark.parametrize("at", [0, 5_000, 9_900])
def test_a_long_bookmark_label_stays_inside_the_figure(tmp_path: Path, at: int) -> None:
    """A 220-character label at the start, middle or end of the axis is cut short with "…"
    to fit between the figure's edges; its tooltip holds it whole."""
    recording = load(_marked(tmp_path / "m.jsonl", "a:app", [(at, LONG)]))
    root = ET.fromstring(timeline_svg([recording], width=1000))
    ((left, right, text),) = _label_boxes(root)
    assert 0 <= left and right <= 1000, (left, right)
    assert text.endswith("…") and LONG.startswith(text[:-1]) and len(text) > 20
    assert LONG in ["".join(t.itertext()) for t in root.iter(f"{NS}title")]


def test_a_short_label_is_left_whole() -> None:
    """blocking-call's labels fit: they are drawn as they are, with no tooltip of their own."""
    demo = run_demo(SCENARIOS["blocking-call"], simulated=True)
    root = ET.fromstring(timeline_svg(demo.recordings))
    labels = [e.data["label"] for r in demo.recordings for e in r.events if e.kind == K.MARK]
    assert sorted(text for _, _, text in _label_boxes(root)) == sorted(labels)


def test_a_compares_bookmark_list_says_whose_each_is(tmp_path: Path) -> None:
    """Two recordings with a bookmark each: each list item names its recording, as its lanes
    are headed; one recording alone needs no such name."""
    first = load(_marked(tmp_path / "a.jsonl", "first:app", [(2_000, "warm")]))
    second = load(_marked(tmp_path / "b.jsonl", "second:app", [(4_000, "cold")]))
    page = html_page([first, second])
    items = re.findall(r"<li>(.*?)</li>", page)
    assert items == [
        "<b>warm</b> (first:app · ASGI, 0.0 ms): about warm",
        "<b>cold</b> (second:app · ASGI, 0.0 ms): about cold",
    ]
    zh = re.findall(r"<li>(.*?)</li>", html_page([first, second], lang="zh"))
    assert zh[0] == "<b>warm</b>（first:app · ASGI，0.0 毫秒）：about warm"
    alone = re.findall(r"<li>(.*?)</li>", html_page([first]))
    assert alone == ["<b>warm</b> (0.0 ms): about warm"]


def _thousand() -> Recording:
    recorder = Recorder()
    workload = load_workload("sim/workloads/mixed.toml")
    simulate(SimConfig(model="loop", workload=workload, rate=150.0, requests=1000, seed=1),
             recorder=recorder)  # fmt: skip
    return recorder.recording()


def test_counts_are_written_one_way(tmp_path: Path) -> None:
    """1,000 requests: the note under the lanes and the table both say "1,000"."""
    page = html_page([_thousand()])
    assert "40 of 1,000 requests shown" in page and "<td>1,000</td>" in page
    assert "1000" not in re.sub(r"<[^>]*>", " ", page)
    assert "显示 1,000 个请求中的 40 个" in html_page([_thousand()], lang="zh")


def test_a_standalone_figure_is_titled(tmp_path: Path) -> None:
    """The .svg file's ``<title>`` (its name in a viewer) is the recording's title; two
    compared read "A vs B"; a saved demo's is the scenario's. Inline in a page the figure
    needs none (the page has its own)."""
    one = tmp_path / "one.svg"
    first = two_requests(tmp_path / "a.jsonl")
    assert main(["export", first, "--to", "svg", "-o", str(one)]) == 0
    root = ET.parse(one).getroot()
    assert root[0].tag == f"{NS}title" and root[0].text == "shop:app · ASGI loop"
    second = load(first)
    second.header["app"] = "other:app"
    both = ET.fromstring(timeline_svg([load(first), second]))
    assert both[0].text == "shop:app · ASGI loop vs other:app · ASGI loop"
    demo = run_demo(SCENARIOS["blocking-call"], simulated=True, lang="zh")
    saved = save_demo(demo, str(tmp_path))
    fig = tmp_path / "demo.svg"
    assert main(["export", *saved, "--to", "svg", "-o", str(fig)]) == 0
    assert ET.parse(fig).getroot()[0].text == SCENARIOS["blocking-call"].title("zh")
    inline = ET.fromstring(timeline_svg([load(first)], standalone=False))
    assert inline[0].tag != "title"


@pytest.mark.parametrize(
    "lang, tips",
    [
        ("en", ["#1 GET /items: 200, 0.21 µs", "#2 GET /fail: 500, 1.0 µs"]),
        ("zh", ["#1 GET /items：200，0.21 微秒", "#2 GET /fail：500，1.0 微秒"]),
    ],
)
def test_each_lane_has_a_tooltip(tmp_path: Path, lang: str, tips: list[str]) -> None:
    """Each lane's ``<title>``: method, path, status and latency (/items was over with its
    last body message 210 ns after it began); the page stays offline."""
    recording = load(two_requests(tmp_path / "a.jsonl"))
    root = ET.fromstring(timeline_svg([recording], lang=lang))
    lanes = [g for g in root.iter(f"{NS}g") if g.get("class") == "lane"]
    assert [lane[0].text for lane in lanes] == tips
    assert all(lane[0].tag == f"{NS}title" for lane in lanes)
    _assert_self_contained(html_page([recording], lang=lang))


def test_a_lane_without_an_answer_or_an_end_says_so(tmp_path: Path) -> None:
    """A request cut short by the end of the recording: no status, not finished."""
    rec = Recorder(start_ns=0, clock=lambda: 0, app="a:app", interface="asgi")
    rec.emit(K.REQUEST_START, 1, {"method": "POST", "path": "/upload"}, t=0)
    rec.emit(K.SCHED_STEP, 1, {"cpu_ns": 10}, t=0, dur=1_000)
    root = ET.fromstring(timeline_svg([load(rec.save(tmp_path / "cut.jsonl"))]))
    (lane,) = [g for g in root.iter(f"{NS}g") if g.get("class") == "lane"]
    assert lane[0].text == "#1 POST /upload: no response, not finished"
