"""The SVG figure's legend: each phase's swatch drawn as the lanes draw it, and what it means.

``LEGENDS`` holds its texts in each language the slide exports speak; its keys are those
languages (``tracer.export.titles.said_in`` refuses any other). The entry for requests that
never ended (``incomplete``) is shown only in a figure that has one. Imports ``tracer.export``
helpers and ``tracer.phases`` only.
"""

from __future__ import annotations

from html import escape

from tracer.export.drawing import COLORS, GUTTER, WAIT_H, rect
from tracer.export.lanes import incomplete_mark, violation_mark
from tracer.phases import WAITING

__all__ = ["LEGENDS", "legend"]

LEGENDS: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (
        ("queued", "queued"),
        ("running", "running (loop step, thread on CPU)"),
        ("waiting", "waiting (thread in I/O, a lock or the GIL; awaiting)"),
        ("cpu", "share of CPU while waiting (threads taking turns on the GIL)"),
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
        ("waiting", "等待（线程阻塞于 I/O、锁或 GIL，await 挂起）"),
        ("cpu", "等待期间的 CPU 占比（线程轮流持有 GIL）"),
        ("sending", "发送"),
        ("blocked", "事件循环被阻塞"),
        ("error", "错误（抛出异常、无响应或 5xx）"),
        ("violation", "协议违规"),
        ("incomplete", "未结束（记录先于请求结束）"),
        ("bookmark", "书签"),
    ),
}
"""Language -> (colour key, text) in legend order."""


def legend(
    top: float, width: int, lang: str, *, incomplete: bool = False
) -> tuple[list[str], float]:
    """The legend's entries from ``top``, in rows that fit ``width``; returns them and the
    top of its last row. ``incomplete``: a lane drawn has no end, so say what its mark means."""
    parts = []
    x = GUTTER
    for key, text in LEGENDS.get(lang, LEGENDS["en"]):
        if key == "incomplete" and not incomplete:
            continue
        advance = 34 + 8 * sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)  # CJK: two widths
        if x > GUTTER and x + advance > width:
            x, top = GUTTER, top + 20  # the next legend row
        # Each swatch is drawn as the lanes draw its phase (waiting: a held thread's bar; the
        # CPU share: a half-height bar from the floor).
        swatch_y, swatch_h = (top, 12)
        if key == WAITING:
            swatch_y, swatch_h = top + 6 - WAIT_H / 2, WAIT_H
        elif key == "cpu":
            swatch_y, swatch_h = top + 6, 6
        # The error and a violation are drawn as the lanes draw them: a ✖, a "!", not swatches.
        if key == "error":
            mark = (
                f'<text x="{x + 3}" y="{top + 11:.0f}" font-size="13" '
                f'fill="{COLORS["blocked"]}">✖</text>'
            )
        elif key == "violation":
            mark = violation_mark(x + 9, top)
        elif key == "incomplete":
            mark = incomplete_mark(x + 3, top)
        else:
            mark = rect(x, swatch_y, 18, swatch_h, COLORS[key], "legend")
        parts.append(
            mark + f'<text x="{x + 24}" y="{top + 11:.0f}" font-size="13">{escape(text)}</text>'
        )
        x += advance
    return parts, top
