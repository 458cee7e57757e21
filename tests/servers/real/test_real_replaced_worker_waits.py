"""uvicorn ``--workers 2 --limit-max-requests 5``: a worker that served its requests exits, and
its supervisor starts the next only once its health check of the exited one has given up
(``--timeout-worker-healthcheck``, 5 s by default; 1 s here through uvicorn's own
``UVICORN_TIMEOUT_WORKER_HEALTHCHECK``, which the gap's length does not matter to). The
requests sent meanwhile wait for the new worker; ``trace run`` and ``trace summary`` say how
many and how long, as the recording shows. Whether a run has such a gap depends on timing: the
test holds the report to the recording, whichever it is."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from real_helpers import ROOT

from tracer import events as K
from tracer.events import Event
from tracer.figures import duration
from tracer.recording import load

pytestmark = pytest.mark.timeout(240)

SAID = "for a worker the server started in place of one that ended."


def _waits(events: list[Event]) -> list[int]:
    """The waits (ns) of the requests the client sent before the process that started them
    recorded anything, while another server process recorded its last event: read from all
    the events, as a reader holding them would."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for event in events:
        first[event.pid] = min(first.get(event.pid, event.t), event.t)
        last[event.pid] = max(last.get(event.pid, event.end), event.end)
    clients = {e.pid for e in events if e.kind == K.CLIENT_SEND}
    sent: dict[int, int] = {}
    for event in events:
        if event.kind == K.CLIENT_SEND and event.req is not None:
            sent[event.req] = min(sent.get(event.req, event.t), event.t)
    starts: dict[int, Event] = {}
    for event in events:
        if event.kind == K.REQUEST_START and event.req in sent:
            if event.req not in starts or event.t < starts[event.req].t:
                starts[event.req] = event
    waits = []
    for req, start in starts.items():
        send = sent[req]
        ended = any(
            pid != start.pid and pid not in clients and send < end < start.t
            for pid, end in last.items()
        )
        if first[start.pid] > send and ended:
            waits.append(start.t - send)
    return waits


def _line(waits: list[int]) -> str:
    """The report's line for ``waits``."""
    ms = round(max(waits) / 1_000_000, 3)
    longest = duration(ms * 1e6)  # as every time of unknown size is written
    said = "1 request" if len(waits) == 1 else f"{len(waits)} requests"
    return f"{said} waited up to {longest} {SAID}"


_SAID = re.compile(rf"[0-9]+ requests? waited up to [0-9.,]+ (?:µs|ms|s) {re.escape(SAID)}")


def _said(out: str) -> list[str]:
    """The report's lines about replaced workers, each joined back from its wrapping; and
    no other mention of them."""
    words = " ".join(out.split())
    said = _SAID.findall(words)
    assert words.count("in place of one that ended") == len(said)
    return said


def test_the_report_says_what_the_recording_shows_of_waits_for_a_new_worker(
    tmp_path: Path,
) -> None:
    pytest.importorskip("uvicorn")
    record = tmp_path / "run.jsonl"
    argv = [sys.executable, "-m", "tracer", "run", "sample_apps.io_bound:asgi_app"]
    argv += ["--server", "uvicorn", "--workers", "2", "--max-requests", "5"]
    argv += ["--path", "/?ms=30", "-c", "4", "-n", "60", "--headless", "--record", str(record)]
    env = {**os.environ, "UVICORN_TIMEOUT_WORKER_HEALTHCHECK": "1"}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=200, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    recording = load(record)
    assert recording.header["server"]["max_requests"] == 5
    # The server replaced workers as they reached their limit: more than two processes.
    assert len({e.pid for e in recording.events if e.kind == K.REQUEST_START}) > 2
    waits = _waits(recording.events)
    expected = [_line(waits)] if waits else []
    assert _said(done.stdout) == expected
    summary = subprocess.run(
        [sys.executable, "-m", "tracer", "summary", str(record)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert summary.returncode == 0, summary.stderr
    assert _said(summary.stdout) == expected
