"""Responses the client left on purpose (``trace run --read-for``) against real servers, as
the summary counts them: under ``client_closed``, neither errors nor cut short, though the
server's end says its client went (hypercorn's ``cancelled`` for an HTTP/2 stream, a WSGI
generator closed before its end); an app that raised after the client left is still an
error. ``trace run --json`` (the digest) and ``tracer.summarize`` of the recording agree, and
``trace summary`` says it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from real_helpers import HERE

import tracer
from tracer import events as K
from tracer.recording import load

pytestmark = pytest.mark.timeout(120)


def _trace(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracer", *argv],
        capture_output=True,
        text=True,
        timeout=100,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def _run(path: Path, spec: str, server: str, *options: str) -> dict[str, Any]:
    """``trace run SPEC --server SERVER OPTIONS --json --record PATH``: its summary."""
    done = _trace(
        "run", spec, "--server", server, "--app-dir", HERE, "-c", "1", "--read-for", "0.2s",
        "--timeout", "10s", *options, "--json", "--record", str(path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary: dict[str, Any] = json.loads(done.stdout)
    extras = ("error_types", "timeouts", "loop_blocked_places")  # --json's own keys
    assert {k: v for k, v in summary.items() if k not in extras} == tracer.summarize(load(path))
    return summary


def _by_path(path: Path, kind: str) -> list[tuple[str, dict[str, Any]]]:
    """Each request's ``path`` (from its ``client.send``) with the data of its ``kind``
    event (its first), in request order."""
    events = load(path).events
    sent = {e.req: e.data["path"] for e in events if e.kind == K.CLIENT_SEND}
    first: dict[int, dict[str, Any]] = {}
    for event in events:
        if event.kind == kind and event.req in sent:
            first.setdefault(event.req, dict(event.data))
    return [(sent[req], first[req]) for req in sorted(first)]


def test_http2_streams_the_client_cancelled_are_not_errors_but_an_app_that_raised_is(
    tmp_path: Path,
) -> None:
    """hypercorn --http2: the client cancels each stream after 0.2 s. On ``/`` the app waits
    on until hypercorn's stop cancels it (its end says ``cancelled``): left on purpose, no
    error. On ``/raise`` the app raises once told its client left: an error still."""
    pytest.importorskip("h2")
    path = tmp_path / "run.jsonl"
    summary = _run(
        path, "real_left_streams:asgi_left", "hypercorn", "--http2", "-n", "3",
        "--path", "/", "--path", "/raise",
    )  # fmt: skip
    responses = _by_path(path, K.CLIENT_RESPONSE)
    assert [(p, d["status"], d.get("client_closed")) for p, d in responses] == [
        ("/", 200, "read-for"),
        ("/raise", 200, "read-for"),
        ("/", 200, "read-for"),
    ]
    ends = _by_path(path, K.REQUEST_END)
    assert [(p, d["error"], d.get("cut_short")) for p, d in ends] == [
        ("/", "cancelled", True),
        ("/raise", "ValueError", True),
        ("/", "cancelled", True),
    ]
    assert (summary["completed"], summary["errors"], summary["client_closed"]) == (3, 1, 2)
    assert "cut_short" not in summary

    shown = _trace("summary", str(path))
    assert shown.returncode == 0, shown.stderr
    said = " ".join(shown.stdout.split())
    assert "errors 1 (0 timeouts)" in said
    assert "closed by client 2 (the client stopped reading on purpose; no error)" in said
    assert "cut short" not in said


def test_a_wsgi_stream_left_after_read_for_is_closed_by_the_client_not_cut_short(
    tmp_path: Path,
) -> None:
    """waitress: the client leaves each generator's stream after 0.2 s and waitress closes the
    generator before its end (``cut_short`` in its end): counted once, as left on purpose."""
    path = tmp_path / "run.jsonl"
    summary = _run(path, "real_streams:wsgi_stream", "waitress", "-n", "2")
    ends = _by_path(path, K.REQUEST_END)
    assert [(d["status"], d["error"], d.get("cut_short")) for _, d in ends] == [
        (200, None, True),
        (200, None, True),
    ]
    assert (summary["completed"], summary["errors"], summary["client_closed"]) == (2, 0, 2)
    assert "cut_short" not in summary
