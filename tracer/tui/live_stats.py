"""``LiveStats``: the running numbers of the live dashboard, fed batch by batch.

Progress, rps, requests in flight and queued, latency percentiles, errors, a latency histogram,
completions per time bucket (the rps bar chart) and the events of the most recent requests (the
scrolling timeline). Fed from the UI thread with the batches the recorder's subscriber queued;
times are the recording's own, and "now" is given by the caller (the recording's clock), so a
test can feed it fixed events at fixed times. Imports only the spine.

Whether a request is over and whether it failed are the summary's verdicts: each request's
events build a ``tracer.summary.RequestSpan`` as they come, and its ``finished`` and ``failed``
are read after each. A request a network client sent is counted over once the client has the
answer (its server's events often come first), as the summary's latency ends it there.

In flight means what the summary's ``max_in_flight`` means: in the app, ``request.start`` to
its ``request.end`` (the client's end when the server's never came). Queued: arrived (sent, or
``request.queued``) and not in the app yet. Both are counted at an instant a little before now,
``settle`` back: the events of a moment reach the dashboard late, and not all at once (the
recorder writes every 0.2 s, ``--server processes`` children send theirs every 50 ms, a real
server's are merged every 200 ms, often after the client has the answer), so counted at now a
request would leave the app before the next one is seen entering it. ``settle`` is the longest
delay seen in the last seconds, so that instant is one every event of which has come. That
instant is the end of some event, often at the edge of a wave of requests (closed-loop clients
enter and leave together): counted there, a steady 50 in the app read 0 or 50 from one frame to
the next. So both are averaged over the ``AVERAGE_NS`` before it (the time each request spent
in the app, or queued, in that window, over the window), which a wave's edge barely moves.

Loop blocked: the total and the longest of the ``loop.blocked`` events so far, a lifespan
connection's left out (its startup is not the load, as in the summary). Those are said apart,
as the report's lifespan line says them: before the load (the events of the run, lifespan
connections left out, as the summary's wall time takes them), during it, and, once the run
is over, after it; with each failed lifespan startup or shutdown.

Memory stays flat over a long run, as the streaming digest's (``tracer.digest``): a request is
held whole (its ``RequestSpan``, its entries in the dicts and sets below) only while it may
still be counted in flight or queued; a request that is over and out of those counts for good
is settled, its record packed into a row (``tracer.span_rows``) and its latency kept in an
array of doubles, and a later event of it (an error after its end, a server's events merged
after the client's answer, a process's merged out of time order) unpacks the record again,
as the digest does, so every number is that of the whole record.
"""

from __future__ import annotations

import bisect
import math
from array import array
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tracer import events as K
from tracer.events import Event
from tracer.span_rows import SpanRows
from tracer.summary import SPAN_KINDS, RequestSpan, lifespan_failure, offered_s, percentile

__all__ = ["LiveStats", "LiveSnapshot", "RPS_BUCKET_NS", "AVERAGE_NS", "histogram"]

RPS_BUCKET_NS = 100_000_000
"""Completions are counted per 100 ms of recording time (shown as requests per second)."""

SETTLE_MAX_NS = 1_000_000_000
"""The most ``in flight`` and ``queued`` lag behind now (events that come later than that, a
dead worker's or those a server leaves to its end, are not waited for)."""

AVERAGE_NS = 200_000_000
"""``in flight`` and ``queued`` are their time-averages over this long, up to the instant they
are counted at (never before the first arrival)."""

_DELAY_WINDOW_NS = 3_000_000_000
"""How long a delay seen is remembered when choosing the instant to count at."""

_ARRIVED = 1
"""Kept with a settled request's row (``SpanRows.put``'s int): an arrival of it was seen, so a
late one (a process's events merged out of order) is not taken for its arrival."""


@dataclass(frozen=True, slots=True)
class LiveSnapshot:
    """The header numbers at one moment."""

    completed: int
    """Requests that ended."""
    total: int | None
    """Requests the run will make, when known."""
    in_flight: int
    """In the app (``request.start`` and no end yet), as the summary's ``max_in_flight``
    counts: on average over the ``AVERAGE_NS`` up to ``counted_at``, rounded."""
    queued: int
    """Arrived (sent, or ``request.queued``) and not in the app yet, averaged as
    ``in_flight``."""
    rps: float | None
    """Completions per second over the whole run so far; once it is over, the summary's
    ``rps`` unrounded (over the load's first event to the last request's end, an open
    loop's over at least the time its arrivals were offered in). None when requests
    completed and no time passed (a zero-time simulation): no rate, as the summary's null,
    which is not a rate of 0."""
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    """Requests that failed so far, as the summary counts them (``RequestSpan.failed``): the
    app raised, no response came, or it was a 5xx."""
    elapsed_ns: int
    """Recording time now (wall time since the run's start), or of the latest event when no
    clock was given."""
    counted_at: int
    """Where the window ``in_flight`` and ``queued`` are of ends: ``elapsed_ns`` less the
    settle time."""
    blocked_ns: int = 0
    """The event loop held, in total, by the ``loop.blocked`` events so far."""
    longest_block_ns: int = 0
    """The longest of them."""
    latencies: int = 0
    """How many latencies ``p50_ms``, ``p95_ms`` and ``p99_ms`` are of (the requests over so
    far): a percentile is shown only of a sample that measures it (``tracer.report.measures``)."""
    lifespan_blocked_ns: tuple[int, int, int] = (0, 0, 0)
    """The loop held by the lifespan connections' own ``loop.blocked`` events (left out of
    ``blocked_ns``): before the load, during it, and after it (known once the run is over:
    until then, during it)."""
    lifespan_failed: tuple[dict[str, Any], ...] = ()
    """Each failed lifespan startup or shutdown so far, as the summary's ``lifespan_failed``
    lists them."""


class LiveStats:
    """Running totals over every event fed so far, and the last ``keep`` requests' events.

    Its per-request dicts and sets hold the requests not settled yet (see the module's
    docstring): those in flight or queued, and those over in the last seconds."""

    def __init__(
        self,
        *,
        total: int | None = None,
        keep: int = 200,
        average_ns: int = AVERAGE_NS,
        load: Mapping[str, Any] | None = None,
    ) -> None:
        self.total = total
        self.load = load
        """The recording header's ``load``: an open loop's (``rate``) final throughput is over
        at least the time its arrivals were offered in, as the summary's."""
        self.last_finished: int | None = None
        """When the last request over so far was over (the summary's ``finished``)."""
        self.keep = keep
        self.average_ns = average_ns
        """How long ``in flight`` and ``queued`` are averaged over (0: counted at an instant)."""
        self.blocked_ns = 0
        """The loop held by the ``loop.blocked`` events so far, in total."""
        self.longest_block_ns = 0
        """The longest ``loop.blocked`` so far."""
        self.arrived: dict[int, int] = {}
        """When each request arrived (sent, or queued at the server model). Read only while
        it is not over or may still count (``_open``): an unpacked request has a stand-in."""
        self.spans: dict[int, RequestSpan] = {}
        """Each request's instants so far, built by the summary's rules: when it entered the
        app (``start``), left it (``end``), the client had the answer (``client_end``), and
        whether it is over and failed. A settled request's is packed in ``_rows``."""
        self._rows = SpanRows()
        """Settled requests' records, each with ``_ARRIVED`` or 0."""
        self.ended: set[int] = set()
        """Requests that are over (as the summary's latency ends them), not settled yet."""
        self.completed = 0
        """Requests that are over, settled or not."""
        self.failed: set[int] = set()
        """Requests whose events so far say they failed (``RequestSpan.failed``), not
        settled yet (a settled one's row says it)."""
        self.client_side: set[int] = set()
        """Requests a network client sent (real servers): they end at ``client.response``."""
        self.lifespan: set[int] = set()
        """Lifespan connections (left out of every number and of the recent lanes)."""
        self.lifespan_blocks: list[tuple[int, int]] = []
        """``(t, dur)`` of the lifespan connections' ``loop.blocked`` events that may still
        be before the load or after it: at its edges, or before any of it came."""
        self.lifespan_during_ns = 0
        """The lifespan connections' blocks within the load for good, in total: the load's
        first event only moves earlier and its last end only later as events come."""
        self.lifespan_failed: list[dict[str, Any]] = []
        """What each failed lifespan startup or shutdown said (``lifespan_failure``)."""
        self.run_first: int | None = None
        """The first event's time, lifespan connections left out (the load's start)."""
        self.run_last: int | None = None
        """The last end of an event, lifespan connections left out (the load's end)."""
        self.first_arrival: int | None = None
        """When the first request arrived (rps counts from there, as the summary's)."""
        self._ordered = array("d")
        """The latencies (ms) of the requests over, sorted, but for those in ``_new``: 8
        bytes each, where a list of floats took 32 and a full collection walked it."""
        self._new: list[float] = []
        """Latencies of requests over since ``ordered_latencies`` last merged them."""
        self.errors = 0
        self.buckets: dict[int, int] = {}
        self.latest = 0
        self.recent: OrderedDict[int, list[Event]] = OrderedDict()
        self.loose: list[Event] = []
        self.dropped: set[int] = set()
        """Requests out of ``recent`` (scrolled away), not settled yet: a late event of one
        does not bring it back."""
        self._open: set[int] = set()
        """Requests that may still count as in flight or queued (pruned once long over)."""
        self._delays: deque[tuple[int, int]] = deque()
        """``(now, delay)`` of recent batches: how far behind ``now`` their oldest end was."""

    def feed(self, batch: Iterable[Event], *, now: int | None = None) -> None:
        """Account for a batch of new events (any order within the batch), taken at ``now``
        on the recording's clock (None: no delay is measured)."""
        delay = 0
        spans = self.spans
        rows = self._rows
        touched: set[int] = set()
        # Loop blocks of a request are counted once the batch is read: a lifespan
        # connection's are not the load's, and its start may come later in the batch.
        blocks: list[Event] = []
        # The sends of lifespan connections (a failed startup or shutdown), and the batch's
        # extent with theirs left out: read again when a lifespan connection's start comes
        # in the batch (its events before its start were taken for a request's).
        sends: list[Event] = []
        if not isinstance(batch, Sequence):
            batch = list(batch)
        first = last = None
        found_lifespan = False
        for event in batch:
            end = event.end
            self.latest = max(self.latest, end)
            if now is not None:
                delay = max(delay, now - end)
            req = event.req
            kind = event.kind
            if kind == K.LOOP_BLOCKED and event.dur:
                blocks.append(event)
            if req in self.lifespan:
                if kind == K.ASGI_SEND:
                    sends.append(event)
                continue
            if first is None or event.t < first:
                first = event.t
            if last is None or end > last:
                last = end
            if req is None:
                if kind == K.MARK:
                    self.loose.append(event)
                continue
            if rows.held and req not in spans and self._unpack(req):
                touched.add(req)  # settled again once judged, if nothing else changed
            if kind == K.REQUEST_START and event.data.get("scope_type") == "lifespan":
                # Not a request of the load: no lane, no count, no latency.
                self._leave_out(req)
                found_lifespan = True
                continue
            if (
                kind in (K.REQUEST_QUEUED, K.REQUEST_START, K.CLIENT_SEND)
                and req not in self.arrived
            ):
                self.arrived[req] = event.t
                self._open.add(req)
                if self.first_arrival is None or event.t < self.first_arrival:
                    self.first_arrival = event.t
            if kind == K.CLIENT_SEND:
                self.client_side.add(req)
            elif kind in SPAN_KINDS:
                span = spans.get(req)
                if span is None:
                    span = spans[req] = RequestSpan(req)
                span.take(event)
                touched.add(req)
            events = self.recent.get(req)
            if events is None:
                if req in self.dropped:
                    continue  # a late event of a request that scrolled away: do not bring it back
                events = self.recent[req] = []
                while len(self.recent) > self.keep:
                    gone = self.recent.popitem(last=False)[0]
                    if gone in spans or rows.get(gone) is None:  # a settled one says it
                        self.dropped.add(gone)
            events.append(event)
        for block in blocks:
            if block.req in self.lifespan:
                self.lifespan_blocks.append((block.t, block.dur or 0))
            elif block.dur:
                self.blocked_ns += block.dur
                self.longest_block_ns = max(self.longest_block_ns, block.dur)
        if found_lifespan:
            first, last, sends = self._apart(batch)
        for send in sends:
            failure = lifespan_failure(send)
            if failure is not None:
                self.lifespan_failed.append(failure)
        if first is not None and (self.run_first is None or first < self.run_first):
            self.run_first = first
        if last is not None and (self.run_last is None or last > self.run_last):
            self.run_last = last
        if self.lifespan_blocks:
            self._settle_lifespan_blocks()
        # Judged once a batch, whatever order its events came in (a request has several in one
        # batch: judging after each cost the live feed a third more).
        for req in touched:
            span = spans.get(req)
            if span is not None:  # None: a lifespan connection, its start in this batch
                self._judge(req, span)
                if req not in self._open:  # (over and never arrived, or unpacked)
                    self._settle(req)
        if now is not None:
            self._delays.append((now, min(SETTLE_MAX_NS, delay)))

    def _settle_lifespan_blocks(self) -> None:
        """Count the lifespan blocks now within the load for good in ``lifespan_during_ns``,
        and keep only the others (a frame goes through them: a lifespan task that blocked
        the loop all through a long run must not make every frame longer)."""
        first, last = self.run_first, self.run_last
        if first is None or last is None or last <= first:
            return
        edges: list[tuple[int, int]] = []
        for t, dur in self.lifespan_blocks:
            if t + dur > first and t < last:
                self.lifespan_during_ns += dur
            else:
                edges.append((t, dur))
        self.lifespan_blocks = edges

    def _apart(self, batch: Sequence[Event]) -> tuple[int | None, int | None, list[Event]]:
        """``batch``'s extent with the events of lifespan connections left out (its first
        time and last end; None: no such event), and the sends of those connections."""
        first = last = None
        sends: list[Event] = []
        lifespan = self.lifespan
        for event in batch:
            if event.req in lifespan:
                if event.kind == K.ASGI_SEND:
                    sends.append(event)
                continue
            end = event.end
            if first is None or event.t < first:
                first = event.t
            if last is None or end > last:
                last = end
        return first, last, sends

    def _judge(self, req: int, span: RequestSpan) -> None:
        """The summary's verdicts on ``req`` after its latest events: over (once, with its
        latency and its second) and failed. A later event can say it failed (an error after
        the response), or say otherwise (the server's end had no status, then the client's 200
        came)."""
        if req not in self.ended:
            finished = span.finished
            # A request a network client sent is over when the client has the response (as in
            # the summary): its server's events of it often come first.
            if finished is not None and (
                span.client_end is not None or req not in self.client_side
            ):
                self.ended.add(req)
                self.completed += 1
                if self.last_finished is None or finished > self.last_finished:
                    self.last_finished = finished
                arrived = self.arrived.get(req)
                if arrived is not None:  # as the summary, no latency without an arrival
                    self._new.append((finished - arrived) / 1e6)
                bucket = finished // RPS_BUCKET_NS
                self.buckets[bucket] = self.buckets.get(bucket, 0) + 1
        if span.failed:
            if req not in self.failed:
                self.failed.add(req)
                self.errors += 1
        elif req in self.failed:
            self.failed.discard(req)
            self.errors -= 1

    def _leave_out(self, req: int) -> None:
        """``req`` is a lifespan connection: out of every number (events of it may have come
        before its start, in a batch out of order)."""
        self.lifespan.add(req)
        self.arrived.pop(req, None)
        self._open.discard(req)
        self.spans.pop(req, None)
        self.ended.discard(req)  # (counted already, as before its start was seen)
        if req in self.failed:
            self.failed.discard(req)
            self.errors -= 1

    def _settle(self, req: int) -> None:
        """Pack ``req``'s record into a row and let go of its entries, if it is over and out
        of the in-flight and queued counts for good (else, or if its record does not pack,
        nothing). What the entries said, the row says: over, failed (``RequestSpan.failed``),
        arrived (``_ARRIVED``), scrolled out of ``recent`` (not in it)."""
        span = self.spans.get(req)
        if span is None or req not in self.ended or req in self._open:
            return
        if not self._rows.put(req, span, _ARRIVED if req in self.arrived else 0):
            return  # kept whole
        del self.spans[req]
        self.ended.discard(req)
        self.arrived.pop(req, None)
        self.failed.discard(req)
        self.client_side.discard(req)
        self.dropped.discard(req)

    def _unpack(self, req: int) -> bool:
        """An event of ``req``: if it was settled, its record and its entries back as they
        were (False: it was not)."""
        found = self._rows.pop(req)
        if found is None:
            return False
        flags, span = found
        self.spans[req] = span
        self.ended.add(req)
        if span.failed:
            self.failed.add(req)
        if flags & _ARRIVED:
            # Only says it arrived (its latency is counted, it is out of ``_open``).
            self.arrived[req] = span.arrived or 0
        if req not in self.recent:
            self.dropped.add(req)
        return True

    def settle(self, now: int) -> int:
        """How far before ``now`` every event has come: the longest delay of the last seconds."""
        delays = self._delays
        while delays and delays[0][0] < now - _DELAY_WINDOW_NS:
            delays.popleft()
        return max((delay for _, delay in delays), default=0)

    def counts_at(self, instant: int) -> tuple[int, int]:
        """``(in flight, queued)`` at ``instant``: in the app, and arrived but not in it yet."""
        in_app = waiting = 0
        spans = self.spans
        gone_before = instant - 2 * SETTLE_MAX_NS  # over long enough: never counted again
        done: list[int] = []
        for req in self._open:
            span = spans.get(req)
            out = start = None
            if span is not None:  # (_left_app, inline: this runs for each request, each frame)
                out = span.end if span.end is not None else span.client_end
                start = span.start
            if out is not None and out <= instant:
                if out < gone_before:
                    done.append(req)
                continue
            if start is not None and start <= instant:
                in_app += 1
            elif self.arrived[req] <= instant:
                waiting += 1
        self._forget(done)
        return in_app, waiting

    def _forget(self, done: list[int]) -> None:
        """``done`` are long out of the app: never counted in flight or queued again."""
        self._open.difference_update(done)
        for req in done:
            self._settle(req)

    def counts_over(self, first: int, last: int) -> tuple[float, float]:
        """``(in flight, queued)`` on average from ``first`` to ``last`` (the time each request
        was in the app, or arrived and not in it, within that window, over its length); at
        ``last`` (``counts_at``) when the window is empty."""
        if last <= first:
            return self.counts_at(last)
        in_app = waiting = 0
        spans = self.spans
        gone_before = last - 2 * SETTLE_MAX_NS
        done: list[int] = []
        for req in self._open:
            span = spans.get(req)
            out = start = None
            if span is not None:  # (_left_app, inline: this runs for each request, each frame)
                out = span.end if span.end is not None else span.client_end
                start = span.start
            if out is not None and out <= first:
                if out < gone_before:
                    done.append(req)
                continue
            until = last if out is None else min(out, last)
            entered = until if start is None else min(max(start, first), until)
            if start is not None:
                in_app += until - entered
            waiting += max(0, entered - max(self.arrived[req], first))
        self._forget(done)
        length = last - first
        return in_app / length, waiting / length

    def snapshot(self, now: int | None = None) -> LiveSnapshot:
        """The header numbers at ``now`` on the recording's clock (None: the latest event's
        time, as when the run is over: in flight and queued are then those at that instant,
        not an average of the run's last moments)."""
        ended = now is None
        average = self.average_ns if now is not None else 0
        now = self.latest if now is None else max(now, self.latest)
        counted_at = now - self.settle(now)
        first = max(counted_at - average, self.first_arrival or 0)
        in_app, waiting = self.counts_over(first, counted_at)
        # Rounded half up (not to even): a steady 0.5 reads as the one request it is.
        in_flight, queued = math.floor(in_app + 0.5), math.floor(waiting + 0.5)
        ordered = self.ordered_latencies()
        return LiveSnapshot(
            completed=self.completed,
            total=self.total,
            in_flight=in_flight,
            queued=queued,
            rps=self._final_rate() if ended else self._rate(now),
            p50_ms=percentile(ordered, 50),
            p95_ms=percentile(ordered, 95),
            p99_ms=percentile(ordered, 99),
            errors=self.errors,
            elapsed_ns=now,
            counted_at=counted_at,
            blocked_ns=self.blocked_ns,
            longest_block_ns=self.longest_block_ns,
            latencies=len(ordered),
            lifespan_blocked_ns=self.lifespan_blocked(over=ended),
            lifespan_failed=tuple(self.lifespan_failed),
        )

    def _rate(self, now: int) -> float | None:
        """Completions a second so far: over the requests' own window up to ``now`` (a real
        server's start-up before the first request is not part of the load). None when
        requests completed in no time, 0 when none did."""
        seconds = (now - (self.first_arrival or 0)) / 1e9
        return _per_second(self.completed, seconds)

    def _final_rate(self) -> float | None:
        """The run's throughput by the summary's rule (``SpanTally.rate``), so the last frame
        says what the report prints after it: from the load's first event to the last
        request's end when every request ended (not to work an app did after its
        responses, or after its client gave up), else to the last event; an open loop's
        over at least the time its arrivals were offered in. None when requests completed
        in no time (the summary's null), 0 when none did."""
        first, last = self.run_first, self.run_last
        if first is None or last is None:
            return _per_second(self.completed, 0.0)
        # The requests not over are among those still held whole (a settled one is over).
        open_now = sum(1 for req in self.spans if req not in self.ended)
        end = self.last_finished if not open_now and self.last_finished is not None else last
        seconds = max((end - first) / 1e9, offered_s(self.load, self.completed + open_now))
        return _per_second(self.completed, seconds)

    def lifespan_blocked(self, *, over: bool) -> tuple[int, int, int]:
        """The lifespan connections' blocked time (ns) before the load, during it and after it,
        by the report's rule (``tracer.digest``: a block that ends by the load's first event is
        before it, one that starts at or after its last event's end after it), on the events
        so far; the run not ``over``, nothing is after it yet (the load goes on)."""
        before = after = 0
        during = self.lifespan_during_ns
        first, last = self.run_first, self.run_last
        for t, dur in self.lifespan_blocks:
            if first is None or last is None or t + dur <= first or last <= first:
                before += dur
            elif over and t >= last:
                after += dur
            else:
                during += dur
        return before, during, after

    def ordered_latencies(self) -> array[float]:
        """The latencies (ms) of the requests over so far, sorted (the array is kept: do not
        change it).

        Kept sorted as requests end rather than sorted again for each frame: the dashboard
        draws several frames a second of runs that end thousands of requests a second, and a
        frame must cost what the new requests cost, not what the whole run has done so far.
        """
        if self._new:
            self._ordered = _merge(self._ordered, self._new)
            self._new = []
        return self._ordered

    def latency_histogram(self, bins: int = 7) -> list[tuple[float, float, int]]:
        """``histogram`` of the latencies so far, from the sorted ones (a few bisections)."""
        return histogram(self.ordered_latencies(), bins, ordered=True)

    def rps_series(
        self, points: int = 60, *, ended: bool = False, now: int | None = None
    ) -> list[float]:
        """Requests per second in each of the last ``points`` whole buckets (oldest first),
        from the first bucket of the recording to ``now`` (None: the latest event's time).

        The bucket ``now`` falls in is still going on: it holds only part of its completions,
        so drawn it would read as a drop in every frame. It is left out until the run has
        ``ended``: then no completion is still to come in it.
        """
        now = self.latest if now is None else max(now, self.latest)
        last = now // RPS_BUCKET_NS - (0 if ended else 1)
        first = max(0, last - points + 1)
        scale = 1e9 / RPS_BUCKET_NS
        return [self.buckets.get(b, 0) * scale for b in range(first, last + 1)]

    def shown_requests(self, rows: int) -> list[int]:
        """The requests the recent-requests panel shows in ``rows`` rows, in order of arrival:
        those in the app now (the longest there first, up to half the rows: the one holding
        the loop is among them), the last to end (up to a quarter: a blocked loop's red is
        drawn once its request's step is over), then the newest. The newest alone would be
        the queued ones under many clients (49 of 50), the request being served scrolled
        away."""
        reqs = list(self.recent)
        rows = max(1, rows)
        if len(reqs) <= rows:
            return reqs

        live, packed = self.spans, self._rows
        # A settled request's record unpacked (a copy) from its row: it is over.
        spans = {r: live.get(r) or (packed.get(r) if packed.held else None) for r in reqs}

        def out(req: int) -> int | None:
            return _left_app(spans[req])

        def start(req: int) -> int | None:
            span = spans[req]
            return None if span is None else span.start

        def ended(req: int) -> bool:
            return req in self.ended or (req not in live and spans[req] is not None)

        in_app = [r for r in reqs if start(r) is not None and out(r) is None]
        in_app.sort(key=lambda r: start(r) or 0)
        chosen = set(in_app[: max(1, rows // 2)])
        over = [r for r in reqs if ended(r) and r not in chosen]
        over.sort(key=lambda r: out(r) or 0)
        chosen.update(over[len(over) - max(1, rows // 4) :])
        for req in reversed(reqs):
            if len(chosen) >= rows:
                break
            chosen.add(req)
        return [req for req in reqs if req in chosen]

    def recent_events(self, reqs: Iterable[int] | None = None) -> list[Event]:
        """Events of the most recent requests (only ``reqs`` of them, if given) and the marks,
        sorted by time."""
        recent = self.recent
        chosen = recent.keys() if reqs is None else [req for req in reqs if req in recent]
        events = [event for req in chosen for event in recent[req]]
        events.extend(self.loose)
        events.sort(key=lambda e: (e.t, e.seq))
        return events


def _per_second(completed: int, seconds: float) -> float | None:
    """``completed`` requests over ``seconds``: None when some completed in no time (a
    zero-time simulation has no rate, as ``SpanTally.rate`` says), 0 when none did."""
    if seconds > 0:
        return completed / seconds
    return None if completed else 0.0


def _merge(ordered: array[float], new: list[float]) -> array[float]:
    """``ordered`` (sorted) with ``new`` (any order) merged in, as a new sorted array: a
    bisection and a slice copy per new value, so a frame's few hundred cost little beside a
    long run's million (the copies are of bytes, not of float objects)."""
    new.sort()
    if len(new) * 64 > len(ordered):  # many against few: sorting them all is as quick
        return array("d", sorted([*ordered, *new]))
    merged = array("d")
    done = 0
    for value in new:
        at = bisect.bisect_right(ordered, value, done)
        merged += ordered[done:at]
        merged.append(value)
        done = at
    merged += ordered[done:]
    return merged


def _left_app(span: RequestSpan | None) -> int | None:
    """When the request left the app: its ``request.end``; the client's end when the server's
    never came (the summary's rule), or has not come yet (a server's events come later)."""
    if span is None:
        return None
    return span.end if span.end is not None else span.client_end


def histogram(
    latencies_ms: Sequence[float], bins: int = 7, *, ordered: bool = False
) -> list[tuple[float, float, int]]:
    """Log-spaced latency bins ``(low_ms, high_ms, count)`` covering every value; a value on
    an edge counts in the bin above it. ``ordered``: the values are sorted already."""
    if not latencies_ms:
        return []
    values = latencies_ms if ordered else sorted(latencies_ms)
    low = max(values[0], 1e-3)
    high = max(values[-1], low * 1.0001)
    edges = [low * (high / low) ** (i / bins) for i in range(bins + 1)]
    edges[0] = 0.0
    edges[-1] = math.inf
    # How many values lie below each inner edge: the counts are the differences.
    below = [0] + [bisect.bisect_left(values, edge) for edge in edges[1:-1]] + [len(values)]
    counts = [below[i + 1] - below[i] for i in range(bins)]
    shown_high = [*edges[1:-1], high]
    return [(edges[i], shown_high[i], counts[i]) for i in range(bins)]
