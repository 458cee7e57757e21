"""A simulation's ``max_in_flight`` follows the order things happened, as the summary of its
recording does (``seq`` at one instant): zero-time requests are in flight between their
start and end, and both summaries give the same number on every model."""

from __future__ import annotations

from typing import Any

import pytest

from tracer.summary import summarize


@pytest.mark.parametrize(
    ("model", "threads", "workers", "expected"),
    [("threads", 4, 1, 4), ("loop", 1, 1, 6), ("processes", 1, 3, 3)],
)
def test_zero_time_work_is_in_flight_as_its_events_say(
    recorded: Any, model: str, threads: int, workers: int, expected: int
) -> None:
    """Ten clients, six zero-time requests: every worker takes one at t=0 (threads,
    processes); on the loop each request's first step suspends on its (zero-time) I/O, so all
    six have started before the first ends."""
    result, recording = recorded(
        model=model, threads=threads, workers=workers, concurrency=10, requests=6, io="0ms"
    )
    assert summarize(recording)["max_in_flight"] == expected
    assert result.summary["max_in_flight"] == expected


def test_back_to_back_requests_still_do_not_overlap(recorded: Any) -> None:
    """One thread, two clients, 10 ms each: the next starts the instant the last ends, after
    it in event order, so one at a time."""
    result, recording = recorded(model="threads", threads=1, concurrency=2, requests=5, io="10ms")
    assert summarize(recording)["max_in_flight"] == 1
    assert result.summary["max_in_flight"] == 1
