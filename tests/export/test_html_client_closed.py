"""``--to html`` on a file: responses the client stopped reading on purpose (``trace run
--read-for``) get their own row, as the summary counts them (never "cut short", though the
server's end says so too); each percentile is judged by the sample that measures it, counted
while the file is read (``RunFacts.samples``), not by an upper bound."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tracer
from tracer import events as K
from tracer.cli import main
from tracer.recorder import Recorder
from tracer.recording import load

pytestmark = pytest.mark.timeout(120)

REAL_APPS = str(Path(__file__).resolve().parent.parent / "servers" / "real")
"""Where ``real_streams`` lives: a WSGI generator streaming its chunks slowly."""
MS = 1_000_000


def _table(page: str) -> dict[str, list[str]]:
    """The summary table: row label -> its cells."""
    table = page[page.index("<table>") : page.index("</table>")]
    rows = re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', table)
    return {label: re.findall(r"<td>(.*?)</td>", cells) for label, cells in rows}


def _cli_page(recording: str, tmp_path: Path, *options: str) -> str:
    """The page ``trace export --to html`` writes (the file read in two passes)."""
    out = tmp_path / "page.html"
    assert main(["export", recording, "--to", "html", "-o", str(out), *options]) == 0
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def left_streams(tmp_path_factory: pytest.TempPathFactory) -> str:
    """waitress, two streams the client left 0.2 s after their first byte: each end says
    ``cut_short``, each ``client.response`` ``client_closed: "read-for"``."""
    pytest.importorskip("waitress")
    path = tmp_path_factory.mktemp("left") / "run.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "run", "real_streams:wsgi_stream", "--server",
         "waitress", "--app-dir", REAL_APPS, "-c", "1", "-n", "2", "--read-for", "0.2s",
         "--timeout", "10s", "--json", "--record", str(path)],
        capture_output=True, text=True, timeout=100,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    events = load(path).events
    assert [e.data.get("cut_short") for e in events if e.kind == K.REQUEST_END] == [True, True]
    assert [e.data.get("client_closed") for e in events if e.kind == K.CLIENT_RESPONSE] == [
        "read-for",
        "read-for",
    ]
    return str(path)


@pytest.mark.parametrize(
    ("lang", "closed", "cut"),
    [("en", "closed by client", "cut short"), ("zh", "客户端主动关闭", "截断")],
)
def test_streams_left_on_purpose_are_closed_by_the_client(
    left_streams: str, tmp_path: Path, lang: str, closed: str, cut: str
) -> None:
    """A row of 2 after the errors (0), and no "cut short" row: the summary's own keys."""
    summary = tracer.summarize(load(left_streams))
    assert summary["client_closed"] == 2 and "cut_short" not in summary
    table = _table(_cli_page(left_streams, tmp_path, "--lang", lang))
    labels = list(table)
    assert table[closed] == ["2"]
    assert labels[labels.index(closed) - 1] == ("错误" if lang == "zh" else "errors")
    assert cut not in table


def _run(requests: int, queued: int, path: Path) -> str:
    """``requests`` requests 1 ms apart, each 0.5 ms in the app; the first ``queued`` of them
    queued 0.25 ms before their start. Saved at ``path``."""
    rec = Recorder(start_ns=0, clock=lambda: 0, app="quick:app", interface="wsgi")
    for req in range(1, requests + 1):
        at = req * MS
        if req <= queued:
            rec.emit(K.REQUEST_QUEUED, req, {"method": "GET", "path": "/"}, t=at - MS // 4)
        rec.emit(K.REQUEST_START, req, {"method": "GET", "path": "/"}, t=at)
        rec.emit(K.REQUEST_END, req, {"status": 200}, t=at + MS // 2)
    return rec.save(path)


def test_a_file_judges_the_queue_p50_by_the_requests_that_queued(tmp_path: Path) -> None:
    """100 requests, one queued, exported from the file: the queue's p50 (one value) is "–",
    not the figure an upper bound of 100 would let through; the latency's p99 is measured."""
    table = _table(_cli_page(_run(100, 1, tmp_path / "run.jsonl"), tmp_path))
    assert table["latency p50 (ms)"] == ["0.5"] and table["latency p99 (ms)"] == ["0.503"]
    assert table["queued p50 (ms)"] == ["–"]


def test_a_file_judges_the_latency_by_the_requests_that_arrived_and_finished(
    tmp_path: Path,
) -> None:
    """100 requests of which 99 have only a ``client.response`` (a refused connection the
    client alone saw: finished, with no arrival): one latency value, no p50."""
    rec = Recorder(start_ns=0, clock=lambda: 0, app="quick:app", interface="wsgi")
    rec.emit(K.REQUEST_START, 1, {"method": "GET", "path": "/"}, t=MS)
    rec.emit(K.REQUEST_END, 1, {"status": 200}, t=2 * MS)
    for req in range(2, 101):
        rec.emit(
            K.CLIENT_RESPONSE,
            req,
            {"status": None, "ttfb_ns": None, "total_ns": MS, "bytes": 0, "error": "refused"},
            t=req * MS,
            dur=MS,
        )
    saved = rec.save(tmp_path / "run.jsonl")
    summary = tracer.summarize(load(saved))
    assert (summary["requests"], summary["completed"]) == (100, 100)
    table = _table(_cli_page(saved, tmp_path))
    assert table["latency p50 (ms)"] == ["–"]
