"""A recording cut short (the run was killed: the file ends mid-line) holds requests that never
ended. Such a request is drawn only as far as its events go, waiting after its last one, by the
shared phase rule (``tracer.phases``), so in the SVG/HTML figures and in the replay alike; the
figures mark it with a ``?`` and explain the mark in their legend.

The recording is a real run of a WSGI app on the threads model; the cut keeps a request's
``request.start`` and drops its ``sched.thread`` and ``request.end``.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tracer import events as K
from tracer.cli import main
from tracer.events import Event
from tracer.export.legend import LEGENDS
from tracer.phases import QUEUED, RUNNING, WAITING, PhaseSpan, request_phases
from tracer.recording import load
from tracer.tui import lane as tui_lane
from tracer.tui.model import build_model

pytestmark = pytest.mark.timeout(60)

APP = "sample_apps.io_bound:wsgi_app"
RUN = ["-n", "8", "-c", "4", "--server", "threads", "--path", "/?ms=20", "--headless"]
"""Eight requests of 20 ms, four at a time, on worker threads: requests start while others run."""

SVG = "{http://www.w3.org/2000/svg}"


def _cut(full: str, cut: Path) -> int:
    """Write ``full`` cut short into ``cut``, as a killed run leaves it: the lines up to the
    first later event of the request that waited longest for one after its ``request.start``,
    then half of that line. Returns that request: started, with nothing else of it kept."""
    lines = Path(full).read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines[1:]]
    best, req, at = 0, -1, -1
    for i, event in enumerate(events):
        if event["kind"] != K.REQUEST_START:
            continue
        nxt = next(j for j in range(i + 1, len(events)) if events[j]["req"] == event["req"])
        if nxt - i > best:
            best, req, at = nxt - i, event["req"], nxt
    assert best > 1, "no other request's event between a start and that request's next event"
    kept = lines[: at + 1]  # the header, then events[:at]
    cut.write_text("\n".join(kept) + "\n" + lines[at + 1][: len(lines[at + 1]) // 2], "utf-8")
    return req


def unended(events: list[Event]) -> bool:
    """Nothing of the request says it ended: no ``request.end``, no ``client.response``."""
    return not any(e.kind in (K.REQUEST_END, K.CLIENT_RESPONSE) for e in events)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, int]:
    """(the whole run, the run cut short, the request whose start is the last of it kept)."""
    folder = tmp_path_factory.mktemp("unended")
    full = str(folder / "run.jsonl")
    assert main(["run", APP, *RUN, "--record", full]) == 0
    cut = folder / "cut.jsonl"
    return full, str(cut), _cut(full, cut)


def test_a_request_cut_short_waits_after_its_last_event(recordings: tuple[str, str, int]) -> None:
    """Its start is its last event: queued until then, then waiting up to the recording's end,
    never running (no thread stretch says it ran)."""
    _, cut, req = recordings
    recording = load(cut)
    events = recording.requests()[req]
    assert [e.kind for e in events] == [K.REQUEST_QUEUED, K.REQUEST_START]
    queued, start = events
    t_end = max(e.end for e in recording.events)
    assert start.t < t_end
    assert unended(events)
    assert request_phases(events, t_end) == [
        PhaseSpan(start.t, t_end, WAITING),
        PhaseSpan(queued.t, start.t, QUEUED),
    ]


def test_a_whole_request_is_drawn_as_before(recordings: tuple[str, str, int]) -> None:
    """The same request in the whole recording ended: its thread's stretch runs, and no part of
    its life is left to waiting by the rule for unended requests."""
    full, _, req = recordings
    recording = load(full)
    events = recording.requests()[req]
    assert not unended(events)
    t_end = max(e.end for e in recording.events)
    phases = {span.phase for span in request_phases(events, t_end) if span.kind is None}
    assert phases == {QUEUED, WAITING}  # scheduled (sched.thread): waiting under its stretches
    (thread,) = [span for span in request_phases(events, t_end) if span.kind == K.SCHED_THREAD]
    assert thread.phase in (RUNNING, WAITING)


def test_the_replay_draws_the_cut_request_as_the_figures_do(
    recordings: tuple[str, str, int],
) -> None:
    """The replay's lane of the cut request is queued, then waiting: not running."""
    _, cut, req = recordings
    model = build_model(load(cut))
    (lane,) = [lane for lane in model.by_request if lane.req == req]
    assert [tui_lane.PHASE_NAMES[span.phase] for span in lane.spans] == ["queued", "waiting"]


def _lanes(svg: ET.Element) -> dict[int, ET.Element]:
    return {
        int(g.attrib["data-req"]): g for g in svg.iter(f"{SVG}g") if g.attrib.get("class") == "lane"
    }


def _classes(lane: ET.Element) -> set[str]:
    return {el.attrib.get("class", "") for el in lane.iter()}


def test_the_svg_marks_unended_requests_and_says_so_in_its_legend(
    recordings: tuple[str, str, int], tmp_path: Path
) -> None:
    """Every lane of a request with no end has the ``?`` mark (with its tooltip) and no running
    bar when it has no thread stretch; ended lanes have no mark; the legend explains it."""
    _, cut, req = recordings
    out = tmp_path / "cut.svg"
    assert main(["export", cut, "--to", "svg", "-o", str(out)]) == 0
    svg = ET.fromstring(out.read_text(encoding="utf-8"))
    requests = load(cut).requests()
    lanes = _lanes(svg)
    assert set(lanes) == set(requests)
    open_ = {r for r, events in requests.items() if unended(events)}
    assert req in open_ and open_ != set(requests)
    for r, lane in lanes.items():
        assert ("incomplete" in _classes(lane)) == (r in open_), r
    classes = _classes(lanes[req])
    assert "phase-running" not in classes and {"phase-waiting", "incomplete-mark"} <= classes
    (mark,) = [g for g in lanes[req].iter(f"{SVG}g") if g.attrib.get("class") == "incomplete"]
    assert mark.findtext(f"{SVG}title") == "not finished: nothing was recorded of it after this"
    legend = [t.text for t in svg.iter(f"{SVG}text")]
    assert dict(LEGENDS["en"])["incomplete"] in legend


def test_the_html_page_says_it_in_chinese_too(
    recordings: tuple[str, str, int], tmp_path: Path
) -> None:
    """The page embeds the figure: the mark and, in the page's language, its legend entry."""
    _, cut, _ = recordings
    out = tmp_path / "cut.html"
    assert main(["export", cut, "--to", "html", "--lang", "zh", "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert 'class="incomplete-mark"' in page and dict(LEGENDS["zh"])["incomplete"] in page


def test_a_figure_with_every_request_ended_has_no_such_entry(
    recordings: tuple[str, str, int], tmp_path: Path
) -> None:
    """The whole run: no mark, and the legend does not explain one."""
    full, _, _ = recordings
    out = tmp_path / "full.svg"
    assert main(["export", full, "--to", "svg", "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "incomplete" not in text and dict(LEGENDS["en"])["incomplete"] not in text
