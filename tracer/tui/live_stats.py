"""``LiveStats``: the running numbers of the live dashboard, fed batch by batch.

Progress, rps, requests in flight, latency percentiles, errors, a latency histogram, completions
per time bucket (the rps bar chart) and the events of the most recent requests (the scrolling
timeline). Fed from the UI thread with the batches the recorder's subscriber queued; times are
the recording's own, so a test can feed it fixed events. Imports only the spine.
"""

from __future__ import annotations

import bisect
import math
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from tracer import events as K
from tracer.events import Event
from tracer.summary import ends_response, percentile

__all__ = ["LiveStats", "LiveSnapshot", "RPS_BUCKET_NS", "histogram"]

RPS_BUCKET_NS = 100_000_000
"""Completions are counted per 100 ms of recording time (shown as requests per second)."""


@dataclass(frozen=True, slots=True)
class LiveSnapshot:
    """The header numbers at one moment."""

    completed: int
    """Requests that ended."""
    total: int | None
    """Requests the run will make, when known."""
    in_flight: int
    """Started and not ended."""
    rps: float
    """Completions per second over the whole run so far."""
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    """Requests that ended with an error or a 5xx status."""
    elapsed_ns: int
    """Recording time of the latest event."""


class LiveStats:
    """Running totals over every event fed so far, and the last ``keep`` requests' events."""

    def __init__(self, *, total: int | None = None, keep: int = 200) -> None:
        self.total = total
        self.keep = keep
        self.arrived: dict[int, int] = {}
        self.started: set[int] = set()
        self.ended: set[int] = set()
        self.failed: set[int] = set()
        """Ended requests counted as errors (each once)."""
        self.client_side: set[int] = set()
        self.lifespan: set[int] = set()
        self.first_arrival: int | None = None
        """When the first request arrived (rps counts from there, as the summary's)."""
        """Lifespan connections (left out of every number and of the recent lanes)."""
        """Requests a network client sent (real servers): they end at ``client.response``."""
        self.latencies_ms: list[float] = []
        self.errors = 0
        self.buckets: dict[int, int] = {}
        self.latest = 0
        self.recent: OrderedDict[int, list[Event]] = OrderedDict()
        self.loose: list[Event] = []
        self.dropped: set[int] = set()

    def feed(self, batch: Iterable[Event]) -> None:
        """Account for a batch of new events (any order within the batch)."""
        for event in batch:
            self.latest = max(self.latest, event.end)
            req = event.req
            kind = event.kind
            if req is None:
                if kind == K.MARK:
                    self.loose.append(event)
                continue
            if req in self.lifespan:
                continue
            if kind in (K.REQUEST_QUEUED, K.REQUEST_START) and req not in self.arrived:
                self.arrived[req] = event.t
                if self.first_arrival is None or event.t < self.first_arrival:
                    self.first_arrival = event.t
            if kind == K.REQUEST_START:
                data = event.data if isinstance(event.data, dict) else {}
                if data.get("scope_type") == "lifespan":
                    # Not a request of the load: no lane, no count, no latency.
                    self.lifespan.add(req)
                    self.arrived.pop(req, None)
                    continue
                self.started.add(req)
            elif kind == K.CLIENT_SEND:
                # In flight from the send: the server's request.start is merged in later (its
                # process writes every 20 ms, the parent merges every 200), often after the
                # response, so it cannot say what is in flight now.
                self.client_side.add(req)
                self.started.add(req)
            elif (
                kind == K.CLIENT_RESPONSE
                or (kind in (K.REQUEST_END, K.ASGI_SEND) and req not in self.client_side)
            ) and req not in self.ended:
                # A request a network client sent is over when the client has the response (as
                # in the summary); one of an in-process model, at its last body message or its
                # request.end, whichever comes first (BackgroundTasks run after the body).
                data = event.data if isinstance(event.data, dict) else {}
                if kind == K.ASGI_SEND:
                    if ends_response(data):
                        self._end(req, event, failed=False)
                else:
                    status = data.get("status")
                    failed = bool(data.get("error")) or (isinstance(status, int) and status >= 500)
                    self._end(req, event, failed=failed)
            elif kind == K.REQUEST_END and req in self.ended and req not in self.failed:
                # The app raised after its response went (a background task): an error all
                # the same, as the summary counts it.
                data = event.data if isinstance(event.data, dict) else {}
                if data.get("error") and req not in self.client_side:
                    self.failed.add(req)
                    self.errors += 1
            events = self.recent.get(req)
            if events is None:
                if req in self.dropped:
                    continue  # a late event of a request that scrolled away: do not bring it back
                events = self.recent[req] = []
                while len(self.recent) > self.keep:
                    self.dropped.add(self.recent.popitem(last=False)[0])
            events.append(event)

    def _end(self, req: int, event: Event, *, failed: bool) -> None:
        """``req`` is over at ``event``'s end: its latency, its second, and whether it failed."""
        self.ended.add(req)
        if failed:
            self.failed.add(req)
            self.errors += 1
        self.latencies_ms.append((event.end - self.arrived.get(req, event.t)) / 1e6)
        bucket = event.end // RPS_BUCKET_NS
        self.buckets[bucket] = self.buckets.get(bucket, 0) + 1

    def snapshot(self) -> LiveSnapshot:
        """The header numbers now."""
        ordered = sorted(self.latencies_ms)
        # Over the requests' own window, as the summary's rps (a real server's start-up
        # before the first request is not part of the load).
        seconds = (self.latest - (self.first_arrival or 0)) / 1e9
        return LiveSnapshot(
            completed=len(self.ended),
            total=self.total,
            in_flight=len(self.started - self.ended),
            rps=len(self.ended) / seconds if seconds > 0 else 0.0,
            p50_ms=percentile(ordered, 50),
            p95_ms=percentile(ordered, 95),
            p99_ms=percentile(ordered, 99),
            errors=self.errors,
            elapsed_ns=self.latest,
        )

    def rps_series(self, points: int = 60, *, ended: bool = False) -> list[float]:
        """Requests per second in each of the last ``points`` whole buckets (oldest first),
        from the first bucket of the recording.

        The bucket the latest event falls in is still going on: it holds only part of its
        completions, so drawn it would read as a drop in every frame. It is left out until
        the run has ``ended``: then no completion is still to come in it.
        """
        last = self.latest // RPS_BUCKET_NS - (0 if ended else 1)
        first = max(0, last - points + 1)
        scale = 1e9 / RPS_BUCKET_NS
        return [self.buckets.get(b, 0) * scale for b in range(first, last + 1)]

    def recent_events(self) -> list[Event]:
        """Events of the most recent requests (and marks), sorted by time."""
        events = [event for req_events in self.recent.values() for event in req_events]
        events.extend(self.loose)
        events.sort(key=lambda e: (e.t, e.seq))
        return events


def histogram(latencies_ms: list[float], bins: int = 7) -> list[tuple[float, float, int]]:
    """Log-spaced latency bins ``(low_ms, high_ms, count)`` covering every value."""
    if not latencies_ms:
        return []
    low = max(min(latencies_ms), 1e-3)
    high = max(max(latencies_ms), low * 1.0001)
    edges = [low * (high / low) ** (i / bins) for i in range(bins + 1)]
    edges[0] = 0.0
    edges[-1] = math.inf
    counts = [0] * bins
    for value in latencies_ms:
        index = min(bins - 1, max(0, bisect.bisect_right(edges, value) - 1))
        counts[index] += 1
    shown_high = [*edges[1:-1], high]
    return [(edges[i], shown_high[i], counts[i]) for i in range(bins)]
