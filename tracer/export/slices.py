"""Slices of the Perfetto trace: intervals of a recording nested as a track draws them.

A track of a Chrome trace draws ``B``/``E`` (or async ``b``/``e``) slices that must nest: a
slice ends before its parent does. ``nest`` keeps the intervals that nest, in the order that
keeps them so (parents first), and sets apart those that straddle their parent's end (the
Perfetto export writes them as instants); ``sweep`` turns the kept ones into begin and end
events. ``tracer.export.tracks`` does the same one slice at a time, as a recording streams
past; ``tracer.export.perfetto`` draws each request's own row with these. Imports the
recording model only.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from tracer.events import Event

__all__ = ["Interval", "nest", "within", "sweep", "event_args", "us"]

Interval = tuple[int, int, Event | None, str]
"""(start ns, end ns, the event it shows, slice name)."""


def us(ns: int) -> float:
    """A recording's nanoseconds as the trace's microseconds."""
    return ns / 1000


def nest(
    intervals: list[Interval], closing: Collection[int] = ()
) -> tuple[list[Interval], list[Interval]]:
    """Split intervals into those that nest (sorted, parents first) and those that straddle.

    ``closing`` holds the ``seq`` of instants (zero-length intervals) that belong at the very
    end of a parent: at their time they come before the intervals starting then, which would
    otherwise take them in (on a thread track, the next request's step, in a simulation where
    one request's last call and the next one's start share a nanosecond).
    """
    stack: list[Interval] = []
    kept: list[Interval] = []
    left: list[Interval] = []

    def order(iv: Interval) -> tuple[int, int, int]:
        last = iv[2] is not None and iv[0] == iv[1] and iv[2].seq in closing
        return (iv[0], 0 if last else 1, -iv[1])

    for iv in sorted(intervals, key=order):
        while stack and stack[-1][1] <= iv[0]:
            if stack[-1][1] == iv[0] == iv[1] and stack[-1][0] < iv[0]:
                break  # an instant at a parent's very end still belongs to it
            stack.pop()
        if stack and iv[1] > stack[-1][1]:
            left.append(iv)
            continue
        kept.append(iv)
        stack.append(iv)
    return kept, left


def within(iv: Interval, parents: list[Interval]) -> bool:
    """Whether ``iv`` lies inside one of ``parents``."""
    return any(p[0] <= iv[0] and iv[1] <= p[1] for p in parents)


def event_args(event: Event | None) -> dict[str, Any]:
    """The ``args`` of the slice or instant showing ``event``: its data, its request, its
    duration in ms; never its headers."""
    if event is None:
        return {}
    # Headers stay out: a trace file travels further than the recording it came from. How
    # many there were is kept.
    args: dict[str, Any] = {k: v for k, v in event.data.items() if k != "headers"}
    headers = event.data.get("headers")
    if isinstance(headers, list | tuple):
        args["header_count"] = len(headers)
    if event.req is not None:
        args["req"] = event.req
    if event.dur is not None:
        args["dur_ms"] = round(event.dur / 1e6, 6)
    return args


def sweep(
    kept: list[Interval], common: dict[str, Any], begin: str, end: str
) -> list[dict[str, Any]]:
    """Begin/end events of nested intervals (from ``nest``), in an order that keeps them nested."""
    out: list[dict[str, Any]] = []
    stack: list[Interval] = []
    for iv in kept:
        while stack and stack[-1][1] <= iv[0]:
            if stack[-1][1] == iv[0] == iv[1] and stack[-1][0] < iv[0]:
                break
            top = stack.pop()
            out.append({**common, "ph": end, "name": top[3], "ts": us(top[1])})
        out.append(
            {**common, "ph": begin, "name": iv[3], "ts": us(iv[0]), "args": event_args(iv[2])}
        )
        stack.append(iv)
    while stack:
        top = stack.pop()
        out.append({**common, "ph": end, "name": top[3], "ts": us(top[1])})
    return out
