"""``max_in_flight`` takes starts and ends in the order of ``(t, seq)``, a start after an end
at the same instant when their seqs do not say otherwise: checked against that order spelled
out with tuples, over many requests whose times collide, some seqs unknown or out of range."""

from __future__ import annotations

import random

import pytest

from tracer.summary import RequestSpan, peak_in_flight, summarize_spans

LAST = 2**63
"""A seq after every other (the recording format's range ends below it)."""


def _reference(edges: list[tuple[int, int, int]]) -> int:
    """The most intervals open at once, over ``(t, seq, start)`` tuples."""
    current = best = 0
    for _, _, start in sorted(edges):
        current += 1 if start else -1
        best = max(best, current)
    return best


def _clamped(seq: int | None, unknown: int) -> int:
    if seq is None:
        return unknown
    return min(max(seq, -1), LAST)


def _spans(rng: random.Random, count: int) -> dict[int, RequestSpan]:
    spans = {}
    for req in range(count):
        span = RequestSpan(req)
        span.start = rng.randrange(20)
        span.start_seq = rng.choice([None, -5, 2**70, *range(40)])
        ended = rng.random()
        if ended < 0.6:
            span.take_end(span.start + rng.randrange(5), {}, rng.choice([None, *range(40)]))
        elif ended < 0.8:  # the server's end lost: the client's stands in
            span.take_client_response(span.start + rng.randrange(5), {}, rng.randrange(40))
        spans[req] = span
    return spans


@pytest.mark.parametrize("seed", range(20))
def test_the_summary_orders_starts_and_ends_by_time_then_seq(seed: int) -> None:
    """Twenty requests at once in 20 ns, some that never end: the summary's peak is the one
    the ``(t, seq, start)`` order gives."""
    spans = _spans(random.Random(seed), 20)
    edges = []
    for span in spans.values():
        assert span.start is not None
        edges.append((span.start, _clamped(span.start_seq, LAST), 1))
        if span.end is not None:
            edges.append((span.end, _clamped(span.end_seq, -1), 0))
        elif span.client_end is not None:
            edges.append((span.client_end, _clamped(span.client_seq, -1), 0))
    summary = summarize_spans(spans, first=0, last=30, blocked_ns=0, violations=0)
    assert summary["max_in_flight"] == _reference(edges)


@pytest.mark.parametrize("seed", range(20))
def test_peak_in_flight_takes_bare_times_and_time_seq_pairs(seed: int) -> None:
    """Instants as bare times (an end first at a start's time) or ``(t, seq)`` pairs."""
    rng = random.Random(seed)
    starts: list[int | tuple[int, int]] = []
    ends: list[int | tuple[int, int]] = []
    edges = []
    for _ in range(30):
        t = rng.randrange(10)
        done = t + rng.randrange(3)
        if rng.random() < 0.5:
            starts.append(t)
            ends.append(done)
            edges += [(t, LAST, 1), (done, -1, 0)]
        else:
            seq = rng.randrange(60)
            later = seq + rng.randrange(1, 5)
            starts.append((t, seq))
            ends.append((done, later))
            edges += [(t, seq, 1), (done, later, 0)]
    assert peak_in_flight(starts, ends) == _reference(edges)
