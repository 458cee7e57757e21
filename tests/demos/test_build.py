"""The scenario builders: runs with a fixed seed, workloads from phase tables, bookmarks."""

from __future__ import annotations

import pytest

from sim.workload import IO, SEND
from tracer.demos.build import SEED, moment, real_run, sim_run, workload
from tracer.errors import UsageError


def test_real_and_simulated_runs_use_the_fixed_seed() -> None:
    """Same arrivals every time: both kinds of run carry SEED."""
    run = real_run("sample_apps.hello:asgi_app", "loop", "/?ms=1", c=3, n=6)
    assert (run.seed, run.concurrency, run.requests, run.paths) == (SEED, 3, 6, ("/?ms=1",))
    sim = sim_run("threads", workload("w", {"io": "5ms"}), c=2, n=4, threads=2)
    assert (sim.seed, sim.model, sim.threads) == (SEED, "threads", 2)


def test_workload_phases_and_sync_routes() -> None:
    """Phase tables become phases; ``sync`` marks a def endpoint for the thread pool."""
    work = workload("s", {"io": "5ms"}, {"send": {"chunks": 3, "interval": "1ms"}}, sync=True)
    (route,) = work.routes
    assert [p.code for p in route.phases] == [IO, SEND] and route.sync


def test_a_bad_phase_names_the_demo_workload() -> None:
    """A typo in a scenario's workload is a UsageError naming it."""
    with pytest.raises(UsageError, match='demo workload "bad"'):
        workload("bad", {"nap": "5ms"})


def test_moment_takes_a_pair_a_time_or_nothing() -> None:
    """``(req, t)`` gives a bookmark about that request, ``t`` one at a time; None gives none."""
    assert moment(1, (7, 500), "k") == [(1, 500, "k", 7)]
    assert moment(0, 42, "k") == [(0, 42, "k", None)]
    assert moment(0, None, "k") == []
