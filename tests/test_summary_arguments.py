"""``tracer.summarize`` refuses what is not a recording with a ``UsageError`` that says what it
takes, rather than a TypeError or AttributeError from deep inside."""

from __future__ import annotations

import pytest

import tracer
from tracer.errors import TracerError, UsageError


@pytest.mark.parametrize("given", [5, None, 1.5, object()], ids=["int", "None", "float", "object"])
def test_a_value_that_is_no_recording_is_a_usage_error(given: object) -> None:
    with pytest.raises(UsageError, match="summarize takes a Recording, a list of events"):
        tracer.summarize(given)


@pytest.mark.parametrize("given", [[1, 2], ["request.start"], [{"kind": "request.start"}]])
def test_a_list_of_things_that_are_not_events_is_a_usage_error(given: list[object]) -> None:
    with pytest.raises(UsageError, match=r"summarize takes events \(tracer.Event\), not "):
        tracer.summarize(given)
    assert issubclass(UsageError, TracerError)


def test_an_empty_list_still_summarizes_to_no_requests() -> None:
    assert tracer.summarize([])["requests"] == 0
