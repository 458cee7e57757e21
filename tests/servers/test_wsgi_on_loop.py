"""The ``wsgi-on-loop`` model: asgiref's WsgiToAsgi on a loop runs every request on one thread."""

from __future__ import annotations

import pytest
from model_driver import running, send_all, spans

from sample_apps import echo, hello, io_bound
from tracer import events as K
from tracer.errors import InterfaceError
from tracer.recorder import Recorder
from tracer.servers import Request, ServerConfig
from tracer.servers.wsgi_on_loop import WsgiOnLoopServer
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(60)


def test_every_request_on_one_thread_one_at_a_time() -> None:
    """time.sleep requests at -c 8: all run on the same sync_to_async thread, never two at once."""
    with running("wsgi-on-loop", io_bound.wsgi_app) as (model, recorder):
        responses = send_all(model, [Request(query="ms=20")] * 8, concurrency=8)
    assert [r.status for r in responses] == [200] * 8
    lifecycle = spans(recorder.events)
    starts = [s[K.REQUEST_START] for s in lifecycle.values() if K.REQUEST_QUEUED in s]
    assert len(starts) == 8
    assert len({e.tid for e in starts}) == 1
    assert starts[0].tid != model.thread.ident  # type: ignore[attr-defined]  # not the loop itself
    assert summarize(recorder.events)["max_in_flight"] == 1


def test_request_id_reaches_the_wsgi_shim() -> None:
    """The server model's request id (queued) is the one the WSGI shim uses (start, end)."""
    with running("wsgi-on-loop", hello.application) as (model, recorder):
        [response] = send_all(model, [Request()], concurrency=1)
    kinds = [e.kind for e in recorder.events if e.req == response.req]
    assert kinds[0] == K.REQUEST_QUEUED and K.REQUEST_START in kinds and kinds[-1] == K.REQUEST_END
    assert response.status == 200 and response.bytes_out == 13


def test_body_is_spooled_to_the_app() -> None:
    """A 100 kB POST goes through WsgiToAsgi's spooled body to wsgi.input and back."""
    body = b"y" * 100_000
    with running("wsgi-on-loop", echo.wsgi_app) as (model, _):
        [response] = send_all(
            model,
            [Request(method="POST", body=body, headers=(("content-length", "100000"),))],
            concurrency=1,
        )
    assert (response.status, response.bytes_out) == (200, len(body))


def test_asgi_app_is_refused() -> None:
    """WsgiToAsgi wraps WSGI apps only."""
    with pytest.raises(InterfaceError):
        WsgiOnLoopServer(ServerConfig(app=hello.asgi_app), Recorder())
