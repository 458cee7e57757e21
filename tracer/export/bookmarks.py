"""A recording's bookmarks on the SVG figure: dashed verticals across its lanes, labelled above.

Labels that would overlap stack up in rows; one too long for the figure is cut short with
"…" and keeps its whole text as the viewer's tooltip. A label is the recording's text as a
figure shows it (``shown``: control characters escaped, at most ``SHOWN_MAX`` characters), so
a label of megabytes costs no more than one of a line. Imports the spine and
``tracer.export`` helpers only.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from tracer import events as K
from tracer.export.drawing import (
    COLORS,
    LABEL_ROW,
    clip,
    longest,
    max_glyphs,
    shown,
    text_width,
)
from tracer.recording import Recording

__all__ = ["Label", "bookmarks", "label_rows", "bookmark_lines", "bookmark_labels", "fit"]

Label = tuple[float, str, int, str, str]
"""A placed bookmark label: (text x, text shown, row, text-anchor, whole text)."""


def bookmarks(
    recording: Recording, x: Callable[[int], float], t_span: tuple[int, int], shift: int
) -> list[tuple[float, str]]:
    """(x of its line, label as shown) of each of the recording's bookmarks. ``t_span`` is the
    drawn span on the aligned axis, ``shift`` the recording's alignment: a bookmark outside
    the span stays on its edge."""
    t0, t_max = t_span
    return [
        (
            x(min(max(e.t, t0 + shift), t_max + shift)),
            shown(e.data.get("label", "")) if isinstance(e.data, dict) else "",
        )
        for e in recording.events
        if e.kind == K.MARK
    ]


def label_rows(marks: list[tuple[float, str]], width: int) -> list[Label]:
    """Place bookmark labels (x of the line, text) so that none overlaps another: each goes
    on the lowest row with room, right of its line (left of it near the figure's right edge;
    a label too long for either side goes on the roomier one, cut short with "…"). A label
    longer than ``SHOWN_MAX`` is placed, and kept whole, as its first and last characters
    (``clip``): the figure never holds more of it, however long it is."""
    rows: list[list[tuple[float, float]]] = []
    placed = []
    for x, given in sorted(marks):
        whole = clip(given)
        room_right, room_left = width - 2 - (x + 4), x - 4 - 2
        label = whole
        if text_width(label, 13) > room_right:
            label = fit(label, max(room_right, room_left), 13)
        w = text_width(label, 13)
        left, anchor, at = x + 4, "start", x + 4
        if w > room_right:
            left, anchor, at = x - 4 - w, "end", x - 4
        right = left + w
        row = next(
            (
                i
                for i, taken in enumerate(rows)
                if all(right + 6 <= a or b + 6 <= left for a, b in taken)
            ),
            len(rows),
        )
        if row == len(rows):
            rows.append([])
        rows[row].append((left, right))
        placed.append((at, label, row, anchor, whole))
    return placed


def fit(text: str, room: float, size: int) -> str:
    """``text`` cut short with "…" to be at most ``room`` wide at font ``size``: its longest
    start that fits with the "…" (just "…" when none does). Found by a binary search among
    the starts short enough to fit (``max_glyphs``), so the length of ``text`` costs nothing."""
    most = max_glyphs(room, size)
    if len(text) <= most and text_width(text, size) <= room:
        return text
    # ``text`` itself does not fit, so neither does it with the "…": at most all but one kept.
    keep = longest(lambda n: text_width(text[:n] + "…", size) <= room, min(len(text) - 1, most))
    return text[:keep] + "…"


def bookmark_lines(marks: list[tuple[float, str]], top: float, bottom: float) -> list[str]:
    """Each bookmark's dashed vertical from ``top`` down to ``bottom``, the end of the lanes:
    the note below them is never crossed."""
    return [
        f'<line class="bookmark" x1="{mx:.1f}" y1="{top:.1f}" x2="{mx:.1f}" '
        f'y2="{bottom:.1f}" stroke="{COLORS["bookmark"]}" stroke-width="2" '
        f'stroke-dasharray="5,3"/>'
        for mx, _ in marks
    ]


def bookmark_labels(placed: list[Label], base: float) -> list[str]:
    """The placed labels (``label_rows``), the first row's baseline at ``base``, each further
    row ``LABEL_ROW`` higher."""
    parts = []
    for at, label, row, anchor, whole in placed:
        text = (
            f'<text class="bookmark-label" x="{at:.1f}" y="{base - row * LABEL_ROW:.1f}" '
            f'font-size="13" text-anchor="{anchor}" fill="{COLORS["bookmark"]}">'
            f"{escape(label)}</text>"
        )
        # A label cut short keeps its whole text as the viewer's tooltip.
        parts.append(text if label == whole else f"<g><title>{escape(whole)}</title>{text}</g>")
    return parts
