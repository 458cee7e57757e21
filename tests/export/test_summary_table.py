"""``--to html``: the summary table's figures (small ones readable, missing ones "–") and a
recording without requests (said, not drawn as a bare axis)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tracer import events as K
from tracer.cli import main
from tracer.export.html import SUMMARY_ROWS
from tracer.export.svg import timeline_svg
from tracer.recorder import Recorder
from tracer.recording import load

NS = "{http://www.w3.org/2000/svg}"
MS = 1_000_000


def _table(page: str) -> dict[str, list[str]]:
    """The summary table: row label -> its cells."""
    table = page[page.index("<table>") : page.index("</table>")]
    rows = re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', table)
    return {label: re.findall(r"<td>(.*?)</td>", cells) for label, cells in rows}


def _short_run(path: Path) -> str:
    """Three requests over 6 ms (each 0.25 ms in the app, queued 0.125 ms), saved at ``path``."""
    rec = Recorder(start_ns=0, clock=lambda: 0, app="quick:app", interface="wsgi")
    for req, at in ((1, 0), (2, 3 * MS), (3, 6 * MS - 375_000)):
        rec.emit(K.REQUEST_QUEUED, req, {"method": "GET", "path": "/"}, t=at)
        rec.emit(K.REQUEST_START, req, {"method": "GET", "path": "/"}, t=at + 125_000)
        rec.emit(K.WSGI_START_RESPONSE, req, {"status": 200}, t=at + 200_000)
        rec.emit(K.REQUEST_END, req, {"status": 200}, t=at + 375_000)
    return rec.save(path)


def _page(recording: str, tmp_path: Path, *options: str) -> str:
    out = tmp_path / "page.html"
    assert main(["export", recording, "--to", "html", "-o", str(out), *options]) == 0
    return out.read_text(encoding="utf-8")


def test_small_figures_keep_their_digits(tmp_path: Path) -> None:
    """A 6 ms run: wall time 0.006 s, not "0.0"; 0.375 ms latencies and 0.125 ms queueing
    as they are (three requests measure no p99: "–"); large figures keep their one decimal."""
    table = _table(_page(_short_run(tmp_path / "quick.jsonl"), tmp_path))
    assert table["wall time (s)"] == ["0.006"]
    assert table["latency p50 (ms)"] == ["0.375"] and table["latency p99 (ms)"] == ["–"]
    assert table["queued p50 (ms)"] == ["0.125"]
    assert table["requests per second"] == ["500.0"]
    # A WSGI app on no event loop: there is no loop to block ("–", not "0.0").
    assert table["requests"] == ["3"] and table["loop blocked (ms)"] == ["–"]


@pytest.mark.parametrize(
    "value, shown",
    [(0.0, "0.0"), (0.006, "0.006"), (0.16, "0.16"), (3.0, "3.0"), (1.234, "1.23"),
     (12.34, "12.3"), (6954.4, "6,954.4"), (0.000123, "0.000123"), (-0.05, "-0.05")],
)  # fmt: skip
def test_number_gives_three_significant_digits_below_ten(value: float, shown: str) -> None:
    """The rule the table and the lane tooltips write figures by."""
    from tracer.export.numbers import number

    assert number(value) == shown


def _empty(path: Path) -> str:
    """A recording of a run that served nothing: its header and no event."""
    return Recorder(app="idle:app", interface="asgi", server={"model": "loop"}).save(path)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_empty_recording_says_so(tmp_path: Path, lang: str) -> None:
    """No requests: the figure says "no requests recorded" (no bare "0µs" axis, no legend of
    phases nothing shows) and the table gives "–" for the figures there are none of."""
    page = _page(_empty(tmp_path / "idle.jsonl"), tmp_path, "--lang", lang)
    svg = page[page.index("<svg") : page.index("</svg>") + len("</svg>")]
    texts = ["".join(t.itertext()) for t in ET.fromstring(svg).iter("text")]
    note = {"en": "no requests recorded", "zh": "没有记录到请求"}[lang]
    assert note in texts
    assert not any(t.endswith(("µs", "ms", "s")) and t[0].isdigit() for t in texts)
    assert not any(t in ("queued", "排队") for t in texts)
    # The rows in SUMMARY_ROWS order, by key (the labels are in the page's language).
    rows = dict(zip([key for key, _, _ in SUMMARY_ROWS], _table(page).values(), strict=True))
    assert rows["requests"] == ["0"] and rows["violations"] == ["0"]
    for key in ("rps", "latency_ms.p50", "latency_ms.p99", "queue_ms.p50", "wall_s"):
        assert rows[key] == ["–"], key


def test_an_empty_recording_beside_a_full_one(tmp_path: Path) -> None:
    """Compared with a run that has requests: the axis and legend stay for the full one, the
    empty one's block holds the note and no lane."""
    full = load(_short_run(tmp_path / "quick.jsonl"))
    empty = load(_empty(tmp_path / "idle.jsonl"))
    root = ET.fromstring(timeline_svg([full, empty]))
    texts = ["".join(t.itertext()) for t in root.iter(f"{NS}text")]
    assert texts.count("no requests recorded") == 1 and "queued" in texts
    assert [g.get("data-req") for g in root.iter(f"{NS}g") if g.get("class") == "lane"] == [
        "1",
        "2",
        "3",
    ]
