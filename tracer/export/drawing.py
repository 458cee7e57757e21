"""What the SVG figure is drawn with: its colours, font, sizes and the rectangle of every bar.

Shared by the parts of the figure (``tracer.export.lanes``, ``bookmarks``, ``axis``,
``legend``, ``svg``) so that a lane and its legend swatch cannot drift apart. Pure
constants and string helpers: imports nothing of the project.
"""

from __future__ import annotations

__all__ = [
    "COLORS",
    "FONT",
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
]

COLORS: dict[str, str] = {
    "queued": "#9e9e9e",
    "running": "#2e7d32",
    "cpu": "#2e7d32",
    "sending": "#1565c0",
    "blocked": "#c62828",
    "waiting": "#616161",
    "bookmark": "#6a1b9a",
    "violation": "#ffd700",
    "incomplete": "#e65100",
}
"""Phase -> fill colour (dark enough to read on a projector over white)."""

SVG_NS = ' xmlns="http://www.w3.org/2000/svg"'
"""The namespace declaration a standalone SVG file needs (a name, never fetched)."""

FONT = (
    "system-ui, -apple-system, 'Segoe UI', 'Noto Sans', 'Noto Sans CJK SC', "
    "'PingFang SC', 'Microsoft YaHei', sans-serif"
)
"""Local fonts only, with CJK fallbacks so Chinese labels render."""

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


def text_width(text: str, size: int) -> float:
    """About how wide ``text`` is at font ``size`` (CJK glyphs are twice a Latin one's width)."""
    return sum(size if ord(ch) > 0x2E80 else 0.58 * size for ch in text)


def rect(x: float, y: float, w: float, h: float, color: str, cls: str = "") -> str:
    """A ``<rect>`` at least 1 px wide (a stretch too short to see stays a hairline)."""
    attr = f' class="{cls}"' if cls else ""
    return (
        f'<rect{attr} x="{x:.1f}" y="{y:.1f}" width="{max(w, 1.0):.1f}" height="{h}" '
        f'fill="{color}"/>'
    )
