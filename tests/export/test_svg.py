"""``--to svg``: a static figure of one or two recordings on one time axis."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from export_recordings import hostile_recording, two_requests

from sim import SimConfig, simulate
from sim.workload import load_workload
from tracer import events as K
from tracer.cli import main
from tracer.demos import SCENARIOS, run_demo, save_demo
from tracer.export.drawing import COLORS, text_width
from tracer.export.svg import timeline_svg
from tracer.recorder import Recorder
from tracer.recording import Recording, load
from tracer.summary import request_spans

NS = "{http://www.w3.org/2000/svg}"


def test_the_figure_is_valid_svg_with_a_lane_per_request(tmp_path: Path) -> None:
    """Two requests: two lane labels, running and sending bars, the error cross, a legend."""
    recording = load(two_requests(tmp_path / "a.jsonl"))
    root = ET.fromstring(timeline_svg([recording]))
    texts = ["".join(t.itertext()) for t in root.iter(f"{NS}text")]
    assert "#1" in texts and "#2" in texts and "✖" in texts
    fills = {r.get("fill") for r in root.iter(f"{NS}rect")}
    assert {COLORS["running"], COLORS["sending"]} <= fills
    # A legend of what is drawn: nothing blocked the loop here.
    assert "running (loop step, thread on CPU)" in texts and "sending" in texts
    assert "blocked the loop" not in texts


def test_only_the_namespace_names_a_url() -> None:
    """The standalone file declares the SVG namespace and nothing else external; inline: none."""
    demo = run_demo(SCENARIOS["sync-vs-async"], simulated=True)
    svg = timeline_svg(demo.recordings)
    assert svg.count("http") == 1 and 'xmlns="http://www.w3.org/2000/svg"' in svg
    assert "href" not in svg and "<script" not in svg and "url(" not in svg
    assert "http" not in timeline_svg(demo.recordings, standalone=False)


def test_long_runs_show_a_bounded_number_of_lanes() -> None:
    """100 requests: 60 lanes drawn and a note saying how many there were."""
    demo = run_demo(SCENARIOS["sync-vs-async"], simulated=True)
    svg = timeline_svg(demo.recordings[:1], max_lanes=60)
    assert "60 of 100 requests shown" in svg


def test_marks_are_drawn_with_their_labels(tmp_path: Path) -> None:
    """Demo bookmarks become labelled dashed lines; CJK labels are kept as text."""
    demo = run_demo(SCENARIOS["wsgi-on-asgi"], simulated=True, lang="zh")
    svg = timeline_svg(demo.recordings)
    labels = [e.data["label"] for r in demo.recordings for e in r.events if e.kind == K.MARK]
    assert labels and all(label in svg for label in labels)
    assert svg.count('<line class="bookmark"') == len(labels)


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


def _sim(model: str, workload_file: str, **options: object) -> Recording:
    """A simulated recording of ``model`` serving a workload file, in memory."""
    recorder = Recorder()
    config = SimConfig(model=model, workload=load_workload(workload_file), **options)  # type: ignore[arg-type]
    simulate(config, recorder=recorder)
    return recorder.recording()


def _ticks(root: ET.Element) -> list[ET.Element]:
    return [t for t in root.iter(f"{NS}text") if t.get("text-anchor") in ("middle", "end")]


def _ns(label: str) -> float:
    if label == "0":
        return 0.0
    for unit, scale in (("µs", 1e3), ("ms", 1e6), ("s", 1e9)):
        if label.endswith(unit):
            return float(label.removesuffix(unit)) * scale
    raise AssertionError(label)


def test_a_bookmarked_request_past_the_lane_cap_is_drawn() -> None:
    """threadpool-offload, 50 clients: "41st request queues" points at the 41st request; its
    lane is in the figure although only 40 lanes are drawn by default."""
    demo = run_demo(SCENARIOS["threadpool-offload"], simulated=True)
    fifty = demo.recordings[1]
    (token,) = [e for e in fifty.events if e.kind == K.MARK and e.data["key"] == "token"]
    req = token.data["req"]
    order = sorted((s.arrived or 0, r) for r, s in request_spans(fifty.events).items())
    assert [r for _, r in order].index(req) >= 40  # past the default cap
    root = ET.fromstring(timeline_svg(demo.recordings))
    lanes = [g.get("data-req") for g in root.iter(f"{NS}g") if g.get("class") == "lane"]
    assert str(req) in lanes[40:]  # in the second recording's block
    assert "41 of 100 requests shown" in "".join(root.itertext())


def test_the_lanes_option_draws_that_many(tmp_path: Path) -> None:
    """``--lanes N`` on svg and html: N lanes per recording."""
    demo = run_demo(SCENARIOS["sync-vs-async"], simulated=True)
    first, second = save_demo(demo, str(tmp_path))
    out = tmp_path / "fig.svg"
    assert main(["export", first, second, "--to", "svg", "--lanes", "10", "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.count('class="lane"') == 20 and "10 of 100 requests shown" in text
    page = tmp_path / "fig.html"
    assert main(["export", first, "--to", "html", "--lanes", "5", "-o", str(page)]) == 0
    assert page.read_text(encoding="utf-8").count('class="lane"') == 5


def test_capped_lanes_end_the_axis_with_the_drawn_lanes() -> None:
    """1,000 requests of mixed.toml: the axis spans the 40 drawn lanes, not the whole run."""
    recording = _sim("loop", "sim/workloads/mixed.toml", rate=150.0, requests=1000, seed=1)
    spans = request_spans(recording.events)
    order = sorted((s.arrived or 0, req) for req, s in spans.items())
    drawn_end = max(spans[req].end or 0 for _, req in order[:40])
    run_end = max(e.end for e in recording.events)
    assert drawn_end < run_end / 4
    root = ET.fromstring(timeline_svg([recording]))
    last_tick = max(_ns("".join(t.itertext())) for t in _ticks(root))
    assert drawn_end <= last_tick + drawn_end / 4 and last_tick <= 1.25 * drawn_end


def test_the_axis_ends_with_the_last_request_not_the_servers_shutdown(tmp_path: Path) -> None:
    """A real server's lifespan shutdown (and any event of no drawn lane) 5 s after the load
    stretched the axis over empty space: it ends with the drawn lanes."""
    from tracer.events import Event

    recording = load(two_requests(tmp_path / "a.jsonl"))
    spans = request_spans(recording.events)
    drawn_end = max(span.end or 0 for span in spans.values())
    seq = max(e.seq for e in recording.events) + 1
    lifespan = {"scope_type": "lifespan"}
    recording.events.insert(0, Event(seq, 0, K.REQUEST_START, 999, data=lifespan))
    recording.events.append(Event(seq + 1, drawn_end + 5 * 10**9, K.REQUEST_END, 999))
    root = ET.fromstring(timeline_svg([recording]))
    last_tick = max(_ns("".join(t.itertext())) for t in _ticks(root))
    assert last_tick <= 1.25 * drawn_end


def test_compared_recordings_start_at_their_first_request(tmp_path: Path) -> None:
    """A second recording whose requests began 549 ms later (start-up) is drawn from its
    first request too: both first lanes start at the gutter, and its bookmark list time is
    on the shared axis."""
    recording = load(two_requests(tmp_path / "a.jsonl"))
    late = load(two_requests(tmp_path / "b.jsonl"))
    late.events = [e._replace(t=e.t + 549 * 10**6) for e in late.events]
    root = ET.fromstring(timeline_svg([recording, late], width=1000))
    firsts = []
    for g in root.iter(f"{NS}g"):
        if g.get("class") == "lane" and g.get("data-req") == "1":
            firsts.append(min(float(r.get("x", "0")) for r in g.iter(f"{NS}rect")))
    assert firsts == [70.0, 70.0]


def test_threads_taking_turns_on_the_gil_show_their_cpu_share() -> None:
    """cpu-gil: the threads' CPU-bound requests are drawn with their CPU share (a green bar
    from the lane's floor, in the legend), not as bare waiting; sleeping threads show none."""
    demo = run_demo(SCENARIOS["cpu-gil"], simulated=True)
    root = ET.fromstring(timeline_svg(demo.recordings[:1]))
    shares = [r for r in root.iter(f"{NS}rect") if r.get("class") == "cpu-share"]
    assert len(shares) >= 40
    heights = sorted(float(r.get("height", "0")) for r in shares)
    assert 2 <= heights[len(heights) // 2] <= 6  # about a quarter of a 12-pixel lane
    assert all(r.get("fill") == COLORS["running"] for r in shares)
    assert "threads taking turns on the GIL" in "".join(root.itertext())
    io = run_demo(SCENARIOS["sync-vs-async"], simulated=True)
    assert 'class="cpu-share"' not in timeline_svg(io.recordings[:1])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_bookmark_labels_do_not_overlap(lang: str) -> None:
    """blocking-call: "Loop blocked" and "Next request" are 100 ms apart; their labels sit on
    different rows (or apart) instead of running into each other."""
    demo = run_demo(SCENARIOS["blocking-call"], simulated=True, lang=lang)
    root = ET.fromstring(timeline_svg(demo.recordings))
    boxes = []
    for t in root.iter(f"{NS}text"):
        if t.get("class") == "bookmark-label":
            text, x = "".join(t.itertext()), float(t.get("x", "0"))
            w = text_width(text, 13)
            left = x - w if t.get("text-anchor") == "end" else x
            boxes.append((float(t.get("y", "0")), left, left + w))
    assert len(boxes) == 3
    for i, (y, a, b) in enumerate(boxes):
        for y2, c, d in boxes[i + 1 :]:
            assert y != y2 or b <= c or d <= a, (boxes, lang)


def test_the_shown_note_is_not_crossed_by_a_bookmark() -> None:
    """threadpool-offload: the dashed lines end with the lanes, above "N of M requests shown"."""
    demo = run_demo(SCENARIOS["threadpool-offload"], simulated=True)
    root = ET.fromstring(timeline_svg(demo.recordings))
    notes = [float(t.get("y", "0")) for t in root.iter(f"{NS}text") if t.get("class") == "shown"]
    lines = [ln for ln in root.iter(f"{NS}line") if ln.get("stroke-dasharray")]
    assert notes and lines
    for line in lines:
        y1, y2 = float(line.get("y1", "0")), float(line.get("y2", "0"))
        # The note's glyphs reach about 9 px above its baseline.
        assert not any(y1 <= note and note - 9 <= y2 for note in notes)


def test_the_last_axis_label_fits_in_the_figure() -> None:
    """cpu-gil: the tick at the right edge ("800ms") is not cut off."""
    demo = run_demo(SCENARIOS["cpu-gil"], simulated=True)
    root = ET.fromstring(timeline_svg(demo.recordings))
    width = float(root.get("width", "0"))
    for tick in _ticks(root):
        x, w = float(tick.get("x", "0")), text_width("".join(tick.itertext()), 12)
        right = x if tick.get("text-anchor") == "end" else x + w / 2
        assert right <= width, "".join(tick.itertext())


def test_sends_without_a_duration_are_drawn_as_a_real_run_draws_them() -> None:
    """streaming --sim: the simulator's sends take no time; each is still a blue hairline."""
    demo = run_demo(SCENARIOS["streaming"], simulated=True)
    asgi = demo.recordings[1]
    root = ET.fromstring(timeline_svg([asgi], max_lanes=1))
    sends = [
        r
        for g in root.iter(f"{NS}g")
        if g.get("class") == "lane"
        for r in g.iter(f"{NS}rect")
        if r.get("class") == "phase-sending"
    ]
    # One request: http.response.start, ten chunks and the final empty body.
    assert len(sends) == 12


def test_two_runs_of_one_app_on_one_server_are_told_apart_by_file_name(tmp_path: Path) -> None:
    """Before and after a change, same app, same server: the two headings read the same, so
    each says its file (they read "shop:app · ASGI loop" twice)."""
    before = two_requests(tmp_path / "before.jsonl")
    after = two_requests(tmp_path / "after.jsonl")
    out = tmp_path / "fig.svg"
    assert main(["export", before, after, "--to", "svg", "-o", str(out)]) == 0
    root = ET.parse(out).getroot()
    texts = ["".join(t.itertext()) for t in root.iter(f"{NS}text")]
    headings = [text for text in texts if "shop:app" in text]
    assert headings == ["shop:app · ASGI loop (before.jsonl)", "shop:app · ASGI loop (after.jsonl)"]


def test_titles_that_differ_are_left_as_they_are(tmp_path: Path) -> None:
    """Two apps: their titles already differ, so no file names are added."""
    first = load(two_requests(tmp_path / "a.jsonl"))
    second = load(two_requests(tmp_path / "b.jsonl"))
    second.header["app"] = "other:app"
    root = ET.fromstring(timeline_svg([first, second]))
    texts = ["".join(t.itertext()) for t in root.iter(f"{NS}text")]
    assert "shop:app · ASGI loop" in texts and "other:app · ASGI loop" in texts
    assert not any(".jsonl" in text for text in texts)


def test_control_characters_in_titles_and_labels_are_shown_as_escapes(tmp_path: Path) -> None:
    """A control character is not well-formed XML even escaped (``html.escape`` leaves it):
    the file did not parse. Title and bookmark label show ``\\x1b`` instead, as text."""
    out = tmp_path / "fig.svg"
    assert (
        main(["export", hostile_recording(tmp_path / "h.jsonl"), "--to", "svg", "-o", str(out)])
        == 0
    )
    root = ET.parse(out).getroot()
    texts = ["".join(t.itertext()) for t in root.iter(f"{NS}text")]
    (title,) = [t for t in texts if t.startswith("label")]
    assert "app\\x00\\x01" in title and "loop\\x00" in title and "\\x1b[31mRED\\x7f" in title
    # The label, too long for the figure, is cut short; its tooltip holds it whole.
    (mark,) = [t for t in texts if t.startswith("mark")]
    whole = (
        "mark"
        + "".join(f"\\x{c:02x}" for c in range(0x20))
        + ("\\x1b[31mRED\\x7f\\x9b\\u202e\\ufffe")
    )
    assert mark.endswith("…") and whole.startswith(mark[:-1])
    assert whole in ["".join(t.itertext()) for t in root.iter(f"{NS}title")]
