"""``--to html|svg``: protocol violations are marked on their request's lane, as the replay's ``!``.

The recording is made by ``trace run`` of a raw WSGI app that breaks two rules on ``/bad`` (no
Content-Type, 5 of 10 declared bytes) and none on ``/ok``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_html import _assert_self_contained

from tracer import events as K
from tracer.cli import main
from tracer.export.svg import timeline_svg
from tracer.recording import load

NS = "{http://www.w3.org/2000/svg}"

APP = """
def app(environ, start_response):
    if environ["PATH_INFO"] == "/ok":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    start_response("200 OK", [("Content-Length", "10")])  # no Content-Type, 5 of 10 bytes
    return [b"short"]
"""


@pytest.fixture(scope="module")
def violations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten requests, /bad and /ok in turn, through ``trace run`` (WSGI threads, in process)."""
    folder = tmp_path_factory.mktemp("viol")
    (folder / "fxl_violating_app.py").write_text(APP, encoding="utf-8")
    path = folder / "v.jsonl"
    argv = ["run", "fxl_violating_app:app", "--app-dir", str(folder), "-c", "2", "-n", "10"]
    argv += ["--path", "/bad", "--path", "/ok", "--headless", "--record", str(path)]
    assert main(argv) == 0
    return path


def _bad_requests(path: Path) -> dict[int, list[str]]:
    """Each request that broke a rule -> its rule ids, from the recording itself."""
    found: dict[int, list[str]] = {}
    for e in load(str(path)).events:
        if e.kind == K.VIOLATION and e.req is not None:
            found.setdefault(e.req, []).append(e.data["rule"])
    return found


def _marks(root: ET.Element) -> dict[str, list[ET.Element]]:
    """data-req of each lane -> the violation marks drawn on it."""
    return {
        str(g.get("data-req")): [m for m in g.iter(f"{NS}g") if m.get("class") == "violation"]
        for g in root.iter(f"{NS}g")
        if g.get("class") == "lane"
    }


def test_each_violation_is_marked_on_its_lane_with_its_rules(violations: Path) -> None:
    """Five /bad requests broke WSGI-016 and WSGI-020 at one instant: one mark each, on its
    lane, inside the lane's drawn span, its rules in data-rules and its ``<title>``; the
    five /ok lanes have none."""
    bad = _bad_requests(violations)
    assert len(bad) == 5 and all(sorted(r) == ["WSGI-016", "WSGI-020"] for r in bad.values())
    out = violations.with_suffix(".svg")
    assert main(["export", str(violations), "--to", "svg", "-o", str(out)]) == 0
    marks = _marks(ET.parse(out).getroot())
    assert len(marks) == 10
    for req, found in marks.items():
        if int(req) not in bad:
            assert found == [], req
            continue
        (mark,) = found
        assert mark.get("data-rules") == "WSGI-016 WSGI-020"
        tip = "".join(mark.find(f"{NS}title").itertext())  # type: ignore[union-attr]
        assert tip.splitlines() == [
            "WSGI-016: no Content-Type header on a response with a body",
            "WSGI-020: fewer body bytes than Content-Length: sent 5, declared 10",
        ]
        assert "".join(mark.find(f"{NS}text").itertext()) == "!"  # type: ignore[union-attr]


def test_a_mark_sits_at_the_violations_time_on_the_lane(violations: Path) -> None:
    """The mark is centred where the violation happened: after the request's start and no
    later than its end (the phases drawn before it on its lane)."""
    root = ET.fromstring(timeline_svg([load(str(violations))]))
    marked = {req: found for req, found in _marks(root).items() if found}
    assert len(marked) == 5
    for req, found in marked.items():
        lane = next(g for g in root.iter(f"{NS}g") if g.get("data-req") == req)
        phases = [r for r in lane.iter(f"{NS}rect") if (r.get("class") or "").startswith("phase")]
        (box,) = [r for r in found[0].iter(f"{NS}rect")]
        centre = float(box.get("x", "0")) + float(box.get("width", "0")) / 2
        start = min(float(r.get("x", "0")) for r in phases)
        end = max(float(r.get("x", "0")) + float(r.get("width", "0")) for r in phases)
        # Positions are written to 0.1 px: a mark at the lane's very end may round past it.
        assert start - 0.5 <= centre <= end + 0.5, (req, start, centre, end)


@pytest.mark.parametrize("lang, text", [("en", "protocol violation"), ("zh", "协议违规")])
def test_the_legend_names_the_mark(violations: Path, lang: str, text: str) -> None:
    """The legend shows the mark (the gold box with its "!") and names it in the figure's
    language."""
    root = ET.fromstring(timeline_svg([load(str(violations))], lang=lang))
    texts = ["".join(t.itertext()) for t in root.iter(f"{NS}text")]
    assert text in texts
    in_lanes = {id(r) for g in root.iter(f"{NS}g") for r in g.iter(f"{NS}rect")}
    legend = [r for r in root.iter(f"{NS}rect") if id(r) not in in_lanes]
    assert any(r.get("class") == "violation-mark" for r in legend)


def test_the_page_marks_them_too_and_stays_self_contained(violations: Path) -> None:
    """The HTML page's figure holds the same five marks and legend entry, nothing external."""
    out = violations.with_suffix(".html")
    assert main(["export", str(violations), "--to", "html", "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    _assert_self_contained(page)
    assert page.count('<g class="violation" data-rules="WSGI-016 WSGI-020">') == 5
    assert ">protocol violation</text>" in page
