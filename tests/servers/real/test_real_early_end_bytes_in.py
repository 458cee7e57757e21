"""An end the load generator records itself for a real server's request (its client timed
out, or the run stopped with the app on it) counts the request body the app had read as
``bytes_in``, as the shim's end does: readers take the first end, so it must not claim the
whole body the client sent (that is its ``client.send``'s ``bytes``)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tracer import events as K
from tracer.events import Event
from tracer.loadgen import LoadStats
from tracer.recorder import Recorder
from tracer.run import RunConfig, open_server, run
from tracer.servers.real.in_flight import InFlight
from tracer.servers.real.server import RealServer

pytestmark = pytest.mark.timeout(90)

BODY = b"x" * 100

# Reads X-Read bytes of the body, marks itself started, then holds the request until the
# test's ``release`` file appears (at most 10 s).
APP = """
import os
import time
from pathlib import Path


def app(environ, start_response):
    environ["wsgi.input"].read(int(environ["HTTP_X_READ"]))
    folder = Path(environ["HTTP_X_DIR"])
    (folder / "started").touch()
    deadline = time.monotonic() + 10
    while not (folder / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


def test_in_flight_counts_the_body_read_from_plain_and_packed_rows() -> None:
    """A held request's wsgi.input.read (plain row) and asgi.receive (packed row) bytes add
    up; a read that raised (no bytes) adds nothing, nor another request's reads."""
    in_flight = InFlight()
    in_flight.sent(1)
    head = (0, 0)
    rest = (1, 1, "t", None, None)
    in_flight.note(
        [
            (*head, K.WSGI_INPUT_READ, 1, *rest, {"method": "read", "bytes": 30}),
            (*head, K.ASGI_RECEIVE, 1, *rest, ("type", "bytes", "more_body"), "http.request", 40, True),
            (*head, K.WSGI_INPUT_READ, 1, *rest, {"method": "read", "raised": "OSError"}),
            (*head, K.WSGI_INPUT_READ, 2, *rest, {"method": "read", "bytes": 5}),
        ]
    )  # fmt: skip
    assert (in_flight.read(1), in_flight.read(2)) == (70, 0)
    in_flight.answered(1)
    assert in_flight.read(1) == 0


def _run(tmp_path: Path, *, timeout: float | None) -> list[Event]:
    """One POST of ``BODY`` to waitress, whose app reads 30 bytes of it and holds it: with
    ``timeout`` its client gives up (then the app is let go); without, the run is stopped
    while the app holds it (never let go: the server's stop ends it)."""
    (tmp_path / "reads_part.py").write_text(APP)
    stop = threading.Event()
    config = RunConfig(
        app="reads_part:app", app_dir=str(tmp_path), server="waitress", concurrency=1,
        requests=1, method="POST", body=BODY, timeout=timeout,
        headers=("X-Read: 30", f"X-Dir: {tmp_path}"),
    )  # fmt: skip

    def progress(stats: LoadStats) -> None:
        if timeout is not None and stats.timeouts:
            (tmp_path / "release").touch()
        elif timeout is None and (tmp_path / "started").exists():
            stop.set()

    recorder = Recorder()
    server = open_server(config, recorder)
    assert isinstance(server, RealServer)
    server.stop_timeout = 1.0  # the held app never ends by itself: no need for the 5 s
    run(config, recorder, server=server, stop=stop, progress=progress)
    return recorder.events


def _ends(events: list[Event]) -> list[Event]:
    (req,) = {e.req for e in events if e.kind == K.CLIENT_SEND}
    return [e for e in events if e.req == req and e.kind == K.REQUEST_END]


def test_a_timeout_s_end_counts_what_the_app_read(tmp_path: Path) -> None:
    """The client times out while the app holds the request, having read 30 of its 100
    bytes: the generator's end (first, error timeout) says bytes_in 30, as the app's own end
    that follows once it is let go; the client.send still says 100 were sent."""
    events = _run(tmp_path, timeout=1.0)
    (sent,) = [e for e in events if e.kind == K.CLIENT_SEND]
    assert sent.data["bytes"] == len(BODY)
    ends = sorted(_ends(events), key=lambda e: (e.t, e.seq))
    assert [(e.data["error"], e.data["bytes_in"]) for e in ends][0] == ("timeout", 30)
    assert [e.data["bytes_in"] for e in ends] == [30] * len(ends)


def test_a_stop_s_cancelled_end_counts_what_the_app_read(tmp_path: Path) -> None:
    """The run stops while the app holds the request (30 of 100 bytes read) and the server's
    stop ends the app: the one end, cancelled, says bytes_in 30."""
    events = _run(tmp_path, timeout=None)
    (end,) = _ends(events)
    assert (end.data["error"], end.data["bytes_in"]) == ("cancelled", 30)
