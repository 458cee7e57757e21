"""WebSocket sessions (a ``ws`` phase) on the loop model: the events the ASGI shim records for a
real session, sessions of messages × reply delay, and WSGI models refusing them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim import SimConfig, simulate
from sim.workload import WS, load_workload, workload_from_dict
from tracer import events as K
from tracer.cli import main
from tracer.errors import UsageError
from tracer.recorder import Recorder
from tracer.recording import Recording, load
from tracer.summary import summarize

MS = 1_000_000
CHAT = {"ws": {"messages": 3, "bytes": 16, "reply_after": "50ms"}}


def _workload(*phases: dict[str, Any], **route: Any) -> Any:
    route = {"name": "chat", "path": "/chat", "phases": list(phases), **route}
    return workload_from_dict({"name": "chat", "route": [route]}, where="test")


def _run(*phases: dict[str, Any], model: str = "loop", **options: Any) -> tuple[Any, Recording]:
    recorder = Recorder()
    config = SimConfig(model=model, workload=_workload(*phases), **options)
    result = simulate(config, recorder=recorder)
    return result, recorder.recording()


def _shape(recording: Recording, req: int = 1) -> list[tuple[Any, ...]]:
    """(ms, kind, asgi type, bytes, awaiting) of one request's events, in recording order."""
    return [
        (
            e.t // MS,
            e.kind,
            e.data.get("type"),
            e.data.get("bytes"),
            e.data.get("awaiting"),
        )
        for e in recording.events
        if e.req == req
    ]


def test_one_session_exact_events() -> None:
    """connect, accept, then per message a receive, a step awaiting the 50 ms reply delay and
    the reply; the client's disconnect, the last step and request.end (101), all on the loop."""
    _, recording = _run(CHAT, concurrency=1, requests=1)
    R, S, STEP = K.ASGI_RECEIVE, K.ASGI_SEND, K.SCHED_STEP
    assert _shape(recording) == [
        (0, K.REQUEST_QUEUED, None, None, None),
        (0, K.REQUEST_START, None, None, None),
        (0, R, "websocket.connect", None, None),
        (0, S, "websocket.accept", None, None),
        (0, R, "websocket.receive", 16, None),
        (0, STEP, None, None, "asyncio.sleep"),
        (50, S, "websocket.send", 16, None),
        (50, R, "websocket.receive", 16, None),
        (50, STEP, None, None, "asyncio.sleep"),
        (100, S, "websocket.send", 16, None),
        (100, R, "websocket.receive", 16, None),
        (100, STEP, None, None, "asyncio.sleep"),
        (150, S, "websocket.send", 16, None),
        (150, R, "websocket.disconnect", None, None),
        (150, STEP, None, None, None),
        (150, K.REQUEST_END, None, None, None),
    ]
    events = [e for e in recording.events if e.req == 1]
    by_kind = {e.kind: e for e in events}
    assert by_kind[K.REQUEST_QUEUED].data == {"method": "GET", "path": "/chat"}
    assert by_kind[K.REQUEST_START].data == {
        "method": None,
        "path": "/chat",
        "query": "",
        "http_version": "1.1",
        "scheme": "ws",
        "client": None,
        "server": None,
        "interface": "asgi",
        "scope_type": "websocket",
        "headers": [],
        "asgi_version": "3.0",
    }
    assert by_kind[K.REQUEST_END].data == {
        "status": 101,
        "bytes_in": 48,
        "bytes_out": 48,
        "error": None,
    }
    receives = [e.data for e in events if e.kind == R]
    sends = [e.data for e in events if e.kind == S]
    assert receives[0] == {"type": "websocket.connect", "bytes": None, "more_body": None}
    assert receives[1] == {"type": "websocket.receive", "bytes": 16, "more_body": None}
    assert receives[-1] == {
        "type": "websocket.disconnect",
        "bytes": None,
        "more_body": None,
        "code": 1000,
    }
    assert sends[0] == {
        "type": "websocket.accept",
        "status": None,
        "bytes": None,
        "more_body": None,
    }
    assert sends[1] == {"type": "websocket.send", "status": None, "bytes": 16, "more_body": None}
    steps = [e.data for e in events if e.kind == STEP]
    assert [s["location"] for s in steps] == ["sim:chat:ws"] * 3 + ["sim:chat:return"]
    # Every event of the session is the loop thread's, in the request's task; no HTTP message.
    on_loop = [e for e in events if e.kind != K.REQUEST_QUEUED]
    assert {(e.thread, e.tid, e.task) for e in on_loop} == {("event-loop", 2, "request-1")}
    assert all(e.dur == 0 for e in events if e.kind in (R, S))
    assert not [e for e in events if str(e.data.get("type", "")).startswith("http.")]


@pytest.mark.parametrize("messages,delay_ms", [(10, 50), (3, 20), (1, 5)])
def test_a_session_lasts_messages_times_the_reply_delay(messages: int, delay_ms: int) -> None:
    """Each message is answered after the delay: 10 × 50 ms = 500 ms, for 50 sessions at once."""
    phase = {"ws": {"messages": messages, "bytes": 8, "reply_after": f"{delay_ms}ms"}}
    result, recording = _run(phase, concurrency=50, requests=50)
    summary = summarize(recording)
    latency = summary["latency_ms"]
    assert latency["mean"] == latency["p50"] == latency["max"] == messages * delay_ms
    assert summary["max_in_flight"] == 50
    assert summary["status"] == {"101": 50}
    # The simulation's own summary says what the recording's does.
    assert result.summary["status"] == summary["status"]
    assert result.summary["latency_ms"] == summary["latency_ms"]
    ends = [e for e in recording.events if e.kind == K.REQUEST_END]
    assert len(ends) == 50 and all(e.data["status"] == 101 for e in ends)


def test_no_reply_delay_answers_every_message_in_one_step() -> None:
    """Without reply_after the in-process client's messages are answered at once: one step."""
    _, recording = _run({"ws": {"messages": 4, "bytes": 2}}, concurrency=1, requests=1)
    steps = [e for e in recording.events if e.kind == K.SCHED_STEP]
    assert len(steps) == 1 and steps[0].data["awaiting"] is None
    types = [
        e.data.get("type") for e in recording.events if e.kind in (K.ASGI_RECEIVE, K.ASGI_SEND)
    ]
    pairs = ["websocket.receive", "websocket.send"] * 4
    assert types == ["websocket.connect", "websocket.accept", *pairs, "websocket.disconnect"]


def test_phases_before_ws_run_before_accept_and_after_it_after_disconnect() -> None:
    """A cpu phase runs between connect and accept; an io phase after the client's disconnect."""
    _, recording = _run(
        {"cpu": "2ms"},
        {"ws": {"messages": 1, "bytes": 4, "reply_after": "10ms"}},
        {"io": "5ms"},
        concurrency=1,
        requests=1,
    )
    shape = [s[:3] for s in _shape(recording)]
    steps = [e for e in recording.events if e.kind == K.SCHED_STEP]
    assert [((e.dur or 0) // MS, e.data["cpu_ns"] // MS) for e in steps] == [(2, 2), (0, 0), (0, 0)]
    assert shape == [
        (0, K.REQUEST_QUEUED, None),
        (0, K.REQUEST_START, None),
        (0, K.ASGI_RECEIVE, "websocket.connect"),
        (0, K.SCHED_STEP, None),  # the first step: 2 ms of CPU, then the reply delay
        (2, K.ASGI_SEND, "websocket.accept"),
        (2, K.ASGI_RECEIVE, "websocket.receive"),
        (12, K.ASGI_SEND, "websocket.send"),
        (12, K.ASGI_RECEIVE, "websocket.disconnect"),
        (12, K.SCHED_STEP, None),  # awaiting the io after the session
        (17, K.SCHED_STEP, None),
        (17, K.REQUEST_END, None),
    ]


def test_a_mixed_workload_counts_101_and_200_apart() -> None:
    """HTTP requests and WebSocket sessions in one run: each keeps its own status."""
    work = workload_from_dict(
        {
            "name": "mix",
            "route": [
                {"name": "page", "phases": [{"io": "10ms"}]},
                {"name": "chat", "path": "/ws", "phases": [CHAT]},
            ],
        },
        where="test",
    )
    recorder = Recorder()
    config = SimConfig(model="loop", workload=work, concurrency=5, requests=40, seed=2)
    result = simulate(config, recorder=recorder)
    summary = summarize(recorder.recording())
    assert set(summary["status"]) == {"101", "200"}
    assert result.summary["status"] == summary["status"]
    assert sum(summary["status"].values()) == 40
    scopes = {
        e.data["path"]: e.data["scope_type"]
        for e in recorder.recording().events
        if e.kind == K.REQUEST_START
    }
    assert scopes == {"/": "http", "/ws": "websocket"}


@pytest.mark.parametrize("model", ["threads", "processes", "wsgi-on-loop"])
def test_wsgi_models_refuse_a_websocket_route(model: str) -> None:
    """WSGI has no WebSocket: a UsageError naming the route, the model and what to do."""
    with pytest.raises(UsageError) as caught:
        _run(CHAT, model=model, concurrency=1, requests=1)
    message = str(caught.value)
    assert '"chat"' in message and f"--model {model}" in message and "--model loop" in message
    assert "WSGI has no WebSocket" in message and "\n" not in message
    with pytest.raises(UsageError):  # the stats-only path too (sweeps)
        simulate(SimConfig(model=model, workload=_workload(CHAT), concurrency=1, requests=1))


@pytest.mark.parametrize("model", ["threads", "wsgi-on-loop"])
def test_the_cli_refuses_a_websocket_route_on_wsgi_in_one_line(
    model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``trace sim --model threads --workload chat.toml``: one line on stderr, exit 2."""
    path = tmp_path / "chat.toml"
    path.write_text(
        '[[route]]\nname = "chat"\nphases = [{ ws = { messages = 2, reply_after = "5ms" } }]\n',
        encoding="utf-8",
    )
    record = tmp_path / "run.jsonl"
    assert main(["sim", "--model", model, "--workload", str(path), "--record", str(record)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "WebSocket" in err and "--model loop" in err
    assert not record.exists()  # refused before the recording was opened


def test_a_toml_ws_phase_records_and_reads_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """From a workload file through ``trace sim --record`` to ``trace summary``: 101s, 500 ms."""
    path = tmp_path / "chat.toml"
    path.write_text(
        'name = "chat"\n[[route]]\nname = "chat"\npath = "/chat"\n'
        'phases = [{ ws = { messages = 10, bytes = 16, reply_after = "50ms" } }]\n',
        encoding="utf-8",
    )
    work = load_workload(path)
    assert work.routes[0].websocket and work.routes[0].phases[0].code == WS
    out = tmp_path / "sim.jsonl"
    argv = ["sim", "--model", "loop", "--workload", str(path), "-c", "5", "-n", "10"]
    assert main([*argv, "--record", str(out), "--json"]) == 0
    capsys.readouterr()
    recording = load(out)
    summary = summarize(recording)
    assert summary["status"] == {"101": 10} and summary["latency_ms"]["max"] == 500.0
    assert main(["summary", str(out)]) == 0
    assert "101: 10" in capsys.readouterr().out


@pytest.mark.parametrize(
    "route,says",
    [
        ({"phases": [{"ws": {}}, {"ws": {}}]}, "one ws phase"),
        ({"phases": [{"ws": {}}, {"send": {"chunks": 2}}]}, "drop the send phase"),
        ({"sync": True, "phases": [{"ws": {}}]}, "cannot be sync"),
        ({"bytes": 10, "phases": [{"ws": {}}]}, "give the message size as ws bytes"),
        ({"method": "POST", "phases": [{"ws": {}}]}, "opens with GET"),
        (
            {"phases": [{"ws": {"messages": 0}}]},
            "ws messages must be a whole number from 1 to 1,000,000",
        ),
        ({"phases": [{"ws": {"bytes": -1}}]}, "ws bytes must be a whole number from 0 to"),
        ({"phases": [{"ws": {"chunks": 2}}]}, "unknown ws key 'chunks'"),
        ({"phases": [{"ws": "50ms"}]}, "ws takes a table"),
        ({"phases": [{"ws": {"reply_after": "soon"}}]}, "ws reply_after"),
    ],
)
def test_bad_ws_routes_are_one_clear_error(route: dict[str, Any], says: str) -> None:
    """What makes no sense in a WebSocket route is refused, saying what to change."""
    with pytest.raises(UsageError, match=says):
        workload_from_dict({"route": [route]}, where="test")


def test_http_routes_are_not_websocket() -> None:
    """Only a ws phase makes a route a WebSocket session."""
    work = _workload({"io": "5ms"}, {"send": {"chunks": 2, "interval": "1ms"}})
    assert not work.routes[0].websocket
    assert _workload(CHAT).routes[0].websocket
