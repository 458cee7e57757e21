"""The network client records each request target with its secret query values redacted, as
the shims record the query (DESIGN.md, "Privacy and safety"); the request still goes out as
given, and ``ClientConfig(redact=False)`` records the target as sent."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from client_servers import HOST, seen, serve_hypercorn, serve_uvicorn

from tracer import events as K
from tracer.client import ClientConfig, run_client
from tracer.recorder import Recorder

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]
SECRET_TARGET = "/?token=abc&password=pw&x=1"
REDACTED_TARGET = "/?token=[redacted]&password=[redacted]&x=1"


def _targets(recorder: Recorder) -> list[tuple[str, str]]:
    return [
        (e.kind, e.data["path"])
        for e in recorder.events
        if e.kind in (K.CLIENT_SEND, K.REQUEST_QUEUED)
    ]


@pytest.mark.parametrize(
    ("serve", "extra"),
    [
        (serve_uvicorn, {}),
        (serve_hypercorn, {"http2": True}),
        (serve_uvicorn, {"ws_messages": 1}),
    ],
    ids=["http1", "http2", "websocket"],
)
def test_recorded_target_is_redacted_and_the_server_gets_it_whole(serve, extra) -> None:
    """HTTP/1.1, HTTP/2 and a WebSocket upgrade: client.send and request.queued carry the
    redacted target; the app received the query as given; no secret value in any event."""
    seen.clear()
    recorder = Recorder()
    path = SECRET_TARGET.replace("/", "/ws", 1) if extra.get("ws_messages") else SECRET_TARGET
    with serve() as port:
        stats = run_client(
            HOST, port, ClientConfig(concurrency=1, requests=2, paths=(path,), **extra),
            recorder=recorder,
        )  # fmt: skip
    assert stats.errors == 0 and stats.completed == 2
    shown = path.replace("token=abc&password=pw", "token=[redacted]&password=[redacted]")
    assert _targets(recorder) == [(K.CLIENT_SEND, shown), (K.REQUEST_QUEUED, shown)] * 2
    assert [s["query"] for s in seen] == [b"token=abc&password=pw&x=1"] * 2
    recorded = json.dumps([e.data for e in recorder.events])
    assert "abc" not in recorded and "pw&" not in recorded


def test_redact_off_records_the_target_as_sent() -> None:
    """The opt-out: ``redact=False`` keeps the target exactly as it went out."""
    recorder = Recorder()
    with serve_uvicorn() as port:
        run_client(
            HOST, port,
            ClientConfig(concurrency=1, requests=1, paths=(SECRET_TARGET,), redact=False),
            recorder=recorder,
        )  # fmt: skip
    assert _targets(recorder) == [(K.CLIENT_SEND, SECRET_TARGET), (K.REQUEST_QUEUED, SECRET_TARGET)]


def test_trace_run_on_a_real_server_records_and_exports_no_secret(tmp_path: Path) -> None:
    """``trace run --server uvicorn`` with a secret query and an Authorization header: neither
    the recording nor its Perfetto export holds a secret value; the client's events and the
    shim's request.start show the same redacted query."""
    record = tmp_path / "red.jsonl"
    run = [sys.executable, "-m", "tracer", "run", "sample_apps.hello:asgi_app"]
    subprocess.run(
        [*run, "--app-dir", str(ROOT), "--server", "uvicorn", "--path", SECRET_TARGET,
         "-H", "Authorization: Bearer SECRETX", "-n", "2", "-c", "1", "--headless",
         "--record", str(record)],
        check=True, capture_output=True, timeout=50, cwd=tmp_path,
    )  # fmt: skip
    text = record.read_text()
    lines = [json.loads(line) for line in text.splitlines()[1:]]
    client = [e["data"]["path"] for e in lines if e["kind"] in (K.CLIENT_SEND, K.REQUEST_QUEUED)]
    assert client == [REDACTED_TARGET] * 4
    starts = [e["data"] for e in lines if e["kind"] == K.REQUEST_START and e["data"]["method"]]
    assert [s["query"] for s in starts] == ["token=[redacted]&password=[redacted]&x=1"] * 2
    exported = tmp_path / "red.perfetto.json"
    subprocess.run(
        [sys.executable, "-m", "tracer", "export", str(record), "--to", "perfetto",
         "-o", str(exported)],
        check=True, capture_output=True, timeout=30, cwd=tmp_path,
    )  # fmt: skip
    for where in (text, exported.read_text()):
        assert "token=abc" not in where and "=pw" not in where and "SECRETX" not in where


@pytest.mark.parametrize("redact", [True, False])
def test_a_real_servers_client_redacts_as_its_server_config_says(redact: bool) -> None:
    """``ServerConfig.redact`` reaches the client a real server's run uses, as it reaches the
    shims in the server's processes: one switch for the whole recording."""
    from tracer.servers import ServerConfig
    from tracer.servers.real.uvicorn import UvicornServer

    config = ServerConfig(app_spec="sample_apps.hello:asgi_app", app_dir=str(ROOT), redact=redact)
    assert UvicornServer(config, Recorder()).client_config().redact is redact
