"""The arithmetic of a run's figures: percentiles, the most requests in flight at once, and
the time an open loop takes to offer its requests.

Its one job is numbers from numbers: it knows no events, spans or recordings, so the summary
(``tracer.summary``, ``tracer.span_tally``) and the simulator's stats-only path
(``sim.result``) compute their figures alike. Imports nothing of the project.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "NS_PER_MS",
    "LATENCY_KEYS",
    "QUEUE_KEYS",
    "POOL_WAIT_KEYS",
    "percentile",
    "stats_ms",
    "Instant",
    "peak_in_flight",
    "edge_of",
    "peak_of",
    "offered_s",
    "rate_figure",
]

NS_PER_MS = 1_000_000
LATENCY_KEYS = ("mean", "p50", "p90", "p95", "p99", "p99.9", "max")
"""The figures of the summary's ``latency_ms``."""
QUEUE_KEYS = ("mean", "p50", "p99", "max")
"""The figures of the summary's ``queue_ms``."""
POOL_WAIT_KEYS = ("p50", "p99", "max")
"""The figures of the summary's ``thread_pool_wait_ms`` (with ``count``)."""


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) of sorted values, linearly interpolated; 0 when empty."""
    if not sorted_values:
        return 0.0
    if len(sorted_values) == 1:
        return float(sorted_values[0])
    rank = (len(sorted_values) - 1) * q / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return float(sorted_values[low])
    weight = rank - low
    return float(sorted_values[low] * (1 - weight) + sorted_values[high] * weight)


def stats_ms(values_ns: Iterable[int], keys: Sequence[str]) -> dict[str, float]:
    """Durations in ns as ms figures rounded to the µs: ``mean``, ``max`` and ``pNN`` keys."""
    ns = list(values_ns)
    values = sorted(v / NS_PER_MS for v in ns)
    out: dict[str, float] = {}
    for key in keys:
        if key == "mean":
            # Summed as the ns integers, exactly, and divided once: a sum of ms floats differs
            # in its last bits between Pythons (3.12's ``sum()`` compensates), and a mean on a
            # half µs (292.5 µs) was then rounded up on one and down on another.
            out[key] = round(sum(ns) / (len(ns) * NS_PER_MS), 3) if ns else 0.0
        elif key == "max":
            out[key] = round(values[-1], 3) if values else 0.0
        else:
            out[key] = round(percentile(values, float(key[1:])), 3)
    return out


def rate_figure(value: float) -> float:
    """A rate as the summary keeps it: three significant digits, but never more than one
    decimal (``0.149``, ``2.47``, ``39.8``, ``1234.6``). One decimal alone made 0.25
    requests a second 0.2, and the figures computed from it (throughput x latency: the
    requests out at once) a fifth short."""
    if value <= 0 or not math.isfinite(value):
        return value
    decimals = max(1, 2 - math.floor(math.log10(value)))
    return round(value, decimals)


Instant = int | tuple[int, int]
"""When an interval opens or closes: a time in ns, or ``(t, seq)`` where the event order at
that time is known (a recording's ``seq``, a simulation's order of happening)."""

_LAST = 2**63
"""A ``seq`` after every other: a start whose event order is unknown comes after the ends."""


def peak_in_flight(starts: Iterable[Instant], ends: Iterable[Instant]) -> int:
    """The most intervals open at one instant, given their start and end instants.

    Instants are taken in order; at one time, ``(t, seq)`` instants in their event order, so a
    request that starts and ends at the same instant (zero-time work) is in flight between its
    two events. Where only a time is known, an end at the same time as a start comes first:
    back-to-back requests do not overlap.
    """
    edges = [_instant_edge(instant, 1) for instant in starts]
    edges.extend(_instant_edge(instant, 0) for instant in ends)
    return peak_of(edges)


def _instant_edge(instant: Instant, start: int) -> int:
    """The ``edge_of`` of an instant: a bare time has no known ``seq``."""
    if isinstance(instant, tuple):
        return edge_of(instant[0], instant[1], start)
    return edge_of(instant, None, start)


def edge_of(t: int, seq: int | None, start: int) -> int:
    """An interval's start (``start`` 1) or end (0) at time ``t``, event ``seq``, as one
    integer that sorts as ``(t, seq, start)`` does: a 100,000-request summary made 200,000
    nested tuples to sort, 20 MB of a run's peak memory, where ints take a third. A ``seq``
    not known (None: a span built without one) is after every event for a start, before
    every event for an end; one outside the format's range (a hand-made recording) is
    clamped into it."""
    if seq is None:
        seq = _LAST if start else -1
    elif seq < -1:
        seq = -1
    elif seq > _LAST:
        seq = _LAST
    return t * _EDGE_T + (seq + 1) * 2 + start


_EDGE_T = 2**66
"""The weight of ``t`` in an edge: above every ``(seq + 1) * 2 + start``, seq at most 2**63."""


def peak_of(edges: list[int]) -> int:
    """The most intervals open at once, over ``edge_of`` integers (sorted here)."""
    edges.sort()
    current = best = 0
    for edge in edges:
        if edge & 1:
            current += 1
            if current > best:
                best = current
        else:
            current -= 1
    return best


def offered_s(load: Mapping[str, Any] | None, arrivals: int) -> float:
    """How long an open loop (``--rate``) takes to offer ``arrivals`` requests: as many mean
    gaps, and no longer than its ``-z`` duration; 0 for a closed loop or no ``load``.

    An open loop's throughput is taken over at least this time. The span of its requests
    starts at the first arrival, one random gap after the load began, so ``-n 20 --rate 50``
    spread 20 requests over 19 gaps and reported about 55 requests/s (70 on a quick draw).
    Over this time a run reports more than its rate only when more requests arrived than the
    rate offers in its ``-z`` duration, and it completed them.
    """
    rate = _positive(load.get("rate")) if load else None
    if load is None or rate is None:
        return 0.0
    seconds = arrivals / rate
    duration = _positive(load.get("duration_s"))
    return min(seconds, duration) if duration is not None else seconds


def _positive(value: Any) -> float | None:
    """``value`` as a float when it is a finite number above 0 (not a bool), else None."""
    if type(value) not in (int, float) or not math.isfinite(value) or value <= 0:
        return None
    return float(value)
