"""The detail pane: one lane up close.

For a request: its scope (method, path, protocol, client), where its time went, what delayed it
(waiting for a worker, the loop held by another request's blocking step) and every event with
times relative to its arrival. For a loop or thread: how busy it was and which request holds it
at the cursor. Its figures are the report's own: a request's latency is the summary's
(``RequestSpan.finished`` - ``arrived``), a worker's utilisation the Workers table's
(``tracer.digest``), and it writes them by the report's rules (``tracer.figures``): every time,
a length or a moment after arrival, in its largest unit (``600.0 µs``, ``12.3 ms``, ``1.23 s``), a
share as a whole percent, a count grouped. ``detail_text`` is pure (Rich only); ``DetailPane`` is
the widget.

Everything it quotes from the recording (path, event data, error messages, violations, thread
names) passes through ``printable``: a Static writes its text to the terminal as it is, so an
ESC in an error message would move the cursor, and would count no cells when rows are cut.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from tracer import events as K
from tracer import figures
from tracer.events import Event
from tracer.printable import printable
from tracer.summary import RequestSpan, request_spans
from tracer.tui.labels import headed
from tracer.tui.lane import (
    ABANDONED,
    BLOCKED,
    PHASE_NAMES,
    QUEUED,
    RUNNING,
    SENDING,
    WAITING,
    Lane,
)
from tracer.tui.model import TimelineModel
from tracer.tui.palette import COLOURS, GLYPHS, INCOMPLETE_GLYPH

__all__ = ["DetailPane", "detail_text", "time_spent", "MAX_EVENT_ROWS", "RAN_ON_NS"]

MAX_EVENT_ROWS = 300
RAN_ON_NS = 1_000_000
"""An app still running this long after its response (or longer than the request took) is
said to have run on; a shorter gap is the server's own bookkeeping after the last send."""
HOLDER_CELLS = 8
"""Cells for the request column of a worker's span list (``#12345`` or ``lifespan``)."""
_HEAD = "bold #00afd7"
INCOMPLETE_TEXT = "bold #e65100"
"""A request that never ended says so in the colour of its lane's mark."""
CUT_SHORT_TEXT = "#ffaf00"
"""A response cut short is said in amber: something went wrong for the client, not an error of
the app's (the summary counts it apart from errors)."""
_KEY = "#8a8a8a"
_SCOPE_KEYS = (
    "method",
    "path",
    "query",
    "http_version",
    "scheme",
    "client",
    "interface",
    "scope_type",
)


def _time(ns: float) -> str:
    """A time (ns) as the report and the exported page write one of unknown size: in its
    largest unit, three significant digits (``figures.duration``: ``600.0 µs``, ``12.3 ms``,
    ``1.23 s``, ``0``)."""
    return figures.duration(ns)


def _fit(text: str, cells: int | None) -> str:
    """``text`` cut to ``cells`` terminal cells (CJK-aware), ending in ``…`` when cut."""
    if cells is None or cell_len(text) <= cells:
        return text
    return set_cell_size(text, max(0, cells - 1)) + "…" if cells > 0 else ""


def _compact(data: Mapping[str, Any]) -> str:
    """``key=value`` pairs of event data on one line, controls escaped (before ``_fit``
    measures it)."""
    parts = []
    for key, value in data.items():
        if key == "headers" and isinstance(value, (list, dict)):
            parts.append(f"headers[{len(value)}]")
        elif key == "client" and isinstance(value, (list, tuple)) and len(value) == 2:
            parts.append(f"client={value[0]}:{value[1]}")
        elif value not in (None, "", [], {}):
            parts.append(f"{key}={value}")
    return printable(" ".join(parts))


def time_spent(lane: Lane, start: int, end: int) -> dict[int, int]:
    """Where the time from ``start`` to ``end`` went, by phase code: each instant counts once,
    for the phase the lane draws there (the highest code of the spans over it; none: waiting).

    The spans of a request overlap (a thread runs while its body is sent, a step is blocked
    inside the request's waiting stretch), so summing them counts time twice; these parts sum
    to ``end - start`` exactly.
    """
    totals: dict[int, int] = {}
    if end <= start:
        return totals
    edges: list[tuple[int, int, int]] = []  # (time, +1 opens / -1 closes, phase)
    for span in lane.spans:
        s0, s1 = max(span.start, start), min(span.end, end)
        if s0 < s1:
            edges.append((s0, 1, span.phase))
            edges.append((s1, -1, span.phase))
    edges.sort()
    open_spans = [0] * (max((e[2] for e in edges), default=0) + 1)
    at = start
    for t, step, phase in edges:
        if t > at:
            top = next((p for p in range(len(open_spans) - 1, 0, -1) if open_spans[p]), WAITING)
            totals[top] = totals.get(top, 0) + t - at
            at = t
        open_spans[phase] += step
    if end > at:
        totals[WAITING] = totals.get(WAITING, 0) + end - at
    return totals


def _maybe_held(model: TimelineModel, req: int, events: list[Event]) -> bool:
    """Whether another request's block whose ``delayed`` is not whole (``delayed_complete``
    false) overlaps ``req``'s time in the same process: it may have held ``req`` unseen."""
    if not events:
        return False
    first, last = events[0].t, max(e.t + (e.dur or 0) for e in events)
    pids = {e.pid for e in events}
    for block in model.blocked:
        data = block.data if isinstance(block.data, dict) else {}
        if data.get("delayed_complete") is not False or block.req == req or block.pid not in pids:
            continue
        if block.t < last and block.t + (block.dur or 0) > first:
            return True
    return False


def _request_text(
    model: TimelineModel, lane: Lane, labels: Mapping[str, str], width: int | None
) -> Text:
    req = lane.req if lane.req is not None else -1
    events = model.events_by_req.get(req, [])
    start = next((e for e in events if e.kind == K.REQUEST_START), None)
    # The first end counts, as in the summary (a timeout, then the app's own late end); a
    # network client's response is the outcome when there is one (status it got, last byte).
    end = next((e for e in events if e.kind == K.REQUEST_END), None)
    client = next((e for e in events if e.kind == K.CLIENT_RESPONSE), None)
    origin = events[0].t if events else 0
    scope = start.data if start is not None and isinstance(start.data, dict) else {}
    text = Text()
    queued = next((e for e in events if e.kind == K.REQUEST_QUEUED), None)
    method = scope.get("method") or (queued.data.get("method", "") if queued else "")
    path = scope.get("path") or (queued.data.get("path", "") if queued else "")
    text.append(printable(f"#{req} {method} {path}"), _HEAD)
    # The summary's own reading of the request, so the pane, the header and the report agree.
    span = request_spans(events).get(req)
    if span is not None and span.finished is not None and span.arrived is not None:
        _outcome(text, span, labels)
        latency = span.finished - span.arrived
        text.append(f"  {labels['latency']} {_time(latency)}")
        failure = _failure(span, labels)
        if failure:
            text.append(f"  {headed(labels, 'error')}{printable(failure)}", "bold #ff5f5f")
        # The app's own end (its last request.end: after a timeout, the app ends later).
        app_end = max((e.end for e in events if e.kind == K.REQUEST_END), default=None)
        abandoned = [piece for piece in lane.spans if piece.phase == ABANDONED]
        if abandoned:
            # Its client gave up and the app went on: said as the lane draws it.
            gave_up = f"+{_time(min(piece.start for piece in abandoned) - origin)}"
            until = f"+{_time(max(piece.end for piece in abandoned) - origin)}"
            text.append(
                f"  {GLYPHS[ABANDONED]} {labels['abandoned_detail'].format(at=gave_up, until=until)}",
                COLOURS[ABANDONED],
            )
        elif app_end is not None and app_end - span.finished >= min(RAN_ON_NS, latency) > 0:
            text.append(f"  {labels['ran_on']} +{_time(app_end - origin)}", _KEY)
    if lane.incomplete_at is not None:
        # Cut short: whatever it did after that, the recording does not know.
        at = f"+{_time(lane.incomplete_at - origin)}"
        text.append("  ")
        text.append(f"{INCOMPLETE_GLYPH} {labels['unended'].format(at=at)}", INCOMPLETE_TEXT)
    if span is not None and span.client_closed:
        # Left on purpose (--read-for, --read-bytes): the summary counts it so, whatever the
        # server's end says of its response.
        said = labels["client_closed_detail"].format(reason=printable(span.client_closed))
        text.append(f"\n{said}", _KEY)
    elif span is not None and span.cut_short:
        # Its response started and did not all go out: the bytes_out of its events is what the
        # server took, not what reached the client.
        text.append(f"\n{labels['cut_short_detail']}", CUT_SHORT_TEXT)
    heading = headed(labels, "environ" if scope.get("interface") == "wsgi" else "scope")
    text.append(f"\n{heading}", _KEY)
    scope_text = _compact(
        {key: scope.get(key) for key in _SCOPE_KEYS if key in scope}
        | {"headers": scope.get("headers", [])}
    )
    text.append(_fit(scope_text, None if width is None else width - cell_len(heading)))
    # The latency's own stretch (arrival to the end of the response), so its parts add up
    # to it; a request not over yet, to the end of the recording.
    if span is not None and span.finished is not None and span.arrived is not None:
        window = (span.arrived, span.finished)
    else:
        finish = end.end if end is not None else client.end if client is not None else model.t_end
        window = (queued.t if queued is not None else origin, finish)
    totals = time_spent(lane, *window)
    text.append(f"\n{headed(labels, 'phases')}", _KEY)
    for code in (QUEUED, RUNNING, BLOCKED, SENDING):
        text.append(f"{labels[PHASE_NAMES[code]]} {_time(totals.get(code, 0))}  ", COLOURS[code])
    text.append(f"{labels['waiting_io']} {_time(totals.get(WAITING, 0))}", COLOURS[WAITING])
    cpu = [
        (e.data.get("cpu_ns"), e.dur)
        for e in events
        if e.kind in (K.SCHED_STEP, K.SCHED_THREAD) and isinstance(e.data, dict)
    ]
    cpu_ns = sum(c for c, _ in cpu if isinstance(c, (int, float)))
    cpu_dur = sum(d for _, d in cpu if isinstance(d, int))
    if cpu_dur:
        text.append(f"  {labels['cpu_share']} {figures.percent(cpu_ns / cpu_dur)}")
    text.append(f"\n{headed(labels, 'delayed_by')}", _KEY)
    reasons = []
    if totals.get(QUEUED):
        # Coroutine steps: it waited for the event loop, not for a worker thread.
        on_loop = any(e.kind == K.SCHED_STEP for e in events)
        queued_for = labels["queued_for_loop" if on_loop else "queued_for"]
        reasons.append(f"{queued_for} {_time(totals[QUEUED])}")
    for block in model.delayed_by.get(req, []):
        data = block.data if isinstance(block.data, dict) else {}
        where = printable(str(data.get("location", "?")))
        starved = _starved(block)
        aside = labels["aside"].format(labels[starved]) if starved else ""
        # A callback outside any request's step (``outside_step``) held it: no request to name.
        held = (
            labels["held_by_callback"]
            if block.req is None
            else labels["held_by"].format(req=block.req)
        )
        reasons.append(f"{held} {_time(block.dur or 0)} @ {where}{aside}")
    own_blocks = [e for e in events if e.kind == K.LOOP_BLOCKED]
    if totals.get(BLOCKED) or own_blocks:
        # Its blocks whole, as its event rows and the requests it held say them; the time-spent
        # row stops at the end of its response (so its parts sum to the latency).
        blocked_ns = sum(e.dur or 0 for e in own_blocks) or totals.get(BLOCKED, 0)
        reasons.append(f"{labels['blocked_loop_for']} {_time(blocked_ns)}")
        own = {_starved(e) for e in own_blocks}
        for starved, said in (
            ("starved", "starved_by_threads"),
            ("starved_busy", "starved_by_machine"),
        ):
            if starved in own:
                reasons.append(labels[said])
    if not reasons and _maybe_held(model, req, events):
        # A block on a loop that hides what it delayed (uvloop: delayed_complete false) spans
        # this request's time: "nothing" could be untrue.
        reasons.append(labels["maybe_held"])
    text.append(labels["semicolon"].join(reasons) if reasons else labels["nothing_delayed"])
    text.append(f"\n{labels['events']}{labels['colon'].rstrip()}", _KEY)
    for event in events[:MAX_EVENT_ROWS]:
        _event_row(text, event, origin, width)
    if len(events) > MAX_EVENT_ROWS:
        more = figures.count(len(events) - MAX_EVENT_ROWS)
        text.append(f"\n  … {more} {labels['more_events']}")
    for marker in lane.markers:
        # Whole, wrapped if need be (with their own line breaks): the rule's message and how
        # to fix it are the point.
        text.append(f"\n  ! {printable(marker.text, newlines=True)}", "bold #ffd700")
        if marker.location:
            text.append(f"  @ {printable(marker.location)}", _KEY)
        if marker.hint:
            text.append(f"\n    {headed(labels, 'hint')}", _KEY)
            text.append(printable(marker.hint, newlines=True), "#ffd700")
    return text


def _starved(block: Event) -> str | None:
    """Why a ``loop.blocked`` that is ``starved`` did not run, as a label key: ``starved_busy``
    when its thread waited mostly on a run queue (``descheduled_ns`` over half the block: the
    machine was busy, as the report says), else ``starved`` (other threads: the GIL, a lock);
    None for a block that ran."""
    data = block.data if isinstance(block.data, dict) else {}
    if not data.get("starved"):
        return None
    descheduled = data.get("descheduled_ns")
    if isinstance(descheduled, (int, float)) and 2 * descheduled > (block.dur or 0):
        return "starved_busy"
    return "starved"


def _outcome(text: Text, span: RequestSpan | None, labels: Mapping[str, str]) -> None:
    """``→ 200``, or ``→ no response`` when none was recorded (the app raised, the client gave
    up)."""
    status = span.outcome_status if span is not None else None
    text.append(f"  → {status if status is not None else labels['no_response']}")


def _failure(span: RequestSpan | None, labels: Mapping[str, str]) -> str:
    """Why the request counts as an error, by the summary's rule (``RequestSpan.failed``):
    the exception or the client's failure, else the 5xx status; empty if it did not fail."""
    if span is None or not span.failed:
        return ""
    return span.outcome_error or f"{labels['status_code']} {span.outcome_status}"


def _event_row(text: Text, event: Event, origin: int, width: int | None) -> None:
    """One event: time from arrival, kind, duration, then its data cut to the pane's width
    (one row per event, so the times stay in a column)."""
    dur = f"{_time(event.dur)}" if event.dur else ""
    when = f"  {'+' + _time(event.t - origin):>11} "
    kind = f"{printable(event.kind):<20}"
    took = f"{dur:>9} "
    text.append("\n" + when)
    text.append(kind, "bold" if event.kind in (K.LOOP_BLOCKED, K.ERROR, K.VIOLATION) else "")
    text.append(took, _KEY)
    data = _compact(event.data) if isinstance(event.data, dict) else ""
    used = cell_len(when) + cell_len(kind) + cell_len(took)
    text.append(_fit(data, None if width is None else max(1, width - used)))


def _holder(model: TimelineModel, req: int | None, labels: Mapping[str, str]) -> str:
    """Who holds a worker: ``#12``, or the lifespan connection by name (its id is a server's
    internal number, not a request's)."""
    if req is None:
        return "–"
    return labels["lifespan"] if req in model.lifespan else f"#{req}"


def _worker_text(model: TimelineModel, lane: Lane, labels: Mapping[str, str], cursor: int) -> Text:
    text = Text()
    text.append(printable(lane.label), _HEAD)
    served = len({span.req for span in lane.spans if span.req is not None} - model.lifespan)
    # The report's figures for this thread (its Workers table), not a measure of our own.
    row = model.worker(lane)
    utilisation, busy_ms = (row.utilisation, row.busy_ms) if row is not None else (0.0, 0.0)
    text.append(
        f"\n{labels['utilisation']} {figures.percent(utilisation)}"
        f"  {labels['lane_busy']} {_time(busy_ms * 1e6)}"
        f"  {labels['lane_requests']} {figures.count(served)}"
    )
    span = lane.span_at(cursor)
    text.append(f"\n{labels['at_cursor'].format(at=_time(cursor))}{labels['colon']}", _KEY)
    if span is None:
        text.append(labels["idle"])
    else:
        holder = _holder(model, span.req, labels)
        text.append(
            f"{holder} {labels[PHASE_NAMES[span.phase]]} {_time(span.end - span.start)}",
            COLOURS[span.phase],
        )
        if span.cpu is not None:
            text.append(f"  {labels['cpu_share']} {figures.percent(span.cpu)}")
    lo, _ = lane.visible_range(cursor, cursor)
    text.append(f"\n{labels['events']}{labels['colon'].rstrip()}", _KEY)
    for item in lane.spans[lo : lo + 40]:
        holder = _holder(model, item.req, labels)
        # Padded in cells, so a long id or a CJK name does not push the columns out of line.
        padding = " " * max(0, HOLDER_CELLS - cell_len(holder))
        text.append(
            f"\n  {_time(item.start):>10}  {holder}{padding} {_time(item.end - item.start):>9} "
        )
        text.append(labels[PHASE_NAMES[item.phase]], COLOURS[item.phase])
    return text


def detail_text(
    model: TimelineModel,
    lane: Lane,
    labels: Mapping[str, str],
    cursor: int = 0,
    *,
    width: int | None = None,
) -> Text:
    """What the detail pane says about ``lane`` (a request, a loop or a thread).

    ``width``: the pane's width in cells; an event row's data is cut to fit it (None: never
    cut). Violations and their hints are given whole.
    """
    if lane.kind == "request":
        return _request_text(model, lane, labels, width)
    return _worker_text(model, lane, labels, cursor)


class DetailPane(VerticalScroll):
    """A scrollable pane under the timeline; hidden until a lane is opened.

    The replay screen scrolls it with keys of its own (``scroll_lines``, ``scroll_pages``),
    so the arrows and page keys stay with the lanes.
    """

    DEFAULT_CSS = """
    DetailPane { height: 40%; border-top: solid #00afd7; display: none;
        border-title-color: #8a8a8a; }
    DetailPane.open { display: block; }
    """

    def compose(self):  # type: ignore[no-untyped-def]
        """One Static holding the text."""
        yield Static(id="detail-body")

    def text_width(self, screen_width: int) -> int:
        """Cells a line of text gets in the pane, ``screen_width`` wide: all but the vertical
        scrollbar's (the pane spans the screen, and may be closed and so have no size yet)."""
        return max(1, screen_width - self.styles.scrollbar_size_vertical)

    def show(self, text: Text, *, home: bool = True) -> None:
        """Replace the pane's content and open it; ``home``: scroll back to its top (a new
        lane), else keep the place (the same lane redrawn)."""
        self.query_one("#detail-body", Static).update(text)
        self.add_class("open")
        if home:
            self.scroll_home(animate=False)

    def close(self) -> None:
        """Hide the pane."""
        self.remove_class("open")

    @property
    def is_open(self) -> bool:
        """Whether the pane is showing."""
        return self.has_class("open")

    def scroll_lines(self, lines: int) -> None:
        """Scroll the text ``lines`` rows down (negative: up)."""
        self.scroll_to(y=self.scroll_y + lines, animate=False, immediate=True)

    def scroll_pages(self, pages: int) -> None:
        """Scroll the text a screenful of the pane down (negative: up) per page."""
        page = max(1, self.scrollable_content_region.height)
        self.scroll_lines(pages * page)
