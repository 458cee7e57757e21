"""The bootstrap: request-id adapters, per-process recorders, their streams merged."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

import tracer
from tracer import events as K
from tracer.recorder import Recorder
from tracer.servers.real.bootstrap import AsgiRequestIds, ProcessRecorder, WsgiRequestIds
from tracer.servers.real.frames import FrameReader, encode
from tracer.servers.real.merge import Merger


def test_asgi_adapter_moves_the_header_into_the_extension() -> None:
    """The client's id header lands in scope["extensions"]["gateway_tracer"]["req"] and leaves
    the headers the app sees (the server's own scope keeps them); a malformed one is taken out
    too, and a scope without it is passed on untouched."""
    scopes: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scopes.append(scope)

    adapter = AsgiRequestIds(app)
    host = (b"host", b"127.0.0.1")
    given = [
        {"type": "http", "headers": [(b"x-gateway-tracer-req", b"42"), host]},
        {"type": "websocket", "headers": [host, (b"x-gateway-tracer-req", b"x")]},
        {"type": "http", "headers": [host]},
    ]
    for scope in given:
        asyncio.run(adapter(scope, None, None))
    assert scopes[0]["extensions"] == {"gateway_tracer": {"req": 42}}
    assert [scope["headers"] for scope in scopes] == [[host]] * 3
    assert "extensions" not in scopes[1] and "extensions" not in scopes[2]
    assert scopes[2] is given[2]
    assert given[0]["headers"] == [(b"x-gateway-tracer-req", b"42"), host]


def test_wsgi_adapter_sets_the_environ_key() -> None:
    """WSGI: HTTP_X_GATEWAY_TRACER_REQ becomes environ["gateway_tracer.req"] as an int, and
    the app's environ no longer has the header."""
    environs: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        environs.append(dict(environ))
        return [b""]

    adapter = WsgiRequestIds(app)
    adapter({"HTTP_X_GATEWAY_TRACER_REQ": "7", "HTTP_HOST": "h"}, None)
    adapter({}, None)
    assert environs[0] == {"gateway_tracer.req": 7, "HTTP_HOST": "h"}
    assert "gateway_tracer.req" not in environs[1]


@pytest.mark.timeout(90)
@pytest.mark.parametrize(
    "server,spec",
    [
        ("uvicorn", "real_wire:asgi_app"),
        ("granian", "real_wire:asgi_app"),
        ("gunicorn", "real_wire:wsgi_app"),
        ("waitress", "real_wire:wsgi_app"),
    ],
)
def test_the_app_never_sees_the_request_id_header(server: str, spec: str) -> None:
    """Behind a real server the app sees the request as a plain client sent it: no
    x-gateway-tracer-req among its headers (the app answers 409 if it sees one), nor in the
    request.start headers the shim records, while client and server events still share
    each request's id."""
    from real_helpers import HERE, run_real

    from tracer.client import ClientConfig

    run = run_real(server, spec, ClientConfig(concurrency=2, requests=4, paths=("/headers",)),
                   app_dir=HERE)  # fmt: skip
    assert run.stats.status == {200: 4}
    starts = [e for e in run.kinds(K.REQUEST_START) if e.data.get("scope_type") != "lifespan"]
    assert {e.req for e in starts} == run.client_reqs()
    for start in starts:
        names = {str(name).lower() for name, _ in start.data["headers"]}
        assert "host" in names and "x-gateway-tracer-req" not in names


def test_lifespan_end_drains_the_process_recorder(tmp_path: Path) -> None:
    """When the lifespan scope returns, what the process recorded is already on disk: the
    traced app as ``build_app`` serves it (the shim behind the id adapter drains the process's
    own recorder), with no drain of the recorder's own thread to help."""
    recorder = ProcessRecorder(tmp_path / "1.events", start_ns=0, flush_interval=3600)
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        recorder.emit(K.MARK, None, {"label": "shutdown"})
        await send({"type": "lifespan.shutdown.complete"})

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        pass

    adapter = AsgiRequestIds(tracer.instrument(app, recorder=recorder, interface="asgi"))
    asyncio.run(adapter({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    rows = FrameReader().feed((tmp_path / "1.events").read_bytes())
    kinds = [row[2] for row in rows]
    assert kinds[0] == K.REQUEST_START and kinds[-1] == K.REQUEST_END
    assert K.MARK in kinds
    recorder.close()


def test_process_ids_and_merge_keep_the_parent_clock(tmp_path: Path) -> None:
    """Two process streams merge into the parent recorder with their t, pid and req intact,
    re-sequenced; a process's own request ids live in its pid's range."""
    start = 1_000
    parent = Recorder(start_ns=start)
    recorders = [ProcessRecorder(tmp_path / f"{n}.events", start_ns=start) for n in (11, 12)]
    own = recorders[0].new_request_id()
    assert own == os.getpid() * 1_000_000 + 1
    recorders[0].emit(K.REQUEST_START, 5, {"n": 1}, t=30)
    recorders[1].emit(K.REQUEST_START, 6, {"n": 2}, t=10)
    merger = Merger(tmp_path, parent, interval=None)
    recorders[0].drain()
    assert merger.poll() == 1  # live: what was flushed so far
    for recorder in recorders:
        recorder.close()
    assert merger.stop() == 2
    assert merger.pids == {11, 12}
    events = parent.recording().events
    assert [(e.t, e.req, e.data) for e in events] == [(10, 6, {"n": 2}), (30, 5, {"n": 1})]
    assert sorted(e.seq for e in events) == [0, 1]


def test_frames_survive_any_split_and_odd_values() -> None:
    """A frame cut anywhere is held back until complete; a value marshal cannot carry is
    written as its string instead of losing the batch."""
    rows = [(0, 1, K.MARK, None, 1, 2, "t", None, None, {"x": object()})]
    frame = encode([(0, 5, K.MARK, 3, 1, 2, "t", None, None, {})]) + encode(rows)
    for cut in range(len(frame)):
        reader = FrameReader()
        got = reader.feed(frame[:cut]) + reader.feed(frame[cut:])
        assert [row[1] for row in got] == [5, 1]
        assert isinstance(got[1][9]["x"], str)
        assert reader.pending == 0


def test_process_recorder_streams_the_shims_rows_packed(tmp_path: Path) -> None:
    """A traced request in a server process: its rows reach the stream as the shim packed
    them (no dict made in the process), and the parent's merge makes the very events an
    in-memory recorder makes of the same request (kinds, request, data)."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hello"]

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "gateway_tracer.req": 9,
    }

    def serve(recorder: Recorder) -> None:
        traced = tracer.instrument(app, recorder=recorder, interface="wsgi")
        body = traced(dict(environ), lambda status, headers, exc_info=None: None)
        assert b"".join(body) == b"hello"
        body.close()  # type: ignore[attr-defined]

    process = ProcessRecorder(tmp_path / "21.events", start_ns=0)
    serve(process)
    process.drain()
    rows = FrameReader().feed((tmp_path / "21.events").read_bytes())
    assert any(type(row[9]) is tuple for row in rows)  # packed rows went out as they were
    parent = Recorder(start_ns=0)
    merger = Merger(tmp_path, parent, interval=None)
    assert merger.stop() == len(rows)
    process.close()
    memory = Recorder(start_ns=0)
    serve(memory)

    def shape(recorder: Recorder) -> list[tuple[str, int | None, list[str]]]:
        return [(e.kind, e.req, sorted(e.data)) for e in recorder.recording().events]

    assert shape(parent) == shape(memory)
    assert [e.kind for e in parent.events][0] == K.REQUEST_START
    assert sorted(e.seq for e in parent.events) == list(range(len(rows)))


def test_merge_drops_malformed_rows_and_frames_unpack_before_json(tmp_path: Path) -> None:
    """Rows of the wrong shape in a stream are skipped, the rest merged; a packed row holding
    a value marshal cannot carry is written unpacked, its data a dict with the value's str."""
    keys = ("label",)
    good = (0, 5, K.MARK, None, 1, 2, "t", None, None, keys, "a")
    odd = (1, 6, K.MARK, None, 1, 2, "t", None, None, keys, object())
    (tmp_path / "31.events").write_bytes(
        encode([good, (2, 7, K.MARK), (3, 8, K.MARK, None, 1, 2, "t", None, None, keys)])
        + encode([odd])
    )
    parent = Recorder(start_ns=0)
    assert Merger(tmp_path, parent, interval=None).stop() == 2
    events = parent.recording().events
    assert [e.t for e in events] == [5, 6]
    assert events[0].data == {"label": "a"} and isinstance(events[1].data["label"], str)


def test_app_without_settings_says_what_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serving the bootstrap by hand (no settings in the environment) is a clear error."""
    from tracer.servers.real import bootstrap

    monkeypatch.delenv(bootstrap.ENV, raising=False)
    with pytest.raises(RuntimeError, match="cannot be served on its own"):
        bootstrap.create_app()


_EXITS_ON_THIRD = """
import os

served = [0]


def app(environ, start_response):
    served[0] += 1
    if served[0] == 3:
        os._exit(7)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""

_SERVE_THREE = """
import json, sys

from tracer.servers.real.bootstrap import build_app

app = build_app(json.loads(sys.argv[1]))
for req in (1, 2, 3):
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/", "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
        "HTTP_X_GATEWAY_TRACER_REQ": str(req),
    }
    body = app(environ, lambda status, headers, exc_info=None: None)
    b"".join(body)
    body.close()
"""


def test_an_app_calling_os_exit_leaves_what_its_server_process_recorded(tmp_path: Path) -> None:
    """A server process whose app calls os._exit skips atexit: the requests it had answered
    lost their events (those of its last flush interval). The bootstrap's exit guard writes
    them to the stream first, and marks the code the app asked for."""
    import json
    import subprocess
    import sys

    (tmp_path / "exits_on_third.py").write_text(_EXITS_ON_THIRD)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    settings = {
        "app": "exits_on_third:app",
        "dir": str(run_dir),
        "start_ns": 0,
        "app_dir": str(tmp_path),
        "flush_interval": 60.0,  # no timed flush: only the guard can write them
    }
    done = subprocess.run(
        [sys.executable, "-c", _SERVE_THREE, json.dumps(settings)],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 7, done.stderr.decode()
    parent = Recorder(start_ns=0)
    Merger(run_dir, parent, interval=None).stop()
    ends = [e for e in parent.recording().events if e.kind == K.REQUEST_END]
    assert [(e.req, e.data["status"]) for e in ends] == [(1, 200), (2, 200)]
    (mark,) = run_dir.glob("*.exit")
    assert mark.read_text() == "7"
