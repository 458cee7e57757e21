"""The SVG figure's time axis: a line under the lanes, ticks at round times, labelled.

About eight ticks at 1, 2 or 5 times a power of ten nanoseconds, labelled in the largest unit
that keeps them above one and spaced as the tooltips write times (``250 ms``, ``1.5 s``,
``40 µs``; ``250 毫秒`` in Chinese); the origin is ``0``. An axis that does not start at a round
time (a real server's recording, opened where its requests begin) labels its left edge with
its time too, so a bar's start can be read off it. Imports ``tracer.export`` helpers only.
"""

from __future__ import annotations

from tracer.export.drawing import GUTTER, RIGHT, text_width

__all__ = ["UNITS", "axis", "tick_step", "tick_label"]

UNITS: dict[str, tuple[str, str, str]] = {
    "en": ("s", "ms", "µs"),
    "zh": ("秒", "毫秒", "微秒"),
}
"""Language -> the axis's units (seconds, milliseconds, microseconds), as its tooltips say them."""


def axis(top: float, width: int, t_span: tuple[int, int], lang: str = "en") -> list[str]:
    """The axis at ``top`` across a figure ``width`` wide, for the times of ``t_span``."""
    t0, t_max = t_span
    scale = (width - GUTTER - RIGHT) / max(t_max - t0, 1)
    step = tick_step((t_max - t0) / 8)
    parts = [
        f'<line x1="{GUTTER}" y1="{top:.0f}" x2="{width - RIGHT}" y2="{top:.0f}" stroke="#212121"/>'
    ]
    t = -(-t0 // step) * step  # the first tick at or after the start
    clear = 0.0  # where the origin's label (if any) ends
    if t != t0:
        # The left edge is no round time: say which time it is.
        label = tick_label(t0, lang, digits=3)
        parts.append(_tick(GUTTER, top, label, "start"))
        clear = GUTTER + text_width(label, 12) + 6
    while t <= t_max:
        px = GUTTER + (t - t0) * scale
        label = tick_label(t, lang)
        # A label centred on a tick near the right edge would be cut: end it at the tick.
        anchor = "end" if px + text_width(label, 12) / 2 > width - 2 else "middle"
        if px - text_width(label, 12) / 2 < clear:
            label = ""  # it would overwrite the origin's: a tick without a label
        parts.append(_tick(px, top, label, anchor))
        t += step
    return parts


def _tick(px: float, top: float, label: str, anchor: str) -> str:
    """A tick at ``px`` with its ``label`` under it (none when empty)."""
    line = f'<line x1="{px:.1f}" y1="{top:.0f}" x2="{px:.1f}" y2="{top + 5:.0f}" stroke="#212121"/>'
    if not label:
        return line
    return (
        f'{line}<text x="{px:.1f}" y="{top + 18:.0f}" font-size="12" '
        f'text-anchor="{anchor}">{label}</text>'
    )


def tick_step(raw: float) -> int:
    """The smallest round step (1, 2 or 5 times a power of ten ns) at least ``raw``."""
    step = 1
    while step * 10 <= raw:
        step *= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= raw:
            return max(step * factor, 1)
    return step * 10


def tick_label(ns: int, lang: str = "en", digits: int = 6) -> str:
    """A time in its largest unit, as the tooltips write it: ``1.5 s``, ``250 ms``, ``40 µs``;
    the origin is ``0``. ``digits``: significant digits kept (an axis's left edge, between
    ticks, keeps three)."""
    seconds, millis, micros = UNITS.get(lang, UNITS["en"])
    if ns == 0:
        return "0"
    for size, unit in ((1e9, seconds), (1e6, millis)):
        if ns >= size:
            return f"{ns / size:.{digits}g} {unit}"
    return f"{ns / 1e3:.{digits}g} {micros}"
