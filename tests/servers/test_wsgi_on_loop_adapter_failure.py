"""``wsgi-on-loop``: asgiref's ``WsgiToAsgi`` failing outside the app and the shim is data.

An app whose ``Content-Length`` response yields an int: the shim passes the item on (a
WSGI-015 violation), and asgiref's own ``len()`` of it raises ``TypeError`` in its loop, after
it sent the status. The client sees 200 and a failure; the recording used to say the shim's
200 with no error, and the report ``errors 0``."""

from __future__ import annotations

from typing import Any

import pytest
from model_driver import running, send_all

from tracer import events as K
from tracer.servers import Request
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(60)


def int_item_app(environ: dict[str, Any], start_response: Any) -> list[Any]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [42]


def raising_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    raise ValueError("the app's own")


def test_an_adapter_failure_ends_each_request_with_its_error() -> None:
    """Each request's first end (what readers take) is the adapter's failure: status 200 (sent
    already), error TypeError, after an ``error`` event saying what failed; the shim's end
    follows; the report counts every request as an error."""
    with running("wsgi-on-loop", int_item_app) as (model, recorder):
        responses = send_all(model, [Request()] * 3, concurrency=1)
    assert [(r.status, r.error) for r in responses] == [(200, "TypeError")] * 3
    events = sorted(recorder.events, key=lambda e: (e.t, e.seq))
    for response in responses:
        mine = [e for e in events if e.req == response.req]
        kinds = [e.kind for e in mine]
        first_end = kinds.index(K.REQUEST_END)
        assert kinds[first_end - 1] == K.ERROR
        assert mine[first_end - 1].data["type"] == "TypeError"
        assert "len()" in mine[first_end - 1].data["message"]
        end = mine[first_end].data
        assert (end["status"], end["error"], end["bytes_out"]) == (200, "TypeError", 0)
        assert kinds.count(K.REQUEST_END) == 2  # the shim's own follows
    summary = summarize(recorder.events)
    assert summary["errors"] == 3 and summary["status"] == {"200": 3}


def test_the_app_s_own_exception_is_recorded_once() -> None:
    """An exception the app raises is the shim's to record: one ``error``, one end (500)."""
    with running("wsgi-on-loop", raising_app) as (model, recorder):
        [response] = send_all(model, [Request()], concurrency=1)
    assert response.status == 500
    mine = [e for e in recorder.events if e.req == response.req]
    assert [e.data["type"] for e in mine if e.kind == K.ERROR] == ["ValueError"]
    assert [e.data["status"] for e in mine if e.kind == K.REQUEST_END] == [500]
