"""The SVG figure's time axis: a line under the lanes, ticks at round times, labelled.

About eight ticks at 1, 2 or 5 times a power of ten nanoseconds, labelled in the largest unit
that keeps them above one (``250ms``, ``1.5s``, ``40µs``). Imports ``tracer.export`` helpers
only.
"""

from __future__ import annotations

from tracer.export.drawing import GUTTER, RIGHT, text_width

__all__ = ["axis", "tick_step", "tick_label"]


def axis(top: float, width: int, t_span: tuple[int, int]) -> list[str]:
    """The axis at ``top`` across a figure ``width`` wide, for the times of ``t_span``."""
    t0, t_max = t_span
    scale = (width - GUTTER - RIGHT) / max(t_max - t0, 1)
    step = tick_step((t_max - t0) / 8)
    parts = [
        f'<line x1="{GUTTER}" y1="{top:.0f}" x2="{width - RIGHT}" y2="{top:.0f}" stroke="#212121"/>'
    ]
    t = -(-t0 // step) * step  # the first tick at or after the start
    while t <= t_max:
        px = GUTTER + (t - t0) * scale
        label = tick_label(t)
        # A label centred on a tick near the right edge would be cut: end it at the tick.
        anchor = "end" if px + text_width(label, 12) / 2 > width - 2 else "middle"
        parts.append(
            f'<line x1="{px:.1f}" y1="{top:.0f}" x2="{px:.1f}" y2="{top + 5:.0f}" '
            f'stroke="#212121"/><text x="{px:.1f}" y="{top + 18:.0f}" font-size="12" '
            f'text-anchor="{anchor}">{label}</text>'
        )
        t += step
    return parts


def tick_step(raw: float) -> int:
    """The smallest round step (1, 2 or 5 times a power of ten ns) at least ``raw``."""
    step = 1
    while step * 10 <= raw:
        step *= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= raw:
            return max(step * factor, 1)
    return step * 10


def tick_label(ns: int) -> str:
    """A tick's time in its largest unit: ``1.5s``, ``250ms``, ``40µs``."""
    if ns >= 1_000_000_000:
        return f"{ns / 1e9:g}s"
    if ns >= 1_000_000:
        return f"{ns / 1e6:g}ms"
    return f"{ns / 1e3:g}µs"
