"""The ``processes`` model: P spawned processes x T threads, events merged into one recording."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest
from model_driver import by_kind, running, send_all, spans

from tracer import events as K
from tracer.errors import AppLoadError, ServerError, UsageError
from tracer.recorder import Recorder
from tracer.recording import load
from tracer.run import RunConfig, run
from tracer.servers import CANCELLED, WORKER_EXITED, Request, ServerConfig
from tracer.servers.processes import ProcessesServer
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(90)


def test_events_from_every_process_merge_into_one_recording() -> None:
    """2 processes x 2 threads, time.sleep requests at -c 8: both pids serve, <= 4 in flight."""
    with running("processes", app_spec="sample_apps.io_bound:wsgi_app", workers=2, threads=2) as (
        model,
        recorder,
    ):
        responses = send_all(model, [Request(query="ms=30")] * 16, concurrency=8)
        processes = [p.pid for p in model.processes]  # type: ignore[attr-defined]
    assert [r.status for r in responses] == [200] * 16
    events = recorder.events
    lifecycle = spans(events)
    served = [s for s in lifecycle.values() if K.REQUEST_QUEUED in s]
    assert len(served) == 16 and all(K.REQUEST_END in s for s in served)
    assert {s[K.REQUEST_START].pid for s in served} == set(processes)
    # Children share the parent's t=0: each request starts after it was queued, ends after it started.
    assert all(s[K.REQUEST_QUEUED].t <= s[K.REQUEST_START].t <= s[K.REQUEST_END].t for s in served)
    assert summarize(events)["max_in_flight"] <= 4
    assert len({e.seq for e in events}) == len(events)


def test_child_that_cannot_import_the_app_fails_the_start(tmp_path: Path) -> None:
    """An APP whose import fails in the child: start() raises ServerError, no child survives."""
    (tmp_path / "child_fails.py").write_text(
        "import multiprocessing\n"
        "if multiprocessing.parent_process() is not None:\n"
        "    raise RuntimeError('no database here')\n"
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [])\n"
        "    return [b'']\n"
    )
    config = ServerConfig(app_spec="child_fails:app", app_dir=str(tmp_path), workers=2)
    model = ProcessesServer(config, Recorder())
    with pytest.raises(ServerError, match="no database here"):
        model.start()
    assert not any(p.is_alive() for p in model.processes)


def test_missing_module_fails_in_the_parent() -> None:
    """A module that does not exist is reported before any process is spawned."""
    with pytest.raises(AppLoadError):
        ProcessesServer(ServerConfig(app_spec="sample_apps.no_such_module:app"), Recorder())


def test_needs_an_app_spec() -> None:
    """An app object alone cannot reach a spawned child: a UsageError says to pass APP."""
    with pytest.raises(UsageError, match="module:attr"):
        ProcessesServer(ServerConfig(app=lambda environ, start_response: []), Recorder())


def test_a_terminal_ctrl_c_stops_the_run_without_worker_tracebacks(tmp_path: Path) -> None:
    """Ctrl-C at a terminal reaches the whole process group: ``trace run --server processes``
    stops, the workers do not die of it mid-request (no traceback), and every request the
    workers started is ended in the recording (what they recorded was flushed)."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    record = tmp_path / "run.jsonl"
    trace = subprocess.Popen(
        [sys.executable, "-m", "tracer", "run", "sample_apps.io_bound:wsgi_app",
         "--path", "/?ms=50", "--server", "processes", "--workers", "2", "-z", "60s", "-c", "4",
         "--headless", "--record", str(record)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (
            record.exists() and record.read_text().count('"request.end"') >= 8
        ):
            time.sleep(0.05)
        os.killpg(trace.pid, signal.SIGINT)
        _, err = trace.communicate(timeout=30)
    finally:
        if trace.poll() is None:
            os.killpg(trace.pid, signal.SIGKILL)
            trace.wait()
    assert trace.returncode == 0 and "Traceback" not in err, err
    events = [json.loads(line) for line in record.read_text().splitlines()[1:]]
    started = {e["req"] for e in events if e["kind"] == K.REQUEST_START}
    ended = {e["req"] for e in events if e["kind"] == K.REQUEST_END}
    assert len(started) >= 8 and started <= ended


_EXITS_ON_15TH = (
    "import itertools, os\n"
    "_n = itertools.count(1)\n"
    "def app(environ, start_response):\n"
    "    if next(_n) == 15:\n"
    "        os._exit(7)\n"
    "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
    "    return [b'ok']\n"
)


def test_a_worker_that_dies_fails_its_requests_and_stops_the_load(tmp_path: Path) -> None:
    """The app calls os._exit(7) on its 15th request: the 14 answered requests are in the
    recording with the child's events, the one it was running ends as "worker exited" at once
    (no client waits for its timeout), the load stops and ``exit_code`` says why; every request
    sent has ended."""
    (tmp_path / "exits15.py").write_text(_EXITS_ON_15TH)
    recorder = Recorder()
    config = RunConfig(
        app="exits15:app",
        app_dir=str(tmp_path),
        server="processes",
        requests=20,
        concurrency=5,
        timeout=10.0,
    )
    result = run(config, recorder)
    events = recorder.events
    assert result.server_exit == 7 and result.stopped
    assert result.stats.timeouts == 0
    lifecycle = spans(events)
    answered = [s for s in lifecycle.values() if s[K.REQUEST_END].data["status"] == 200]
    assert len(answered) == 14
    assert all(K.REQUEST_START in s and K.WSGI_CLOSE in s for s in answered)
    ends = [s[K.REQUEST_END].data["error"] for s in lifecycle.values()]
    assert ends.count(WORKER_EXITED) == 1
    assert set(ends) <= {None, WORKER_EXITED, CANCELLED}
    assert {e.req for e in events if e.kind == K.REQUEST_QUEUED} == set(lifecycle)


def test_a_body_item_that_is_not_bytes_is_an_error_on_both_sides(tmp_path: Path) -> None:
    """An app returning [1, 2, 3]: the client gets a 500 and TypeError, as from gunicorn, and
    the recording says the same (so the report counts the errors the live counter does)."""
    (tmp_path / "ints.py").write_text(
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [1, 2, 3]\n"
    )
    with running("processes", app_spec="ints:app", app_dir=str(tmp_path)) as (model, recorder):
        responses = send_all(model, [Request()] * 3, concurrency=3)
    assert [(r.status, r.error) for r in responses] == [(500, "TypeError")] * 3
    summary = summarize(recorder.events)
    assert summary["errors"] == 3 and summary["status"] == {"500": 3}


_SLOW_CHILD = (
    "import multiprocessing, os, sys, time\n"
    "if multiprocessing.parent_process() is not None:\n"
    "    open(os.path.join({folder!r}, str(os.getpid())), 'w').close()\n"
    "    time.sleep(60)\n"
    "def app(environ, start_response):\n"
    "    start_response('200 OK', [])\n"
    "    return [b'']\n"
)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_while_the_workers_start_is_a_stop(tmp_path: Path, signum: int) -> None:
    """Ctrl-C (or ``timeout``'s SIGTERM) at the whole process group while the children still
    import the app: no traceback from the children, no "did not start", and the run ends as a
    stop (exit code 0, a recording), with no child left behind."""
    import subprocess
    import sys
    import time

    started = tmp_path / "started"
    started.mkdir()
    (tmp_path / "slowchild.py").write_text(_SLOW_CHILD.format(folder=str(started)))
    record = tmp_path / "run.jsonl"
    trace = subprocess.Popen(
        [sys.executable, "-m", "tracer", "run", "slowchild:app", "--app-dir", str(tmp_path),
         "--server", "processes", "--workers", "3", "-n", "5", "--headless",
         "--record", str(record)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list(started.iterdir())) < 3:
            time.sleep(0.05)
        os.killpg(trace.pid, signum)
        out, err = trace.communicate(timeout=30)
    finally:
        if trace.poll() is None:
            os.killpg(trace.pid, signal.SIGKILL)
            trace.wait()
    assert trace.returncode == 0, err
    assert "Traceback" not in err and "did not start" not in err, err
    assert f"recording: {record}" in out
    assert load(record).header["server"]["model"] == "processes"
    for child in started.iterdir():
        with pytest.raises(ProcessLookupError):
            os.kill(int(child.name), 0)


_ENDLESS = (
    "import time\n"
    "def app(environ, start_response):\n"
    "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
    "    if 'endless' not in environ.get('QUERY_STRING', ''):\n"
    "        return [b'quick']\n"
    "    def chunks():\n"
    "        while True:\n"
    "            yield b'x' * 64\n"
    "            time.sleep(0.005)\n"
    "    return chunks()\n"
)


def test_an_endless_body_stops_being_pulled_once_its_client_left(tmp_path: Path) -> None:
    """A generator that never ends, on the one worker thread (``--threads 1``): the child
    pulled it for ever after the client's timeout, so every later request timed out too, and
    its request had no ``wsgi.close`` nor the shim's end (the child was killed at the stop). As
    gunicorn (its write to the closed socket fails) and the ``threads`` model, the child stops
    pulling once the client left, closes the iterable and takes the next request."""
    # Its own module name: the parent imports it too, and another test's ``endless`` differs.
    (tmp_path / "processes_endless.py").write_text(_ENDLESS)
    requests = [Request(query="endless=1"), Request(), Request(query="endless=1"), Request()]
    try:
        with running(
            "processes", app_spec="processes_endless:app", app_dir=str(tmp_path), threads=1
        ) as (model, recorder):
            responses = send_all(model, requests, concurrency=1, timeout=0.3)
    finally:
        sys.modules.pop("processes_endless", None)
    # (A stream cut by the timeout keeps the status that went out, as a real server's client.)
    assert [(r.status, r.error) for r in responses] == [
        (200, "timeout"),
        (200, None),
        (200, "timeout"),
        (200, None),
    ]
    events = recorder.events
    for endless in (responses[0].req, responses[2].req):
        mine = [e for e in events if e.req == endless]
        assert [e.kind for e in mine].count(K.WSGI_CLOSE) == 1
        ends = by_kind(mine, K.REQUEST_END)
        assert [e.data["error"] for e in ends] == ["timeout", None]
        assert ends[1].data["close_called"] is True and ends[1].data["status"] == 200
