"""``SpanRows``: an ended request's record packed into a row of 83 bytes, found again by its
request id, read back field for field as the ``RequestSpan`` it was; a record that would not
read back as itself is refused, and leaves no row."""

from __future__ import annotations

import tracemalloc

import pytest

from tracer.span_rows import SpanRows, SpanView
from tracer.summary import RequestSpan


def _span(req: int, **fields: object) -> RequestSpan:
    span = RequestSpan(req)
    span.start, span.start_seq, span.end, span.end_seq = (
        10 * req,
        3 * req,
        10 * req + 7,
        3 * req + 2,
    )
    span.status, span.scope_type = 200, "http"
    for name, value in fields.items():
        setattr(span, name, value)
    return span


def _fields(span: RequestSpan) -> dict[str, object]:
    return {name: getattr(span, name) for name in RequestSpan.__slots__}


def test_a_row_reads_back_as_the_record_it_was() -> None:
    """Every field set (a time of 2^63 - 1 ns among them), then ``get`` (a copy each time)
    and ``pop`` (the row freed) give the record back with the order kept beside it."""
    rows = SpanRows()
    full = _span(
        7,
        queued=0,
        client_end=2**63 - 1,
        client_seq=99,
        response_end=75,
        error="ValueError",
        raised="ValueError",
        client_status=502,
        client_error="ConnectionResetError",
        response_status=201,
    )
    assert rows.put(7, full, 41)
    got = rows.get(7)
    assert got is not None and got is not full and _fields(got) == _fields(full)
    assert rows.held == 1 and list(rows.ids()) == [7]
    popped = rows.pop(7)
    assert popped is not None and popped[0] == 41 and _fields(popped[1]) == _fields(full)
    assert rows.held == 0 and rows.get(7) is None and rows.pop(7) is None


def test_rows_are_listed_by_request_id_whatever_order_they_came_in() -> None:
    """Requests end out of order: ``ids`` and ``spans`` go by id, each with its own order."""
    rows = SpanRows()
    for order, req in enumerate([5, 3, 4, 1, 2000, 9, 2]):
        assert rows.put(req, _span(req), order)
    assert list(rows.ids()) == [1, 2, 3, 4, 5, 9, 2000]
    assert [(order, span.req) for order, span in rows.spans()] == [
        (3, 1),
        (6, 2),
        (1, 3),
        (2, 4),
        (0, 5),
        (5, 9),
        (4, 2000),
    ]
    assert rows.get(6) is None and rows.get(0) is None and rows.get(10**9) is None


@pytest.mark.parametrize(
    "fields",
    [{"status": 200.0}, {"status": True}, {"error": ["x"]}, {"end": 2**63}, {"queued": -(2**63)}],
    ids=["float", "bool", "list", "past-64-bits", "the-no-time-mark"],
)
def test_a_record_that_would_not_read_back_as_itself_is_refused(
    fields: dict[str, object],
) -> None:
    """A value that would come back as another (``True`` as 1), or a time a row cannot hold,
    makes ``put`` say False and leave no row behind."""
    rows = SpanRows()
    assert not rows.put(1, _span(1, **fields), 0)
    assert rows.held == 0 and rows.get(1) is None and list(rows.ids()) == []


def test_a_request_counted_up_costs_a_row_of_83_bytes_and_little_more() -> None:
    """10,000 records of ids counted up, ending a few out of order: under 90 bytes each."""
    rows = SpanRows()
    spans = [_span(req) for req in range(1, 10_001)]
    for i in range(0, len(spans), 4):  # each four end in reverse
        spans[i : i + 4] = spans[i : i + 4][::-1]
    # Only what span_rows.py allocates: in a whole suite, other tests' threads (a recorder's
    # drain, a replay being built) may still allocate while this runs.
    mine = [tracemalloc.Filter(True, "*/tracer/span_rows.py")]
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot().filter_traces(mine)
        for order, span in enumerate(spans):
            assert rows.put(span.req, span, order)
        after = tracemalloc.take_snapshot().filter_traces(mine)
    finally:
        tracemalloc.stop()
    held = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert rows.held == len(spans)
    assert 83 <= held / len(spans) < 90


def test_a_view_reads_records_packed_or_not_by_id() -> None:
    """``SpanView``: the dict's records first (as they are), then the rows' by id (a copy
    each read); an id in neither is a KeyError."""
    rows = SpanRows()
    for req in (3, 1):
        assert rows.put(req, _span(req), 0)
    in_flight = RequestSpan(8)
    view = SpanView({8: in_flight}, rows)
    assert len(view) == 3 and list(view) == [8, 1, 3]
    assert view[8] is in_flight
    assert _fields(view[3]) == _fields(_span(3)) and view[3] is not view[3]
    view[3].status = 500
    assert view[3].status == 200
    with pytest.raises(KeyError):
        view[2]
