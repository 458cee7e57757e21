"""``tracer.run``: config checks, the recording header, end-to-end runs, stop."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tracer import events as K
from tracer.errors import AppLoadError, InterfaceError, UsageError
from tracer.events import Event
from tracer.loadgen import LoadStats
from tracer.recorder import Recorder
from tracer.run import RunConfig, default_record_path, open_server, run
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(120)


def _run(**options: object) -> tuple[Recorder, object]:
    recorder = Recorder()
    result = run(RunConfig(**options), recorder)  # type: ignore[arg-type]
    return recorder, result


def test_default_app_on_the_default_model_fills_the_header() -> None:
    """No APP, no --server: the bundled ASGI hello on the loop model; the header says so."""
    recorder, result = _run(requests=20, concurrency=4, seed=3)
    header = recorder.header
    assert header["app"] == "sample_apps.hello:asgi_app" and header["interface"] == "asgi"
    assert header["server"]["model"] == "loop"
    assert header["load"]["concurrency"] == 4 and header["load"]["seed"] == 3
    assert summarize(recorder.events)["status"] == {"200": 20}
    assert result.stats.done == 20 and not result.stopped  # type: ignore[attr-defined]


def test_wsgi_defaults_to_threads() -> None:
    """A WSGI APP without --server runs on the threads model with 4 threads."""
    recorder, _ = _run(app="sample_apps.hello:application", requests=10)
    assert recorder.header["server"] == {"model": "threads", "threads": 4, "workers": 1}


def test_a_thousand_clients() -> None:
    """-c 1000 -n 2000 on a fast app completes every request."""
    recorder, result = _run(concurrency=1000, requests=2000)
    summary = summarize(recorder.events)
    assert summary["completed"] == 2000 and summary["status"] == {"200": 2000}


def _ends_by_request(events: list[Event]) -> dict[int, list[Event]]:
    """Every request (lifespan scopes left out) with the ``request.end`` events it has."""
    lifespan = {
        e.req
        for e in events
        if e.kind == K.REQUEST_START and e.data.get("scope_type") == "lifespan"
    }
    ends: dict[int, list[Event]] = {
        e.req: [] for e in events if e.kind == K.REQUEST_QUEUED and e.req is not None
    }
    for e in events:
        if e.kind == K.REQUEST_END and e.req not in lifespan:
            ends.setdefault(e.req, []).append(e)  # type: ignore[arg-type]
    return ends


def _stop_once_all_sent(stop: threading.Event, count: int) -> Callable[[LoadStats], None]:
    def progress(stats: LoadStats) -> None:
        if stats.sent >= count:
            stop.set()

    return progress


def test_stop_ends_a_hung_run_with_a_whole_recording() -> None:
    """stop set mid-run on the loop: run returns; each request in flight ends once, when the
    server cancels its task (the shim records that end; no second, synthetic one)."""
    stop = threading.Event()
    recorder = Recorder()
    config = RunConfig(app="sample_apps.io_bound:asgi_app", paths=("/?ms=30000",), concurrency=5)
    result = run(config, recorder, stop=stop, progress=_stop_once_all_sent(stop, 5))
    assert result.stopped
    ends = _ends_by_request(recorder.events)
    assert len(ends) == 5 and all(len(end) == 1 for end in ends.values())
    assert all(end[0].data["error"] and end[0].data["status"] is None for end in ends.values())


@pytest.mark.parametrize(
    "app,server",
    [
        ("sample_apps.io_bound:wsgi_app", "threads"),
        ("sample_apps.io_bound:wsgi_app", "wsgi-on-loop"),
        ("sample_apps.io_bound:asgi_app", "loop"),
        ("sample_apps.io_bound:wsgi_app", "processes"),
    ],
)
def test_stop_ends_every_request_once(app: str, server: str) -> None:
    """stop while requests run and others queue (-c 8, 2 threads): every request has exactly
    one request.end; a queued one that never started ends as cancelled, a started one ends
    when its worker finishes it (on the worker's thread, not the run's)."""
    stop = threading.Event()
    recorder = Recorder()
    threads = None if server in ("loop", "wsgi-on-loop") else 2
    config = RunConfig(
        app=app, server=server, threads=threads, paths=("/?ms=300",), concurrency=8, requests=400
    )
    result = run(config, recorder, stop=stop, progress=_stop_once_all_sent(stop, 8))
    assert result.stopped
    events = recorder.events
    ends = _ends_by_request(events)
    started = {e.req for e in events if e.kind == K.REQUEST_START}
    assert ends and all(len(end) == 1 for end in ends.values()), ends
    never = [end[0] for req, end in ends.items() if req not in started]
    ran = [end[0] for req, end in ends.items() if req in started]
    assert ran and all(e.data["error"] is None or e.thread != "MainThread" for e in ran)
    if server != "loop":  # (on the loop every request starts at once: none is left queued)
        assert never and all(e.data["error"] == "cancelled" for e in never)
    summary = summarize(events)
    assert summary["completed"] == len(ends)


def test_stop_ends_a_request_stuck_on_a_worker_once() -> None:
    """A WSGI app stuck past the stop's wait for the workers: its request ends once, as
    cancelled, when the run gives up on it (the run returns, the worker is left behind)."""
    release = threading.Event()

    def stuck(environ: dict[str, object], start_response: Callable[..., object]) -> list[bytes]:
        release.wait(30)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"late"]

    stop = threading.Event()
    recorder = Recorder()
    config = RunConfig(app="stuck", server="threads", threads=1, concurrency=3)
    try:
        server = open_server(config, recorder, app=stuck)
        run(config, recorder, server=server, stop=stop, progress=_stop_once_all_sent(stop, 3))
        ends = _ends_by_request(recorder.events)
    finally:
        release.set()
    assert len(ends) == 3 and all(len(end) == 1 for end in ends.values())
    assert all(end[0].data["error"] == "cancelled" for end in ends.values())


def test_timeout_of_a_hanging_app_is_recorded_and_the_run_ends() -> None:
    """--timeout: a WSGI app stuck for longer than the timeout ends as a timeout, exit clean."""
    recorder, result = _run(
        app="sample_apps.io_bound:wsgi_app",
        paths=("/?ms=400",),
        requests=2,
        concurrency=2,
        timeout=0.05,
    )
    assert result.stats.timeouts == 2  # type: ignore[attr-defined]
    summary = summarize(recorder.events)
    assert summary["errors"] == 2 and summary["completed"] == 2


def test_flask_app() -> None:
    """The Flask sample on threads: routes answer, the shim records the WSGI calls."""
    pytest.importorskip("flask")
    recorder, _ = _run(
        app="sample_apps.flask_app:app", paths=("/", "/io?ms=10"), requests=8, concurrency=4
    )
    assert summarize(recorder.events)["status"] == {"200": 8}
    assert any(e.kind == K.WSGI_START_RESPONSE for e in recorder.events)


def test_fastapi_app_routes_and_websocket() -> None:
    """The FastAPI sample on the loop: async, sync (thread pool) and websocket routes."""
    pytest.importorskip("fastapi")
    recorder, _ = _run(
        app="sample_apps.fastapi_app:app",
        paths=("/", "/io?ms=10", "/sync?ms=10", "ws:/ws"),
        ws_messages=2,
        requests=8,
        concurrency=4,
    )
    summary = summarize(recorder.events)
    assert summary["status"] == {"101": 2, "200": 6}


def test_large_post_bodies() -> None:
    """100 kB POST bodies through the echo sample, ASGI and WSGI, echoed in full."""
    body = b"z" * 100_000
    for app in ("sample_apps.echo:asgi_app", "sample_apps.echo:wsgi_app"):
        recorder, _ = _run(app=app, method="POST", body=body, requests=4, concurrency=2)
        ends = [e for e in recorder.events if e.kind == K.REQUEST_END and e.data.get("status")]
        assert [e.data["bytes_out"] for e in ends] == [100_000] * 4


def test_processes_model_through_run() -> None:
    """--server processes --workers 2: the recording holds events from both children."""
    recorder, _ = _run(
        app="sample_apps.io_bound:wsgi_app",
        paths=("/?ms=20",),
        server="processes",
        workers=2,
        requests=12,
        concurrency=6,
    )
    starts = [e for e in recorder.events if e.kind == K.REQUEST_START]
    assert len(starts) == 12 and len({e.pid for e in starts}) == 2


@pytest.mark.parametrize(
    "options,error,text",
    [
        ({"concurrency": 0}, UsageError, "-c/--concurrency must be greater than 0"),
        ({"requests": -5}, UsageError, "-n/--requests"),
        ({"threads": 0}, UsageError, "--threads"),
        ({"server": "fibers"}, UsageError, 'Unknown server model "fibers"'),
        ({"server": "threads"}, InterfaceError, "--server loop"),
        ({"app": "sample_apps.nope:app"}, AppLoadError, "nope"),
    ],
)
def test_bad_input(options: dict[str, object], error: type[Exception], text: str) -> None:
    """Bad numbers, an unknown model, an ASGI app on threads, an import error: clear errors."""
    with pytest.raises(error, match=text.replace("(", r"\(")):
        open_server(RunConfig(**options), Recorder())  # type: ignore[arg-type]


def test_default_record_path() -> None:
    """traces/<module>[-attr]-<YYYYmmdd-HHMMSS>.jsonl."""
    path = default_record_path("sample_apps.hello:asgi_app", now=0)
    assert path.startswith("traces/hello-asgi_app-19700101-") and path.endswith(".jsonl")
    assert default_record_path("src/my app.py:app", now=0).startswith("traces/my-app-")


def test_a_loop_stuck_in_a_blocking_call_is_given_up() -> None:
    """time.sleep longer than --timeout (+2 s) on the shared loop: the run still ends, as timeouts."""
    recorder, result = _run(
        app="sample_apps.blocking:app", paths=("/?ms=2600",), requests=2, concurrency=2, timeout=0.1
    )
    assert result.stats.timeouts == 2 and result.stats.in_flight == 0  # type: ignore[attr-defined]
    ends = [
        e for e in recorder.events if e.kind == K.REQUEST_END and e.data.get("error") == "timeout"
    ]
    assert len(ends) == 2
    # Each ends at its own deadline (queued + 0.1 s), not when the stuck loop was given up.
    queued = {e.req: e.t for e in recorder.events if e.kind == K.REQUEST_QUEUED}
    assert all(e.t - queued[e.req] < 1_000_000_000 for e in ends)


def test_asgi_sleep_at_c50_overlaps_through_run() -> None:
    """ASGI asyncio.sleep(0.1) at -c 50 (clients on the server's loop): >= 40 in flight at once."""
    recorder, _ = _run(
        app="sample_apps.io_bound:asgi_app", paths=("/?ms=100",), requests=50, concurrency=50
    )
    assert summarize(recorder.events)["max_in_flight"] >= 40


def test_wsgi_sleep_on_four_threads_at_c50_queues() -> None:
    """WSGI time.sleep(0.1), --threads 4, -c 50: never more than 4 in flight; 46 wait >= 90 ms."""
    recorder, _ = _run(
        app="sample_apps.io_bound:wsgi_app",
        paths=("/?ms=100",),
        server="threads",
        threads=4,
        requests=50,
        concurrency=50,
    )
    events = recorder.events
    assert summarize(events)["max_in_flight"] == 4
    queued = {e.req: e.t for e in events if e.kind == K.REQUEST_QUEUED}
    waits = [e.t - queued[e.req] for e in events if e.kind == K.REQUEST_START and e.req in queued]
    assert sum(1 for wait in waits if wait >= 90_000_000) >= 46


def test_open_loop_arrivals_do_not_wait_for_a_blocked_loop() -> None:
    """--rate with a loop-blocking app: requests keep arriving while the loop is blocked
    (queued before earlier ones end), so their wait shows as latency; the seed is recorded."""
    recorder, _ = _run(
        app="sample_apps.blocking:app", paths=("/?ms=30",), rate=200.0, requests=10, seed=5
    )
    events = recorder.events
    assert recorder.header["load"]["rate"] == 200.0 and recorder.header["load"]["seed"] == 5
    queued = sorted(e.t for e in events if e.kind == K.REQUEST_QUEUED)
    ends = sorted(e.end for e in events if e.kind == K.REQUEST_END and e.data.get("status"))
    assert len(queued) == 10 and len(ends) == 10
    # Closed loop with one client would queue each request after the previous end.
    assert sum(1 for i in range(1, 10) if queued[i] < ends[i - 1]) >= 5
    summary = summarize(events)
    assert summary["queue_ms"]["max"] >= 30.0  # someone waited a whole blocked step at least


def test_clients_wait_for_the_recording_writer(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file recording behind its writer pauses the clients (memory stays bounded), and the
    run still completes with every request recorded."""
    import tracer.run as run_module

    monkeypatch.setattr(run_module, "MAX_BACKLOG", 0)  # pause whenever anything is unwritten
    # The clients wait for each drain: every 0.05 s here rather than the default 0.2 s.
    recorder = Recorder(f"{tmp_path}/paced.jsonl", flush_interval=0.05)
    run(RunConfig(requests=20, concurrency=5), recorder)
    assert recorder.backlog >= 0
    recorder.close()
    assert recorder.backlog == 0
    from tracer.recording import load

    assert summarize(load(f"{tmp_path}/paced.jsonl"))["completed"] == 20


def test_the_header_keeps_no_secret_of_the_paths() -> None:
    """A token in a --path query is redacted in the recording's header, as in its events."""
    recorder = Recorder()
    config = RunConfig(requests=2, concurrency=1, paths=("/?access_token=aaa&page=2",))
    run(config, recorder)
    assert recorder.header["load"]["paths"] == ["/?access_token=[redacted]&page=2"]
    starts = [e for e in recorder.events if e.kind == "request.start"]
    assert starts and all("aaa" not in str(e.data) for e in starts)


_OS_EXIT_RUN = """
import sys
from tracer.recorder import Recorder
from tracer.run import RunConfig, run

recorder = Recorder(sys.argv[1])
config = RunConfig(app="exits15:app", app_dir=sys.argv[2], requests=20, concurrency=1)
run(config, recorder, on_app_exit=lambda code: print(f"app exited {code}", file=sys.stderr))
print("not reached", file=sys.stderr)
"""


def test_an_app_calling_os_exit_leaves_a_whole_recording(tmp_path: Path) -> None:
    """In process the tool is the server: an app calling os._exit(7) on its 15th request ends
    it at once, yet its 14 answered requests are in the file (drained first, though the
    recorder writes every 0.2 s), ``on_app_exit`` is told, and the exit code is the app's."""
    import json
    import subprocess
    import sys

    (tmp_path / "exits15.py").write_text(
        "import itertools, os\n"
        "_n = itertools.count(1)\n"
        "def app(environ, start_response):\n"
        "    if next(_n) == 15:\n"
        "        os._exit(7)\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'ok']\n"
    )
    record = tmp_path / "run.jsonl"
    done = subprocess.run(
        [sys.executable, "-c", _OS_EXIT_RUN, str(record), str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 7, done.stderr
    assert done.stderr.strip() == "app exited 7"
    events = [json.loads(line) for line in record.read_text().splitlines()[1:]]
    ends = [e for e in events if e["kind"] == K.REQUEST_END]
    assert [e["data"]["status"] for e in ends] == [200] * 14
    assert sum(e["kind"] == K.REQUEST_START for e in events) == 15


def test_os_exit_is_itself_again_after_the_run() -> None:
    """The guard on os._exit lasts as long as the run."""
    import os

    real = os._exit
    _run(app="sample_apps.hello:application", requests=5)
    assert os._exit is real


def test_a_stop_while_the_server_starts_ends_the_run_as_a_stop(tmp_path: Path) -> None:
    """``stop`` set while the processes model's children still import the app: run returns,
    stopped, no request sent, no child left, and the recording says why (a mark)."""
    import os
    import time

    started = tmp_path / "started"
    started.mkdir()
    (tmp_path / "slowchild.py").write_text(
        "import multiprocessing, os, time\n"
        "if multiprocessing.parent_process() is not None:\n"
        f"    open(os.path.join({str(started)!r}, str(os.getpid())), 'w').close()\n"
        "    time.sleep(60)\n"
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [])\n"
        "    return [b'']\n"
    )
    stop = threading.Event()

    def stop_once_started() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list(started.iterdir())) < 2:
            time.sleep(0.05)
        stop.set()

    threading.Thread(target=stop_once_started, daemon=True).start()
    recorder = Recorder()
    config = RunConfig(
        app="slowchild:app", app_dir=str(tmp_path), server="processes", workers=2, requests=5
    )
    result = run(config, recorder, stop=stop)
    assert result.stopped and result.stats.sent == 0
    assert [e.data["label"] for e in recorder.events if e.kind == K.MARK] == ["stopped"]
    for child in started.iterdir():
        with pytest.raises(ProcessLookupError):
            os.kill(int(child.name), 0)


@pytest.mark.timeout(60)
def test_a_stop_during_a_hanging_lifespan_startup_ends_the_run_at_once(tmp_path: Path) -> None:
    """``stop`` set while the app's lifespan startup hangs (a database that does not answer):
    run returns within a second or two, stopped, with no request sent, as uvicorn and
    hypercorn stop. It waited for the startup's 30 s bound (Ctrl-C took 10 s in the CLI)."""
    import time

    (tmp_path / "hangs.py").write_text(
        "import asyncio\n"
        "async def app(scope, receive, send):\n"
        "    if scope['type'] == 'lifespan':\n"
        "        await receive()\n"
        "        await asyncio.sleep(3600)\n"
        "    await send({'type': 'http.response.start', 'status': 200})\n"
        "    await send({'type': 'http.response.body'})\n"
    )
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    recorder = Recorder()
    config = RunConfig(app="hangs:app", app_dir=str(tmp_path), server="loop", requests=5)
    began = time.monotonic()
    result = run(config, recorder, stop=stop)
    assert time.monotonic() - began < 3
    assert result.stopped and result.stats.sent == 0
    assert [e.data["label"] for e in recorder.events if e.kind == K.MARK] == ["stopped"]


def test_a_closed_loop_names_no_seed_it_did_not_draw() -> None:
    """Clients that send again as soon as answered draw nothing at random: without a seed
    given, the header's seed is null, not a number that played no part."""
    recorder, _ = _run(requests=4, concurrency=2)
    assert recorder.header["load"]["seed"] is None and recorder.header["load"]["rate"] is None
