"""The digest's memory grows with the requests it has seen by one packed row each once they
have ended: the run's time extent is kept per request only until the request's start says
it is no lifespan connection, and a ``RequestSpan`` only while the request is in flight.
The summary stays the one ``summarize`` computes from all the events, in any order they
come."""

from __future__ import annotations

import random
import tracemalloc
from collections.abc import Iterator

import pytest

from tracer import events as K
from tracer.digest import Digest
from tracer.events import Event
from tracer.summary import summarize

REQUESTS = 20_000
MS = 1_000_000


def _request(req: int, seq: int, t: int) -> list[Event]:
    """One request's events as a run records them: queued, started, a send, ended."""
    return [
        Event(seq, t, K.REQUEST_QUEUED, req, data={"method": "GET", "path": "/"}),
        Event(seq + 1, t + 100, K.REQUEST_START, req, data={"scope_type": "http"}),
        Event(seq + 2, t + 200, K.ASGI_SEND, req, dur=10, data={"type": "http.response.body"}),
        Event(seq + 3, t + 300, K.REQUEST_END, req, data={"status": 200, "error": None}),
    ]


def _batches(count: int, raised: str | None = None) -> Iterator[list[Event]]:
    # Times and seqs as large as a real run's: ints that are objects of their own.
    for req in range(1, count + 1):
        seq, t = 10**9 + 5 * req, 10**12 + 1000 * req
        events = _request(req, seq, t)
        if raised is not None:
            error = Event(
                seq + 4,
                t + 250,
                K.ERROR,
                req,
                data={"type": "RuntimeError", "message": "boom", "where": "app.py:3"},
            )
            if raised == "before its end":
                events.insert(3, error)
                events[4] = events[4]._replace(data={"status": 500, "error": "RuntimeError"})
            else:
                events.append(error._replace(t=t + 400))
        yield events


def test_a_finished_request_costs_the_digest_under_100_bytes() -> None:
    """20,000 requests fed and gone: the digest holds under 100 bytes for each (its packed
    row of 83 bytes, and the room its run grows into). A ``RequestSpan`` each, with its dict
    slot and the number objects of its times and seqs, held 429: 550 MB for a
    1,000,000-request ``trace run`` or ``trace summary``."""
    digest = Digest()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for batch in _batches(REQUESTS):
            digest.feed(batch)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(digest.requests()) == REQUESTS
    assert held / REQUESTS < 100


@pytest.mark.parametrize("raised", ["before its end", "after its end"])
def test_a_request_that_raised_costs_the_digest_no_more(raised: str) -> None:
    """20,000 requests with an ``error`` event each (raised before the app ended the request,
    or recorded after its end): still under 100 bytes a request. The one error packs with the
    request's row (its type is the row's ``raised``); an entry for each request in the
    digest's count of errors took 116 bytes more. The report's errors are all still there."""
    digest = Digest()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for batch in _batches(REQUESTS, raised):
            digest.feed(batch)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(digest.requests()) == REQUESTS
    assert digest.details().errors == {"RuntimeError": REQUESTS}
    assert digest.summary()["errors"] == REQUESTS
    assert held / REQUESTS < 100


def _with_lifespan() -> list[Event]:
    """A lifespan connection from t=0 (startup) to the end (shutdown), requests between, one
    request that never started (its server answered without the app) and events of no
    request (a loop block) on either side."""
    events = [
        Event(0, 0, K.REQUEST_START, 1, data={"scope_type": "lifespan"}),
        Event(1, 5, K.ASGI_RECEIVE, 1, dur=2, data={"type": "lifespan.startup"}),
        Event(2, 50, K.LOOP_BLOCKED, None, dur=30, data={"location": "app.py:1"}),
    ]
    for i, req in enumerate(range(2, 12)):
        events += _request(req, 10 + 4 * i, 1_000 + 500 * i)
    events.append(Event(60, 9_000, K.CLIENT_RESPONSE, 99, dur=40, data={"status": 503}))
    events.append(Event(61, 9_500, K.REQUEST_QUEUED, 99, data={"method": "GET", "path": "/"}))
    events.append(Event(62, 12_000, K.REQUEST_END, 1, data={"status": None, "error": None}))
    # In ms: the summary's wall time is rounded to the ms.
    return [e._replace(t=e.t * MS, dur=None if e.dur is None else e.dur * MS) for e in events]


@pytest.mark.parametrize("order", ["recorded", "reversed", "shuffled"])
def test_the_digest_summary_is_summarize_in_any_order(order: str) -> None:
    """The wall time leaves out the lifespan connection whether its start comes before or
    after its other events; a request never started counts; so do events of no request."""
    events = _with_lifespan()
    expected = summarize(events)
    fed = list(events)
    if order == "reversed":
        fed.reverse()
    elif order == "shuffled":
        random.Random(7).shuffle(fed)
    digest = Digest()
    for start in range(0, len(fed), 7):
        digest.feed(fed[start : start + 7])
    assert digest.summary() == expected
    assert expected["wall_s"] == (9_500 - 50) / 1_000
    assert sorted(digest.requests()) == [*range(2, 12), 99]
