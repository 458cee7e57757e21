"""A file recorder's file: complete at a checkpoint (a ``.gz`` stream too, for a server that
ends without atexit), never shared by two live recorders of one process, and a device path
(``/dev/full``, ``/dev/null``) written as it is, with nothing left open when it fails."""

from __future__ import annotations

import gzip
import io
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import httpx
import pytest

import tracer
from tracer import events as K
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parent.parent

SERVER = """
import socket, sys, tracer, uvicorn

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})

recorder = tracer.Recorder(sys.argv[1])
listening = socket.socket(fileno=int(sys.argv[2]))
config = uvicorn.Config(tracer.instrument(app, recorder=recorder), log_level="warning")
uvicorn.Server(config).run(sockets=[listening])
"""


def _members(path: Path) -> int:
    """How many gzip members the file holds."""
    data, count = path.read_bytes(), 0
    while data:
        stream = zlib.decompressobj(wbits=31)
        stream.decompress(data)
        data, count = stream.unused_data, count + 1
    return count


def _marks(path: Path) -> list[str]:
    return [e.data["label"] for e in tracer.load(path).events if e.kind == K.MARK]


def test_a_gz_recording_of_uvicorn_stopped_by_sigterm_is_complete(tmp_path: Path) -> None:
    """uvicorn re-raises SIGTERM after its graceful shutdown, so the process dies without
    atexit: the drain at the lifespan's end leaves the gzip stream finished, every request in
    it and nothing read as cut short."""
    app = tmp_path / "serve.py"
    app.write_text(SERVER)
    path = tmp_path / "x.jsonl.gz"
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(16)
    port = listening.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, str(app), str(path), str(listening.fileno())],
        pass_fds=[listening.fileno()],
        cwd=ROOT,
    )
    listening.close()  # the server has its own copy: connections wait in it until it serves
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20) as client:
            for n in range(5):
                assert client.get(f"/r{n}").text == "ok"
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == -signal.SIGTERM  # no atexit ran
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
    with gzip.open(path) as stream:
        stream.read()  # as `gzip -t` does: raises on a stream without its end
    recording = tracer.load(path)
    assert recording.truncated is False
    paths = [e.data["path"] for e in recording.events if e.kind == K.REQUEST_START]
    assert [p for p in paths if p] == [f"/r{n}" for n in range(5)]


def test_an_explicit_drain_leaves_a_gz_file_whole_and_later_events_start_a_member(
    tmp_path: Path,
) -> None:
    """A drain asked for (not the background thread's) is a checkpoint: the file reads whole
    while the recorder is still open; events after it go to a second gzip member, and the
    file reads as one stream."""
    path = tmp_path / "run.jsonl.gz"
    rec = Recorder(path, flush_interval=60)
    rec.emit(K.MARK, None, {"label": "before"})
    rec.drain()
    assert _marks(path) == ["before"] and not tracer.load(path).truncated
    rec.drain()  # nothing new: no empty member
    rec.emit(K.MARK, None, {"label": "after"})
    rec.close()
    assert _marks(path) == ["before", "after"] and not tracer.load(path).truncated
    assert _members(path) == 2


def test_a_gz_file_cut_in_its_second_member_is_read_as_truncated(tmp_path: Path) -> None:
    """A file of two members cut short inside the second (a process killed while writing it)
    keeps the first member's events and is marked truncated."""
    path = tmp_path / "cut.jsonl.gz"
    rec = Recorder(path, flush_interval=60)
    rec.emit(K.MARK, None, {"label": "kept"})
    rec.drain()
    whole = path.stat().st_size
    for n in range(500):
        rec.emit(K.MARK, None, {"label": f"later {n}", "pad": "x" * 40})
    rec.close()
    raw = path.read_bytes()
    path.write_bytes(raw[: whole + (len(raw) - whole) // 2])
    recording = tracer.load(path)
    assert recording.truncated
    labels = [e.data["label"] for e in recording.events]
    assert labels[0] == "kept" and len(labels) < 501


@pytest.mark.parametrize("cut", range(1, 11))
def test_a_gz_file_cut_inside_its_second_members_header_is_read_as_truncated(
    tmp_path: Path, cut: int
) -> None:
    """A crash can stop the writer anywhere in the ten-byte header of the member a checkpoint
    starts, one byte into its magic number included (which gzip reports as a foreign file):
    both readers keep the first member and mark the recording truncated."""
    from tracer.digest import digest_file

    path = tmp_path / "cut.jsonl.gz"
    rec = Recorder(path, flush_interval=60)
    rec.emit(K.MARK, None, {"label": "kept"})
    rec.drain()
    rec.close()
    path.write_bytes(path.read_bytes() + gzip.compress(b"{}\n")[:cut])
    recording = tracer.load(path)
    assert recording.truncated and _marks(path) == ["kept"]
    assert digest_file(path)[0].truncated


def test_a_file_that_is_not_gzip_after_a_whole_member_is_still_refused(tmp_path: Path) -> None:
    """Only a cut in the magic number is a crash: other bytes after a whole member are not."""
    path = tmp_path / "junk.jsonl.gz"
    rec = Recorder(path, flush_interval=60)
    rec.emit(K.MARK, None, {"label": "kept"})
    rec.close()
    path.write_bytes(path.read_bytes() + b"\x1e")
    with pytest.raises(tracer.TracerError, match="gzip stream is broken"):
        tracer.load(path)


def test_timed_drains_keep_one_gzip_member(tmp_path: Path) -> None:
    """The background thread's drains every ``flush_interval`` are not checkpoints: a
    ``.gz`` file written by them is one member, its compression unbroken."""
    path = tmp_path / "run.jsonl.gz"
    rec = Recorder(path, flush_interval=0.01)
    for n in range(3):
        written = path.stat().st_size if path.exists() else 0
        rec.emit(K.MARK, None, {"label": str(n)})
        deadline = time.monotonic() + 20
        # Wait for the thread's drain to put it in the file (a flush makes the file grow).
        while not (path.exists() and path.stat().st_size > written):
            assert time.monotonic() < deadline, "the background thread never wrote"
            time.sleep(0.005)
    rec.close()
    assert _marks(path) == ["0", "1", "2"]
    assert _members(path) == 1


def test_two_live_recorders_of_one_path_in_one_process_keep_both_recordings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The second live recorder made for a path writes ``run.2.jsonl`` beside it (one
    warning saying so), instead of truncating what the first wrote."""
    caplog.set_level(logging.WARNING, logger="tracer")
    path = tmp_path / "r12.jsonl"

    def app(environ: dict, start_response: object) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
        return [b"ok"]

    def hit(rec: Recorder, where: str) -> None:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": where,
            "QUERY_STRING": "",
            "SERVER_NAME": "x",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
        }
        body = tracer.instrument(app, recorder=rec)(environ, lambda *a: None)
        list(body)
        body.close()

    a = Recorder(path)
    hit(a, "/from-a")
    a.drain()  # a's file is written (and closed by no one) before b exists
    b = Recorder(path)
    hit(b, "/from-b")
    a.close()
    b.close()
    beside = tmp_path / "r12.2.jsonl"
    assert b.path == str(beside)
    for each, where in ((path, "/from-a"), (beside, "/from-b")):
        starts = [e for e in tracer.load(each).events if e.kind == K.REQUEST_START]
        assert [e.data["path"] for e in starts] == [where]
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "another recorder in this process" in warnings[0] and str(beside) in warnings[0]


def test_a_path_is_free_again_once_its_recorder_is_closed(tmp_path: Path) -> None:
    """A recorder made after the path's last one was closed overwrites the file, as always;
    a third live recorder goes to ``.3``, and ``.gz`` keeps its ending."""
    path = tmp_path / "run.jsonl.gz"
    with Recorder(path) as first:
        first.emit(K.MARK, None, {"label": "old"})
    with Recorder(path) as again:
        again.emit(K.MARK, None, {"label": "new"})
    assert again.path == str(path) and _marks(path) == ["new"]
    live = [Recorder(path) for _ in range(3)]
    assert [r.path for r in live] == [str(path)] + [
        str(tmp_path / f"run.{n}.jsonl.gz") for n in (2, 3)
    ]
    for n, rec in enumerate(live):
        rec.emit(K.MARK, None, {"label": str(n)})
        rec.close()
    assert [_marks(Path(r.path or "")) for r in live] == [["0"], ["1"], ["2"]]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_device_that_fails_leaves_nothing_open() -> None:
    """``Recorder("/dev/full")``: the device is not truncated (EINVAL) but written, the write
    fails (ENOSPC) as a full disk does, ``close()`` raises it, and no file object is left for
    the garbage collector (no ResourceWarning under ``-X dev``)."""
    done = subprocess.run(
        [
            sys.executable,
            "-X",
            "dev",
            "-W",
            "error::ResourceWarning",
            "-c",
            textwrap.dedent(
                """
                import errno, gc, tracer
                rec = tracer.Recorder("/dev/full")
                rec.emit("mark", None, {"label": "x"})
                try:
                    rec.close()
                except OSError as exc:
                    print(errno.errorcode[exc.errno])
                gc.collect()
                """
            ),
        ],
        capture_output=True,
        text=True,
        timeout=40,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ENOSPC"
    assert "ResourceWarning" not in done.stderr and "Exception ignored" not in done.stderr


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_recorders_writing_the_null_device_all_write_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``/dev/null`` is no file to claim or lock: every recorder writes it, with no warning."""
    caplog.set_level(logging.WARNING, logger="tracer")
    recorders = [Recorder(os.devnull), Recorder(os.devnull)]
    for rec in recorders:
        rec.emit(K.MARK, None, {"label": "x"})
        rec.drain()
    for rec in recorders:
        rec.close()
    assert [r.path for r in recorders] == [os.devnull, os.devnull]
    assert [r.write_error for r in recorders] == [None, None]
    assert caplog.records == []


def test_saving_onto_a_path_a_live_recorder_streams_to_is_refused_and_says_why(
    tmp_path: Path,
) -> None:
    """Recorder.save would truncate what a live recorder of this process streams there (its
    lock is only taken at its first write): refused, naming who writes it, not "another
    process"; once that recorder is closed the path is free."""
    import tracer
    from tracer.recording import RecordingBusy

    path = tmp_path / "live.jsonl"
    streaming = tracer.Recorder(path)
    other = tracer.Recorder(keep=True)
    with pytest.raises(RecordingBusy, match="another recorder in this process"):
        other.save(path)
    with pytest.raises(RecordingBusy, match="by this recorder; save to another path"):
        streaming.save(path)
    streaming.close()
    assert other.save(path) == str(path)
