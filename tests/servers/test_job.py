"""``tracer.servers.job``: what a stopped run does to the requests a worker is running."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tracer import events as K
from tracer.events import Event
from tracer.loadgen import LoadStats
from tracer.recorder import Recorder
from tracer.run import RunConfig, run

pytestmark = pytest.mark.timeout(60)

_ENDLESS = (
    "import time\n"
    "def app(environ, start_response):\n"
    "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
    "    def chunks():\n"
    "        while True:\n"
    "            yield b'x' * 64\n"
    "            time.sleep(0.005)\n"
    "    return chunks()\n"
)


def _stop_once_streaming(
    stop: threading.Event, recorder: Recorder, count: int
) -> Callable[[LoadStats], None]:
    """A progress callback setting ``stop`` once ``count`` bodies have sent a chunk."""

    def progress(stats: LoadStats) -> None:
        chunks = {e.req for e in recorder.events if e.kind == K.WSGI_BODY}
        if len(chunks) >= count:
            stop.set()

    return progress


def _lifecycle(events: list[Event], req: int) -> list[str]:
    """The request's ``wsgi.close`` and ``request.end`` events, in order, as kind:error."""
    return [
        f"{e.kind}:{e.data.get('error')}" if e.kind == K.REQUEST_END else e.kind
        for e in sorted(events, key=lambda e: (e.t, e.seq))
        if e.req == req and e.kind in (K.WSGI_CLOSE, K.REQUEST_END)
    ]


@pytest.mark.parametrize("server", ["threads", "processes"])
def test_a_stop_closes_an_endless_body_and_ends_its_request_once(
    server: str, tmp_path: Path
) -> None:
    """Stopped while two workers stream endless bodies: each client is gone, as a real
    server's client closes its connection, so the worker pulls no further chunk and calls
    ``close()``; the shim's end (``close_called``) is the request's only end. The body used to
    be left unclosed: on ``threads`` the model ended it as cancelled once it gave up on the
    worker, and the shim's end came after; on ``processes`` the child was killed mid-body,
    with no ``wsgi.close`` and no end of its own."""
    (tmp_path / "endless.py").write_text(_ENDLESS)
    stop = threading.Event()
    recorder = Recorder()
    config = RunConfig(
        app="endless:app", app_dir=str(tmp_path), server=server, threads=2, concurrency=2,
        requests=2,
    )  # fmt: skip
    result = run(config, recorder, stop=stop, progress=_stop_once_streaming(stop, recorder, 2))
    assert result.stopped
    events = recorder.events
    reqs = sorted({e.req for e in events if e.kind == K.REQUEST_QUEUED})
    assert len(reqs) == 2
    for req in reqs:
        assert _lifecycle(events, req) == [K.WSGI_CLOSE, f"{K.REQUEST_END}:None"]
        (end,) = [e for e in events if e.req == req and e.kind == K.REQUEST_END]
        assert end.data["close_called"] is True and end.data["status"] == 200
