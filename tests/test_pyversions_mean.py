"""A summary's mean is the same figure under every Python: summed as integer ns, not as floats.

3.12 changed ``sum()`` of floats (compensated); summed as ms floats, 39 requests queued 0.3 ms
and one not queued made a mean of 0.293 ms on 3.11 and 0.292 ms on 3.12, so ``trace sim``'s
sweep table and the summary JSON said 293.0 µs on one and 292.0 µs on the other.
"""

from __future__ import annotations

import json

import pytest

from tracer.cli import main
from tracer.stats import QUEUE_KEYS, stats_ms


def test_a_mean_on_a_half_microsecond_is_the_same_under_every_python() -> None:
    """The exact mean, 292.5 µs, divided once and rounded once to the µs (the ms float 0.2925
    is a hair under it: 0.292)."""
    queued_ns = [0] + [300_000] * 39
    assert stats_ms(queued_ns, QUEUE_KEYS) == {"mean": 0.292, "p50": 0.3, "p99": 0.3, "max": 0.3}


def test_the_sims_means_are_the_exact_ones(capsys: pytest.CaptureFixture[str]) -> None:
    """``trace sim --json``: one thread, two clients, 0.3 ms each: every request but the first
    waits 0.3 ms (a mean of 0.2925 ms, written 0.292) and takes 0.6 ms (0.5925, written 0.593),
    under this Python as under any other."""
    argv = ["sim", "--io", "0.3ms", "-c", "2", "-n", "40", "--threads", "1", "--json"]
    assert main([*argv, "--no-record"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["queue_ms"]["mean"] == 0.292
    assert summary["latency_ms"]["mean"] == 0.593
