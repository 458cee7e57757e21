"""A websocket app that accepts, reads one message, then awaits something else (a sleep) and
returns without a reply or a close, while its client still waits for replies: under uvicorn the
connection closes when the app returns, and the network client records the session as failed
(``ConnectionResetError``) then. The ``loop`` model's own end for the client comes when the app
returned, not at its last ``receive()``: the session stays open while the app sleeps, in the
recording, the summary, ``--json``, the live header, the replay's phases and the digest alike.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import pytest

from tracer import events as K
from tracer.cli import main
from tracer.digest import Digest
from tracer.events import Event
from tracer.phases import ERROR, request_phases
from tracer.recording import load
from tracer.request_span import request_spans
from tracer.servers.scope import DROPPED_SESSION
from tracer.summary import summarize
from tracer.tui.live_stats import LiveStats

pytestmark = pytest.mark.timeout(60)

APP = """
import asyncio


async def app(scope, receive, send):
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    await receive()
    await asyncio.sleep(0.2)
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[Event]]:
    """One session of the app on the ``loop`` model through ``trace run``: its ``--json``
    summary and its recording's events (in time order)."""
    folder = tmp_path_factory.mktemp("dropper")
    (folder / "dropper.py").write_text(APP)
    record = folder / "r.jsonl"
    argv = ["run", f"{folder / 'dropper.py'}:app", "--server", "loop", "--path", "ws:/x"]
    argv += ["--ws-messages", "3", "-c", "1", "-n", "1", "--headless", "--json"]
    argv += ["--record", str(record)]
    out = _main_json(argv)
    return out, list(load(record).events)


def _main_json(argv: list[str]) -> dict[str, Any]:
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main(argv) == 0
    return json.loads(stdout.getvalue())


def _session(events: list[Event]) -> tuple[int, list[Event]]:
    """The session's request id and its events."""
    [start] = [
        e for e in events if e.kind == K.REQUEST_START and e.data["scope_type"] == "websocket"
    ]
    return start.req, [e for e in events if e.req == start.req]  # type: ignore[return-value]


def test_the_models_end_is_dated_when_the_app_returned(run: Any) -> None:
    _, events = run
    _, mine = _session(events)
    ends = sorted((e for e in mine if e.kind == K.REQUEST_END), key=lambda e: (e.t, e.seq))
    assert [e.data["error"] for e in ends] == [DROPPED_SESSION, None]
    model_end, shim_end = ends
    steps = [e for e in mine if e.kind == K.SCHED_STEP]
    [sleeping] = [e for e in steps if e.data["awaiting"] == "asyncio.sleep"]
    last = steps[-1]  # the step the app returned in
    assert last.data["awaiting"] is None
    # After the sleep, within the app's last step, before the shim's own end.
    assert sleeping.end <= model_end.t <= last.t <= shim_end.t


def test_every_reader_takes_the_session_as_open_until_the_app_returned(run: Any) -> None:
    out, events = run
    req, mine = _session(events)
    [model_end] = [e for e in mine if e.kind == K.REQUEST_END and e.data["error"]]
    [queued] = [e for e in mine if e.kind == K.REQUEST_QUEUED]
    latency_ms = (model_end.t - queued.t) / 1e6
    [sleeping] = [
        e for e in mine if e.kind == K.SCHED_STEP and e.data["awaiting"] == "asyncio.sleep"
    ]
    slept_ms = (sleeping.end - queued.t) / 1e6  # open at least until the app woke up

    span = request_spans(events)[req]
    assert (span.finished, span.outcome_status, span.outcome_error, span.failed) == (
        model_end.t,
        101,
        DROPPED_SESSION,
        True,
    )
    summary = summarize(events)
    assert summary["errors"] == 1
    assert summary["latency_ms"]["max"] == pytest.approx(latency_ms, abs=1e-3)
    assert (out["errors"], out["error_types"]) == (1, {DROPPED_SESSION: 1})
    assert out["latency_ms"]["max"] == pytest.approx(latency_ms, abs=1e-3)
    assert out["latency_ms"]["max"] > slept_ms
    digest = Digest()
    digest.feed(events)
    assert digest.summary()["errors"] == 1
    assert digest.summary()["latency_ms"]["max"] == pytest.approx(latency_ms, abs=1e-3)
    live = LiveStats()
    live.feed(events)
    snapshot = live.snapshot()
    assert (snapshot.completed, snapshot.errors) == (1, 1)
    assert list(live.ordered_latencies()) == [pytest.approx(latency_ms, abs=1e-3)]
    # The replay's lane: its error mark where the client's session ended.
    marks = [p for p in request_phases(mine, model_end.t) if p.phase == ERROR]
    assert [(p.start, p.end) for p in marks] == [(model_end.t, model_end.t)]
