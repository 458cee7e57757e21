"""``--server gunicorn --worker-class gevent``: one worker, its requests in greenlets on one OS
thread, recorded as steps of a loop (the greenlet in ``task``), a CPU loop as ``loop.blocked``."""

from __future__ import annotations

import importlib.util
import inspect

import pytest
from real_helpers import HERE, Run, in_flight_max, run_real

from tracer import events as K
from tracer.client import ClientConfig
from tracer.errors import ServerError, UsageError
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.servers import ServerConfig, server_model

pytest.importorskip("gevent")
pytestmark = pytest.mark.timeout(90)

APP = "real_gevent_apps:app"


def _served(run: Run) -> list[Event]:
    """The server processes' events of requests."""
    return [e for e in run.events if e.req is not None and e.pid in run.pids]


def _computed(blocks: list[Event], events: list[Event]) -> list[Event]:
    """The blocks whose step computed for at least half the threshold (5 ms of CPU): the app's
    doing. A busy machine that takes the CPU from the worker mid-step makes a sleeper's step of
    well under 1 ms of CPU last past the threshold too: a real hold of the hub, the machine's."""
    cpu = {(e.t, e.task): e.data["cpu_ns"] for e in events if e.kind == K.SCHED_STEP}
    return [b for b in blocks if cpu.get((b.t, b.task), 0) >= 5_000_000]


def _steps(events: list[Event]) -> dict[int, list[Event]]:
    steps: dict[int, list[Event]] = {}
    for event in events:
        if event.kind == K.SCHED_STEP:
            steps.setdefault(event.req or 0, []).append(event)
    return steps


def test_sleeping_requests_interleave_as_greenlets_of_one_thread() -> None:
    """20 clients, 1 gevent worker, a 100 ms patched ``time.sleep``: every request is
    recorded as WSGI, all on the worker's one OS thread (``MainThread``) with its greenlet
    as ``task``; requests overlap, their steps never do, and another request's step runs
    inside each sleep. No ``sched.thread``: a request's time is its steps."""
    run = run_real(
        "gunicorn", APP, ClientConfig(concurrency=20, requests=40, paths=("/sleep",)),
        app_dir=HERE, workers=1, worker_class="gevent",
    )  # fmt: skip
    assert run.stats.status == {200: 40}
    assert run.server.describe()["worker_class"] == "gevent"
    assert run.server.describe()["worker_connections"] == 1000
    served = _served(run)
    assert len(run.kinds(K.REQUEST_END)) == 40
    assert {e.req for e in run.kinds(K.REQUEST_START)} == run.client_reqs()
    assert not run.kinds(K.SCHED_THREAD)
    assert len({(e.pid, e.tid) for e in served}) == 1
    assert {e.thread for e in served} == {"MainThread"}
    assert all(e.task is not None and e.task.startswith("Greenlet-") for e in served)
    assert len({e.task for e in served}) > 1
    assert in_flight_max(run.events) > 1
    steps = sorted(run.kinds(K.SCHED_STEP), key=lambda e: e.t)
    for before, after in zip(steps, steps[1:], strict=False):
        assert after.t >= before.t + (before.dur or 0)  # one greenlet at a time
    by_req = _steps(run.events)
    interleaved = 0
    for req, own in by_req.items():
        assert len(own) >= 2
        first, last = own[0], own[-1]
        # The first step waits on the hub at the app's sleep; the last runs to the end.
        assert first.data["awaiting"] == "gevent hub"
        assert first.data["location"].rsplit(":", 1)[0].endswith("real_gevent_apps.py")
        assert last.data["awaiting"] is None
        assert all(e.task == first.task for e in own)
        gap = (first.t + (first.dur or 0), last.t)
        if any(s.req != req and gap[0] <= s.t < gap[1] for s in steps):
            interleaved += 1
    assert interleaved > 1


def test_a_cpu_loop_blocks_the_hub_and_delays_the_requests_in_flight() -> None:
    """One ``/cpu`` request computes 150 ms of CPU without a switch while five sleep (patched):
    one ``loop.blocked`` of it, at the loop's line, listing exactly the requests in flight as
    it ended; the sleepers' CPU is their own (none of the loop's)."""
    from real_gevent_apps import BURN_S, burn

    run = run_real(
        "gunicorn", APP,
        ClientConfig(concurrency=6, requests=6, paths=("/cpu", *["/sleep?400"] * 5)),
        app_dir=HERE, workers=1, worker_class="gevent",
    )  # fmt: skip
    assert run.stats.status == {200: 6}
    sends = {e.req or 0: e.data["path"] for e in run.kinds(K.CLIENT_SEND)}
    culprit = next(req for req, path in sends.items() if path == "/cpu")
    blocks = _computed(run.kinds(K.LOOP_BLOCKED), run.events)
    assert [b.req for b in blocks] == [culprit]
    block = blocks[0]
    end = block.t + (block.dur or 0)
    starts = {e.req or 0: e.t for e in run.kinds(K.REQUEST_START)}
    ends = {e.req or 0: e.t for e in run.kinds(K.REQUEST_END)}
    in_flight = sorted(r for r in starts if r != culprit and starts[r] < block.t and ends[r] > end)
    assert in_flight  # the sleepers had started: the CPU request slept 200 ms first
    assert block.data["delayed"] == in_flight
    assert block.data["delayed_from"] == "in_flight"
    assert block.task is not None and block.thread == "MainThread"
    lines, first = inspect.getsourcelines(burn)
    loop = [first + i for i, line in enumerate(lines) if "while" in line]
    file, line = block.data["location"].rsplit(":", 1)
    assert file.endswith("real_gevent_apps.py")
    assert int(line) in (loop[0], loop[0] + 1)  # the loop's test or its body
    assert "location_from" not in block.data
    by_req = _steps(run.events)
    step = next(s for s in by_req[culprit] if s.t == block.t)
    assert step.dur == block.dur
    assert step.data["cpu_ns"] >= BURN_S * 1e9 * 0.9
    for req in in_flight:
        assert sum(s.data["cpu_ns"] for s in by_req[req]) < step.data["cpu_ns"] / 10


def test_worker_connections_bounds_the_greenlets() -> None:
    """``--worker-connections 2``: gunicorn's gevent worker serves two connections at once
    (the third waits: gunicorn takes it about 2 s later)."""
    run = run_real(
        "gunicorn", APP, ClientConfig(concurrency=3, requests=3, paths=("/sleep?100",)),
        app_dir=HERE, workers=1, worker_class="gevent", worker_connections=2, no_keepalive=True,
    )  # fmt: skip
    assert run.stats.status == {200: 3}
    assert run.server.describe()["worker_connections"] == 2
    assert in_flight_max(run.events) == 2


def _server(**options: object) -> object:
    config = ServerConfig(app_spec=APP, app_dir=HERE, options=options)
    return server_model("gunicorn")(config, Recorder())


def test_gevent_not_installed_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without gevent, gunicorn's worker would die importing it: refused before it starts."""
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "gevent" else real_find_spec(name, *args),
    )
    with pytest.raises(ServerError) as raised:
        _server(worker_class="gevent")
    assert str(raised.value) == (
        "--worker-class gevent needs the gevent package, which is not installed. "
        "Install it with: pip install gevent (or leave --worker-class out)."
    )


def test_gevent_options_that_do_not_apply_are_refused() -> None:
    """--threads with gevent, --worker-connections without it, gevent for an ASGI app."""
    with pytest.raises(UsageError, match="^--threads does not apply to --worker-class gevent"):
        server_model("gunicorn")(
            ServerConfig(app_spec=APP, app_dir=HERE, threads=2, options={"worker_class": "gevent"}),
            Recorder(),
        )
    with pytest.raises(UsageError, match="^--worker-connections sets how many connections"):
        _server(worker_connections=5)
    with pytest.raises(UsageError, match="--worker-class gevent cannot run an ASGI app"):
        server_model("gunicorn")(
            ServerConfig(app_spec="sample_apps.hello:asgi_app", options={"worker_class": "gevent"}),
            Recorder(),
        )
