"""``trace run --ws-messages 0``: WebSocket sessions that open, are accepted and close without a
message (a handshake-only load), on a ``ws:`` path or on a plain one, in process and on a real
server. Without the option a ``ws:`` path's session sends 1 message, and plain paths stay HTTP.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tracer.cli import build_parser
from tracer.cli.run import config_from_args
from tracer.loadgen import build_plan

pytestmark = pytest.mark.timeout(90)

ROOT = Path(__file__).resolve().parents[2]
APP = "sample_apps.websocket:app"


def _plan(*argv: str) -> list[tuple[str, bool, int]]:
    """(path, websocket, messages) of each request ``trace run APP ARGV`` would send."""
    config = config_from_args(build_parser().parse_args(["run", APP, *argv]))
    return [(r.path, r.websocket, r.ws_messages) for r in config.plan().requests]


@pytest.mark.parametrize(
    ("argv", "plan"),
    [
        (["--path", "ws:/ws", "--ws-messages", "0"], [("/ws", True, 0)]),
        (["--path", "/ws", "--ws-messages", "0"], [("/ws", True, 0)]),
        (["--path", "/a", "--path", "/b", "--ws-messages", "0"], [("/a", True, 0), ("/b", True, 0)]),
        (["--path", "/ws", "--ws-messages", "2"], [("/ws", True, 2)]),
        (["--path", "ws:/ws"], [("/ws", True, 1)]),
        (["--path", "/", "--path", "ws:/ws"], [("/", False, 0), ("/ws", True, 1)]),
        (["--path", "/", "--path", "ws:/ws", "--ws-messages", "0"], [("/", False, 0), ("/ws", True, 0)]),
        (["--path", "/ws"], [("/ws", False, 0)]),
    ],
)  # fmt: skip
def test_the_plan_honours_every_count_given_0_included(
    argv: list[str], plan: list[tuple[str, bool, int]]
) -> None:
    """0 was sent as 1 message on a ``ws:`` path, and made a plain path an HTTP request."""
    assert _plan(*argv) == plan


def test_the_library_takes_the_count_as_given() -> None:
    """``build_plan``: a ``ws:`` path's session has ``ws_messages`` messages, 0 included."""
    [request] = build_plan(paths=["ws:/ws"], ws_messages=0).requests
    assert (request.websocket, request.ws_messages) == (True, 0)


def test_a_read_option_is_refused_with_ws_messages_0(capsys: pytest.CaptureFixture[str]) -> None:
    """``--ws-messages 0`` is a WebSocket run like any other: a read option is refused."""
    from tracer.cli import main

    code = main(["run", APP, "--path", "/ws", "--ws-messages", "0", "--read-bytes", "10"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.startswith("trace: error: --read-bytes says how HTTP responses are read")


def _run(tmp_path: Path, *argv: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    record = tmp_path / "run.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "run", APP, "--path", "/ws", "--ws-messages", "0",
         "-n", "3", "-c", "1", "--headless", "--json", "--record", str(record), *argv],
        capture_output=True, text=True, cwd=ROOT, timeout=80,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = record.read_text().splitlines()
    return json.loads(done.stdout), [json.loads(line) for line in lines[1:]]


def _sessions(events: list[dict[str, Any]]) -> dict[int, list[tuple[str, Any]]]:
    """req -> the app's ASGI calls of each websocket session, in order."""
    out: dict[int, list[tuple[str, Any]]] = {}
    for e in sorted(events, key=lambda e: (e["t"], e["seq"])):
        if e["kind"] in ("asgi.receive", "asgi.send") and e["data"]["type"].startswith("websocket"):
            out.setdefault(e["req"], []).append((e["data"]["type"], e["data"].get("code")))
    return out


@pytest.mark.parametrize("server", ["loop", "uvicorn"])
def test_sessions_of_no_messages(tmp_path: Path, server: str) -> None:
    """Every session is accepted (101), the app receives no message, and the client closes
    normally: on the loop model as on uvicorn (wsproto), through the real client."""
    if server == "uvicorn" and (shutil.which("uvicorn") is None or _missing("wsproto")):
        pytest.skip("uvicorn with wsproto is not installed")
    summary, events = _run(tmp_path, "--server", server)
    assert (summary["status"], summary["errors"]) == ({"101": 3}, 0)
    sessions = _sessions(events)
    assert len(sessions) == 3
    for calls in sessions.values():
        assert calls == [
            ("websocket.connect", None),
            ("websocket.accept", None),
            ("websocket.disconnect", 1000),
        ]
    replies = [e["data"].get("messages") for e in events if e["kind"] == "client.response"]
    assert replies == ([] if server == "loop" else [0, 0, 0])


def _missing(package: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(package) is None
