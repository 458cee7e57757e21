"""The simulator against reality: the same workload through ``trace run`` and ``trace sim``.

sample_apps.io_bound sleeps ``?ms`` (``time.sleep`` in WSGI, ``asyncio.sleep`` in ASGI); the
simulation is ``--io`` of the same duration. Both recordings must have the model's shape: as
many requests in the app at once (a pool's threads, or every client on a loop), the same
requests waiting for a thread, and reality within the model's capacity.

How close a real run comes to that capacity is the machine's business: the sleeps never end
early, but on a loaded machine every hand-over between the clients' and the server's threads
waits for a core, and a real run makes three fifths of the requests a second it makes on an
idle one. The figures that hold on any machine are compared instead; the simulation's own
figures are held to the model's arithmetic (``tests/sim/test_sim_theory.py`` goes further).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

import pytest

from sim import SimConfig, simulate
from sim.dist import Fixed
from sim.workload import inline_workload
from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.request_span import RequestSpan, request_spans
from tracer.run import RunConfig, run
from tracer.summary import summarize

SLEEP_MS = 40
REQUESTS = 200
CLIENTS = 8
SLEEP_NS = SLEEP_MS * 1_000_000


def _spans(recording: Recording) -> list[RequestSpan]:
    """The spans of the load's requests (queued by the clients: no lifespan)."""
    return [span for span in request_spans(recording.events).values() if span.queued is not None]


def most_at_once(spans: Iterable[RequestSpan]) -> int:
    """The most requests in the app at once: between their ``request.start`` and ``.end``."""
    edges = sorted(
        [(span.start, 1) for span in spans if span.start is not None]
        + [(span.end, -1) for span in spans if span.end is not None]
    )  # at one instant, an end (-1) sorts first: a request that ends as one starts is out
    now = most = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


def waited_for_a_finish(spans: list[RequestSpan]) -> int:
    """How many requests started only after another one ended while they were queued: they
    waited for a thread of the pool to be free (a thread ends its request before it takes
    the next)."""
    finishes = sorted(span.end for span in spans if span.end is not None)
    return sum(
        1
        for span in spans
        if span.queued is not None
        and span.start is not None
        and bisect.bisect_right(finishes, span.start) > bisect.bisect_right(finishes, span.queued)
    )


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "model,app,threads",
    [
        ("threads", "sample_apps.io_bound:wsgi_app", 4),
        ("loop", "sample_apps.io_bound:asgi_app", None),
    ],
)
def test_sim_agrees_with_a_real_run(model: str, app: str, threads: int | None) -> None:
    """The real in-process model and its simulation serve the requests alike: as many in the
    app at once, the same ones waiting for a thread; reality never beats the model."""
    recorder = Recorder()
    run(
        RunConfig(
            app=app,
            server=model,
            threads=threads,
            concurrency=CLIENTS,
            requests=REQUESTS,
            paths=(f"/?ms={SLEEP_MS}",),
        ),
        recorder,
    )
    real_recording = recorder.recording()
    real = summarize(real_recording)
    simulated_recorder = Recorder()
    simulated = simulate(
        SimConfig(
            model=model,
            threads=threads or 4,
            concurrency=CLIENTS,
            requests=REQUESTS,
            workload=inline_workload(io=Fixed(SLEEP_NS)),
        ),
        recorder=simulated_recorder,
    ).summary
    real_spans = _spans(real_recording)
    simulated_spans = _spans(simulated_recorder.recording())
    assert real["completed"] == simulated["completed"] == REQUESTS
    parallel = threads or CLIENTS
    # The shape: a pool of ``threads`` holds that many and queues the rest; a loop holds every
    # client's request at once, and none waits for another.
    assert most_at_once(real_spans) == most_at_once(simulated_spans) == parallel
    if threads is None:
        assert waited_for_a_finish(simulated_spans) == 0
    else:
        assert waited_for_a_finish(simulated_spans) == REQUESTS - threads
        # Each past the first ``threads`` waits, unless it came while a thread was free:
        # only while over half the clients are between a response and their next request,
        # a fraction of a millisecond against the request's SLEEP_MS.
        assert waited_for_a_finish(real_spans) >= REQUESTS // 2
    # The model's arithmetic: ``parallel`` requests of SLEEP_MS at a time.
    capacity = parallel * 1000 / SLEEP_MS
    assert simulated["rps"] == pytest.approx(capacity, rel=0.02)
    assert simulated["latency_ms"]["p50"] == pytest.approx(SLEEP_MS * CLIENTS / parallel)
    # Reality never beats it: every request sleeps SLEEP_MS at least, ``parallel`` at a time.
    served = [(s.queued, s.start, s.end) for s in real_spans]
    assert all(None not in times for times in served)
    assert min(end - start for _, start, end in served) >= SLEEP_NS  # type: ignore[operator]
    wall_ns = max(end for *_, end in served) - min(queued for queued, *_ in served)  # type: ignore[type-var,operator]
    assert REQUESTS / (wall_ns / 1e9) <= capacity
    assert real["latency_ms"]["p50"] >= SLEEP_MS
