"""An app's strings that UTF-8 cannot encode (a lone surrogate, as ``os.fsdecode`` makes them)
are recorded spelled out, and never stop the recording, its file or the run's report."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

import tracer
from tracer import events as K
from tracer.events import Event, encodable
from tracer.recorder import Recorder
from tracer.recording import RecordingWriter

pytestmark = pytest.mark.timeout(120)

SURROGATE = "bad \udcff text"
SPELLED = "bad \\udcff text"  # the six characters backslash, u, d, c, f, f


def test_encodable_spells_out_only_what_utf8_refuses() -> None:
    ascii_text = "plain"
    assert encodable(ascii_text) is ascii_text
    assert encodable("café ✓") == "café ✓"
    assert encodable(SURROGATE) == SPELLED
    assert encodable("\ud800\udfff") == "\\ud800\\udfff"
    assert encodable(b"\xff") == b"\xff" and encodable(None) is None and encodable(3) == 3


def test_a_surrogate_in_an_event_is_written_spelled_out(tmp_path: Path) -> None:
    """The writer is strict UTF-8: the line that held a surrogate used to raise and stop the
    file. Now every line is written, and reads back as the spelled-out text."""
    path = tmp_path / "r.jsonl"
    writer = RecordingWriter(path, {"format": "gateway-trace", "version": 1})
    made = [
        Event(
            0, 10, K.ERROR, 1, 1, 1, "MainThread", None, None, {"message": SURROGATE, "n": 2**70}
        ),
        Event(1, 20, K.MARK, None, 1, 1, "MainThread", None, None, {"key\udcff": "\ud83d"}),
        Event(2, 30, K.MARK, None, 1, 1, "MainThread", None, None, {"label": "after"}),
    ]
    writer.write(made)
    writer.close()
    lines = path.read_bytes().decode("utf-8").splitlines()  # strict: every byte is UTF-8
    assert len(lines) == 4
    assert json.loads(lines[1])["data"] == {"message": SPELLED, "n": 2**70}
    assert json.loads(lines[2])["data"] == {"key\\udcff": "\\ud83d"}
    assert json.loads(lines[3])["data"] == {"label": "after"}


def test_a_value_whose_str_raises_does_not_lose_its_line(tmp_path: Path) -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no")

    path = tmp_path / "r.jsonl"
    writer = RecordingWriter(path, {"format": "gateway-trace", "version": 1})
    writer.write(
        [Event(0, 1, K.MARK, None, 1, 1, "T", None, None, {"v": Unprintable(), "s": "\udcff"})]
    )
    writer.close()
    line = path.read_text(encoding="utf-8").splitlines()[1]
    assert json.loads(line)["data"] == {"v": "<unprintable Unprintable object>", "s": "\\udcff"}


def surrogate_raiser(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    raise ValueError(SURROGATE)


def surrogate_status(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 O\udcffK", [("X-Na\udcffme", "va\udcfflue"), ("X-Plain", "ok")])
    return [b"x"]


async def asgi_surrogate_raiser(scope: dict[str, Any], receive: Any, send: Any) -> None:
    raise ValueError(SURROGATE)


async def asgi_surrogate_type(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.\udcff"})


def _wsgi_get(app: Any) -> None:
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t") as client:
        try:
            client.get("/")
        except Exception:  # the app's own error, re-raised by the shim
            pass


async def _asgi_get(app: Any) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        try:
            await client.get("/")
        except Exception:  # the app's own error, re-raised by the shim
            pass


def _saved_and_loaded(rec: Recorder, tmp_path: Path) -> list[Event]:
    path = rec.save(tmp_path / "r.jsonl")
    return list(tracer.load(path).events)


def test_wsgi_exception_message_with_a_surrogate(tmp_path: Path) -> None:
    rec = tracer.Recorder()
    _wsgi_get(tracer.instrument(surrogate_raiser, recorder=rec))
    for events in (rec.events, _saved_and_loaded(rec, tmp_path)):
        [error] = [e for e in events if e.kind == K.ERROR]
        assert error.data["message"] == SPELLED and error.data["type"] == "ValueError"
        [end] = [e for e in events if e.kind == K.REQUEST_END]
        assert end.data["error"] == "ValueError"


def test_wsgi_status_and_headers_with_surrogates(tmp_path: Path) -> None:
    """The values the app passed to start_response are the app's: recorded spelled out (in
    memory too, for the report and the exporters), and judged by the checker."""
    rec = tracer.Recorder()
    _wsgi_get(tracer.instrument(surrogate_status, recorder=rec))
    for events in (rec.events, _saved_and_loaded(rec, tmp_path)):
        [start] = [e for e in events if e.kind == K.WSGI_START_RESPONSE]
        assert start.data["status"] == "200 O\\udcffK"
        assert start.data["headers"] == [["X-Na\\udcffme", "va\\udcfflue"], ["X-Plain", "ok"]]
        assert any(e.kind == K.VIOLATION for e in events)


def test_asgi_exception_message_and_message_type_with_surrogates(tmp_path: Path) -> None:
    import asyncio

    rec = tracer.Recorder()
    asyncio.run(_asgi_get(tracer.instrument(asgi_surrogate_raiser, recorder=rec)))
    asyncio.run(_asgi_get(tracer.instrument(asgi_surrogate_type, recorder=rec)))
    for events in (rec.events, _saved_and_loaded(rec, tmp_path)):
        assert [e.data["message"] for e in events if e.kind == K.ERROR][0] == SPELLED
        sends = [e.data["type"] for e in events if e.kind == K.ASGI_SEND]
        assert "http.\\udcff" in sends


def test_a_writer_bug_stops_the_file_but_loses_no_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever the writer raises, the batch it was given still reaches memory and the
    subscribers (the report), and the failure is the recording's write_error."""
    rec = Recorder(path=tmp_path / "r.jsonl", keep=True)
    seen: list[Event] = []
    rec.subscribe(seen.extend)
    rec.emit(K.MARK, data={"label": "before"})
    rec.drain()

    def broken(self: RecordingWriter, events: Any) -> None:
        raise RuntimeError("a bug in the writer")

    monkeypatch.setattr(RecordingWriter, "write", broken)
    monkeypatch.setattr(RecordingWriter, "write_lines", broken)  # lines made already
    rec.emit(K.MARK, data={"label": "lost from the file only"})
    with caplog.at_level(logging.ERROR, logger="tracer"):
        batch = rec.drain()
    assert "an event could not be written (RuntimeError: a bug in the writer)" in caplog.text
    assert [e.data["label"] for e in batch] == ["lost from the file only"]
    assert [e.data["label"] for e in rec.events] == ["before", "lost from the file only"]
    assert [e.data["label"] for e in seen] == ["before", "lost from the file only"]
    assert isinstance(rec.write_error, OSError) and "a bug in the writer" in str(rec.write_error)
    with pytest.raises(OSError, match="a bug in the writer"):
        rec.close()


_APP_FILE = """
def wsgi(environ, start_response):
    if environ["PATH_INFO"] == "/fails":
        raise ValueError("bad \\udcff text")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]

async def asgi(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["path"] == "/fails":
        raise ValueError("bad \\udcff text")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""


@pytest.mark.parametrize(
    "app,server",
    [
        ("wsgi", ["--server", "threads"]),
        ("wsgi", ["--server", "processes", "--workers", "2"]),
        ("asgi", ["--server", "loop"]),
        ("asgi", ["--server", "uvicorn"]),
    ],
)
def test_trace_run_records_every_such_error(tmp_path: Path, app: str, server: list[str]) -> None:
    """Before: trace's own traceback, exit 1 and an empty recording (or, on a longer run, a
    batch silently missing and a loop run paused for good). Now: exit 0, and the report and
    the recording both count every error."""
    (tmp_path / "surrogates.py").write_text(_APP_FILE)
    record = tmp_path / "r.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "run", f"surrogates:{app}", *server, "-n", "30", "-c", "3",
         "--path", "/", "--path", "/", "--path", "/fails",
         "--json", "--app-dir", str(tmp_path), "--record", str(record), "--timeout", "20s"],
        capture_output=True, text=True, timeout=110,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    summary = json.loads(done.stdout)
    assert summary["completed"] == 30 and summary["errors"] == 10
    recording = tracer.load(record)
    messages = [e.data["message"] for e in recording.events if e.kind == K.ERROR]
    assert messages == [SPELLED] * 10
    lifespan = {
        e.req
        for e in recording.events
        if e.kind == K.REQUEST_START and e.data.get("scope_type") == "lifespan"
    }
    assert (
        sum(1 for e in recording.events if e.kind == K.REQUEST_END and e.req not in lifespan) == 30
    )
