"""``--server gunicorn``: a master and forked workers, one recording per worker, merged."""

from __future__ import annotations

import pytest
from real_helpers import HERE, in_flight_max, run_real

from tracer import events as K
from tracer.client import ClientConfig
from tracer.errors import UsageError

pytestmark = pytest.mark.timeout(90)


def test_flask_streaming_on_two_sync_workers() -> None:
    """Flask streaming on gunicorn sync, 2 workers: two pids loaded the app; each streamed
    request has its chunks as wsgi.body events; a sync worker runs one request at a time."""
    from real_apps import CHUNKS

    run = run_real(
        "gunicorn", "real_apps:flask_app",
        ClientConfig(concurrency=4, requests=16, paths=("/stream",)),
        app_dir=HERE, workers=2,
    )  # fmt: skip
    assert run.stats.status == {200: 16}
    assert len(run.pids) == 2
    assert run.server.describe()["worker_class"] == "sync"
    for req in run.client_reqs():
        bodies = [
            e for e in run.events if e.req == req and e.kind == K.WSGI_BODY and e.data["bytes"]
        ]
        assert len(bodies) == CHUNKS
    for pid in run.pids:
        assert in_flight_max(run.events, pid) <= 1


def test_gthread_runs_at_most_threads_at_once() -> None:
    """--threads 2 (gthread), one worker, 6 clients on a 40 ms handler: exactly 2 in flight."""
    run = run_real(
        "gunicorn", "sample_apps.io_bound:wsgi_app",
        ClientConfig(concurrency=6, requests=18, paths=("/?ms=40",)),
        workers=1, threads=2,
    )  # fmt: skip
    assert run.stats.status == {200: 18}
    assert run.server.describe()["worker_class"] == "gthread"
    assert in_flight_max(run.events) == 2


def test_asgi_app_gets_the_asgi_worker() -> None:
    """An ASGI app on gunicorn runs on gunicorn's own asyncio worker class."""
    run = run_real(
        "gunicorn", "sample_apps.hello:asgi_app", ClientConfig(concurrency=4, requests=12)
    )
    assert run.stats.status == {200: 12}
    assert run.server.describe()["worker_class"] == "asgi"


def test_worker_class_that_does_not_fit_is_a_usage_error() -> None:
    """--worker-class sync for an ASGI app: one clear UsageError before anything starts."""
    with pytest.raises(UsageError, match="--worker-class sync cannot run an ASGI app"):
        run_real(
            "gunicorn", "sample_apps.hello:asgi_app", ClientConfig(requests=1), worker_class="sync"
        )


def test_sync_with_threads_is_recorded_as_the_gthread_gunicorn_runs() -> None:
    """--worker-class sync --threads 2: gunicorn quietly runs gthread (two requests at once);
    the header said "sync" next to lanes of a thread pool."""
    run = run_real(
        "gunicorn", "sample_apps.io_bound:wsgi_app",
        ClientConfig(concurrency=4, requests=8, paths=("/?ms=40",)),
        workers=1, threads=2, worker_class="sync",
    )  # fmt: skip
    assert run.stats.status == {200: 8}
    assert run.server.describe()["worker_class"] == "gthread"
    assert in_flight_max(run.events) == 2
