"""docs/run.md on what a stop (Ctrl-C) does to the requests in flight: none is sent after it, one
still waiting for a worker ends at once as ``cancelled``, and one the app is running is given
the server model's stop to finish, ending as ``cancelled`` only when it did not (on ``loop``,
after 0.4 s). So short requests end normally: a stop need not cancel anything.

Each case runs ``trace run`` headless in a session of its own, waits (on the recording, not on
a clock) until requests are in the app, sends SIGINT to that process by its pid, and reads the
recording."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from tracer import events as K
from tracer.recording import load

pytestmark = pytest.mark.timeout(90)

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "run.md"
BOUND = 60.0
"""Seconds a run may take in all before it is taken for hung (and killed)."""


def _starts_written(path: Path) -> int:
    """How many ``request.start`` lines the recording holds so far (whole lines only)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return 0
    lines = text.split("\n")[1:-1]  # the header; a line still being written
    return sum(json.loads(line)["kind"] == K.REQUEST_START for line in lines)


def stopped_run(tmp_path: Path, args: str, *, started: int) -> dict[int, list[tuple]]:
    """``trace run ARGS`` stopped by SIGINT once ``started`` requests are in the app: for
    each request, whether it started (``True`` first) and its ends as ``(status, error)``."""
    path = tmp_path / "run.jsonl"
    argv = [*shlex.split(args), "-n", "1000000", "--headless", "--record", str(path)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracer", "run", *argv],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    deadline = time.monotonic() + BOUND
    try:
        while _starts_written(path) < started:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, f"no {started} requests in the app"
            try:
                proc.wait(0.05)
            except subprocess.TimeoutExpired:
                pass
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=BOUND)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 0, err
    ends: dict[int, list[tuple]] = defaultdict(list)
    for event in load(path).events:
        if event.req is None or event.data.get("scope_type") == "lifespan":
            continue
        if event.kind == K.REQUEST_START:
            ends[event.req].insert(0, True)
        elif event.kind == K.REQUEST_END:
            ends[event.req].append((event.data["status"], event.data["error"]))
    return {req: ends[req] for req in ends if req < 10**6}  # (lifespan ids are pid-based)


def stop_paragraph() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("Ctrl-C (or `q` in the dashboard) stops the load")
    return text[start : text.index("\n\n", start)]


def test_short_requests_the_app_is_running_finish_at_a_stop(tmp_path: Path) -> None:
    """50 ms requests on ``loop``: every one the app had started ends 200, once."""
    ends = stopped_run(tmp_path, "sample_apps.io_bound:asgi_app --path /?ms=50 -c 4", started=8)
    started = [outcome for outcome in ends.values() if outcome[:1] == [True]]
    assert len(started) >= 8
    assert all(outcome == [True, (200, None)] for outcome in started), ends
    paragraph = stop_paragraph()
    assert "requests in flight end as `cancelled`" not in paragraph
    assert "0.4 s" in paragraph and "ended 200" in paragraph


def test_a_queued_request_is_cancelled_and_a_running_one_finishes(tmp_path: Path) -> None:
    """``threads`` with 2 workers and 6 clients: the requests the workers had started end
    200; those still queued end once, as ``cancelled``, never having started."""
    args = "sample_apps.io_bound:wsgi_app --threads 2 --path /?ms=50 -c 6"
    ends = stopped_run(tmp_path, args, started=4)
    for outcome in ends.values():
        assert outcome in ([True, (200, None)], [(None, "cancelled")]), ends
    assert "still waiting for a worker" in stop_paragraph()


def test_a_request_still_running_after_the_grace_is_cancelled(tmp_path: Path) -> None:
    """3 s requests on ``loop``: the stop cancels their tasks after its 0.4 s, each ends once,
    as ``cancelled``."""
    args = "sample_apps.io_bound:asgi_app --path /?ms=3000 -c 3"
    ends = stopped_run(tmp_path, args, started=3)
    assert len(ends) == 3
    assert all(outcome == [True, (None, "cancelled")] for outcome in ends.values()), ends
