"""``tracer.servers.real.in_flight``: a run stopped with requests in a real server ends each of
them once, as on the in-process models (docs/recording-format.md, "A request can have two
``request.end`` events")."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from real_helpers import HERE

from tracer import events as K
from tracer.events import Event
from tracer.loadgen import LoadStats
from tracer.recorder import Recorder
from tracer.run import RunConfig, open_server, run
from tracer.servers.real.server import RealServer

pytestmark = pytest.mark.timeout(90)


def _row(kind: str, req: int) -> tuple[object, ...]:
    """A merged event row as a server process streams it (seq, t, kind, req, ...)."""
    return (0, 0, kind, req, 1, 1, "t", None, None, {})


def test_in_flight_notes_only_the_requests_it_holds() -> None:
    """Starts and ends of held requests are noted; another's (a lifespan, a request already
    answered) leave nothing behind; a start merged after the end does not undo it."""
    from tracer.servers.real.in_flight import ENDED, SENT, STARTED, InFlight

    in_flight = InFlight()
    in_flight.sent(1)
    in_flight.sent(2)
    in_flight.answered(2)
    in_flight.note([_row(K.REQUEST_START, 1), _row(K.REQUEST_START, 2), _row(K.REQUEST_START, 9)])
    assert [in_flight.state(req) for req in (1, 2, 9)] == [STARTED, SENT, SENT]
    in_flight.note([_row(K.REQUEST_END, 1), _row(K.REQUEST_START, 1)])
    assert in_flight.state(1) == ENDED
    in_flight.answered(1)
    assert in_flight.state(1) == SENT


def _stop_when_started(
    stop: threading.Event, folder: Path, count: int, *, release: bool
) -> Callable[[LoadStats], None]:
    """Set ``stop`` once the app has ``count`` requests (and, with ``release``, let them go
    right after: the client gives them up before any answer can reach it)."""

    def progress(stats: LoadStats) -> None:
        if stats.sent >= 2 and len(list(folder.glob("started-*"))) >= count:
            stop.set()
            if release:
                (folder / "release").touch()

    return progress


def _run_stopped(tmp_path: Path, threads: int, *, release: bool) -> tuple[list[Event], set[int]]:
    """Two requests to waitress on ``threads`` threads, stopped once the app holds as many.
    The server's stop bound is 1 s (5 s by default): held, the app waits for ``release``
    up to 30 s; released, it answers at once."""
    stop = threading.Event()
    recorder = Recorder()
    config = RunConfig(
        app="real_held:app", app_dir=HERE, server="waitress", threads=threads, concurrency=2,
        requests=2, paths=(f"/?dir={quote(str(tmp_path))}",),
    )  # fmt: skip
    server = open_server(config, recorder)
    assert isinstance(server, RealServer)
    server.stop_timeout = 1.0
    progress = _stop_when_started(stop, tmp_path, threads, release=release)
    result = run(config, recorder, server=server, stop=stop, progress=progress)
    assert result.stopped
    events = recorder.events
    return events, {e.req for e in events if e.kind == K.CLIENT_SEND and e.req is not None}


def _one(events: list[Event], req: int, kind: str) -> Event:
    """The one ``kind`` event of request ``req`` (failing when it has none or several)."""
    found = [e for e in events if e.req == req and e.kind == kind]
    assert len(found) == 1, f"request {req} has {len(found)} {kind} events: {found}"
    return found[0]


def test_a_request_the_app_finishes_after_the_stop_ends_once_by_the_shim(tmp_path: Path) -> None:
    """Stopped with both requests in the app, which then answers them while the load waits
    for them (the server's stop bound): each client gets its 200, and each request has one
    ``request.end``, the app's (200), where the doc says a request on a worker ends once when
    the run is stopped."""
    events, reqs = _run_stopped(tmp_path, threads=2, release=True)
    assert len(reqs) == 2
    for req in reqs:
        response = _one(events, req, K.CLIENT_RESPONSE).data
        assert response["status"] == 200 and "error" not in response
        end = _one(events, req, K.REQUEST_END)
        assert (end.data["status"], end.data["error"]) == (200, None)


def test_a_request_still_in_the_app_ends_as_cancelled_once_the_server_stopped(
    tmp_path: Path,
) -> None:
    """Stopped with one request in the app (one thread), which never answers, and one queued in
    waitress: each ends once, as cancelled. The queued one, which the app never saw, ends when
    its client left (the load having waited the server's stop bound for both); the one the
    app held ends after that, when the server had stopped. Each client's response is the
    stop's cancellation (``cancelled``), not an exception."""
    events, reqs = _run_stopped(tmp_path, threads=1, release=False)
    for req in reqs:
        assert _one(events, req, K.CLIENT_RESPONSE).data["error"] == "cancelled"
    started = {e.req for e in events if e.kind == K.REQUEST_START} & reqs
    assert len(reqs) == 2 and len(started) == 1
    (held,) = started
    (queued,) = reqs - started
    ends = {req: _one(events, req, K.REQUEST_END) for req in reqs}
    for end in ends.values():
        assert (end.data["status"], end.data["error"]) == (None, "cancelled")
    assert ends[queued].t < ends[held].t
    assert ends[held].t > _one(events, held, K.CLIENT_RESPONSE).t
