"""Painting one lane into a row of cells: the renderable half of the timeline widget.

``paint`` maps a lane's spans onto columns (the highest phase wins a shared cell, so short
blocked steps and instant errors never vanish when zoomed out); ``lane_segments`` turns that
into Rich segments. A zoomed-out lane with thousands of spans is drawn from a per-lane overview
(max phase per time bucket, built once), so a frame costs about the width, not the span count.
Imports Rich and the model only; no Textual widgets.
"""

from __future__ import annotations

import math

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style

from tracer.tui.lane import NONE, RUNNING, WAITING, Lane
from tracer.tui.palette import (
    ERROR_LABEL_STYLE,
    GLYPHS,
    LABEL_STYLE,
    MARKER_GLYPH,
    MARKER_STYLE,
    PHASE_STYLES,
    SELECTED_LABEL_STYLE,
    WORKER_STYLES,
)

__all__ = ["paint", "lane_segments", "label_segment", "OVERVIEW_BUCKETS", "SHARE_GLYPHS"]

SHARE_GLYPHS = "─▁▂▃▄▅▆▇█"
"""On-CPU share in eighths: ``─`` none (waiting) .. ``█`` all (running)."""

OVERVIEW_BUCKETS = 8192
"""Time buckets of a lane overview; finer than any screen is wide."""

_BLANK = Style()


def _overview(lane: Lane) -> tuple[int, list[int]]:
    if lane.overview is None:
        end = max((span.end for span in lane.spans), default=0)
        bucket = max(1, math.ceil((end + 1) / OVERVIEW_BUCKETS))
        codes = [NONE] * (end // bucket + 1)
        for span in lane.spans:
            phase = span.phase
            for b in range(span.start // bucket, span.end // bucket + 1):
                if phase > codes[b]:
                    codes[b] = phase
        lane.overview = (bucket, codes)
    return lane.overview


def paint(
    lane: Lane, start: float, ns_per_cell: float, width: int
) -> tuple[list[int], list[int | None], list[float | None]]:
    """Phase code, owning request and on-CPU share of each of ``width`` columns from ``start``."""
    codes = [NONE] * width
    owners: list[int | None] = [None] * width
    shares: list[float | None] = [None] * width
    if width <= 0 or not lane.spans:
        return codes, owners, shares
    end = start + ns_per_cell * width
    lo, hi = lane.visible_range(int(start), int(end))
    if hi - lo > 4 * width:
        bucket, overview = _overview(lane)
        if bucket * 2 <= ns_per_cell:
            for column in range(width):
                b0 = max(0, int((start + column * ns_per_cell) // bucket))
                b1 = min(len(overview), int((start + (column + 1) * ns_per_cell) // bucket))
                if b0 < b1:
                    codes[column] = max(overview[b0:b1])
            return codes, owners, shares
    last = width - 1
    for span in lane.spans[lo:hi]:
        if span.end < start:
            continue
        c0 = int((span.start - start) // ns_per_cell)
        c1 = int((span.end - start) // ns_per_cell)
        if c1 < 0 or c0 > last:
            continue
        phase = span.phase
        req = span.req
        cpu = span.cpu
        for column in range(max(0, c0), min(last, c1) + 1):
            if phase > codes[column]:
                codes[column] = phase
                owners[column] = req
                shares[column] = cpu
    return codes, owners, shares


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
    codes, owners, shares = paint(lane, start, ns_per_cell, width)
    if worker:
        return _worker_segments(codes, owners)
    markers = {int((m.t - start) // ns_per_cell) for m in lane.markers}
    segments: list[Segment] = []
    column = 0
    while column < width:
        if column in markers:
            _append(segments, MARKER_GLYPH, MARKER_STYLE)
            column += 1
            continue
        code, share = codes[column], shares[column]
        end = column + 1
        while end < width and codes[end] == code and shares[end] == share and end not in markers:
            end += 1
        _append(segments, _share_glyph(code, share) * (end - column), PHASE_STYLES[code])
        column = end
    return segments


def _worker_segments(codes: list[int], owners: list[int | None]) -> list[Segment]:
    segments: list[Segment] = []
    width = len(codes)
    column = 0
    while column < width:
        code, owner = codes[column], owners[column]
        end = column + 1
        while end < width and codes[end] == code and owners[end] == owner:
            end += 1
        length = end - column
        if code == NONE:
            _append(segments, " " * length, _BLANK)
        else:
            # A leading space keeps the id clear of the span's edge (and of the cursor there).
            text = "" if owner is None else f" {owner}"
            text = text if len(text) < length else ""
            _append(segments, text.ljust(length), WORKER_STYLES[(code, (owner or 0) % 2)])
        column = end
    return segments


def label_segment(text: str, width: int, *, selected: bool = False, error: bool = False) -> Segment:
    """A lane label cut or padded to ``width`` cells (CJK-aware), with a one-cell gutter."""
    if width <= 0:
        return Segment("")
    body = set_cell_size(text, width - 1) if cell_len(text) != width - 1 else text
    style = SELECTED_LABEL_STYLE if selected else ERROR_LABEL_STYLE if error else LABEL_STYLE
    return Segment(body + " ", style)
