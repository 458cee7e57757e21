"""A WSGI model's own ``request.end`` (the server refused the response) counts the request
bytes the app read, as the shim's end does: readers take the first end, so the recording
must not claim the whole Content-Length for an app that read part of it."""

from __future__ import annotations

from pathlib import Path

import pytest
from model_driver import running, send_all

from tracer import events as K
from tracer.servers import Request

pytestmark = pytest.mark.timeout(60)

APP_MODULE = "refusal_bytes_in_app"

# Written to a file: the ``processes`` model's children import it.
APP_SOURCE = """
def app(environ, start_response):
    read = environ["wsgi.input"].read(4)  # of the 10 bytes sent
    if environ["PATH_INFO"] == "/str-chunk":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return ["not bytes"]  # the server refuses the chunk: its own end comes first
    start_response("200 OK", [("X-Note", "a\\nb")])  # the server raises into the app
    return [read]
"""

BODY = b"0123456789"


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("refusal_bytes_in")
    (folder / f"{APP_MODULE}.py").write_text(APP_SOURCE)
    return folder


@pytest.mark.parametrize("model", ["threads", "processes"])
def test_every_end_of_a_refused_response_counts_what_the_app_read(
    model: str, app_dir: Path
) -> None:
    """Two ends per request, the model's then the shim's: both say 4 bytes came in."""
    requests = [
        Request(method="POST", path=path, body=BODY) for path in ("/str-chunk", "/bad-header")
    ]
    with running(model, app_spec=f"{APP_MODULE}:app", app_dir=str(app_dir)) as (m, recorder):
        responses = send_all(m, requests, concurrency=1)
    assert [r.status for r in responses] == [500, 500]
    ordered = sorted(recorder.events, key=lambda e: (e.t, e.seq))
    for response in responses:
        ends = [e.data for e in ordered if e.kind == K.REQUEST_END and e.req == response.req]
        assert len(ends) == 2, ends
        assert [end["bytes_in"] for end in ends] == [4, 4]
        assert ends[0]["status"] == 500
        assert ends[0]["error"] in ("TypeError", "ValueError")
