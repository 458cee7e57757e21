"""``tracer.otel.ended``: the ids of ended requests kept as runs, and what is kept for work
after a request's end (bounded, oldest first, a plain end as its time alone)."""

from __future__ import annotations

from tracer.otel.ended import EndedIds, EndedRequests
from tracer.otel.late import EndRecord, LateWork


def test_ended_ids_are_a_few_runs_whatever_order_requests_end_in() -> None:
    """Ids ending out of order join into runs as their gaps fill: 1..1000 in any order are
    one run; an id still open leaves a gap until it ends; ids never added are not in."""
    ids = EndedIds(size=1_000)
    order = list(range(1, 1001))
    order = order[1::2] + order[::2]  # the even ids first, then the odd ones fill the gaps
    for req in order[:500]:
        ids.add(req)
    assert len(ids) == 500 and 1 not in ids and 2 in ids
    for req in order[500:-1]:
        ids.add(req)
    assert len(ids) == 2 and 999 not in ids and 1000 in ids and 1 in ids
    ids.add(order[-1])
    assert len(ids) == 1 and all(req in ids for req in range(1, 1001))
    assert 0 not in ids and 1001 not in ids
    ids.add(5_000)
    assert len(ids) == 2 and 5_000 in ids and 4_999 not in ids


def test_ended_ids_past_their_bound_forget_the_lowest_runs() -> None:
    """Past ``size`` runs the lowest go first: their ids are no longer known as ended."""
    ids = EndedIds(size=3)
    for req in (10, 20, 30, 40):
        ids.add(req)
    assert len(ids) == 3
    assert 10 not in ids and [req in ids for req in (20, 30, 40)] == [True, True, True]


def test_the_end_of_each_recent_request_is_kept_for_work_after_it() -> None:
    """A plain end and one with an error and a load generator come back as recorded; work
    after an end takes its place; past ``size`` the oldest end is let go, its id still ended."""
    ended = EndedRequests(size=2)
    ended.add(1)
    ended.remember(1, EndRecord(900, None, None))
    ended.add(2)
    ended.remember(2, EndRecord(1_900, "timeout", 4242))
    assert ended.after(1) == EndRecord(900, None, None)
    assert ended.after(2) == EndRecord(1_900, "timeout", 4242)
    late = LateWork(EndRecord(1_900, "timeout", 4242))
    ended.keep(2, late)
    assert ended.after(2) is late
    ended.add(3)
    ended.remember(3, EndRecord(2_900, None, None))
    assert ended.after(1) is None and 1 in ended
    assert ended.after(2) is late
    ended.drop_work()
    assert ended.after(2) == EndRecord(1_900, "timeout", 4242)
    ended.settle(3)
    assert ended.after(3) is None and 3 in ended
