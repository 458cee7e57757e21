"""What the SVG figure is drawn with: its colours, font, sizes and the rectangle of every bar.

Shared by the parts of the figure (``tracer.export.lanes``, ``bookmarks``, ``axis``,
``legend``, ``svg``) so that a lane and its legend swatch cannot drift apart, and by the HTML
page for ``shown``: the one way a recording's string gets into the figure or the page. Pure
constants and string helpers: imports only ``tracer.printable``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from tracer.printable import printable

__all__ = [
    "COLORS",
    "FONT",
    "CJK_FONT",
    "font_for",
    "SVG_NS",
    "LANE_H",
    "GAP",
    "GUTTER",
    "HEAD",
    "LABEL_ROW",
    "WAIT_H",
    "RIGHT",
    "MARK_W",
    "rect",
    "text_width",
    "luminance",
    "fit_middle",
    "max_glyphs",
    "longest",
    "NARROW",
    "WIDE",
    "SHOWN_MAX",
    "clip",
    "shown",
]

COLORS: dict[str, str] = {
    "queued": "#a884d8",
    "running": "#247854",
    "cpu": "#247854",
    "sending": "#004890",
    "blocked": "#d86000",
    "waiting": "#1c1c1c",
    "abandoned": "#8a8a8a",
    "bookmark": "#6a1b9a",
    "violation": "#ffd700",
    "incomplete": "#e65100",
}
"""Phase -> fill colour, for a projector and for viewers who do not tell red from green.

Running a green, sending a blue, blocked a vermillion (Okabe and Ito's, a shade darker), waiting
a near-black ink and queued a light violet: every phase's colour has a contrast of 3:1 at least
against the white page (WCAG's for graphics), and the phases stay apart seen with protanopia or
deuteranopia (Machado et al. 2009's simulation: 25 apart in CIELAB at least), as
``tests/export/test_palette_access.py`` checks. They also differ in lightness, so a handout
printed in grayscale keeps them apart: waiting (28), sending (59), running and its CPU share
(91), blocked (121), queued (152), in luminance ``0.299 R + 0.587 G + 0.114 B``
(``luminance``); the CPU share is drawn over the waiting bar. Abandoned work's dashes (138) are
a mid gray of 3:1 at least both against the white page and against the waiting bar they lie on
where a thread was still held (WCAG's for graphics), so they show on either; no lightness left
keeps 30 from blocked too, and their shape keeps them apart from it (a 4 px dashed line, not a
lane-high bar). Sending and running are 1.67:1 apart in gray: a send also stands out above its
lane (``tracer.export.lanes.SEND_RISE``), which no running step does.
"""

SVG_NS = ' xmlns="http://www.w3.org/2000/svg"'
"""The namespace declaration a standalone SVG file needs (a name, never fetched)."""

FONT = "system-ui, -apple-system, 'Segoe UI', 'Noto Sans', sans-serif"
"""Local fonts only (a figure in English)."""

CJK_FONT = (
    "'Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Zen Hei', 'WenQuanYi Micro Hei', "
    "'PingFang SC', 'Microsoft YaHei', system-ui, -apple-system, 'Segoe UI', 'Noto Sans', "
    "sans-serif"
)
"""Local fonts of a Chinese figure: CJK families first. A generic family first would win in
a renderer that reads only the first (cairosvg: then DejaVu Sans, Chinese as boxes)."""


def font_for(lang: str) -> str:
    """The ``font-family`` list of a figure (and page) in ``lang``."""
    return CJK_FONT if lang == "zh" else FONT


LANE_H = 12
"""Height of a request lane (and of a running bar on it)."""
GAP = 3
"""Space between two lanes."""
GUTTER = 70
"""Left margin: the lanes' request numbers; the time axis starts here."""
HEAD = 40
"""Room above a recording's lanes for its heading and one row of bookmark labels."""
LABEL_ROW = 16
"""Height of each further row of bookmark labels (labels that would overlap stack up)."""
WAIT_H = 4
"""Height of a waiting stretch that held a thread (or a timed read): bolder than the lane's
thin line, far below a running bar."""
RIGHT = 10
"""Margin right of the time axis."""
MARK_W = 8
"""Width of a violation mark; violations closer than this on a lane share one."""


NARROW = 58
"""A Latin glyph's width, in hundredths of the font size."""
WIDE = 100
"""A CJK glyph's width (past U+2E80, the start of the CJK radicals), in hundredths of the
font size."""


def text_width(text: str, size: int) -> float:
    """About how wide ``text`` is at font ``size`` (CJK glyphs about twice a Latin one's width).

    Counted in whole hundredths and divided once: the same float on every Python, whatever
    the order of the glyphs (a float ``sum()`` of per-glyph widths differs in its last bits
    between 3.11 and 3.12, which changed how it adds)."""
    wide = 0 if text.isascii() else sum(1 for ch in text if ord(ch) > 0x2E80)
    return (wide * WIDE + (len(text) - wide) * NARROW) * size / 100


def max_glyphs(room: float, size: int) -> int:
    """The most glyphs that could be ``room`` px wide at font ``size`` (all of them Latin, the
    narrowest): no longer text fits, however long it is, so a cut is looked for below this."""
    if room < 0:
        return 0
    return math.floor(room * 100 / (NARROW * size)) + 1  # one more: float rounding's slack


def longest(fits: Callable[[int], bool], most: int) -> int:
    """The largest ``n`` in ``0 .. most`` for which ``fits(n)``, 0 when none does; ``fits``
    holds up to some ``n`` and not after (a text's width grows with each glyph kept). A
    binary search: a cut of a long text measures a few short candidates, never each length
    in turn (that made a megabyte label take minutes)."""
    low, high = 0, max(most, 0)
    while low < high:
        mid = (low + high + 1) // 2
        if fits(mid):
            low = mid
        else:
            high = mid - 1
    return low


def fit_middle(text: str, room: float, size: int) -> str:
    """``text`` shortened in the middle with "…" to about ``room`` px at font ``size``: its end
    stays (in a compare, the file name that tells two runs of one app apart). Of ``n``
    characters kept, ``n // 2`` are the head, the rest the tail."""
    most = max_glyphs(room, size)
    if len(text) <= most and text_width(text, size) <= room:
        return text

    def kept(n: int) -> str:
        head, tail = n // 2, n - n // 2
        return text[:head] + "…" + (text[-tail:] if tail else "")

    n = longest(lambda n: text_width(kept(n), size) <= room, min(len(text), most))
    return kept(n)


SHOWN_MAX = 300
"""The most characters of one of a recording's strings (a path, a title, a label, a message)
a figure or page shows. A recording may hold a path of hundreds of megabytes (a hand-made
file): copied whole into each lane's tooltip it made a figure of as many, and slow to write."""


def clip(text: str, limit: int = SHOWN_MAX) -> str:
    """``text`` cut to ``limit`` characters in the middle with "…": both ends stay (a path's
    start, a file name's end). Slices only: cheap however long ``text`` is."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    tail = limit - 1 - head
    return text[:head] + "…" + (text[-tail:] if tail else "")


def shown(text: object, limit: int = SHOWN_MAX, *, newlines: bool = False) -> str:
    """A recording's string as a figure or page may hold it, before ``html.escape``: cut to
    ``limit`` characters (``clip``), then every character XML 1.0 forbids (controls but tab
    and line feed, lone surrogates, U+FFFE/U+FFFF) or a terminal obeys (C1 controls, bidi
    overrides) written as a visible escape (``printable``; ``newlines`` keeps line feeds and
    tabs). What it returns is always well-formed XML text once escaped."""
    return printable(clip(text if isinstance(text, str) else str(text), limit), newlines=newlines)


def luminance(color: str) -> float:
    """The gray a ``#rrggbb`` colour prints as (ITU-R BT.601 luma, 0..255)."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b


def rect(x: float, y: float, w: float, h: float, color: str, cls: str = "") -> str:
    """A ``<rect>`` at least 1 px wide (a stretch too short to see stays a hairline)."""
    attr = f' class="{cls}"' if cls else ""
    return (
        f'<rect{attr} x="{x:.1f}" y="{y:.1f}" width="{max(w, 1.0):.1f}" height="{h}" '
        f'fill="{color}"/>'
    )
