"""The recordings of a server's worker processes that each import the app and make a recorder
for one path: a worker never truncates a sibling's recording, live or finished, and writes
``run.<pid>.jsonl`` with request ids of its own range instead; a program run again from a
script still writes its path afresh."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

import tracer
from tracer.recorder import ID_SPACE

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parent.parent

# Two workers of one parent, started by multiprocessing as uvicorn's and hypercorn's are. Each
# takes request ids and records one event per id. "together": the second starts while the first
# holds the path; "after": once the first has closed its recorder and exited; "idle": a second
# that records nothing.
_WORKERS = """
import multiprocessing, os, sys, tracer

def worker(path, count, ready, go):
    rec = tracer.Recorder(path)
    for _ in range(count):
        req = rec.new_request_id()
        rec.emit("request.start", req, {"path": "/", "method": "GET"})
    ready.set()
    go.wait(30)
    rec.close()

if __name__ == "__main__":
    path, mode = sys.argv[1], sys.argv[2]
    ctx = multiprocessing.get_context("spawn")
    ready1, ready2, go = ctx.Event(), ctx.Event(), ctx.Event()
    first = ctx.Process(target=worker, args=(path, 2, ready1, go))
    second = ctx.Process(target=worker, args=(path, 0 if mode == "idle" else 3, ready2, go))
    first.start()
    ready1.wait(30)
    if mode != "together":
        go.set()
        first.join(30)
    second.start()
    ready2.wait(30)
    go.set()
    first.join(30)
    second.join(30)
    print(os.getpid(), first.pid, second.pid)
"""


def _run_workers(tmp_path: Path, mode: str) -> tuple[Path, int, int, int]:
    script = tmp_path / "workers.py"
    script.write_text(_WORKERS)
    path = tmp_path / "run.jsonl"
    done = subprocess.run(
        [sys.executable, str(script), str(path), mode],
        capture_output=True,
        text=True,
        timeout=40,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    parent, first, second = map(int, done.stdout.split())
    return path, parent, first, second


def _ids(path: Path | str) -> list[int]:
    recording = tracer.load(path)
    assert not recording.unfinished
    return [e.req for e in recording.events if e.kind == "request.start" and e.req is not None]


@pytest.mark.parametrize("mode", ["together", "after"])
def test_a_second_worker_writes_its_own_file_with_ids_of_its_own_range(
    tmp_path: Path, mode: str
) -> None:
    """While the first worker writes the path (its lock held) or after it finished it and
    exited, the second keeps the first's recording whole and numbers its own requests from
    pid x 10^6 + 1 in ``run.<pid>.jsonl``: no id appears in both files."""
    path, parent, first, second = _run_workers(tmp_path, mode)
    assert _ids(path) == [1, 2]
    own = tmp_path / f"run.{second}.jsonl"
    base = second * ID_SPACE
    assert _ids(own) == [base + 1, base + 2, base + 3]
    assert tracer.load(path).header["process"] == {"pid": first, "ppid": parent}
    assert tracer.load(own).header["process"] == {"pid": second, "ppid": parent}
    assert sorted(p.name for p in tmp_path.glob("run*.jsonl")) == sorted(["run.jsonl", own.name])


def test_a_worker_that_records_nothing_leaves_its_siblings_recording_alone(
    tmp_path: Path,
) -> None:
    """A worker started after another finished the path, and ended without a request, neither
    empties that recording nor leaves an empty one of its own."""
    path, _, _, second = _run_workers(tmp_path, "idle")
    assert _ids(path) == [1, 2]
    assert not (tmp_path / f"run.{second}.jsonl").exists()


def test_a_program_run_again_by_a_script_writes_its_path_afresh(tmp_path: Path) -> None:
    """Two runs of one program (not workers of their parent) with one path: the second
    replaces the first's recording, as before, and numbers from 1."""
    path = tmp_path / "run.jsonl"
    code = """
        import sys, tracer
        rec = tracer.Recorder(sys.argv[1])
        for _ in range(int(sys.argv[2])):
            rec.emit("request.start", rec.new_request_id(), {"path": "/", "method": "GET"})
        rec.close()
    """
    for count in ("3", "2"):
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code), str(path), count],
            capture_output=True,
            text=True,
            timeout=40,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stderr
    assert _ids(path) == [1, 2]
    assert [p.name for p in tmp_path.glob("run*.jsonl")] == ["run.jsonl"]


_WSGI_APP = """
import os, tracer

def raw(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hi"]

rec = tracer.Recorder(path=os.environ["REC_PATH"])
app = tracer.instrument(raw, recorder=rec)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(url: str, deadline: float) -> bytes:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                body: bytes = answer.read()
                return body
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.mark.skipif(shutil.which("gunicorn") is None, reason="needs gunicorn")
def test_gunicorn_recycled_workers_record_every_request_once(tmp_path: Path) -> None:
    """gunicorn ``--max-requests 5`` without ``--preload``: each new worker imports the app and
    makes its recorder for the same path after the last one finished it and exited. 12
    requests pass through three workers (and a fourth that takes none); each request is in
    the files exactly once, with ids that no two files share."""
    (tmp_path / "wsgi_app.py").write_text(_WSGI_APP)
    path = tmp_path / "run.jsonl"
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "wsgi_app:app",
            "-b",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--max-requests",
            "5",
        ],
        cwd=tmp_path,
        # HOME: gunicorn's control socket goes there, not into the user's home.
        env={**os.environ, "REC_PATH": str(path), "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        for n in range(12):
            assert _get(f"http://127.0.0.1:{port}/r{n}", deadline) == b"hi"
    finally:
        server.send_signal(signal.SIGTERM)
        _, errors = server.communicate(timeout=30)
    starts = []
    for name in sorted(glob.glob(str(tmp_path / "run*.jsonl"))):
        recording = tracer.load(name)
        assert not recording.unfinished, errors
        for event in recording.events:
            if event.kind == "request.start":
                starts.append((event.data["path"], event.req))
    assert sorted(p for p, _ in starts) == sorted(f"/r{n}" for n in range(12)), errors
    assert len({req for _, req in starts}) == 12
    assert len(_ids(path)) == 5  # the first worker's, kept whole
