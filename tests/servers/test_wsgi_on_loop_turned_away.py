"""``wsgi-on-loop``: a request asgiref's ``WsgiToAsgi`` answers 400 itself is in the recording.

asgiref builds the environ before it calls the app, and answers 400 without the app when that
fails with a ``ValueError``: more duplicates of a header than its ``duplicate_header_limit``
(100), a query string that is not ASCII. The shim never sees such a request, so the recording
used to hold its ``request.queued`` and nothing else: no end, the report's status table without
the 400s, the request never completed. It ends as a request the server refused is recorded: its
``request.queued``, then a ``request.end`` with the status and body bytes its client got, no
``request.start`` between (docs/recording-format.md)."""

from __future__ import annotations

from typing import Any

import pytest
from model_driver import running, send_all

from tracer import events as K
from tracer.servers import Request
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(60)

CALLS: list[str] = []


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    CALLS.append(environ["QUERY_STRING"])
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


TOO_MANY = tuple(("X-Many", str(i)) for i in range(101))  # asgiref's limit is 100

REFUSED = [
    pytest.param(Request(headers=TOO_MANY), id="duplicate-headers"),
    pytest.param(Request(query="q=caf\u00e9"), id="non-ascii-query"),
]


@pytest.mark.parametrize("request_", REFUSED)
def test_a_request_asgiref_answers_itself_ends_with_its_400(request_: Request) -> None:
    """The request's events are exactly ``request.queued`` and one ``request.end``: asgiref's
    400 and the 39 bytes of its body, nothing read, no error; the app was never called."""
    CALLS.clear()
    with running("wsgi-on-loop", app) as (model, recorder):
        [response] = send_all(model, [request_], concurrency=1)
    assert (response.status, response.bytes_out) == (400, 39)
    assert CALLS == []
    mine = sorted((e for e in recorder.events if e.req == response.req), key=lambda e: e.seq)
    assert [e.kind for e in mine] == [K.REQUEST_QUEUED, K.REQUEST_END]
    assert mine[1].data == {"status": 400, "bytes_in": 0, "bytes_out": 39, "error": None}


def test_the_report_counts_the_400s_among_the_app_s_answers() -> None:
    """Between requests the app answers, the refused ones complete with their 400, turned away
    rather than queued for the app, and the app's own requests are recorded as before."""
    CALLS.clear()
    requests = [Request(query="a=1"), Request(headers=TOO_MANY), Request(query="q=\u00e9")]
    requests.append(Request(query="b=2"))
    with running("wsgi-on-loop", app) as (model, recorder):
        responses = send_all(model, requests, concurrency=2)
    assert [r.status for r in responses] == [200, 400, 400, 200]
    assert sorted(CALLS) == ["a=1", "b=2"]
    summary = summarize(recorder.events)
    assert summary["completed"] == 4
    assert summary["status"] == {"200": 2, "400": 2}
    assert summary["errors"] == 0
    starts = {e.req for e in recorder.events if e.kind == K.REQUEST_START}
    assert starts == {responses[0].req, responses[3].req}
    ends = [e.req for e in recorder.events if e.kind == K.REQUEST_END]
    assert sorted(ends) == sorted(r.req for r in responses)  # one end each
