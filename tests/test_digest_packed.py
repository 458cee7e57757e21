"""The digest packs a request's record once the request has ended, and unpacks it for any later
event of the request: the summary and the report details are the same as when every record
stays whole, in any order and batching the events come in, whatever values they hold."""

from __future__ import annotations

import random
from enum import IntEnum

import pytest

from tracer import events as K
from tracer.digest import Digest, ReportDetails
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.run import RunConfig, run
from tracer.summary import RequestSpan, request_spans, summarize

MS = 1_000_000


def _one_by_one(events: list[Event]) -> Digest:
    """A digest fed one event a batch: a record packs as soon as its request has ended, and
    every later event of the request finds it packed."""
    digest = Digest()
    for event in events:
        digest.feed([event])
    return digest


def _at_once(events: list[Event]) -> Digest:
    """A digest fed one batch: every record is whole until the batch is taken."""
    digest = Digest()
    digest.feed(events)
    return digest


def _same(events: list[Event]) -> tuple[dict[str, object], ReportDetails]:
    """The summary (``summarize``'s) and the details, checked alike however the digest was fed."""
    expected = summarize(events)
    whole = _at_once(events)
    assert whole.summary() == expected
    details = whole.details()
    for order in ("recorded", "reversed", "shuffled"):
        fed = list(events)
        if order == "reversed":
            fed.reverse()
        elif order == "shuffled":
            random.Random(11).shuffle(fed)
        packed = _one_by_one(fed)
        assert packed.summary() == expected, order
        assert packed.details() == details, order
    return expected, details


def _req(seq: int, req: int, start: int, end: int, **end_data: object) -> list[Event]:
    data = {"status": 200, "error": None, **end_data}
    return [
        Event(seq, start * MS, K.REQUEST_QUEUED, req, data={"method": "GET", "path": "/"}),
        Event(seq + 1, start * MS + 5, K.REQUEST_START, req, data={"scope_type": "http"}),
        Event(seq + 2, end * MS, K.REQUEST_END, req, data=data),
    ]


def _late(seq: int, req: int, t: int, kind: str, **data: object) -> Event:
    return Event(seq, t * MS, kind, req, dur=0 if kind == K.CLIENT_RESPONSE else None, data=data)


def test_events_after_a_request_ended_change_its_packed_record() -> None:
    """After each request's end: an error (the request fails), the client's response (its
    status and latency are the client's), an earlier end (a timeout's, recorded late), a
    ``wsgi.close``; and a request whose ``lifespan`` start comes only after its end."""
    events = (
        _req(0, 1, 0, 10)
        + [_late(3, 1, 12, K.ERROR, type="RuntimeError", message="", where=None)]
        + _req(10, 2, 1, 20)
        + [_late(13, 2, 25, K.CLIENT_RESPONSE, status=503)]
        + _req(20, 3, 2, 30)
        + [_late(23, 3, 0, K.REQUEST_END, status=None, error="timeout")]
        + _req(30, 4, 3, 40)
        + [_late(33, 4, 41, K.WSGI_CLOSE)]
        + [
            Event(40, 50 * MS, K.REQUEST_END, 5, data={"status": None, "error": None}),
            Event(41, 0, K.REQUEST_START, 5, data={"scope_type": "lifespan"}),
        ]
    )
    summary, details = _same(events)
    assert summary["requests"] == 4
    assert summary["errors"] == 3
    assert summary["status"] == {"200": 2, "503": 1}
    assert details.timeouts == 1
    assert details.errors == {"RuntimeError": 1, "HTTP 503": 1, "timeout": 1}


def test_kinds_of_equal_counts_keep_the_order_the_requests_were_first_seen_in() -> None:
    """Request 9 is seen first and gets no response; request 3 later, a 503: the report lists
    "no response" first, as it did when it read its requests in the order it met them (packed
    rows are kept by request id, 3 before 9)."""
    events = [
        Event(0, 0, K.REQUEST_QUEUED, 9, data={"method": "GET", "path": "/"}),
        Event(1, MS, K.REQUEST_QUEUED, 3, data={"method": "GET", "path": "/"}),
        Event(2, 2 * MS, K.REQUEST_START, 9, data={"scope_type": "http"}),
        Event(3, 3 * MS, K.REQUEST_END, 9, data={"status": None, "error": None}),
        Event(4, 4 * MS, K.CLIENT_RESPONSE, 3, dur=0, data={"status": 503}),
    ]
    _, details = _same(events)
    assert list(details.errors) == ["no response", "HTTP 503"]


class _Status(IntEnum):
    OK = 200


@pytest.mark.parametrize(
    "status",
    [200.0, True, _Status.OK, "200", [200], 2**70],
    ids=["float", "bool", "intenum", "str", "list", "huge"],
)
def test_values_a_row_cannot_hold_exactly_keep_their_record_whole(status: object) -> None:
    """A status equal to 200 but not the int 200 (or no number at all, or past 64 bits) reads
    as itself in the summary, beside requests whose 200 packed."""
    events = _req(0, 1, 0, 10) + _req(10, 2, 1, 11, status=status) + _req(20, 3, 2, 12)
    summary, _ = _same(events)
    assert summary["status"] == summarize(events)["status"]
    assert sum(summary["status"].values()) == 3


def test_times_past_64_bits_keep_their_record_whole() -> None:
    """A hand-made request whose end is past 2^63 ns sits beside ordinary ones."""
    events = _req(0, 1, 0, 10) + [
        Event(10, 5, K.REQUEST_START, 2, data={"scope_type": "http"}),
        Event(11, 2**64, K.REQUEST_END, 2, data={"status": 200, "error": None}),
    ]
    summary, _ = _same(events)
    assert summary["completed"] == 2


def test_scattered_request_ids_give_the_same_figures() -> None:
    """Ids that do not count up (random 40-bit numbers, some next to each other) make runs of
    one row, past the most runs kept: the rest stay whole."""
    rng = random.Random(5)
    ids = rng.sample(range(2**40), 5000) + list(range(10**6, 10**6 + 50))
    rng.shuffle(ids)
    events: list[Event] = []
    for n, req in enumerate(ids):
        events += _req(3 * n, req, n, n + rng.randint(1, 30), status=rng.choice([200, 404, 500]))
    digest = _one_by_one(events)
    assert digest.summary() == summarize(events)
    assert digest.details() == _at_once(events).details()
    assert len(digest.requests()) == len(ids)


def test_the_requests_view_reads_packed_records_as_request_spans_does() -> None:
    """``Digest.requests()``: every request, lifespan left out, each record equal field for
    field to ``request_spans``'s (an ended one a copy: changing it changes nothing)."""
    events = _req(0, 1, 0, 10) + _req(10, 2, 1, 20, status=500, error="KeyError")
    events += [Event(20, 0, K.REQUEST_START, 7, data={"scope_type": "lifespan"})]
    events += [Event(21, 3 * MS, K.REQUEST_QUEUED, 8, data={"method": "GET", "path": "/"})]
    # Every field set, each to a value of its own: a response sent (cut short), the app's
    # error, the client's view (closed on purpose: the flags of the row's first byte).
    events += _req(30, 9, 4, 50, status=200, error="ValueError", cut_short=True)
    events += [
        Event(
            33, 45 * MS, K.ASGI_SEND, 9, dur=1, data={"type": "http.response.start", "status": 201}
        ),
        Event(34, 46 * MS, K.ASGI_SEND, 9, dur=2, data={"type": "http.response.body"}),
        _late(35, 9, 48, K.ERROR, type="ValueError", message="", where=None),
        _late(
            36,
            9,
            60,
            K.CLIENT_RESPONSE,
            status=502,
            error="ConnectionResetError",
            client_closed="read-bytes",
        ),
    ]
    digest = _one_by_one(events)
    expected = request_spans(events)
    assert None not in _fields(expected[9]).values()
    view = digest.requests()
    assert sorted(view) == sorted(expected) == [1, 2, 8, 9]
    assert len(view) == 4 and 7 not in view
    for req, span in expected.items():
        assert _fields(view[req]) == _fields(span)
    view[1].status = 404
    assert digest.summary() == summarize(events)


def _fields(span: RequestSpan) -> dict[str, object]:
    return {name: getattr(span, name) for name in RequestSpan.__slots__}


def test_a_run_digested_as_it_goes_agrees_with_its_recording() -> None:
    """A real run (the ``threads`` model, 300 requests of the bundled WSGI hello world) with
    the digest subscribed, as ``trace run`` has it: its summary is ``summarize``'s of the
    recording, its details those of a digest fed the whole recording at once."""
    recorder = Recorder()
    digest = Digest(recorder.header)
    recorder.subscribe(digest.feed)
    config = RunConfig(
        app="sample_apps.hello:application", server="threads", requests=300, concurrency=20
    )
    run(config, recorder)
    recorder.drain()
    recording = recorder.recording()
    assert digest.summary() == summarize(recording)
    assert digest.summary()["requests"] == 300
    whole = Digest(recording.header)
    whole.feed(recording.events)
    assert digest.details() == whole.details()


def _error(seq: int, req: int | None, t: int, kind: object) -> Event:
    return Event(seq, t * MS, K.ERROR, req, data={"type": kind, "message": "", "where": None})


def _listed(events: list[Event]) -> list[tuple[str, int]]:
    """The report's errors in the order it lists them, the same however the digest was fed
    (one batch, or one event a batch: each request's one error packed with its row)."""
    listed = list(_at_once(events).details().errors.items())
    assert list(_one_by_one(events).details().errors.items()) == listed
    return listed


@pytest.mark.parametrize("order", ["recorded", "reversed", "shuffled"])
def test_error_types_of_equal_counts_keep_the_order_of_their_first_errors(order: str) -> None:
    """One error each, packed with its request: types of equal counts are listed in the order
    their first errors came. A lifespan connection's error is left out even when its start
    comes after its end and its error: in the recorded order "KeyError" came first, on the
    lifespan connection, so it is listed where request 4's came, last."""
    events = [
        Event(0, 50 * MS, K.REQUEST_END, 1, data={"status": None, "error": None}),
        _error(1, 1, 51, "KeyError"),
        *(_req(10, 2, 1, 10) + [_error(13, 2, 11, "ValueError")]),
        *(_req(20, 3, 2, 12) + [_error(23, 3, 13, "OSError")]),
        *(_req(30, 4, 3, 14) + [_error(33, 4, 15, "KeyError")]),
        Event(40, 0, K.REQUEST_START, 1, data={"scope_type": "lifespan"}),
    ]
    fed = list(events)
    if order == "reversed":
        fed.reverse()
    elif order == "shuffled":
        random.Random(3).shuffle(fed)
    listed = _listed(fed)
    assert sorted(listed) == [("KeyError", 1), ("OSError", 1), ("ValueError", 1)]
    if order == "recorded":
        assert listed == [("ValueError", 1), ("OSError", 1), ("KeyError", 1)]
    assert _one_by_one(fed).summary() == summarize(events)


def test_errors_a_row_cannot_tell_stay_counted() -> None:
    """Two errors of one type, two of two types, one of no type ("?", where the request's
    ``raised`` says "error"), one whose type is "error", errors of no request: each counted
    by its own type, in any order the events come in."""
    events = (
        _req(0, 1, 0, 10)
        + [_error(3, 1, 1, "A"), _error(4, 1, 2, "A")]
        + _req(10, 2, 1, 11)
        + [_error(13, 2, 3, "A"), _error(14, 2, 12, "B")]
        + _req(20, 3, 2, 12)
        + [_error(23, 3, 13, None)]
        + _req(30, 4, 3, 13)
        + [_error(33, 4, 14, "error")]
        + [_error(40, None, 15, "B"), _error(41, None, 16, "")]
        + _req(50, 5, 4, 14)
    )
    summary, details = _same(events)
    assert details.errors == {"A": 3, "B": 2, "?": 2, "error": 1}
    assert summary["errors"] == 4
    # "B" and "?" tie: listed by their first errors, which the order of the events decides.
    assert _listed(events) == [("A", 3), ("B", 2), ("?", 2), ("error", 1)]
    assert _listed(events[::-1]) == [("A", 3), ("?", 2), ("B", 2), ("error", 1)]
