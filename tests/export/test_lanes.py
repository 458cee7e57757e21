"""``tracer.export.lanes``: one request's lane of the figure, drawn on its own."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from export_recordings import two_requests

from tracer import events as K
from tracer.events import Event
from tracer.export.lanes import lane, violations
from tracer.recording import load
from tracer.summary import request_spans


def _lane(path: Path, req: int, lang: str = "en") -> ET.Element:
    """Request ``req`` of ``two_requests`` as its ``<g>``, 10 ns a pixel from the origin."""
    recording = load(two_requests(path))
    events = recording.requests()[req]
    span = request_spans(recording.events)[req]
    parts = lane(
        req, events, span, x=lambda t: t / 10, y=0, scale=0.1, end=5_000, right=1_000, lang=lang
    )
    return ET.fromstring("".join(parts))


def test_a_lane_is_its_tooltip_number_and_phases_in_paint_order(tmp_path: Path) -> None:
    """GET /items: the tooltip, the request number, then its phases under the sends (two
    sends of 10 ns: hairlines)."""
    g = _lane(tmp_path / "a.jsonl", 1)
    assert (g.get("class"), g.get("data-req")) == ("lane", "1")
    assert [child.tag for child in g][:2] == ["title", "text"]
    assert g[0].text == "#1 GET /items: 200, 0.21 µs"
    assert g[1].text == "#1"
    marks = [(child.tag, child.get("class"), child.get("x") or child.get("x1")) for child in g][2:]
    assert marks == [
        ("line", "phase-waiting", "100.0"),
        ("rect", "phase-running", "100.0"),
        ("rect", "phase-sending", "110.0"),
        ("rect", "phase-sending", "120.0"),
    ]


def test_an_error_is_a_cross_and_the_tooltip_speaks_the_language(tmp_path: Path) -> None:
    """GET /fail raised: a ✖ where it did, on top of its running step; the tooltip in Chinese."""
    g = _lane(tmp_path / "a.jsonl", 2, lang="zh")
    assert g[0].text == "#2 GET /fail：500，1.0 微秒"
    assert [(child.get("class"), child.text) for child in g][2:] == [
        ("phase-running", None),
        ("phase-error", "✖"),
    ]


def test_violations_closer_than_a_mark_share_one() -> None:
    """Two violations 5 px apart are one mark with both rules; one further on has its own."""

    def violation(t: int, rule: str) -> Event:
        return Event(
            seq=t, t=t, kind=K.VIOLATION, req=1, data={"rule": rule, "message": "m " + rule}
        )

    found = [violation(1_000, "ASGI-001"), violation(1_050, "ASGI-002"), violation(2_000, "X")]
    marks = [ET.fromstring(part) for part in violations(found, lambda t: t / 10, 0)]
    assert [m.get("data-rules") for m in marks] == ["ASGI-001 ASGI-002", "X"]
    assert marks[0][0].text == "ASGI-001: m ASGI-001\nASGI-002: m ASGI-002"
