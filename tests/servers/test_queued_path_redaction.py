"""``request.queued``'s path loses a secret ``;name=value`` as ``request.start``'s does, on every
in-process model, and keeps it with redaction off."""

from __future__ import annotations

import pytest
from model_driver import running, send_all

from tracer import events as K
from tracer.servers import Request

pytestmark = pytest.mark.timeout(60)


async def asgi_app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def wsgi_app(environ, start_response):  # type: ignore[no-untyped-def]
    start_response("200 OK", [])
    return [b"ok"]


MODELS = [("loop", asgi_app), ("threads", wsgi_app), ("wsgi-on-loop", wsgi_app)]


@pytest.mark.parametrize(("model", "app"), MODELS, ids=[m for m, _ in MODELS])
@pytest.mark.parametrize("redact", [True, False])
def test_the_queued_path_is_redacted_as_the_started_one(
    model: str, app: object, redact: bool
) -> None:
    with running(model, app, redact=redact) as (server, recorder):
        send_all(server, [Request(path="/cart;jsessionid=S1/7;v=1")], concurrency=1)
        recorder.drain()
        paths = {
            e.kind: e.data["path"]
            for e in recorder.events
            if e.kind in (K.REQUEST_QUEUED, K.REQUEST_START)
        }
    said = "/cart;jsessionid=[redacted]/7;v=1" if redact else "/cart;jsessionid=S1/7;v=1"
    assert paths == {K.REQUEST_QUEUED: said, K.REQUEST_START: said}
