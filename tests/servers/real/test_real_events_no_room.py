"""A server process with no room to write its events (a full disk, ``ulimit -f``): one line in
the server's log saying so, never a traceback (of the writer thread, of the lifespan's drain,
of the flush at exit), and the run goes on: its clients are answered, and what the server
recorded before is in the recording.

``real_no_room`` lowers the file-size limit of the server's processes only (``trace`` itself
writes its recording as usual), so the server's stream is the one that runs out of room."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from real_helpers import HERE, ROOT

from tracer import events as K
from tracer.recording import load

pytestmark = pytest.mark.timeout(60)

NO_ROOM = (
    "gateway-tracer: no room to write this server process's events (File too large: a full "
    "disk, a quota or ulimit -f); its later events are not recorded"
)


def test_no_room_for_the_events_is_one_line_in_the_server_log(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "run", "real_no_room:app", "--app-dir", HERE,
         "--server", "uvicorn", "-n", "300", "-c", "4", "--headless", "--record", str(record)],
        capture_output=True, text=True, cwd=ROOT, timeout=50,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    log = tmp_path / "run.server.log"
    assert log.read_text().splitlines() == [NO_ROOM]
    assert f"uvicorn printed 1 line (its log and the app's output): {log}" in done.stderr
    events = load(record).events
    answered = [e for e in events if e.kind == K.CLIENT_RESPONSE]
    assert len(answered) == 300  # the server served on
    server_ends = [e for e in events if e.kind == K.REQUEST_END]
    assert len(server_ends) < 300  # what it recorded before the limit, no more
