"""A recording (or two, compared on one time axis) as a static SVG figure: ``--to svg``.

One lane per request, in arrival order: queued (grey), running on the loop or a thread
(green), sending (blue), blocking the loop (red), waiting (a thin line), errors (a cross), and
demo bookmarks as dashed verticals with their labels; a legend and a time axis. Self-contained:
no scripts, no external fonts or images, nothing fetched. ``timeline_svg`` is also what the HTML
page embeds. Imports the spine and ``tracer.export`` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from tracer import events as K
from tracer.events import Event
from tracer.export import ExportOptions, default_output
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
        ("running", "running (loop step or thread)"),
        ("waiting", "waiting (awaiting I/O)"),
        ("sending", "sending"),
        ("blocked", "blocked the loop"),
        ("bookmark", "bookmark"),
    ),
    "zh": (
        ("queued", "排队"),
        ("running", "运行（循环步骤或线程）"),
        ("waiting", "等待（await I/O）"),
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
_RUNNING = frozenset({K.SCHED_STEP, K.SCHED_THREAD})
_SENDING = frozenset({K.ASGI_SEND, K.WSGI_BODY, K.WSGI_WRITE})


def _lanes(recording: Recording, max_lanes: int) -> tuple[list[tuple[int, list[Event]]], int]:
    grouped = recording.requests()
    spans = request_spans(recording.events)
    order = sorted((s.arrived if s.arrived is not None else 0, req) for req, s in spans.items())
    chosen = [(req, grouped.get(req, [])) for _, req in order[:max_lanes]]
    return chosen, len(order)


def _rect(x: float, y: float, w: float, h: float, color: str) -> str:
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 1.0):.1f}" height="{h}" fill="{color}"/>'


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
    spans = request_spans(recording.events)
    y = top + HEAD
    for req, events in lanes:
        span = spans[req]
        mid = y + LANE_H / 2
        parts.append(f'<text x="4" y="{y + LANE_H - 2:.0f}" font-size="11">#{req}</text>')
        if span.start is not None:
            end = span.end if span.end is not None else t_max
            parts.append(
                f'<line x1="{x(span.start):.1f}" y1="{mid:.1f}" x2="{x(end):.1f}" '
                f'y2="{mid:.1f}" stroke="{COLORS["waiting"]}" stroke-width="1.5"/>'
            )
        if span.queued is not None and span.start is not None and span.start > span.queued:
            parts.append(
                _rect(
                    x(span.queued),
                    y + 3,
                    (span.start - span.queued) * scale,
                    LANE_H - 6,
                    COLORS["queued"],
                )
            )
        for layer, kinds in (("running", _RUNNING), ("sending", _SENDING)):
            for e in events:
                if e.kind in kinds and e.dur:
                    parts.append(_rect(x(e.t), y, e.dur * scale, LANE_H, COLORS[layer]))
        for e in events:
            if e.kind == K.LOOP_BLOCKED:
                parts.append(_rect(x(e.t), y, (e.dur or 0) * scale, LANE_H, COLORS["blocked"]))
            elif e.kind == K.ERROR:
                parts.append(
                    f'<text x="{x(e.t) - 4:.1f}" y="{y + LANE_H - 1:.0f}" font-size="13" '
                    f'fill="{COLORS["blocked"]}">✖</text>'
                )
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
        parts.append(
            _rect(x, top, 18, 12, COLORS[key])
            + f'<text x="{x + 24}" y="{top + 11:.0f}" font-size="13">{escape(text)}</text>'
        )
        x += 34 + 8 * sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)  # CJK: two widths
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
