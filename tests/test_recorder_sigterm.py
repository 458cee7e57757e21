"""A server ended by SIGTERM without a clean close still leaves a finished recording.

waitress has no SIGTERM handler (the default action ends it), and uvicorn with ``--lifespan
off`` re-raises SIGTERM after its graceful shutdown with the default action back: neither runs
atexit, so a ``.jsonl.gz`` recording lacked its gzip end and the events of its last flush
interval. A file recorder made while SIGTERM has its default action installs a handler that
finishes every live recorder's file and then ends the process by the same signal: the parent
sees the same status. The handler waits for nothing the interrupted main thread may hold.
"""

from __future__ import annotations

import gzip
import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

import tracer
from tracer import events as K
from tracer.cli import main

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parent.parent

APP = """
import os, tracer

recorder = tracer.Recorder(os.environ["RECORDING"])


async def _asgi(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _wsgi(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


asgi = tracer.instrument(_asgi, recorder=recorder)
wsgi = tracer.instrument(_wsgi, recorder=recorder)
"""

WAITRESS = """
import socket, sys, waitress
from appmod import wsgi

waitress.serve(wsgi, sockets=[socket.socket(fileno=int(sys.argv[1]))], threads=1)
"""

SERVERS = {
    # uvicorn's command line imports the app before it takes SIGTERM over, and gives the
    # handler there was back before it re-raises the signal.
    "uvicorn": ["-m", "uvicorn", "--lifespan", "off", "--log-level", "warning", "--fd"],
    "waitress": ["serve_waitress.py"],
}


def _serve_then_sigterm(tmp_path: Path, server: str, record: Path, requests: int) -> int:
    """Start ``server`` on a socket of ours (127.0.0.1), send ``requests`` GETs one after the
    other, SIGTERM it by its pid; returns its exit status."""
    (tmp_path / "appmod.py").write_text(APP)
    (tmp_path / "serve_waitress.py").write_text(WAITRESS)
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(16)
    port = listening.getsockname()[1]
    argv = [sys.executable, *SERVERS[server], str(listening.fileno())]
    if server == "uvicorn":
        argv.append("appmod:asgi")
    process = subprocess.Popen(
        argv,
        pass_fds=[listening.fileno()],
        cwd=tmp_path,
        env={**os.environ, "RECORDING": str(record), "PYTHONPATH": f"{tmp_path}:{ROOT}"},
        stderr=subprocess.DEVNULL,
    )
    listening.close()  # the server has its own copy: connections wait in it until it serves
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20) as client:
            for n in range(requests):
                assert client.get(f"/r{n}").text == "ok"
        process.send_signal(signal.SIGTERM)
        return process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.parametrize("server", sorted(SERVERS))
def test_a_server_ended_by_sigterm_leaves_a_finished_gz_recording(
    tmp_path: Path, server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    record = tmp_path / "run.jsonl.gz"
    assert _serve_then_sigterm(tmp_path, server, record, 4) == -signal.SIGTERM
    with gzip.open(record) as stream:
        stream.read()  # as `gzip -t` does: raises on a stream without its end
    recording = tracer.load(record)
    assert not recording.truncated and not recording.unfinished
    assert _paths(recording, K.REQUEST_START) == [f"/r{n}" for n in range(4)]
    # Every request's end but maybe the last one's: waitress ends a request (closes the app's
    # response) after the client has the response, and its one thread begins the next only
    # then; the last one may still be ending when SIGTERM comes. uvicorn waits for it.
    assert _paths(recording, K.REQUEST_END)[:3] == [f"/r{n}" for n in range(3)]
    assert main(["summary", str(record), "--json"]) == 0
    assert capsys.readouterr().err == ""


def test_a_plain_recording_of_a_sigtermed_server_says_done(tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    assert _serve_then_sigterm(tmp_path, "waitress", record, 2) == -signal.SIGTERM
    recording = tracer.load(record)
    assert recording.header["writer"] == "done" and not recording.unfinished
    assert _paths(recording, K.REQUEST_START) == ["/r0", "/r1"]
    assert _paths(recording, K.REQUEST_END)[:1] == ["/r0"]


def _paths(recording: tracer.Recording, kind: str) -> list[str]:
    """The paths of the requests that have a ``kind`` event, in time order."""
    starts = {e.req: e.data["path"] for e in recording.events if e.kind == K.REQUEST_START}
    return [starts[e.req] for e in recording.events if e.kind == kind]


def _run(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in a Python of its own (the recording is ``sys.argv[1]``), bounded."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), str(tmp_path / "run.jsonl.gz")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_a_process_that_answers_sigterm_itself_keeps_its_handler(tmp_path: Path) -> None:
    """Its own handler, or SIGTERM ignored, stays as it was; so does a recorder made on
    another thread, which may not set one (and the default action is left then)."""
    done = _run(
        """
        import signal, sys, threading, tracer

        def own(signum, frame):
            pass

        for before in (own, signal.SIG_IGN):
            signal.signal(signal.SIGTERM, before)
            tracer.Recorder(sys.argv[1]).close()
            print(signal.getsignal(signal.SIGTERM) == before)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        made = threading.Thread(target=lambda: tracer.Recorder(sys.argv[1] + "2").close())
        made.start()
        made.join()
        print(signal.getsignal(signal.SIGTERM) == signal.SIG_DFL)
        """,
        tmp_path,
    )
    assert (done.stdout, done.stderr) == ("True\nTrue\nTrue\n", "")


def test_sigterm_during_a_drain_of_the_main_thread_still_ends_the_process(
    tmp_path: Path,
) -> None:
    """The signal interrupts the main thread inside a drain (a subscriber of its own): that
    drain's lock is never waited for; the process ends by SIGTERM, with the events the drain
    wrote before it in the file."""
    done = _run(
        """
        import os, signal, sys, tracer

        recorder = tracer.Recorder(sys.argv[1], flush_interval=3600)
        recorder.subscribe(lambda batch: os.kill(os.getpid(), signal.SIGTERM))
        recorder.emit("mark", data={"label": "before"})
        recorder.drain()
        print("not ended")
        """,
        tmp_path,
    )
    assert (done.returncode, done.stdout) == (-signal.SIGTERM, "")
    labels = [e.data["label"] for e in tracer.load(tmp_path / "run.jsonl.gz").events]
    assert labels == ["before"]


def test_sigterm_while_another_threads_drain_waits_for_the_main_thread_ends_the_process(
    tmp_path: Path,
) -> None:
    """A subscriber on the writer thread waits for the main thread, which the signal holds:
    the handler gives that drain up after ``SIGTERM_GRACE`` and the process ends by SIGTERM."""
    done = _run(
        """
        import os, signal, sys, threading, tracer
        from tracer import recorder_fork

        recorder_fork.SIGTERM_GRACE = 0.1
        entered, main_done = threading.Event(), threading.Event()

        def waits_for_main(batch):
            entered.set()
            main_done.wait()

        recorder = tracer.Recorder(sys.argv[1], flush_interval=0.01)
        recorder.subscribe(waits_for_main)
        recorder.emit("mark", data={"label": "held"})
        assert entered.wait(20)
        os.kill(os.getpid(), signal.SIGTERM)
        main_done.set()
        print("not ended")
        """,
        tmp_path,
    )
    assert (done.returncode, done.stdout) == (-signal.SIGTERM, "")
