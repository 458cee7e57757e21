"""``SpanTally``: the summary's figures added up from requests, one ``RequestSpan`` at a time.

Its one job is the adding up: counts, statuses, the latency and queueing columns, the most
requests in the app at once, and the summary dict made of them (``SpanTally.summary``,
``summarize_spans``). ``tracer.summary`` feeds it a recording's spans, ``tracer.digest`` a
stream's, so the numbers agree. Imports only ``tracer.request_span`` and ``tracer.stats``.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from tracer.request_span import RequestSpan
from tracer.stats import (
    LATENCY_KEYS,
    NS_PER_MS,
    POOL_WAIT_KEYS,
    QUEUE_KEYS,
    edge_of,
    offered_s,
    peak_of,
    rate_figure,
    stats_ms,
)

__all__ = ["SpanTally", "summarize_spans"]


def summarize_spans(
    spans: Mapping[int, RequestSpan],
    *,
    first: int,
    last: int,
    blocked_ns: int,
    violations: int,
    load: Mapping[str, Any] | None = None,
    lifespan_failed: Sequence[Mapping[str, Any]] = (),
    ws_close_codes: Mapping[str, int] | None = None,
    pool_waits: Sequence[int] = (),
) -> dict[str, Any]:
    """The summary dict from per-request spans and run-wide totals (for streaming readers).

    ``first``/``last``: the earliest event time and the latest event end (ns). ``load``: the
    recording header's ``load``, which gives an open loop's throughput its time (``rps``).
    ``lifespan_failed``: the app's lifespan failures, in recording order
    (``tracer.summary.lifespan_failure`` of each ``asgi.send``). ``ws_close_codes``: the
    WebSocket sessions per close code (``tracer.summary.SessionCloses.counts``).
    ``pool_waits``: how long each hop that says it waited for a worker thread
    (``tracer.summary.hop_wait``, ns).
    """
    tally = SpanTally()
    for span in spans.values():
        tally.add(span)
    return tally.summary(
        first=first,
        last=last,
        blocked_ns=blocked_ns,
        violations=violations,
        load=load,
        lifespan_failed=lifespan_failed,
        ws_close_codes=ws_close_codes,
        pool_waits=pool_waits,
    )


class SpanTally:
    """What the summary reads of each request, added up one span at a time.

    A span is read once and can go: its latency and time queued are kept as 8-byte numbers
    (``array('q')``), the rest as counts, so a streaming reader that keeps its requests
    packed (``tracer.digest``) builds one short-lived ``RequestSpan`` at a time. A duration
    that is not a 64-bit integer (events made by hand) turns its column into a list.
    """

    __slots__ = (
        "requests",
        "completed",
        "errors",
        "cut_short",
        "client_closed",
        "latencies",
        "queues",
        "status",
        "_last_end",
        "_edges",
        "_peak",
    )

    def __init__(self) -> None:
        self.requests = 0
        """Spans added."""
        self.completed = 0
        """Of which finished (``RequestSpan.finished``)."""
        self.errors = 0
        """Of which failed (``RequestSpan.failed``)."""
        self.cut_short = 0
        """Of which had their response cut short (``RequestSpan.cut_short``) and did not
        fail: one the app's error or the client's failure cut counts as that error only."""
        self.client_closed = 0
        """Of which the client left on purpose (``RequestSpan.client_closed``: ``trace run
        --read-for``/``--read-bytes``) and did not fail: counted here, not as cut short too,
        since the run asked for the cut."""
        self.latencies: array[int] | list[Any] = array("q")
        """``finished - arrived`` of each finished request (ns), in the order added."""
        self.queues: array[int] | list[Any] = array("q")
        """``queue_wait`` of each request that has one (ns), in the order added."""
        self.status: Counter[str] = Counter()
        """Outcome statuses as the summary's keys (``"200"``)."""
        self._last_end: Any = None
        # In flight means in the app: request.start to request.end (the client's end when the
        # server's was lost). One that never ended counts until the end of the recording.
        # At one instant, events count in recording order (seq): requests of zero time were
        # in the app between their start and end events, and others ended before a next began.
        self._edges: list[int] | None = []
        self._peak = 0

    def add(self, span: RequestSpan) -> None:
        """Count one request (each once; not after ``max_in_flight`` was read)."""
        edges = self._edges
        if edges is None:
            raise RuntimeError("SpanTally.add after its max_in_flight was read")
        self.requests += 1
        finished = span.finished
        if finished is not None:
            self.completed += 1
            if self._last_end is None or finished > self._last_end:
                self._last_end = finished
            arrived = span.arrived
            if arrived is not None:
                self.latencies = _append(self.latencies, finished - arrived)
        wait = span.queue_wait
        if wait is not None:
            self.queues = _append(self.queues, wait)
        if span.start is not None:
            edges.append(edge_of(span.start, span.start_seq, 1))
            end = _left_app(span)
            if end is not None:
                edges.append(end)
        if span.failed:
            self.errors += 1
        elif span.client_closed:
            self.client_closed += 1
        elif span.cut_short:
            self.cut_short += 1
        code = span.outcome_status
        if code is not None:
            self.status[str(code)] += 1

    @property
    def max_in_flight(self) -> int:
        """The most requests in the app at once; worked out at the first read, after which
        the instants it took are freed and no more spans can be added."""
        if self._edges is not None:
            self._peak = peak_of(self._edges)
            self._edges = None
        return self._peak

    def rate(self, *, first: int, last: int, load: Mapping[str, Any] | None = None) -> float | None:
        """Completed requests a second, unrounded (the summary's ``rps`` is it rounded).

        Throughput is over the time the load took: to the last request's end (its response's
        end for whoever sent it), not to work an app does after its responses
        (BackgroundTasks: a second of it made 1,000 requests read 819 a second where they
        took 0.17 s). A request that never ended (a run cut short) keeps the whole wall time,
        and an open loop takes no less than it took to offer them. Requests that all ended the
        instant the first began (a zero-time simulation) took no time: they have no rate
        (None), which is not a rate of 0."""
        if self.requests and self.completed == self.requests:
            served_s = (self._last_end - first) / 1e9
        else:
            served_s = (last - first) / 1e9
        rate_s = max(served_s, offered_s(load, self.requests))
        if rate_s > 0:
            return self.completed / rate_s
        return None if self.completed else 0.0

    def summary(
        self,
        *,
        first: int,
        last: int,
        blocked_ns: int,
        violations: int,
        load: Mapping[str, Any] | None = None,
        lifespan_failed: Sequence[Mapping[str, Any]] = (),
        ws_close_codes: Mapping[str, int] | None = None,
        pool_waits: Sequence[int] = (),
    ) -> dict[str, Any]:
        """The summary dict of the spans added, with the run-wide figures of
        ``summarize_spans``."""
        wall_s = (last - first) / 1e9
        rate = self.rate(first=first, last=last, load=load)
        completed = self.completed
        summary: dict[str, Any] = {
            "requests": self.requests,
            "completed": completed,
            "errors": self.errors,
            "wall_s": round(wall_s, 3),
            # Three significant digits at least (one decimal at most above 100): figures
            # made from it (throughput x latency) stay true for slow runs (0.149, not 0.1).
            "rps": rate_figure(rate) if rate else rate,
            "latency_ms": stats_ms(self.latencies, LATENCY_KEYS),
            "queue_ms": stats_ms(self.queues, QUEUE_KEYS),
            "status": dict(sorted(self.status.items())),
            "max_in_flight": self.max_in_flight,
            "loop_blocked_ms": round(blocked_ns / NS_PER_MS, 3),
            "violations": violations,
        }
        # Only when there are any, as the simulator's summary (which has none) agrees.
        if self.cut_short:
            # Responses started that did not all go out, counted apart from errors: a client
            # leaving a stream is not the app's failure.
            summary["cut_short"] = self.cut_short
        if self.client_closed:
            # Responses the client stopped reading on purpose (--read-for, --read-bytes).
            summary["client_closed"] = self.client_closed
        if lifespan_failed:
            summary["lifespan_failed"] = [dict(failure) for failure in lifespan_failed]
        if ws_close_codes:
            # How the WebSocket sessions ended, by the close code of each: an app's 1008 or
            # 4000 is an answer, counted here and not among the errors.
            summary["ws_close_codes"] = dict(ws_close_codes)
        if pool_waits:
            # How long work handed to a thread pool waited for a worker (anyio's 40 tokens
            # taken, an executor's threads all busy): time queued inside the app.
            summary["thread_pool_wait_ms"] = {
                "count": len(pool_waits),
                **stats_ms(pool_waits, POOL_WAIT_KEYS),
            }
        return summary


def _append(column: array[int] | list[Any], value: Any) -> array[int] | list[Any]:
    """``column`` with ``value`` appended: an ``array('q')`` turns into a list at the first
    value it cannot hold (a float time, a number past 64 bits)."""
    try:
        column.append(value)
    except (TypeError, OverflowError):
        column = [*column, value]
    return column


def _left_app(span: RequestSpan) -> int | None:
    """The edge (``edge_of``) of when the request left the app: its ``request.end``, else the
    client's end (the server's end was lost); None while it never ended."""
    if span.end is not None:
        return edge_of(span.end, span.end_seq, 0)
    if span.client_end is not None:
        return edge_of(span.client_end, span.client_seq, 0)
    return None
