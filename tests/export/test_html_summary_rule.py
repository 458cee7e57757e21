"""``--to html``'s summary table says what the report says: a latency or queueing percentile
only of a sample that measures it (``tracer.report.measures``), responses cut short counted,
a failed lifespan named with the app's words."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator

from tracer import events as K
from tracer.cli import main
from tracer.export.html import html_page
from tracer.recorder import Recorder
from tracer.recording import Recording, load
from tracer.shim.asgi import AsgiShim
from tracer.shim.wsgi import WsgiShim

pytestmark = pytest.mark.timeout(120)

MS = 1_000_000


def _table(page: str) -> dict[str, list[str]]:
    """The summary table: row label -> its cells."""
    table = page[page.index("<table>") : page.index("</table>")]
    rows = re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', table)
    return {label: re.findall(r"<td>(.*?)</td>", cells) for label, cells in rows}


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


def _cli_page(recording: str, tmp_path: Path, *options: str) -> str:
    """The page ``trace export --to html`` writes (the file read in two passes)."""
    out = tmp_path / "page.html"
    assert main(["export", recording, "--to", "html", "-o", str(out), *options]) == 0
    return out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("requests", "p50", "p99"),
    [(1, False, False), (2, True, False), (99, True, False), (100, True, True)],
)
def test_the_latency_p99_needs_a_hundred_requests(
    tmp_path: Path, requests: int, p50: bool, p99: bool
) -> None:
    """p50 from 2 values, p99 from 100: of fewer, "–" (as the report's "-"), read from the
    file as ``trace export`` reads it and from a loaded recording alike."""
    saved = _run(requests, requests, tmp_path / "run.jsonl")
    for page in (_cli_page(saved, tmp_path), html_page([load(saved)])):
        table = _table(page)
        assert table["latency p50 (ms)"] == ["0.75" if p50 else "–"]
        assert table["latency p99 (ms)"] == ["0.75" if p99 else "–"]
        assert table["queued p50 (ms)"] == ["0.25" if p50 else "–"]


def test_the_queue_p50_is_judged_by_the_requests_that_queued(tmp_path: Path) -> None:
    """100 requests, one queued: the latency's percentiles are measured, the queue's p50 (one
    value) is not."""
    table = _table(html_page([load(_run(100, 1, tmp_path / "run.jsonl"))]))
    assert table["latency p50 (ms)"] == ["0.5"] and table["latency p99 (ms)"] == ["0.503"]
    assert table["queued p50 (ms)"] == ["–"]


def test_a_compare_judges_each_recording_by_its_own_sample(tmp_path: Path) -> None:
    """100 requests beside 3: p99 for the first, "–" for the second."""
    many = _run(100, 100, tmp_path / "many.jsonl")
    few = _run(3, 3, tmp_path / "few.jsonl")
    page = _cli_page(many, tmp_path, few)
    assert _table(page)["latency p99 (ms)"] == ["0.75", "–"]


def _three_chunks(environ: Any, start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"a"
    yield b"b"
    yield b"c"


def _wsgi_run(cut: tuple[bool, ...], app: str = "streams:app") -> Recording:
    """One request through the WSGI shim per item of ``cut``, served by hand as a server does:
    read to its end, or (True) closed after its first chunk (the server gave up on it)."""
    rec = Recorder(app=app, interface="wsgi")
    shim = WsgiShim(_three_chunks, recorder=rec)
    for early in cut:
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/stream", "wsgi.input": None}
        body = shim(environ, lambda status, headers, exc_info=None: None)
        try:
            for taken, _chunk in enumerate(body, 1):
                if early and taken == 1:
                    break
        finally:
            body.close()
    return rec.recording()


@pytest.mark.parametrize(("lang", "word"), [("en", "cut short"), ("zh", "截断")])
def test_responses_cut_short_get_a_row_after_the_errors(lang: str, word: str) -> None:
    """Two of three cut short beside a run with none: a row after the errors, 2 and 0; two
    runs with none have no such row."""
    cut, whole = _wsgi_run((True, False, True)), _wsgi_run((False,), "whole:app")
    table = _table(html_page([cut, whole], lang=lang))
    labels = list(table)
    assert table[word] == ["2", "0"]
    assert labels[labels.index(word) - 1] == ("错误" if lang == "zh" else "errors")
    assert word not in _table(html_page([whole], lang=lang))


async def _failed_startup(message: str) -> Recording:
    """An ASGI app whose lifespan startup fails with ``message``, run as a server runs it."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "lifespan.startup"
        await send({"type": "lifespan.startup.failed", "message": message})

    rec = Recorder(app="failing:app", interface="asgi")
    talk = ApplicationCommunicator(
        AsgiShim(app, recorder=rec), {"type": "lifespan", "asgi": {"version": "3.0"}}
    )
    await talk.send_input({"type": "lifespan.startup"})
    assert (await talk.receive_output(5))["type"] == "lifespan.startup.failed"
    await talk.wait(5)
    return rec.recording()


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "startup failed: &lt;db&gt; unreachable \\x1b[2J"),
        ("zh", "启动失败：&lt;db&gt; unreachable \\x1b[2J"),
    ],
)
def test_a_failed_lifespan_is_named_with_the_apps_words(lang: str, said: str) -> None:
    """The app's message escaped for the page (markup as text, controls as escapes); a
    recording beside it without a failure has "–"."""
    failed = asyncio.run(_failed_startup("<db> unreachable \x1b[2J"))
    table = _table(html_page([failed, _wsgi_run((False,))], lang=lang))
    assert table["lifespan"] == [said, "–"]


def test_a_long_lifespan_message_is_cut(tmp_path: Path) -> None:
    """A 500-character message is cut as the page cuts a recording's strings (300 characters,
    "…" in the middle);
    the page is the same each time it is made."""
    failed = asyncio.run(_failed_startup("x" * 500))
    page = html_page([failed])
    [cell] = _table(page)["lifespan"]
    assert cell == "startup failed: " + "x" * 149 + "…" + "x" * 150
    assert html_page([failed]) == page
