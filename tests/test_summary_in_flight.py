"""``max_in_flight`` counts the requests in the app in event order: at one instant, the
recording's ``seq`` says which start and end came first, so requests that take no time are in
flight between their two events, and back-to-back ones still do not overlap."""

from __future__ import annotations

from tracer import events as K
from tracer.events import Event
from tracer.summary import peak_in_flight, summarize


def _start(seq: int, req: int, t: int = 0) -> Event:
    return Event(seq, t, K.REQUEST_START, req, data={"scope_type": "http"})


def _end(seq: int, req: int, t: int = 0) -> Event:
    return Event(seq, t, K.REQUEST_END, req, data={"status": 200, "error": None})


def test_a_zero_time_request_is_in_flight_between_its_events() -> None:
    """Start and end at the same ns: one request was in the app (the summary said 0)."""
    assert summarize([_start(0, 1, 5), _end(1, 1, 5)])["max_in_flight"] == 1


def test_zero_time_requests_overlap_as_their_events_interleave() -> None:
    """All at t=0: two starts before the first end is two in flight; one after the other
    is one."""
    nested = [_start(0, 1), _start(1, 2), _end(2, 1), _end(3, 2)]
    assert summarize(nested)["max_in_flight"] == 2
    one_by_one = [_start(0, 1), _end(1, 1), _start(2, 2), _end(3, 2)]
    assert summarize(one_by_one)["max_in_flight"] == 1


def test_an_end_recorded_before_a_start_at_the_same_instant_is_no_overlap() -> None:
    """Request 1 (t=0..10) ends, then request 2 starts, both at t=10: one at a time."""
    events = [_start(0, 1, 0), _end(1, 1, 10), _start(2, 2, 10), _end(3, 2, 20)]
    assert summarize(events)["max_in_flight"] == 1


def test_the_client_end_stands_in_for_a_lost_request_end_in_event_order() -> None:
    """A request whose only end is the client's (real servers) counts until that event."""
    events = [
        _start(0, 1, 5),
        Event(1, 5, K.CLIENT_RESPONSE, 1, dur=0, data={"status": 200}),
    ]
    assert summarize(events)["max_in_flight"] == 1


def test_times_without_event_order_keep_ends_first() -> None:
    """Bare times (no seq): an end at a start's time comes first, as before; with (t, seq)
    the order is the events'."""
    assert peak_in_flight([5], [5]) == 0
    assert peak_in_flight([(5, 1)], [(5, 2)]) == 1
    assert peak_in_flight([(5, 2)], [(5, 1)]) == 0
    assert peak_in_flight([0, 10], [10, 20]) == 1
