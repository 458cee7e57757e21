"""The simulator's protocol calls against a real run's: the same calls, in the same order.

The in-process server models run the real adapters (asgiref's ``WsgiToAsgi`` for
``wsgi-on-loop``) around ``sample_apps.io_bound``; the simulation of the same model must
record the protocol events the shim records there, neither more nor fewer.
"""

from __future__ import annotations

from typing import Any

from sim import SimConfig, simulate
from sim.dist import Fixed
from sim.workload import inline_workload, workload_from_dict
from tracer import events as K
from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.run import RunConfig, run

PROTOCOL = {
    K.WSGI_INPUT_READ,
    K.WSGI_START_RESPONSE,
    K.WSGI_WRITE,
    K.WSGI_BODY,
    K.WSGI_CLOSE,
    K.ASGI_RECEIVE,
    K.ASGI_SEND,
}


def _calls(recording: Recording) -> list[tuple[Any, ...]]:
    """Per HTTP request (in request order), its protocol calls in order and its end's
    ``close_called`` ("absent" for ASGI)."""
    events = sorted(recording.events, key=lambda e: (e.t, e.seq))
    http = {
        e.req for e in events if e.kind == K.REQUEST_START and e.data["scope_type"] == "http"
    }  # not the ASGI lifespan, which a simulation has no counterpart of
    calls: dict[int, list[Any]] = {req: [] for req in http}
    ends: dict[int, Any] = {}
    for event in events:
        if event.req not in http:
            continue
        if event.kind in PROTOCOL:
            calls[event.req].append((event.kind, event.data.get("type")))
        elif event.kind == K.REQUEST_END:
            ends[event.req] = event.data.get("close_called", "absent")
    return [(tuple(calls[req]), ends[req]) for req in sorted(http)]


def _real(app: str, model: str) -> Recording:
    recorder = Recorder()
    config = RunConfig(app=app, server=model, concurrency=1, requests=2, paths=("/?ms=1",))
    run(config, recorder)
    return recorder.recording()


def _simulated(model: str, **route: Any) -> Recording:
    workload = (
        workload_from_dict(
            {"route": [{"name": "io", "phases": [{"io": "1ms"}], **route}]}, where="test"
        )
        if route
        else inline_workload(io=Fixed(1_000_000))
    )
    recorder = Recorder()
    simulate(
        SimConfig(model=model, concurrency=1, requests=2, workload=workload), recorder=recorder
    )
    return recorder.recording()


def test_wsgi_on_loop_never_closes_the_body_as_asgiref_does_not() -> None:
    """asgiref's run_wsgi_app iterates the WSGI body and returns without calling close():
    a real WsgiToAsgi run has no wsgi.close and ends close_called False, and so does its
    simulation."""
    real = _calls(_real("sample_apps.io_bound:wsgi_app", "wsgi-on-loop"))
    simulated = _calls(_simulated("wsgi-on-loop"))
    once = ((K.WSGI_START_RESPONSE, None), (K.WSGI_BODY, None))
    assert real == [(once, False), (once, False)]
    assert simulated == real


def test_a_wsgi_server_closes_the_body_in_both() -> None:
    """The threads model's server calls close() after the body: wsgi.close, close_called True,
    real and simulated alike."""
    real = _calls(_real("sample_apps.io_bound:wsgi_app", "threads"))
    simulated = _calls(_simulated("threads"))
    once = ((K.WSGI_START_RESPONSE, None), (K.WSGI_BODY, None), (K.WSGI_CLOSE, None))
    assert real == [(once, True), (once, True)]
    assert simulated == real


def test_an_asgi_app_that_never_reads_has_no_receive_in_both() -> None:
    """sample_apps.io_bound's ASGI handler never calls receive(): its real run has no
    asgi.receive, and a route that says reads_body = false records none either."""
    real = _calls(_real("sample_apps.io_bound:asgi_app", "loop"))
    simulated = _calls(_simulated("loop", reads_body=False))
    sends = ((K.ASGI_SEND, "http.response.start"), (K.ASGI_SEND, "http.response.body"))
    assert real == [(sends, "absent"), (sends, "absent")]
    assert simulated == real


def test_a_route_reads_its_body_unless_it_says_not() -> None:
    """By default (reads_body true, as an app that reads its body) each request first receives
    its empty body, one http.request, before it answers."""
    simulated = _calls(_simulated("loop"))
    calls = (
        (K.ASGI_RECEIVE, "http.request"),
        (K.ASGI_SEND, "http.response.start"),
        (K.ASGI_SEND, "http.response.body"),
    )
    assert simulated == [(calls, "absent"), (calls, "absent")]
