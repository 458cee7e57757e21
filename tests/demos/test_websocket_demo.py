"""The websocket demo simulated: its ASGI side opens real-looking WebSocket sessions of 10
messages answered after 50 ms (500 ms), its WSGI side holds a thread as long, and the shape
check no longer excuses a simulated ASGI side that opens none."""

from __future__ import annotations

from demo_cache import simulated

from sim import SimConfig, simulate
from tracer import events as K
from tracer.demos import SCENARIOS
from tracer.demos.build import sim_run, workload
from tracer.demos.protocols import WEBSOCKET, long_response_work, session_work
from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.summary import request_spans, summarize

MS = 1_000_000


def _record(config: SimConfig) -> Recording:
    recorder = Recorder()
    simulate(config, recorder=recorder)
    return recorder.recording()


def test_the_simulated_asgi_side_opens_websocket_sessions_like_a_real_run() -> None:
    """50 sessions with scope websocket, each connect, accept, 10 receive/send pairs,
    disconnect and a 101 end, lasting 10 × 50 ms; the tightened check passes."""
    demo = simulated("websocket")
    assert demo.problems() == []
    _, asgi = demo.recordings
    assert asgi.header["source"] == "simulated" and asgi.header["interface"] == "asgi"
    starts = [e for e in asgi.events if e.kind == K.REQUEST_START]
    assert len(starts) == 50
    assert {(e.data["scope_type"], e.data["scheme"], e.data["method"]) for e in starts} == {
        ("websocket", "ws", None)
    }
    for req in (1, 50):
        types = [
            e.data["type"]
            for e in asgi.events
            if e.req == req and e.kind in (K.ASGI_RECEIVE, K.ASGI_SEND)
        ]
        pairs = ["websocket.receive", "websocket.send"] * 10
        assert types == ["websocket.connect", "websocket.accept", *pairs, "websocket.disconnect"]
    ends = [e for e in asgi.events if e.kind == K.REQUEST_END]
    assert {e.data["status"] for e in ends} == {101}
    assert {e.data["bytes_in"] for e in ends} == {160}
    summary = summarize(asgi)
    assert summary["status"] == {"101": 50}
    assert summary["latency_ms"]["p50"] == summary["latency_ms"]["max"] == 500.0
    assert demo.figures["asgi_sessions_at_once"] == 50


def test_the_wsgi_side_holds_a_thread_for_as_long_as_a_session() -> None:
    """The WSGI stand-in answers 10 chunks, each after 50 ms: 500 ms on its thread, 4 at once."""
    demo = simulated("websocket")
    wsgi, _ = demo.recordings
    served = [(span.end or 0) - (span.start or 0) for span in request_spans(wsgi.events).values()]
    assert served and set(served) == {500 * MS}
    chunks = [e for e in wsgi.events if e.kind == K.WSGI_BODY and e.req == 1]
    assert [e.end // MS for e in chunks] == [50 * k for k in range(1, 11)]
    assert demo.figures["wsgi_sessions_at_once"] == 4


def test_the_check_refuses_a_simulated_asgi_side_without_sessions() -> None:
    """A simulated ASGI side answering with a streamed HTTP response (the old stand-in) is
    no longer excused: the demo must show websocket sessions, simulated or real."""
    streamed = workload("session", {"send": {"chunks": 10, "bytes": 16, "interval": "50ms"}})
    wsgi = _record(sim_run("threads", long_response_work(), c=8, n=8, threads=4))
    asgi = _record(sim_run("loop", streamed, c=8, n=8))
    assert asgi.header["source"] == "simulated"
    assert "the ASGI run opened no websocket session" in WEBSOCKET.check([wsgi, asgi])
    sessions = _record(sim_run("loop", session_work(), c=8, n=8))
    assert WEBSOCKET.check([wsgi, sessions]) == []


def test_the_websocket_demo_uses_the_ws_workload_on_its_asgi_side() -> None:
    """The scenario's simulated sides: WSGI threads serve the long response, the loop the ws."""
    wsgi_side, asgi_side = SCENARIOS["websocket"].sides
    assert not any(route.websocket for route in wsgi_side.sim.workload.routes)
    assert all(route.websocket for route in asgi_side.sim.workload.routes)
    assert (wsgi_side.sim.model, asgi_side.sim.model) == ("threads", "loop")
