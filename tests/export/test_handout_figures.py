"""The slide figures as handouts and slides use them: a streamed WSGI response drawn as the
app's time with the server's sends between chunks, an abandoned request's tail, colours apart
in grayscale, Chinese fonts first, a legend of what is drawn, a compare that fits a slide,
long titles, and the axis's words.

Real recordings come from ``trace run`` of the bundled sample apps on the in-process servers;
the assertions read the figure's elements and the phases the replay draws too.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tracer import events as K
from tracer.cli import main
from tracer.demos import SCENARIOS, run_demo
from tracer.events import Event
from tracer.export import MAX_LANES, ExportOptions
from tracer.export.axis import axis
from tracer.export.drawing import COLORS, text_width
from tracer.export.html import html_page
from tracer.export.legend import LEGENDS
from tracer.export.svg import export_svg, timeline_svg
from tracer.phases import RUNNING, SENDING, WAITING, request_phases
from tracer.recording import Recording, load
from tracer.tui import lane as tui_lane
from tracer.tui.model import build_model

pytestmark = pytest.mark.timeout(60)

NS = "{http://www.w3.org/2000/svg}"

CHUNKS = 4


def _run(path: Path, *argv: str) -> Recording:
    assert main(["run", *argv, "--json", "--record", str(path)]) == 0
    return load(str(path))


@pytest.fixture(scope="module")
def streamed(tmp_path_factory: Any) -> Recording:
    """One WSGI response of CHUNKS chunks, the generator sleeping 20 ms before each."""
    path = tmp_path_factory.mktemp("stream") / "wsgi.jsonl"
    query = f"/?chunks={CHUNKS}&ms=20"
    return _run(path, "sample_apps.streaming:wsgi_app", "--path", query, "-n", "1", "-c", "1")


@pytest.fixture(scope="module")
def abandoned(tmp_path_factory: Any) -> Recording:
    """An ASGI app awaiting 400 ms on the loop for a client that gives up after 50 ms."""
    path = tmp_path_factory.mktemp("abandoned") / "asgi.jsonl"
    argv = ["sample_apps.io_bound:asgi_app", "--path", "/?ms=400", "--timeout", "50ms"]
    return _run(path, *argv, "-n", "1", "-c", "1")


def _only_request(recording: Recording) -> tuple[int, list[Event]]:
    requests = [
        (req, events)
        for req, events in recording.requests().items()
        if any(e.kind == K.REQUEST_QUEUED for e in events)
    ]
    assert len(requests) == 1
    return requests[0]


def _svg(recordings: list[Recording], **options: Any) -> ET.Element:
    return ET.fromstring(timeline_svg(recordings, **options))


def _legend_texts(root: ET.Element) -> list[str]:
    """The legend's texts: those right of a ``legend`` swatch or mark, after the axis."""
    texts = ["".join(t.itertext()) for t in root.iter(f"{NS}text")]
    words = {text for entries in LEGENDS.values() for _, text in entries}
    return [text for text in texts if text in words]


# -- 1. a streamed WSGI response ------------------------------------------------------------


def test_a_streamed_wsgi_response_is_the_apps_time_with_a_send_after_each_chunk(
    streamed: Recording,
) -> None:
    """The generator slept before each chunk (``wsgi.body``'s dur: the app's time): that time is
    the thread's stretch, waiting; only the server's time after each chunk (to the next one, the
    last to ``close()``) is sending: one send per chunk, none inside a chunk's production."""
    req, events = _only_request(streamed)
    chunks = [e for e in events if e.kind == K.WSGI_BODY and e.data.get("bytes")]
    (close,) = [e for e in events if e.kind == K.WSGI_CLOSE]
    (thread,) = [e for e in events if e.kind == K.SCHED_THREAD]
    assert len(chunks) == CHUNKS
    phases = request_phases(events, streamed.events[-1].end)
    sends = [(p.start, p.end) for p in phases if p.phase == SENDING]
    bodies = sorted(e for e in events if e.kind == K.WSGI_BODY)
    after = [e.t for e in bodies[1:]] + [close.t]
    assert sends == [(b.end, a) for b, a in zip(bodies, after, strict=True)]
    for chunk in chunks:
        assert not any(s < chunk.end and chunk.t < e for s, e in sends)
    # The thread slept most of the time: its stretch is waiting, not running.
    assert [p.phase for p in phases if p.kind == K.SCHED_THREAD] == [WAITING]
    assert (thread.data["cpu_ns"] or 0) < (thread.dur or 0) / 2
    assert RUNNING not in {p.phase for p in phases}


def test_the_replay_draws_the_streamed_response_as_the_figure_does(streamed: Recording) -> None:
    """The replay's request lane has the same sending spans as the figure."""
    req, events = _only_request(streamed)
    model = build_model(streamed)
    (lane,) = [lane for lane in model.by_request if lane.req == req]
    figure = [(p.start, p.end) for p in request_phases(events, model.t_end) if p.phase == SENDING]
    replay = [(s.start, s.end) for s in lane.spans if s.phase == tui_lane.SENDING]
    bodies = [e for e in events if e.kind == K.WSGI_BODY]
    assert replay == figure and len(figure) == len(bodies) >= CHUNKS


def test_the_streamed_lane_is_not_a_blue_bar(streamed: Recording) -> None:
    """The figure: the sending marks together are a sliver of the lane, not its whole width."""
    root = _svg([streamed])
    (lane,) = [g for g in root.iter(f"{NS}g") if g.get("class") == "lane"]
    sending = [
        float(r.get("width", "0"))
        for r in lane.iter(f"{NS}rect")
        if r.get("class") == "phase-sending"
    ]
    waiting = [
        float(r.get("width", "0"))
        for r in lane.iter(f"{NS}rect")
        if r.get("class") == "phase-waiting"
    ]
    bodies = [e for e in streamed.events if e.kind == K.WSGI_BODY]
    assert len(sending) == len(bodies) >= CHUNKS and len(waiting) == 1
    assert sum(sending) < waiting[0] / 4


# -- 3. a client's timeout ------------------------------------------------------------------


def test_the_work_an_app_did_after_its_client_gave_up_is_drawn_to_its_end(
    abandoned: Recording,
) -> None:
    """From the ✖ of the timeout to the app's own end: a dashed waiting line (as Perfetto's
    ``abandoned work``), not a gap before a lone step; the legend says what it is."""
    req, events = _only_request(abandoned)
    first, last = [e for e in events if e.kind == K.REQUEST_END]
    assert first.data["error"] == "timeout" and last.end > first.end
    tail = [p for p in request_phases(events, last.end) if p.kind == K.REQUEST_END]
    assert [(p.start, p.end, p.phase) for p in tail if p.phase == WAITING] == [
        (first.end, last.end, WAITING)
    ]
    root = _svg([abandoned])
    (lane,) = [g for g in root.iter(f"{NS}g") if g.get("data-req") == str(req)]
    (cross,) = [t for t in lane.iter(f"{NS}text") if t.get("class") == "phase-error"]
    (dashed,) = [
        line for line in lane.iter(f"{NS}line") if line.get("class") == "phase-waiting abandoned"
    ]
    assert dashed.get("stroke-dasharray")
    assert float(dashed.get("x1", "0")) == pytest.approx(float(cross.get("x", "0")) + 4, abs=0.2)
    last_step = max(e.end for e in events if e.kind == K.SCHED_STEP)
    steps = [r for r in lane.iter(f"{NS}rect") if r.get("class") == "phase-running"]
    right = max(float(r.get("x", "0")) for r in steps)
    assert float(dashed.get("x2", "0")) >= right  # the late step sits on the line
    assert last_step <= last.end
    assert dict(LEGENDS["en"])["abandoned"] in _legend_texts(root)


# -- 2. grayscale ---------------------------------------------------------------------------


def _luma(color: str) -> float:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b


@pytest.mark.parametrize(
    "pair",
    [
        *itertools.combinations(["queued", "running", "sending", "blocked", "waiting"], 2),
        ("cpu", "waiting"),  # the CPU share is drawn over the waiting bar
    ],
)
def test_phases_printed_in_grayscale_stay_apart(pair: tuple[str, str]) -> None:
    """Each pair of phases a lane draws side by side (and the CPU share over the waiting bar)
    differs in luminance by at least 30 of 255, as a grayscale handout prints them."""
    a, b = pair
    assert abs(_luma(COLORS[a]) - _luma(COLORS[b])) >= 30, pair


@pytest.mark.parametrize("phase", ["queued", "running", "sending", "blocked", "waiting"])
def test_every_phase_still_shows_on_white(phase: str) -> None:
    """Even the lightest (queued) is 50 below the page's white."""
    assert _luma(COLORS[phase]) <= 205


# -- 4. Chinese fonts -----------------------------------------------------------------------


def test_a_chinese_figure_names_a_cjk_font_first_and_its_language() -> None:
    """A renderer that reads only the first family (cairosvg) finds a CJK font; ``xml:lang``
    says the language; an English figure keeps its system font first."""
    demo = run_demo(SCENARIOS["blocking-call"], simulated=True)
    zh = _svg(demo.recordings, lang="zh")
    first = zh.get("font-family", "").split(",")[0].strip("'\" ")
    assert first in ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei")
    assert zh.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh"
    en = _svg(demo.recordings)
    assert en.get("font-family", "").startswith("system-ui")
    assert en.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    page = html_page(demo.recordings, lang="zh")
    assert "font-family: 'Noto Sans CJK SC'" in page


# -- 5. the legend --------------------------------------------------------------------------


def test_the_legend_lists_only_what_the_figure_draws(streamed: Recording) -> None:
    """A WSGI run with no errors, violations, bookmarks, loop or abandoned work: the legend
    has none of them."""
    root = _svg([streamed])
    en = dict(LEGENDS["en"])
    shown = _legend_texts(root)
    assert en["queued"] in shown and en["waiting"] in shown and en["sending"] in shown
    for key in ("blocked", "error", "violation", "bookmark", "incomplete", "abandoned", "running"):
        assert en[key] not in shown, key


def test_the_waiting_swatch_is_drawn_as_the_lanes_draw_it(abandoned: Recording) -> None:
    """An ASGI await is a 1.5 px line: its legend swatch is that line, not a thread's bar."""
    root = _svg([abandoned])
    lines = [line for line in root.iter(f"{NS}line") if line.get("class") == "legend"]
    swatches = {(line.get("stroke"), line.get("stroke-width")) for line in lines}
    assert (COLORS["waiting"], "1.5") in swatches
    en = dict(LEGENDS["en"])
    shown = _legend_texts(root)
    assert en["awaiting"] in shown and en["waiting"] not in shown  # no thread was held


def test_a_demo_with_bookmarks_and_blocks_lists_them() -> None:
    demo = run_demo(SCENARIOS["blocking-call"], simulated=True)
    shown = _legend_texts(_svg(demo.recordings))
    en = dict(LEGENDS["en"])
    assert en["blocked"] in shown and en["bookmark"] in shown


# -- 6. a compare on a slide ----------------------------------------------------------------


def test_a_compare_fits_a_slide_by_default(tmp_path: Path) -> None:
    """Two recordings of 100 requests: COMPARE_LANES lanes each unless --lanes says, and the
    figure is no taller than 16:9 at its width leaves room for."""
    from tracer.export import COMPARE_LANES

    demo = run_demo(SCENARIOS["sync-vs-async"], simulated=True)
    first, second = demo.recordings
    out = tmp_path / "c.svg"
    export_svg(first, ExportOptions(output=str(out), compare=(second,)), lang="en")
    root = ET.fromstring(out.read_text(encoding="utf-8"))
    lanes = [g for g in root.iter(f"{NS}g") if g.get("class") == "lane"]
    assert len(lanes) == 2 * COMPARE_LANES
    assert float(root.get("height", "0")) <= float(root.get("width", "0")) * 9 / 16 + 40
    export_svg(first, ExportOptions(output=str(out)), lang="en")
    one = ET.fromstring(out.read_text(encoding="utf-8"))
    assert len([g for g in one.iter(f"{NS}g") if g.get("class") == "lane"]) == MAX_LANES


def test_an_axis_that_starts_late_labels_its_left_edge() -> None:
    """From 55 ms to 855 ms: the left edge says 55 ms, then the round ticks (the 100 ms one,
    too close to it, without its label); none at 0."""
    parts = axis(0, 1000, (55_000_000, 855_000_000))
    labels = [ET.fromstring(f"<g>{p}</g>").find("text") for p in parts[1:]]
    said = [(t.text, t.get("text-anchor"), t.get("x")) for t in labels if t is not None]
    assert said[0] == ("55 ms", "start", "70.0")
    assert [text for text, _, _ in said[1:3]] == ["200 ms", "300 ms"]
    ticks = [p for p in parts[1:] if "<line" in p]
    assert len(ticks) == 9  # 55 ms, then every 100 ms to 800 ms


# -- 7. long titles -------------------------------------------------------------------------


def test_a_long_title_is_shortened_in_the_middle_and_keeps_its_end() -> None:
    """Two runs of one app with a long name: each heading fits the figure and still ends
    with the file name that tells them apart; the whole title is its tooltip."""
    demo = run_demo(SCENARIOS["sync-vs-async"], simulated=True)
    long = demo.recordings[0]
    long.header["app"] = "an_extremely_long_module_name_" * 6 + ":app"
    long.header.pop("demo", None)
    before = Recording(dict(long.header), list(long.events), path="/x/before-run.jsonl")
    after = Recording(dict(long.header), list(long.events), path="/x/after-run.jsonl")
    root = _svg([before, after])
    headings = [t for t in root.iter(f"{NS}text") if t.get("class") == "heading"]
    assert len(headings) == 2
    for heading, name in zip(headings, ("before-run.jsonl", "after-run.jsonl"), strict=True):
        (tip,) = heading.iter(f"{NS}title")
        shown = tip.tail or ""
        assert "…" in shown and shown.endswith(f"({name})")
        assert text_width(shown, 15) <= 1200 - 4
        assert "an_extremely" in (tip.text or "") and (tip.text or "").endswith(f"({name})")
    page = html_page([before, after])
    assert re.search(r"h1 \{[^}]*overflow-wrap: anywhere", page)


# -- 8. the words ---------------------------------------------------------------------------


def test_axis_labels_read_as_the_tooltips_do() -> None:
    """The origin is "0"; a unit is spaced as the tooltips space it; Chinese says 毫秒."""

    def labels(lang: str) -> list[str | None]:
        parts = axis(0, 600, (0, 400_000_000), lang)
        found = [ET.fromstring(f"<g>{p}</g>").find("text") for p in parts[1:]]
        return [t.text for t in found if t is not None]

    assert labels("en")[:3] == ["0", "50 ms", "100 ms"]
    assert labels("zh")[:3] == ["0", "50 毫秒", "100 毫秒"]


def test_a_page_of_one_recording_says_its_title_once(streamed: Recording) -> None:
    """The page's heading is the recording's title: the figure does not say it again (a
    compare's figure heads each recording)."""
    page = html_page([streamed])
    title = streamed.title_in("en")
    assert f"<h1>{title}</h1>" in page
    figure = page[page.index("<figure>") : page.index("</figure>")]
    assert title not in figure and 'class="heading"' not in figure
    compare = html_page([streamed, streamed])
    assert compare.count('class="heading"') == 2


def test_a_wsgi_run_on_threads_has_no_loop_to_block(streamed: Recording) -> None:
    """The summary table says "–" for the loop's blocking of a WSGI app on threads."""
    page = html_page([streamed])
    assert re.search(r"loop blocked \(ms\)</th><td>–</td>", page)
