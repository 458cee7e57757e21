"""``--server daphne``: Django's ASGI server on Twisted, HTTP and WebSocket."""

from __future__ import annotations

import pytest
from real_helpers import run_real

from tracer import events as K
from tracer.client import ClientConfig
from tracer.errors import InterfaceError

pytest.importorskip("daphne")
pytestmark = pytest.mark.timeout(90)


def test_http_and_websocket_sessions() -> None:
    """20 HTTP requests, then 3 websocket sessions of 2 messages: all answered, each recorded by
    the shim under the client's id."""
    http = run_real(
        "daphne", "sample_apps.hello:asgi_app", ClientConfig(concurrency=4, requests=20)
    )
    assert http.stats.status == {200: 20}
    ws = run_real(
        "daphne", "sample_apps.websocket:app",
        ClientConfig(concurrency=3, requests=3, ws_messages=2),
    )  # fmt: skip
    assert ws.stats.status == {101: 3}
    for run in (http, ws):
        started = {e.req for e in run.kinds(K.REQUEST_START)}
        assert run.client_reqs() <= started


def test_wsgi_app_is_refused() -> None:
    """daphne serves ASGI only: a WSGI app is an InterfaceError."""
    with pytest.raises(InterfaceError, match="--server daphne runs only ASGI"):
        run_real("daphne", "sample_apps.hello:application", ClientConfig(requests=1))
