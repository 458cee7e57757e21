"""Painting one lane into a row of cells: the renderable half of the timeline widget.

``paint`` maps a lane's spans onto columns: a cell shows the phase covering most of its time
(so a stream that mostly awaits reads as waiting when zoomed out), except that errors and
blocked-loop steps show however short they are, and a lane never vanishes from a cell it
touches; ``lane_segments`` turns that into Rich segments. A zoomed-out lane with thousands of
spans is drawn from a per-lane overview (the phase of each time bucket, built once), so a frame
costs about the width, not the span count.
Imports Rich and the model only; no Textual widgets.
"""

from __future__ import annotations

import bisect
import math
import re

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style

from tracer.printable import printable
from tracer.tui.lane import BLOCKED, ERROR, NONE, PHASE_NAMES, RUNNING, WAITING, Lane, Span
from tracer.tui.palette import (
    BLANK_STYLE,
    ERROR_LABEL_STYLE,
    GLYPHS,
    IN_FLIGHT_GLYPH,
    IN_FLIGHT_STYLE,
    INCOMPLETE_GLYPH,
    INCOMPLETE_STYLE,
    LABEL_STYLE,
    MARKER_GLYPH,
    MARKER_STYLE,
    PHASE_STYLES,
    SELECTED_LABEL_STYLE,
    WORKER_GLYPHS,
    WORKER_STYLES,
)

__all__ = [
    "paint",
    "flatten",
    "prepare",
    "lane_segments",
    "label_segment",
    "shorten",
    "NOTABLE",
    "OVERVIEW_BUCKETS",
    "PREPARED_OVERVIEW_SPANS",
    "SHARE_GLYPHS",
]

SHARE_GLYPHS = "─▁▂▃▄▅▆▇█"
"""On-CPU share in eighths: ``─`` none (waiting) .. ``█`` all (running)."""

OVERVIEW_BUCKETS = 8192
"""Time buckets of a lane overview; finer than any screen is wide."""


_IN_FLIGHT = -1
"""A cell of a request in flight (``Lane.in_flight``), among ``lane_segments``' phase codes."""

NOTABLE: tuple[int, ...] = (ERROR, BLOCKED)
"""Phases a cell shows however little of it they cover: an error, and a step that held the
loop (seeing it is the point of the tool). Any other phase has to cover most of the cell."""


def _pick(cover: list[float], present: int) -> int:
    """The phase a cell shows: a notable one if present, else the one covering most of it.

    ``cover`` is the time each phase covers in the cell, ``present`` a bit set of the phases
    touching it (instants too). A lane never vanishes from a cell it touches: idle wins
    nothing, and a cell touched only by instants shows the highest of them.
    """
    for phase in NOTABLE:
        if present >> phase & 1:
            return phase
    best = NONE
    for phase in range(1, len(cover)):
        if cover[phase] > 0 and cover[phase] >= cover[best]:
            best = phase
    if best == NONE:
        best = max((p for p in range(1, len(cover)) if present >> p & 1), default=NONE)
    return best


def flatten(lane: Lane) -> list[Span]:
    """The lane seen from above: where spans overlap (a step on a waiting request), the highest
    phase; neighbouring pieces alike are merged; instants stay as zero-length spans."""
    if lane.flat is not None:
        return lane.flat
    flat = _flat_if_disjoint(lane.spans)
    if flat is None:
        flat = _flat_of_overlapping(lane.spans)
    lane.flat = flat
    return flat


def _flat_if_disjoint(spans: list[Span]) -> list[Span] | None:
    """``flatten`` of spans sorted by start of which none overlaps another (a worker lane: a
    thread or a loop runs one thing at a time), in one pass; None if two overlap.

    The general sweep costs tens of microseconds an edge, seconds for a loop lane of a big
    recording, where every piece is a span as it is: only touching alike ones are merged.
    """
    flat: list[Span] = []
    instants: list[Span] = []
    reach = None  # the end of the last span of time so far
    for span in spans:
        start, end = span.start, span.end
        if end <= start:
            instants.append(span)
            continue
        if reach is not None and start < reach:
            return None
        reach = end
        if span.phase == NONE:
            continue  # idle shows nothing (the sweep never lets it on top either)
        last = flat[-1] if flat else None
        if (
            last is not None
            and last.end == start
            and (last.phase, last.req, last.cpu) == (span.phase, span.req, span.cpu)
        ):
            flat[-1] = Span(last.start, end, span.phase, span.req, span.cpu)
        else:
            flat.append(span)
    if instants:
        flat.extend(instants)
        flat.sort(key=lambda span: (span.start, span.end))
    return flat


def _flat_of_overlapping(spans: list[Span]) -> list[Span]:
    """``flatten`` of spans that may overlap: a sweep over their edges."""
    edges: dict[int, list[tuple[int, Span]]] = {}
    instants: list[Span] = []
    for span in spans:
        if span.end <= span.start:
            instants.append(span)
            continue
        edges.setdefault(span.start, []).append((1, span))
        edges.setdefault(span.end, []).append((-1, span))
    active: list[list[Span]] = [[] for _ in PHASE_NAMES]
    flat: list[Span] = []
    times = sorted(edges)
    for t, following in zip(times, times[1:], strict=False):
        for delta, span in edges[t]:
            if delta < 0:
                active[span.phase].remove(span)
        for delta, span in edges[t]:
            if delta > 0:
                active[span.phase].append(span)
        top = next((p for p in range(len(active) - 1, 0, -1) if active[p]), NONE)
        if top == NONE:
            continue
        # Of the spans in that phase, the latest begun, preferring one that knows its CPU share
        # (a thread's span over the request's own waiting, which knows nothing of the CPU).
        pieces = active[top]
        owner = next((span for span in reversed(pieces) if span.cpu is not None), pieces[-1])
        last = flat[-1] if flat else None
        if (
            last is not None
            and last.end == t
            and (last.phase, last.req, last.cpu) == (top, owner.req, owner.cpu)
        ):
            flat[-1] = Span(last.start, following, top, owner.req, owner.cpu)
        else:
            flat.append(Span(t, following, top, owner.req, owner.cpu))
    flat.extend(instants)
    flat.sort(key=lambda span: (span.start, span.end))
    return flat


PREPARED_OVERVIEW_SPANS = 1024
"""A lane with more spans than this gets its overview built ahead (``prepare``): painting
uses it once a screen's width holds over four spans a cell, and no screen is 256 cells wide."""


def prepare(lane: Lane) -> None:
    """Build ahead what drawing ``lane`` zoomed out needs, kept on the lane: its flat spans
    and, when it is long, its overview. Safe on another thread: each is set whole, once made."""
    flatten(lane)
    if len(lane.spans) > PREPARED_OVERVIEW_SPANS:
        _overview(lane)


def _overview(lane: Lane) -> tuple[int, list[int]]:
    if lane.overview is None:
        flat = flatten(lane)
        end = max((span.end for span in flat), default=0)
        bucket = max(1, math.ceil((end + 1) / OVERVIEW_BUCKETS))
        count = end // bucket + 1
        cover = [[0.0] * len(PHASE_NAMES) for _ in range(count)]
        present = [0] * count
        for span in flat:
            start, end, phase = span.start, span.end, span.phase
            first, last = start // bucket, end // bucket
            if first == last:  # most spans of a long lane: within one bucket
                cover[first][phase] += end - start
                present[first] |= 1 << phase
                continue
            for b in range(first, last + 1):
                lo, hi = max(start, b * bucket), min(end, (b + 1) * bucket)
                cover[b][phase] += max(0, hi - lo)
                present[b] |= 1 << phase
        lane.overview = (bucket, [_pick(c, p) for c, p in zip(cover, present, strict=True)])
    return lane.overview


def _from_overview(
    overview: list[int], bucket: int, start: float, ns_per_cell: float, width: int
) -> list[int]:
    codes = [NONE] * width
    for column in range(width):
        b0 = max(0, int((start + column * ns_per_cell) // bucket))
        b1 = min(len(overview), int((start + (column + 1) * ns_per_cell) // bucket))
        if b0 < b1:
            # Buckets are equal slices of the cell: their phases weigh as the time they stand for.
            cover = [0.0] * len(PHASE_NAMES)
            present = 0
            for code in overview[b0:b1]:
                cover[code] += 1
                present |= 1 << code
            codes[column] = _pick(cover, present)
    return codes


def paint(
    lane: Lane, start: float, ns_per_cell: float, width: int
) -> tuple[list[int], list[int | None], list[float | None]]:
    """Phase code, owning request and on-CPU share of each of ``width`` columns from ``start``.

    A cell shows the phase that covers most of its time, so a request that mostly awaits reads
    as waiting even when a tiny step runs in every cell; errors and blocked-loop steps show
    however short (``NOTABLE``). The owner and share are those of the piece of that phase
    covering most of the cell.
    """
    codes, pieces = _paint(lane, start, ns_per_cell, width)
    owners: list[int | None] = [None] * width
    shares: list[float | None] = [None] * width
    if any(piece >= 0 for piece in pieces):
        flat = flatten(lane)
        for column, piece in enumerate(pieces):
            if piece >= 0:
                owners[column] = flat[piece].req
                shares[column] = flat[piece].cpu
    return codes, owners, shares


def _paint(lane: Lane, start: float, ns_per_cell: float, width: int) -> tuple[list[int], list[int]]:
    """``paint``'s phase codes, and for each column the index in ``flatten(lane)`` of the piece
    it shows (-1: none, or drawn from the overview, which keeps no pieces)."""
    codes = [NONE] * width
    pieces = [-1] * width
    if width <= 0 or not lane.spans:
        return codes, pieces
    end = start + ns_per_cell * width
    lo, hi = lane.visible_range(int(start), int(end))
    if hi - lo > 4 * width:
        bucket, overview = _overview(lane)
        if bucket * 2 <= ns_per_cell:
            return _from_overview(overview, bucket, start, ns_per_cell, width), pieces
    flat = flatten(lane)
    # Flattened pieces never overlap, so none is longer than the lane's longest span.
    first = bisect.bisect_left(flat, int(start) - lane.longest, key=lambda span: span.start)
    phases = len(PHASE_NAMES)
    # One flat row per column (column * phases + phase): time covered, and the biggest piece.
    cover = [0.0] * (width * phases)
    biggest = [-1] * (width * phases)
    most = [-1.0] * (width * phases)
    present = [0] * width
    last = width - 1
    for index in range(first, len(flat)):
        span = flat[index]
        if span.start > end:
            break
        if span.end < start:
            continue
        c0 = max(0, int((span.start - start) // ns_per_cell))
        c1 = min(last, int((span.end - start) // ns_per_cell))
        phase = span.phase
        bit = 1 << phase
        for column in range(c0, c1 + 1):
            left = start + column * ns_per_cell
            share = max(0.0, min(span.end, left + ns_per_cell) - max(span.start, left))
            slot = column * phases + phase
            cover[slot] += share
            present[column] |= bit
            if share > most[slot]:
                most[slot] = share
                biggest[slot] = index
    for column in range(width):
        if not present[column]:
            continue
        row = column * phases
        code = _pick(cover[row : row + phases], present[column])
        codes[column] = code
        pieces[column] = biggest[row + code]
    return codes, pieces


def _shades(lane: Lane) -> list[int]:
    """The shade of each of the lane's flat pieces: it alternates each time the request
    holding the worker changes, so a lane's requests take turns by their order on it (its ids
    do not: with an even number of threads, one thread gets only odd ids)."""
    if lane.shades is None:
        shades = []
        shade, holder = 1, None
        for span in flatten(lane):
            if span.req is not None and span.req != holder:
                shade, holder = 1 - shade, span.req
            shades.append(shade)
        lane.shades = shades
    return lane.shades


def _share_glyph(code: int, share: float | None) -> str:
    # A thread's span (or a coroutine step) that knows its on-CPU share is drawn as a bar that
    # high: full when computing, a floor line when waiting in I/O, a lock or the GIL.
    if share is None or code not in (RUNNING, WAITING):
        return GLYPHS[code]
    return SHARE_GLYPHS[round(share * 8)]


def _append(segments: list[Segment], text: str, style: Style) -> None:
    # Neighbouring runs in the same style become one segment: fewer segments, cheaper frames
    # (Textual's compositor works per segment).
    if segments and segments[-1].style is style:
        segments[-1] = Segment(segments[-1].text + text, style)
    else:
        segments.append(Segment(text, style))


def lane_segments(
    lane: Lane, start: float, ns_per_cell: float, width: int, *, worker: bool = False
) -> list[Segment]:
    """The timeline part of a lane's row (``width`` cells), one segment per run of like cells."""
    if worker:
        return _worker_segments(lane, *_paint(lane, start, ns_per_cell, width))
    codes, owners, shares = paint(lane, start, ns_per_cell, width)
    marks = {int((m.t - start) // ns_per_cell): MARKER_GLYPH for m in lane.markers}
    if lane.incomplete_at is not None:
        # Where what is known of an unended request stops (a violation there says more).
        marks.setdefault(int((lane.incomplete_at - start) // ns_per_cell), INCOMPLETE_GLYPH)
    if lane.in_flight is not None:
        # Still going: the cells nothing known covers, from where its events stop until now.
        since, until = lane.in_flight
        first = max(0, int((since - start) // ns_per_cell))
        for column in range(first, min(width, int((until - start) // ns_per_cell) + 1)):
            if codes[column] == NONE:
                codes[column] = _IN_FLIGHT
    segments: list[Segment] = []
    column = 0
    while column < width:
        glyph = marks.get(column)
        if glyph is not None:
            style = MARKER_STYLE if glyph == MARKER_GLYPH else INCOMPLETE_STYLE
            _append(segments, glyph, style)
            column += 1
            continue
        code, share = codes[column], shares[column]
        end = column + 1
        while end < width and codes[end] == code and shares[end] == share and end not in marks:
            end += 1
        if code == _IN_FLIGHT:
            _append(segments, IN_FLIGHT_GLYPH * (end - column), IN_FLIGHT_STYLE)
        else:
            _append(segments, _share_glyph(code, share) * (end - column), PHASE_STYLES[code])
        column = end
    return segments


def _worker_segments(lane: Lane, codes: list[int], pieces: list[int]) -> list[Segment]:
    """A worker lane's cells: a block per request and phase, in the request's shade, holding
    its id (where it fits) and filled with the phase's glyph."""
    flat = flatten(lane) if any(piece >= 0 for piece in pieces) else []
    shades = _shades(lane) if flat else []
    # What tells one block from the next: its phase, its request and that request's shade.
    keys = [
        (code, flat[piece].req, shades[piece]) if piece >= 0 else (code, None, 0)
        for code, piece in zip(codes, pieces, strict=True)
    ]
    segments: list[Segment] = []
    width = len(codes)
    column = 0
    while column < width:
        code, owner, shade = keys[column]
        end = column + 1
        while end < width and keys[end] == keys[column]:
            end += 1
        length = end - column
        if code == NONE:
            _append(segments, " " * length, BLANK_STYLE)
        else:
            # A leading space keeps the id clear of the span's edge (and of the cursor there),
            # one after it clear of the fill.
            ident = "" if owner is None else f" {owner}"
            text = (ident + " ")[:length] if len(ident) < length else ""
            fill = WORKER_GLYPHS[code] * (length - len(text))
            _append(segments, text + fill, WORKER_STYLES[(code, shade)])
        column = end
    return segments


def _last_cells(text: str, cells: int) -> str:
    """The end of ``text`` that fits in ``cells`` terminal cells (a wide character that would
    straddle the edge is left out)."""
    taken = 0
    start = len(text)
    while start > 0 and taken + cell_len(text[start - 1]) <= cells:
        start -= 1
        taken += cell_len(text[start])
    return text[start:]


_WORKER_LABEL = re.compile(r"(?:([^\s/]+) )?(\d+/)(.+)")
"""A by-worker lane of a recording of several processes: ``loop 12/MainThread``,
``12/ThreadPoolExecutor-0_1`` (an optional lead word, the pid, the thread's name)."""
_NAME_NUMBER = re.compile(r"[#\d][\W\d_]*$")
"""The end of a thread's name that numbers it: ``0_1`` of ``ThreadPoolExecutor-0_1``, ``#2``."""


def shorten(text: str, cells: int) -> str:
    """``text`` in at most ``cells`` terminal cells, cut in the middle with ``…``.

    The end is what tells lanes apart (``/users/12345/orders`` from ``…/invoices``, worker
    ``-0_11`` from ``-0_12``), so it is kept: the lead up to the first space (``#12 ``,
    ``loop ``), whole or not at all, and the path's first segment (``/api/``) when they leave
    room, then as much of the end as fits, from a ``/`` when one is near. A worker lane of
    several processes keeps its pid whole and cuts its thread's name in the middle
    (``loop 12/Main…ead``, ``12/ThreadPool…0_1``), dropping the lead word before the pid.
    """
    if cell_len(text) <= cells:
        return text
    if cells <= 1:
        return "…"[:cells]
    worker = _WORKER_LABEL.fullmatch(text)
    if worker is not None:
        word, pid, name = worker.groups()
        for lead in (f"{word} {pid}" if word else pid, pid):
            room = cells - cell_len(lead)
            if room >= min(3, cell_len(name)):
                return lead + _cut_name(name, room)
    head, space, body = text.partition(" ")
    # A lead word is never cut: kept when it leaves a third of the room ("事件循环 " included).
    lead = head + space if space else ""
    head = lead if lead and cell_len(lead) <= cells * 2 // 3 else ""
    body = text[len(lead) :] if lead else text
    room = cells - cell_len(head) - 1  # the rest, less the ellipsis
    if not head and cell_len(body) <= room:
        return f"…{body}"  # the lead word dropped whole
    # The path's first segment ("/api/"), if it takes no more than a third of the room.
    second = body.find("/", 1)
    front = body[: second + 1] if 0 < second and cell_len(body[: second + 1]) <= room // 3 else ""
    rest = body[len(front) :]
    tail = _last_cells(rest, room - cell_len(front))
    # Begin the end at a segment ("/12345/orders", not "s/12345/orders") when it begins inside
    # one and that loses only a few characters of it.
    cut = tail.find("/")
    inside = not rest[: len(rest) - len(tail)].endswith("/")
    if inside and 0 < cut <= min(3, len(tail) // 4):
        tail = tail[cut:]
    return f"{head}{front}…{tail}"


def _cut_name(name: str, cells: int) -> str:
    """A thread's name in ``cells`` cells: its start, ``…``, and the number that ends it
    (``ThreadPool…0_1``); a name without one keeps its start and end (``Main…ead``)."""
    if cell_len(name) <= cells:
        return name
    if cells <= 1:
        return "…"[:cells]
    number = _NAME_NUMBER.search(name)
    suffix = number.group() if number is not None else ""
    if suffix and cell_len(suffix) + 2 <= cells:
        back = suffix
    elif suffix:
        return "…" + _last_cells(name, cells - 1)
    else:
        back = _last_cells(name, (cells - 1) // 2)
    front = set_cell_size(name, cells - 1 - cell_len(back))
    return f"{front}…{back}"


def label_segment(text: str, width: int, *, selected: bool = False, error: bool = False) -> Segment:
    """A lane label shortened in the middle or padded to ``width`` cells (CJK-aware), with a
    one-cell gutter.

    The segment goes to the terminal as it is: a control character in ``text`` is written as
    a visible escape first (the model's labels already are; a label is built by callers too),
    which also keeps the cell count right (ESC counts no cells).
    """
    if width <= 0:
        return Segment("", BLANK_STYLE)
    body = set_cell_size(shorten(printable(text), width - 1), width - 1)
    style = SELECTED_LABEL_STYLE if selected else ERROR_LABEL_STYLE if error else LABEL_STYLE
    return Segment(body + " ", style)
