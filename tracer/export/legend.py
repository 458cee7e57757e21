"""The SVG figure's legend: each phase's swatch drawn as the lanes draw it, and what it means.

``LEGENDS`` holds its texts in each language the slide exports speak; its keys are those
languages (``tracer.export.titles.said_in`` refuses any other). A figure's legend explains
only the marks it draws (the keys ``tracer.export.lanes.lane`` collects): no "blocked the loop"
under a WSGI run. Imports ``tracer.export``
helpers and ``tracer.phases`` only.
"""

from __future__ import annotations

from collections.abc import Collection
from html import escape

from tracer.export.drawing import COLORS, GUTTER, WAIT_H, rect, text_width
from tracer.export.lanes import (
    abandoned_mark,
    blocked_mark,
    incomplete_mark,
    send_mark,
    violation_mark,
)

__all__ = ["ENTRY_GAP", "LEGENDS", "TEXT_AT", "legend"]

LEGENDS: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (
        ("queued", "queued"),
        ("running", "running (loop step, thread on CPU)"),
        ("waiting", "waiting (thread held in I/O, a lock or the GIL)"),
        ("cpu", "share of CPU while waiting (threads taking turns on the GIL)"),
        ("awaiting", "waiting (awaiting, between its steps)"),
        ("abandoned", "abandoned (the client gave up, the app went on)"),
        ("sending", "sending"),
        ("blocked", "blocked the loop"),
        ("error", "error (raised, no response, or 5xx)"),
        ("violation", "protocol violation"),
        ("incomplete", "not finished (the recording ends first)"),
        ("bookmark", "bookmark"),
    ),
    "zh": (
        ("queued", "排队"),
        ("running", "运行（事件循环步骤，线程占用 CPU）"),
        ("waiting", "等待（线程阻塞于 I/O、锁或 GIL）"),
        ("cpu", "等待期间的 CPU 占比（线程轮流持有 GIL）"),
        ("awaiting", "等待（await 挂起，两步之间）"),
        ("abandoned", "已放弃（客户端放弃，应用仍在运行）"),
        ("sending", "发送"),
        ("blocked", "事件循环被阻塞"),
        ("error", "错误（抛出异常、无响应或 5xx）"),
        ("violation", "协议违规"),
        ("incomplete", "未结束（记录先于请求结束）"),
        ("bookmark", "书签"),
    ),
}
"""Language -> (key, text) in legend order."""


def legend(top: float, width: int, lang: str, shown: Collection[str]) -> tuple[list[str], float]:
    """The legend's entries for the keys ``shown`` (the marks drawn), from ``top``, in rows that fit
    ``width``; returns them and the top of its last row.

    Positions are counted in whole hundredths of a pixel and written to one decimal, as the
    lanes are: a float sum of text widths differs in its last bits between Python versions
    (3.12 changed ``sum()``), and the figure must be the same bytes on every one."""
    parts = []
    x = GUTTER * 100  # hundredths of a pixel
    for key, text in LEGENDS.get(lang, LEGENDS["en"]):
        if key not in shown:
            continue
        advance = (TEXT_AT + ENTRY_GAP) * 100 + _hundredths(text_width(text, 13))
        if x > GUTTER * 100 and x + advance - ENTRY_GAP * 100 > width * 100:
            x, top = GUTTER * 100, top + 20  # the next legend row
        left = x / 100
        parts.append(
            _swatch(key, left, top)
            + f'<text x="{left + TEXT_AT:.1f}" y="{top + 11:.0f}" font-size="13">'
            f"{escape(text)}</text>"
        )
        x += advance
    return parts, top


def _hundredths(width: float) -> int:
    """``width`` in whole hundredths of a pixel. ``text_width`` is a sum of multiples of
    0.01 px, so its exact value is a whole number of them and the last bits of the float sum,
    which differ between Python versions, round away."""
    return round(width * 100)


TEXT_AT = 24
"""Where an entry's text starts, from its swatch's left (swatches are 18 px wide)."""

ENTRY_GAP = 16
"""Room after an entry's text before the next swatch. The text's width is an estimate
(``text_width``), which a short word in a wide font outruns: "queued" is 49 px in DejaVu
Sans at 13 px, 45 estimated; with the 6 px this once was, it ran into the next swatch."""


def _swatch(key: str, x: float, top: float) -> str:
    """``key``'s swatch at ``x`` on the legend row at ``top``, drawn as the lanes draw it."""
    mid = top + 6
    if key == "waiting":  # a held thread's bar
        return rect(x, mid - WAIT_H / 2, 18, WAIT_H, COLORS["waiting"], "legend")
    if key == "cpu":  # a half-height bar from the floor
        return rect(x, mid, 18, 6, COLORS["cpu"], "legend")
    if key == "awaiting":  # the in-flight hairline
        return (
            f'<line class="legend" x1="{x:.1f}" y1="{mid:.1f}" x2="{x + 18:.1f}" y2="{mid:.1f}" '
            f'stroke="{COLORS["waiting"]}" stroke-width="1.5"/>'
        )
    if key == "abandoned":
        return abandoned_mark(x, x + 18, mid, "legend")
    if key == "queued":  # a lower bar
        return rect(x, top + 3, 18, 6, COLORS["queued"], "legend")
    if key == "error":
        return (
            f'<text x="{x + 3:.1f}" y="{top + 11:.0f}" font-size="13" '
            f'fill="{COLORS["blocked"]}">✖</text>'
        )
    if key == "violation":
        return violation_mark(x + 9, top)
    if key == "incomplete":
        return incomplete_mark(x + 3, top)
    if key == "bookmark":  # a dashed vertical
        return (
            f'<line class="legend" x1="{x + 9:.1f}" y1="{top:.1f}" x2="{x + 9:.1f}" y2="{top + 12:.1f}" '
            f'stroke="{COLORS["bookmark"]}" stroke-width="2" stroke-dasharray="5,3"/>'
        )
    if key == "sending":  # a bar standing out above the row, as a send above its lane
        return send_mark(x, top, 18, "legend")
    if key == "blocked":  # the bar with its dashes
        return rect(x, top, 18, 12, COLORS[key], "legend") + blocked_mark(
            x, 18, mid, "legend blocked-mark"
        )
    return rect(x, top, 18, 12, COLORS[key], "legend")
