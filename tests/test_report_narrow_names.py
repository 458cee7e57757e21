"""Thread names in the report's Workers table on a narrow console: one line each, never broken.

At 40 columns the name column once folded ``event-lo`` / ``op`` and ``AnyIO`` / ``worker`` /
``thread`` / ``#2`` over several lines. A name now stays on its row's line: whole when it fits,
else cut in the middle, so the end that tells a pool's threads apart (``#1``, ``#2``) stays.
The recording is built by hand: an event loop handing requests to two threads of anyio's pool
(both named "AnyIO worker thread"), and a thread with a long name, busy for seconds so that the
numbers are wide.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console

from tracer import events as K
from tracer.digest import Digest
from tracer.events import Event
from tracer.recording import Recording, make_header
from tracer.report import print_report
from tracer.summary import summarize

MS = 1_000_000
LOOP, POOL, LONG = "event-loop", "AnyIO worker thread", "ThreadPoolExecutor-0_0"


def _recording() -> Recording:
    """Six requests started on the loop; each runs 1.5 s on one of three threads."""
    events: list[Event] = []

    def add(
        t: int, kind: str, req: int, tid: int, thread: str, dur: int | None = None, **data: Any
    ) -> None:
        seq = len(events) + 1
        events.append(Event(seq, t, kind, req, pid=10, tid=tid, thread=thread, dur=dur, data=data))

    threads = [(101, POOL), (102, POOL), (103, LONG)]
    for req in range(1, 7):
        t = req * MS
        tid, name = threads[req % 3]
        add(t, K.REQUEST_START, req, 1, LOOP, method="GET", path="/", scope_type="http")
        add(t, K.SCHED_STEP, req, 1, LOOP, dur=MS // 10, cpu_ns=MS // 10)
        add(t + MS, K.SCHED_THREAD, req, tid, name, dur=1500 * MS, cpu_ns=MS)
        add(t + 1502 * MS, K.REQUEST_END, req, 1, LOOP, status=200)
    events.sort(key=lambda e: (e.t, e.seq))
    return Recording(header=make_header(app="app:app", interface="asgi"), events=events)


def _workers(width: int) -> tuple[list[str], list[str]]:
    """The Workers table's body lines at ``width`` and the rows' names as the digest has them."""
    recording = _recording()
    digest = Digest()
    digest.feed(recording.events)
    details = digest.details()
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None)
    print_report(recording, summarize(recording.events), console=console, details=details)
    text = out.getvalue()
    table = text[text.index("Workers") :].splitlines()
    rule = next(i for i, line in enumerate(table) if "──" in line or "━━" in line)
    body = [line for line in table[rule + 1 :] if line.strip() and not set(line) <= set("└─┴┘ ")]
    return body, [worker.name for worker in details.workers]


def _cell(line: str) -> str:
    """The thread cell of a body line (a bordered or a borderless table)."""
    return re.split(r"\s{2,}|\s│", line.strip("│ "), maxsplit=1)[0].strip()


@pytest.mark.parametrize("width", [40, 60])
def test_each_thread_is_one_line_with_its_numbers(width: int) -> None:
    """One body line per thread, each with its four figures; no line wider than the console;
    the loop's short name whole; the pool's namesakes still told apart by their ends."""
    body, names = _workers(width)
    assert sorted(names) == sorted([LOOP, f"{POOL} #1", f"{POOL} #2", LONG])
    assert len(body) == len(names), body
    for line in body:
        assert cell_len(line.rstrip()) <= width, line
        assert re.search(r"\d+\s+[\d,]+\.\d+\s+[\d,]+\.\d+\s+\d+%\s*│?$", line), line
    cells = [_cell(line) for line in body]
    assert LOOP in cells
    for cell, name in zip(cells, names, strict=True):
        if cell != name:  # cut: its start, an ellipsis, its end
            head, _, tail = cell.partition("…")
            assert tail and name.startswith(head) and name.endswith(tail), (cell, name)
    pool = sorted(cell for cell in cells if cell.startswith("Any"))
    assert [cell[-2:] for cell in pool] == ["#1", "#2"]


def test_wide_enough_every_name_is_whole() -> None:
    """At 60 columns the names fit and none is cut."""
    body, names = _workers(60)
    assert sorted(_cell(line) for line in body) == sorted(names)
    assert not any("…" in line for line in body)


def test_too_narrow_for_the_narrow_form_rows_stay_one_line() -> None:
    """At 30 columns (printed wider than the console, for the terminal to wrap) each row is
    still one line, its numbers whole and its name cut, not broken over lines."""
    body, names = _workers(30)
    assert len(body) == len(names), body
    for line in body:
        assert re.search(r"\d+\s+[\d,]+\.\d+\s+[\d,]+\.\d+\s+\d+%\s*$", line), line
