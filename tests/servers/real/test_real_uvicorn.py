"""``--server uvicorn``: the real uvicorn with the shim inside, end to end on 127.0.0.1."""

from __future__ import annotations

import pytest
from real_helpers import run_real

import tracer
from tracer import events as K
from tracer.client import ClientConfig

pytestmark = pytest.mark.timeout(90)


def test_hello_every_request_is_seen_by_client_and_server_under_one_id() -> None:
    """100 requests, c=10: 100 x 200; each client request has the server's request.start and
    request.end under the same id, from the one server process, in causal order across the
    two processes' clocks."""
    run = run_real(
        "uvicorn", "sample_apps.hello:asgi_app", ClientConfig(concurrency=10, requests=100)
    )
    assert run.stats.status == {200: 100}
    (pid,) = run.pids
    reqs = run.client_reqs()
    assert len(reqs) == 100
    for req in reqs:
        mine = [e for e in run.events if e.req == req]
        kinds = [e.kind for e in mine]
        assert kinds[:2] == [K.CLIENT_SEND, K.REQUEST_QUEUED]
        assert kinds.index(K.REQUEST_START) < kinds.index(K.REQUEST_END)
        start = next(e for e in mine if e.kind == K.REQUEST_START)
        end = next(e for e in mine if e.kind == K.REQUEST_END)
        first_send = next(e for e in mine if e.kind == K.ASGI_SEND)
        response = next(e for e in mine if e.kind == K.CLIENT_RESPONSE)
        assert start.pid == end.pid == pid
        # One clock for all processes: sent before the app started; the app began its
        # response before the client's first byte came.
        assert mine[0].t <= start.t <= first_send.t <= response.t
        assert end.data["status"] == 200
    lifespan = [e for e in run.kinds(K.REQUEST_START) if e.data.get("scope_type") == "lifespan"]
    assert len(lifespan) == 1 and lifespan[0].req not in reqs


def test_fastapi_websocket_sessions() -> None:
    """FastAPI's /ws echo on uvicorn, 4 sessions x 3 messages: 101 each; the server recorded
    each session under the client's id with 3 websocket.receive messages."""
    run = run_real(
        "uvicorn", "sample_apps.fastapi_app:app",
        ClientConfig(concurrency=2, requests=4, ws_messages=3, paths=("/ws",)),
    )  # fmt: skip
    assert run.stats.status == {101: 4}
    for req in run.client_reqs():
        received = [
            e for e in run.events
            if e.req == req and e.kind == K.ASGI_RECEIVE and e.data.get("type") == "websocket.receive"
        ]  # fmt: skip
        assert len(received) == 3
        start = next(e for e in run.events if e.req == req and e.kind == K.REQUEST_START)
        assert start.data["scope_type"] == "websocket"


def test_limit_concurrency_turns_requests_away_before_the_app() -> None:
    """--limit-concurrency 2 with 10 clients: uvicorn answers 503 itself (it counts open
    connections as well as tasks, so most are turned away); a 503 never reaches the app, and
    exactly the 200s were seen by it."""
    run = run_real(
        "uvicorn", "sample_apps.io_bound:asgi_app",
        ClientConfig(concurrency=10, requests=30, paths=("/?ms=20",)),
        limit_concurrency=2,
    )  # fmt: skip
    assert set(run.stats.status) <= {200, 503}
    assert run.stats.status[503] > 0
    assert run.stats.completed == 30
    started = {e.req for e in run.kinds(K.REQUEST_START)} & run.client_reqs()
    assert len(started) == run.stats.status[200]
    assert run.server.describe()["limit_concurrency"] == 2
    # The summary counts what the clients got, the 503s the app never saw included.
    summary = tracer.summarize(run.events)
    assert summary["completed"] == 30
    assert summary["status"] == {str(code): n for code, n in sorted(run.stats.status.items())}
    assert summary["errors"] == run.stats.status[503]


def test_two_workers_are_two_processes_with_their_own_lanes() -> None:
    """--workers 2: two server processes load the app; every server event carries one of their
    pids, and every request is answered."""
    run = run_real(
        "uvicorn", "sample_apps.hello:asgi_app", ClientConfig(concurrency=8, requests=40), workers=2
    )
    assert run.stats.status == {200: 40}
    assert len(run.pids) == 2
    server_pids = {e.pid for e in run.kinds(K.REQUEST_START)}
    assert server_pids <= run.pids


def test_wsgi_app_through_uvicorn_interface_wsgi() -> None:
    """A WSGI app on uvicorn (its WSGI middleware): the WSGI shim records each request."""
    run = run_real(
        "uvicorn", "sample_apps.hello:application", ClientConfig(concurrency=4, requests=12)
    )
    assert run.stats.status == {200: 12}
    assert len(run.kinds(K.WSGI_START_RESPONSE)) == 12
