"""Exports of recordings whose strings are hostile: control characters, lone surrogates and
bidi overrides in file names and data, and strings of a megabyte."""

from __future__ import annotations

import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from export_recordings import two_requests

from tracer import events as K
from tracer.cli import main
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)

MEGABYTE = 1_000_000


def _svg_of(page: str) -> str:
    """The inline ``<svg>`` element of an HTML page (the page itself is HTML, not XML)."""
    found = re.search(r"<svg.*</svg>", page, re.S)
    assert found is not None
    return found.group()


@pytest.mark.parametrize(
    "name", [b"a\x1b[31m\x07.jsonl", b"a\xff\xfe.jsonl", "a\u202e\x85.jsonl".encode()]
)
def test_a_compare_told_apart_by_a_hostile_file_name_is_well_formed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: bytes
) -> None:
    """Two recordings with one title are told apart by file name: one holding ESC and BEL,
    bytes that are no UTF-8 (read as lone surrogates) or a bidi override and a C1 control
    is shown escaped, and the SVG figure and the page's figure parse as XML."""
    run = two_requests(tmp_path / "b.jsonl")
    hostile = os.path.join(os.fsencode(tmp_path), name)
    shutil.copyfile(run, hostile)
    first = os.fsdecode(hostile)
    svg, html = tmp_path / "fig.svg", tmp_path / "fig.html"
    assert main(["export", first, run, "--to", "svg", "-o", str(svg)]) == 0
    assert main(["export", first, run, "--to", "html", "-o", str(html)]) == 0
    capsys.readouterr()
    root = ET.parse(svg).getroot()
    titles = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert any(t.endswith("(b.jsonl)") for t in titles)
    page = html.read_text(encoding="utf-8")
    ET.fromstring(_svg_of(page))
    for text in (svg.read_text(encoding="utf-8"), page):
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202e\ud800-\udfff]", text)


def _long_strings(path: Path, path_chars: int, label_chars: int) -> str:
    """One request for a path of ``path_chars`` characters and a bookmark labelled with
    ``label_chars``, violation message and all as long."""
    rec = Recorder(
        start_ns=0, clock=lambda: 0, app="app", interface="asgi", server={"model": "loop"}
    )
    long_path = "/" + "p" * path_chars
    rec.emit(K.REQUEST_START, 1, {"method": "GET", "path": long_path}, t=1_000)
    rec.emit(K.SCHED_STEP, 1, {"cpu_ns": 10}, t=1_000, dur=500)
    rec.emit(K.ASGI_SEND, 1, {"type": "http.response.start", "status": 200}, t=1_100, dur=10)
    rec.emit(K.VIOLATION, 1, {"rule": "HTTP-001", "message": "m" * path_chars}, t=1_200)
    rec.emit(K.MARK, None, {"label": "L" * label_chars, "caption": "c" * path_chars}, t=1_300)
    rec.emit(K.REQUEST_END, 1, {"status": 200}, t=2_000)
    return rec.save(path)


@pytest.mark.parametrize("target", ["svg", "html"])
def test_a_megabyte_path_makes_a_small_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    """A path and a violation message of a megabyte each reach the figure cut short with
    "…" (its start and end), in its lane's tooltip: the figure stays a few kilobytes."""
    run = _long_strings(tmp_path / "long.jsonl", MEGABYTE, 3_000)
    out = tmp_path / f"fig.{target}"
    assert main(["export", run, "--to", target, "-o", str(out)]) == 0
    capsys.readouterr()
    text = out.read_text(encoding="utf-8")
    assert len(text) < 40_000, len(text)
    assert "#1 GET /ppp" in text and "ppp…ppp" in text
    ET.fromstring(text if target == "svg" else _svg_of(text))


def test_a_megabyte_path_is_named_once_in_the_perfetto_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A request's slices are named with its path cut short; its whole path stays in the
    args of the slice showing its start, so the trace is about as big as the recording
    (it was several times that: the name repeated on every slice)."""
    run = _long_strings(tmp_path / "long.jsonl", MEGABYTE, 10)
    out = tmp_path / "trace.json"
    assert main(["export", run, "--to", "perfetto", "-o", str(out)]) == 0
    capsys.readouterr()
    trace = json.loads(out.read_bytes())
    names = [e["name"] for e in trace["traceEvents"] if "name" in e]
    assert max(len(name) for name in names) <= 320  # "#1 " and the cut label
    assert any(name.startswith("GET /ppp") and "…" in name for name in names)
    whole = "/" + "p" * MEGABYTE
    assert any(e.get("args", {}).get("path") == whole for e in trace["traceEvents"])
    assert out.stat().st_size < 1.2 * Path(run).stat().st_size


def test_perfetto_on_stdout_escapes_c1_and_bidi_controls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bookmark label holding a C1 control (CSI), bidi overrides and isolates and a line
    separator reaches stdout as ``\\u`` escapes: the same JSON string, nothing a terminal
    obeys."""
    loud = "a\x9b31m\x85\u202e\u2066\u200f\u061c\u2028z"
    rec = Recorder(
        start_ns=0, clock=lambda: 0, app="app", interface="asgi", server={"model": "loop"}
    )
    rec.emit(K.MARK, None, {"label": loud}, t=1_000)
    run = rec.save(tmp_path / "loud.jsonl")
    assert main(["export", run, "--to", "perfetto", "-o", "-"]) == 0
    out = capsys.readouterr().out
    assert not re.search("[\x80-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]", out)
    assert "\\u009b31m\\u0085\\u202e\\u2066\\u200f\\u061c\\u2028" in out
    labels = [e["name"] for e in json.loads(out)["traceEvents"] if e.get("cat") == K.MARK]
    assert labels == [loud]
