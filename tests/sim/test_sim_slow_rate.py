"""A slow simulation's throughput is rounded as the summary of its recording rounds it
(three significant digits): the stats-only summary and ``summarize`` stay equal at any rate."""

from __future__ import annotations

from typing import Any

import pytest

from tracer.summary import summarize


@pytest.mark.parametrize("seed", range(1, 4))
def test_a_slow_open_loop_summary_equals_its_recordings(recorded: Any, seed: int) -> None:
    """-n 5 --rate 0.37, 10 ms each: under one request a second, where one decimal alone
    keeps a single significant digit (0.4 where the recording's summary says 0.37)."""
    result, recording = recorded(rate=0.37, requests=5, io="10ms", seed=seed)
    rps = result.summary["rps"]
    assert result.summary["completed"] == 5 and 0 < rps < 1
    assert rps != round(rps, 1)  # a rate one decimal does not hold
    assert summarize(recording) == result.summary


def test_a_slow_closed_loop_summary_equals_its_recordings(recorded: Any) -> None:
    """One client, three requests of 700 ms each: 1.43 a second, not 1.4."""
    result, recording = recorded(concurrency=1, requests=3, io="700ms")
    assert result.summary["rps"] == 1.43
    assert summarize(recording) == result.summary
