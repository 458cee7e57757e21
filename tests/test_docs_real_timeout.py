"""docs/recording-format.md on the load generator's own ``request.end`` under a real server:
when its client's ``--timeout`` fires, ``trace run`` ends the request itself in its own
process, on the thread that runs the load, and the app's end, from the server's process,
still follows. The recording of a real uvicorn run shows it, and the document says so where
it describes a request's two ends."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tracer import events as K
from tracer.recording import load

pytestmark = pytest.mark.timeout(90)

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "recording-format.md"
BODY = b"hello"


def two_ends_paragraph() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("**A request can have two `request.end` events.**")
    return text[start : text.index("\n\n", start)]


def test_a_timed_out_request_under_a_real_server_ends_twice_as_documented(tmp_path: Path) -> None:
    """Each request (the app sleeps 300 ms, the client waits 50 ms): the client's
    ``TimeoutError``, at once the load generator's end in ``trace``'s process on
    ``trace-run`` (status null, ``timeout``), then the app's own end
    from the server's process, with what the app read (nothing)."""
    pytest.importorskip("uvicorn")
    path = tmp_path / "run.jsonl"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "tracer", "run", "sample_apps.io_bound:asgi_app"),
            *shlex.split("--server uvicorn -c 1 -n 2 --path /?ms=300 --timeout 50ms -m GET"),
            *("-d", BODY.decode(), "--headless", "--record", str(path)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=80,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert done.returncode == 0, done.stderr
    recording = load(path)
    sent = {e.req for e in recording.events if e.kind == K.CLIENT_SEND}
    assert len(sent) == 2
    trace_pid = next(e.pid for e in recording.events if e.kind == K.CLIENT_SEND)
    for req in sent:
        events = [e for e in recording.events if e.req == req]
        response = next(e for e in events if e.kind == K.CLIENT_RESPONSE)
        ends = [e for e in events if e.kind == K.REQUEST_END]
        assert response.data["error"] == "TimeoutError"
        ours = [e for e in ends if e.pid == trace_pid]
        apps = [e for e in ends if e.pid != trace_pid]
        assert len(ours) == 1 and len(apps) == 1
        (end,), (app_end,) = ours, apps
        assert end.thread == "trace-run"
        # bytes_in: what the app had read by then, as far as the merged events tell.
        data = dict(end.data)  # loaded data are shared between equal events: read-only
        assert 0 <= data.pop("bytes_in") <= len(BODY)
        assert data == {"status": None, "bytes_out": 0, "error": "timeout"}
        assert end.seq > response.seq and end.t >= response.t
        assert app_end.data["status"] == 200 and app_end.data["bytes_in"] == 0
        assert app_end.t > end.t
    paragraph = two_ends_paragraph()
    for words in ("real server", "`trace-run`", '`error: "timeout"`', "`bytes_in`"):
        assert words in paragraph
