"""``trace run --read-for`` on a real server, from the command line: the option reaches the
server's client, each stream is left on purpose, and none counts as an error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from real_helpers import HERE

from tracer.recording import load

pytestmark = pytest.mark.timeout(120)


def test_streams_left_after_read_for_are_completed_not_errors(tmp_path: Path) -> None:
    """Two endless-looking streams on uvicorn (1.2 s, which uvicorn runs to their end after
    their client left), left after 0.3 s: both completed, none an error, each
    ``client.response`` says the client closed it (``read-for``)."""
    path = tmp_path / "run.jsonl"
    argv = [sys.executable, "-m", "tracer", "run", "real_streams:asgi_stream", "--server"]
    argv += ["uvicorn", "--app-dir", str(HERE), "-c", "1", "-n", "2", "--read-for", "0.3s"]
    argv += ["--path", "/?chunks=60"]
    done = subprocess.run(
        [*argv, "--timeout", "10s", "--json", "--record", str(path)],
        capture_output=True,
        text=True,
        timeout=100,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["completed"], summary["errors"]) == (2, 0)
    responses = [e for e in load(path).events if e.kind == "client.response"]
    assert [e.data.get("client_closed") for e in responses] == ["read-for", "read-for"]
