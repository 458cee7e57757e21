"""A recording (or two, compared on one time axis) as a static SVG figure: ``--to svg``.

One lane per request, in arrival order, each stretch drawn in the phase the replay UI gives it
(``tracer.phases``): queued (grey), running a loop step or a thread on the CPU (green),
sending (blue), a step that blocked the loop (red), waiting (a dark line: suspended on an await;
a bolder one where a thread sat blocked in I/O or on a lock, its ``cpu_ns`` a small share of its
``dur``), errors (a cross), and demo bookmarks as dashed verticals with their labels; a legend and
a time axis. Every phase mark carries ``class="phase-<name>"``. Self-contained: no scripts, no
external fonts or images, nothing fetched. ``timeline_svg`` is also what the HTML page embeds.
Imports the spine and ``tracer.export`` only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from tracer import events as K
from tracer.events import Event
from tracer.export import ExportOptions, default_output
from tracer.phases import ERROR, QUEUED, WAITING, PhaseSpan, request_phases
from tracer.recording import Recording, view_start
from tracer.summary import request_spans

__all__ = ["timeline_svg", "export_svg", "COLORS", "LEGENDS", "FONT", "SVG_NS", "recording_lang"]

COLORS: dict[str, str] = {
    "queued": "#9e9e9e",
    "running": "#2e7d32",
    "sending": "#1565c0",
    "blocked": "#c62828",
    "waiting": "#616161",
    "bookmark": "#6a1b9a",
}
"""Phase -> fill colour (dark enough to read on a projector over white)."""

LEGENDS: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (
        ("queued", "queued"),
        ("running", "running (loop step, thread on CPU)"),
        ("waiting", "waiting (thread in I/O or a lock; awaiting)"),
        ("sending", "sending"),
        ("blocked", "blocked the loop"),
        ("bookmark", "bookmark"),
    ),
    "zh": (
        ("queued", "排队"),
        ("running", "运行（循环步骤，线程占用 CPU）"),
        ("waiting", "等待（线程阻塞于 I/O 或锁，await 挂起）"),
        ("sending", "发送"),
        ("blocked", "阻塞事件循环"),
        ("bookmark", "书签"),
    ),
}
"""Language -> (colour key, text) in legend order."""

SHOWN: dict[str, str] = {
    "en": "{shown} of {total} requests shown",
    "zh": "显示 {total} 个请求中的 {shown} 个",
}
"""Language -> the note under lanes cut short."""

SVG_NS = ' xmlns="http://www.w3.org/2000/svg"'
"""The namespace declaration a standalone SVG file needs (a name, never fetched)."""

FONT = (
    "system-ui, -apple-system, 'Segoe UI', 'Noto Sans', 'Noto Sans CJK SC', "
    "'PingFang SC', 'Microsoft YaHei', sans-serif"
)
"""Local fonts only, with CJK fallbacks so Chinese labels render."""

LANE_H = 12
GAP = 3
GUTTER = 70
HEAD = 40
WAIT_H = 4
"""Height of a waiting stretch that held a thread (or a timed read): bolder than the lane's
thin line, far below a running bar."""


def _lanes(recording: Recording, max_lanes: int) -> tuple[list[tuple[int, list[Event]]], int]:
    grouped = recording.requests()
    spans = request_spans(recording.events)
    order = sorted((s.arrived if s.arrived is not None else 0, req) for req, s in spans.items())
    chosen = [(req, grouped.get(req, [])) for _, req in order[:max_lanes]]
    return chosen, len(order)


def _rect(x: float, y: float, w: float, h: float, color: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return (
        f'<rect{attr} x="{x:.1f}" y="{y:.1f}" width="{max(w, 1.0):.1f}" height="{h}" '
        f'fill="{color}"/>'
    )


def _block(
    recording: Recording, top: float, width: int, t_span: tuple[int, int], max_lanes: int, lang: str
) -> tuple[list[str], float]:
    t0, t_max = t_span
    scale = (width - GUTTER - 10) / max(t_max - t0, 1)

    def x(t: int) -> float:
        return GUTTER + (t - t0) * scale

    parts = [
        f'<text x="4" y="{top + 16:.0f}" font-size="15" font-weight="bold">'
        f"{escape(recording.title)}</text>"
    ]
    lanes, total = _lanes(recording, max_lanes)
    y = top + HEAD
    for req, events in lanes:
        parts.append(f'<g class="lane" data-req="{req}">')
        parts.append(f'<text x="4" y="{y + LANE_H - 2:.0f}" font-size="11">#{req}</text>')
        parts += _lane_marks(request_phases(events, t_max), x, y, scale)
        parts.append("</g>")
        y += LANE_H + GAP
    if total > len(lanes):
        parts.append(
            f'<text x="{GUTTER}" y="{y + 12:.0f}" font-size="12" fill="#424242">'
            f"{SHOWN.get(lang, SHOWN['en']).format(shown=len(lanes), total=total)}</text>"
        )
        y += 18
    for e in recording.events:
        if e.kind == K.MARK:
            label = str(e.data.get("label", ""))
            parts.append(
                f'<line x1="{x(e.t):.1f}" y1="{top + HEAD - 4:.1f}" x2="{x(e.t):.1f}" '
                f'y2="{y:.1f}" stroke="{COLORS["bookmark"]}" stroke-width="2" '
                f'stroke-dasharray="5,3"/>'
                f'<text x="{x(e.t) + 4:.1f}" y="{top + HEAD - 6:.1f}" font-size="13" '
                f'fill="{COLORS["bookmark"]}">{escape(label)}</text>'
            )
    return parts, y + 8


def _lane_marks(
    phases: list[PhaseSpan], x: Callable[[int], float], y: float, scale: float
) -> list[str]:
    """One request's phase spans (in paint order) as SVG marks on the lane at ``y``."""
    parts: list[str] = []
    mid = y + LANE_H / 2
    for span in phases:
        phase, width = span.phase, (span.end - span.start) * scale
        cls = f"phase-{phase}"
        if phase == ERROR:
            parts.append(
                f'<text class="{cls}" x="{x(span.start) - 4:.1f}" y="{y + LANE_H - 1:.0f}" '
                f'font-size="13" fill="{COLORS["blocked"]}">✖</text>'
            )
        elif span.end <= span.start:
            continue  # nothing to see: a zero-length stretch
        elif phase == WAITING and span.kind is None:
            # The request in flight between the spans saying what it did (suspended, parked).
            parts.append(
                f'<line class="{cls}" x1="{x(span.start):.1f}" y1="{mid:.1f}" '
                f'x2="{x(span.end):.1f}" y2="{mid:.1f}" stroke="{COLORS["waiting"]}" '
                f'stroke-width="1.5"/>'
            )
        elif phase == WAITING:
            # A thread held but off the CPU (I/O, a lock), or a timed read: waiting, not running.
            parts.append(
                _rect(x(span.start), mid - WAIT_H / 2, width, WAIT_H, COLORS["waiting"], cls)
            )
        elif phase == QUEUED:
            parts.append(_rect(x(span.start), y + 3, width, LANE_H - 6, COLORS["queued"], cls))
        else:  # running, sending, blocked
            parts.append(_rect(x(span.start), y, width, LANE_H, COLORS[phase], cls))
    return parts


def _axis(top: float, width: int, t_span: tuple[int, int]) -> list[str]:
    t0, t_max = t_span
    scale = (width - GUTTER - 10) / max(t_max - t0, 1)
    step = _nice_step((t_max - t0) / 8)
    parts = [
        f'<line x1="{GUTTER}" y1="{top:.0f}" x2="{width - 10}" y2="{top:.0f}" stroke="#212121"/>'
    ]
    t = -(-t0 // step) * step  # the first tick at or after the start
    while t <= t_max:
        px = GUTTER + (t - t0) * scale
        parts.append(
            f'<line x1="{px:.1f}" y1="{top:.0f}" x2="{px:.1f}" y2="{top + 5:.0f}" '
            f'stroke="#212121"/><text x="{px:.1f}" y="{top + 18:.0f}" font-size="12" '
            f'text-anchor="middle">{_format(t)}</text>'
        )
        t += step
    return parts


def _nice_step(raw: float) -> int:
    step = 1
    while step * 10 <= raw:
        step *= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= raw:
            return max(step * factor, 1)
    return step * 10


def _format(ns: int) -> str:
    if ns >= 1_000_000_000:
        return f"{ns / 1e9:g}s"
    if ns >= 1_000_000:
        return f"{ns / 1e6:g}ms"
    return f"{ns / 1e3:g}µs"


def timeline_svg(
    recordings: Sequence[Recording],
    *,
    width: int = 1200,
    max_lanes: int = 40,
    standalone: bool = True,
    lang: str = "en",
) -> str:
    """The recordings' request lanes on one shared time axis, as one ``<svg>`` element.

    ``standalone``: declare the SVG namespace, as a ``.svg`` file must; inline in HTML the
    element needs none (so the page holds no URL at all).
    """
    t_max = max((e.end for r in recordings for e in r.events), default=0)
    first = min((e.t for r in recordings for e in r.events), default=0)
    # A real server's recording opens on its start-up: begin where its activity does.
    t_span = (view_start(max(0, first), t_max), t_max)
    parts: list[str] = []
    top = 0.0
    for recording in recordings:
        block, top = _block(recording, top, width, t_span, max_lanes, lang)
        parts += block
    parts += _axis(top + 4, width, t_span)
    top += 34
    x = GUTTER
    for key, text in LEGENDS.get(lang, LEGENDS["en"]):
        advance = 34 + 8 * sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)  # CJK: two widths
        if x > GUTTER and x + advance > width:
            x, top = GUTTER, top + 20  # the next legend row
        # Each swatch is drawn as the lanes draw its phase (waiting: a held thread's bar).
        swatch_y, swatch_h = (top + 6 - WAIT_H / 2, WAIT_H) if key == WAITING else (top, 12)
        parts.append(
            _rect(x, swatch_y, 18, swatch_h, COLORS[key], "legend")
            + f'<text x="{x + 24}" y="{top + 11:.0f}" font-size="13">{escape(text)}</text>'
        )
        x += advance
    height = top + 24
    return (
        f'<svg{SVG_NS if standalone else ""} width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}" font-family="{escape(FONT)}" role="img">'
        f'<rect width="100%" height="100%" fill="#ffffff"/>{"".join(parts)}</svg>'
    )


def recording_lang(recording: Recording) -> str:
    """The language a demo recording was made in (``en`` otherwise)."""
    demo = recording.header.get("demo")
    lang = demo.get("lang") if isinstance(demo, dict) else None
    return lang if lang in LEGENDS else "en"


def export_svg(recording: Recording, options: ExportOptions) -> str:
    """Write the recording (and ``options.compare``) as an SVG figure."""
    svg = timeline_svg([recording, *options.compare], lang=recording_lang(recording))
    output = options.output or default_output(recording, ".svg")
    if output == "-":
        options.stdout.write(svg + "\n")
        return "SVG figure written to stdout"
    from tracer.export.html import write_text

    write_text(output, svg)
    return f"SVG figure written to {output}"
