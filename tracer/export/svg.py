"""A recording (or two, compared on one time axis) as a static SVG figure: ``--to svg``.

One lane per request, in arrival order, each stretch drawn in the phase the replay UI gives it
(``tracer.phases``): queued (grey), running a loop step or a thread on the CPU (green),
sending (blue, a hairline for a send that took no measurable time), a step that blocked the loop
(red), waiting (a dark line: suspended on an await; a bolder one where a thread sat blocked in
I/O, on a lock or on the GIL, its ``cpu_ns`` a small share of its ``dur``, with a short green bar
as high as that share, as the replay UI draws it), errors (a cross), protocol violations (a
``!`` on gold, as the replay marks them, at the violation's time, its rules in the mark's
``<title>``), and demo bookmarks as dashed verticals with their labels; a legend and a time
axis. Every phase mark carries ``class="phase-<name>"``; each lane's ``<title>`` (a viewer's
tooltip) says its request's method, path, status and latency. Compared recordings are aligned
on their first request, so a server that took longer to start does not look slower. A demo's
recordings are drawn as the replay shows them, their side names and bookmarks in the language
asked for (``said_in``). Self-contained: no scripts, no external fonts or images, nothing
fetched. ``timeline_svg`` is also what the HTML page embeds. Imports the spine and
``tracer.export``; ``tracer.demos`` only for a demo's recording.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from tracer import events as K
from tracer.errors import UsageError
from tracer.events import Event
from tracer.export import MAX_LANES, ExportOptions, default_output
from tracer.phases import ERROR, QUEUED, WAITING, PhaseSpan, event_dur, request_phases
from tracer.printable import printable
from tracer.recording import Recording, view_start
from tracer.summary import RequestSpan, alignment, first_request, request_spans

__all__ = [
    "timeline_svg",
    "export_svg",
    "figure_title",
    "figure_titles",
    "alignment",
    "demo_title",
    "number",
    "COLORS",
    "LEGENDS",
    "FONT",
    "SVG_NS",
    "MAX_LANES",
    "recording_lang",
    "said_in",
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
}
"""Phase -> fill colour (dark enough to read on a projector over white)."""

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
        ("bookmark", "bookmark"),
    ),
    "zh": (
        ("queued", "排队"),
        ("running", "运行（循环步骤，线程占用 CPU）"),
        ("waiting", "等待（线程阻塞于 I/O、锁或 GIL，await 挂起）"),
        ("cpu", "等待期间的 CPU 占用（线程轮流持有 GIL）"),
        ("sending", "发送"),
        ("blocked", "阻塞事件循环"),
        ("error", "错误（抛出异常、无响应或 5xx）"),
        ("violation", "协议违规"),
        ("bookmark", "书签"),
    ),
}
"""Language -> (colour key, text) in legend order."""

SHOWN: dict[str, str] = {
    "en": "{shown:,} of {total:,} requests shown",
    "zh": "显示 {total:,} 个请求中的 {shown:,} 个",
}
"""Language -> the note under lanes cut short (numbers as the summary table writes them)."""

EMPTY: dict[str, str] = {"en": "no requests recorded", "zh": "没有记录到请求"}
"""Language -> the note in place of the lanes of a recording without requests."""

TIPS: dict[str, dict[str, str]] = {
    "en": {
        "lane": "{who}: {status}, {latency}",
        "ms": "{} ms",
        "µs": "{} µs",
        "no status": "no response",
        "unfinished": "not finished",
    },
    "zh": {
        "lane": "{who}：{status}，{latency}",
        "ms": "{} 毫秒",
        "µs": "{} 微秒",
        "no status": "无响应",
        "unfinished": "未结束",
    },
}
"""Language -> the words of a lane's tooltip (``<title>``): request, status, latency."""

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
LABEL_ROW = 16
"""Height of each further row of bookmark labels (labels that would overlap stack up)."""
WAIT_H = 4
"""Height of a waiting stretch that held a thread (or a timed read): bolder than the lane's
thin line, far below a running bar."""
RIGHT = 10
"""Margin right of the time axis."""
MARK_W = 8
"""Width of a violation mark; violations closer than this on a lane share one."""
_SENDS = frozenset({K.ASGI_SEND, K.WSGI_BODY, K.WSGI_WRITE})


def text_width(text: str, size: int) -> float:
    """About how wide ``text`` is at font ``size`` (CJK glyphs are twice a Latin one's width)."""
    return sum(size if ord(ch) > 0x2E80 else 0.58 * size for ch in text)


def number(value: float) -> str:
    """A figure as the exports write it: thousands separated, one decimal from 10 up, three
    significant digits below (a 0.006 s run is not "0.0"; µs precision at most)."""
    if value == 0 or abs(value) >= 10:
        return f"{value:,.1f}"
    digits = min(6, 2 - math.floor(math.log10(abs(value))))
    text = f"{value:,.{digits}f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def demo_title(recording: Recording) -> str | None:
    """The title of the demo scenario that made ``recording`` (None for other recordings);
    recordings saved before demos stored it fall back to the command that made them."""
    demo = recording.header.get("demo")
    if isinstance(demo, dict) and demo.get("name"):
        return str(demo.get("title") or f"trace demo {demo['name']}")
    return None


def figure_title(recording: Recording, lang: str = "en") -> str:
    """The recording's title with "(simulated)" said in ``lang``, as shown: its label, app and
    server model come from the file, and a control character in them (``printable``) would
    make the SVG no well-formed XML (``html.escape`` leaves it) or drive a terminal."""
    return printable(recording.title_in(lang))


def figure_titles(recordings: Sequence[Recording], lang: str = "en") -> list[str]:
    """Each recording's ``figure_title``, told apart when two read the same (two runs of one
    app on one server, before and after a change): then by file name, ``title (a.jsonl)``;
    by path when the names match too; by number when even those do (one file twice)."""
    titles = [figure_title(r, lang) for r in recordings]
    if len(set(titles)) == len(titles):
        return titles
    names = [os.path.basename(r.path) if r.path else "" for r in recordings]
    if len(set(names)) < len(names):
        names = [r.path or "" for r in recordings]
    if len(set(names)) < len(names) or not all(names):
        names = [f"{i}" + (f": {name}" if name else "") for i, name in enumerate(names, 1)]
    return [
        f"{title} ({name})" if titles.count(title) > 1 else title
        for title, name in zip(titles, names, strict=True)
    ]


def marked_requests(recording: Recording) -> set[int]:
    """The requests the recording's bookmarks point at (``mark`` data ``req``)."""
    found = set()
    for e in recording.events:
        req = e.data.get("req") if e.kind == K.MARK and isinstance(e.data, dict) else None
        if isinstance(req, int) and not isinstance(req, bool):
            found.add(req)
    return found


@dataclass(slots=True)
class _Side:
    """One recording as the figure draws it."""

    recording: Recording
    lanes: list[tuple[int, list[Event]]]
    """(request, its events) for each lane drawn, in arrival order."""
    total: int
    """Requests in the recording."""
    shift: int
    """Subtracted from its times to align it (``alignment``)."""
    title: str
    """Its heading (``figure_titles``: told apart from the other's when they read the same)."""

    @property
    def capped(self) -> bool:
        """Some requests are not drawn."""
        return self.total > len(self.lanes)

    def end(self) -> int:
        """The last time the figure must show (aligned): the end of the drawn lanes and of the
        bookmarks. The rest of the run is not in the figure: requests past the lane cap, and a
        real server's lifespan shutdown after the load (40% of one figure was empty)."""
        events = [e for _, lane in self.lanes for e in lane]
        events += [e for e in self.recording.events if e.kind == K.MARK]
        return max((e.end for e in events), default=0) - self.shift


def _lanes(recording: Recording, max_lanes: int) -> tuple[list[tuple[int, list[Event]]], int]:
    """The first ``max_lanes`` requests by arrival, and any a bookmark points at."""
    grouped = recording.requests()
    spans = request_spans(recording.events)
    order = sorted((s.arrived if s.arrived is not None else 0, req) for req, s in spans.items())
    keep = {req for _, req in order[:max_lanes]} | (marked_requests(recording) & spans.keys())
    chosen = [(req, grouped.get(req, [])) for _, req in order if req in keep]
    return chosen, len(order)


def _rect(x: float, y: float, w: float, h: float, color: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return (
        f'<rect{attr} x="{x:.1f}" y="{y:.1f}" width="{max(w, 1.0):.1f}" height="{h}" '
        f'fill="{color}"/>'
    )


def _label_rows(
    marks: list[tuple[float, str]], width: int
) -> list[tuple[float, str, int, str, str]]:
    """Place bookmark labels (x of the line, text) so that none overlaps another: each goes
    on the lowest row with room, right of its line (left of it near the figure's right edge;
    a label too long for either side goes on the roomier one, cut short with "…").
    Returns (text x, text shown, row, text-anchor, whole text)."""
    rows: list[list[tuple[float, float]]] = []
    placed = []
    for x, whole in sorted(marks):
        room_right, room_left = width - 2 - (x + 4), x - 4 - 2
        label = whole
        if text_width(label, 13) > room_right:
            label = _fit(label, max(room_right, room_left), 13)
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


def _fit(text: str, room: float, size: int) -> str:
    """``text`` cut short with "…" to be at most ``room`` wide at font ``size``."""
    if text_width(text, size) <= room:
        return text
    while text and text_width(text + "…", size) > room:
        text = text[:-1]
    return text + "…"


def _block(
    side: _Side, top: float, width: int, t_span: tuple[int, int], lang: str
) -> tuple[list[str], float]:
    recording, shift = side.recording, side.shift
    t0, t_max = t_span
    scale = (width - GUTTER - RIGHT) / max(t_max - t0, 1)

    def x(t: int) -> float:
        # ``t`` in the recording's own time, drawn aligned (``shift``).
        return GUTTER + (t - shift - t0) * scale

    # A bookmark outside the drawn span stays on its edge. Its label is the recording's text,
    # shown with its control characters escaped (``figure_title``).
    marks = [
        (
            x(min(max(e.t, t0 + shift), t_max + shift)),
            printable(str(e.data.get("label", ""))) if isinstance(e.data, dict) else "",
        )
        for e in recording.events
        if e.kind == K.MARK
    ]
    placed = _label_rows(marks, width)
    head = HEAD + LABEL_ROW * max(0, max((row for _, _, row, _, _ in placed), default=0))
    parts = [
        f'<text x="4" y="{top + 16:.0f}" font-size="15" font-weight="bold">'
        f"{escape(side.title)}</text>"
    ]
    y = top + head
    spans = request_spans(recording.events)
    for req, events in side.lanes:
        tip = escape(_lane_tip(req, events, spans.get(req), lang))
        parts.append(f'<g class="lane" data-req="{req}"><title>{tip}</title>')
        parts.append(f'<text x="4" y="{y + LANE_H - 2:.0f}" font-size="11">#{req}</text>')
        parts += _lane_marks(request_phases(events, t_max + shift), x, y, scale)
        parts += _instant_sends(events, x, y)
        # On top of the phases, kept inside the drawn span as bookmarks are.
        parts += _violations(events, lambda t: min(max(x(t), GUTTER), width - RIGHT), y)
        parts.append("</g>")
        y += LANE_H + GAP
    if not side.total:
        parts.append(
            f'<text class="empty" x="{GUTTER}" y="{y + 12:.0f}" font-size="13" fill="#424242">'
            f"{EMPTY.get(lang, EMPTY['en'])}</text>"
        )
        y += 18
    lanes_end = y
    for mx, _ in marks:
        # The line ends with the lanes: the note below them is never crossed.
        parts.append(
            f'<line class="bookmark" x1="{mx:.1f}" y1="{top + head - 4:.1f}" x2="{mx:.1f}" '
            f'y2="{lanes_end:.1f}" stroke="{COLORS["bookmark"]}" stroke-width="2" '
            f'stroke-dasharray="5,3"/>'
        )
    for at, label, row, anchor, whole in placed:
        text = (
            f'<text class="bookmark-label" x="{at:.1f}" y="{top + head - 6 - row * LABEL_ROW:.1f}" '
            f'font-size="13" text-anchor="{anchor}" fill="{COLORS["bookmark"]}">'
            f"{escape(label)}</text>"
        )
        # A label cut short keeps its whole text as the viewer's tooltip.
        parts.append(text if label == whole else f"<g><title>{escape(whole)}</title>{text}</g>")
    if side.capped:
        parts.append(
            f'<text class="shown" x="{GUTTER}" y="{y + 12:.0f}" font-size="12" fill="#424242">'
            f"{SHOWN.get(lang, SHOWN['en']).format(shown=len(side.lanes), total=side.total)}"
            "</text>"
        )
        y += 18
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
            # A thread held but off the CPU (I/O, a lock, the GIL), or a timed read: waiting,
            # not running.
            parts.append(
                _rect(x(span.start), mid - WAIT_H / 2, width, WAIT_H, COLORS["waiting"], cls)
            )
            parts += _cpu_share(span, x, y, width)
        elif phase == QUEUED:
            parts.append(_rect(x(span.start), y + 3, width, LANE_H - 6, COLORS["queued"], cls))
        else:  # running, sending, blocked
            parts.append(_rect(x(span.start), y, width, LANE_H, COLORS[phase], cls))
    return parts


def _lane_tip(req: int, events: list[Event], span: RequestSpan | None, lang: str) -> str:
    """A lane's tooltip: ``#3 GET /items: 200, 164 µs`` (the status the client got and the
    latency, as the summary counts them; "no response", "not finished" where there is none)."""
    words = TIPS.get(lang, TIPS["en"])
    method = path = ""
    for kind in (K.REQUEST_START, K.REQUEST_QUEUED, K.CLIENT_SEND):
        data = next((e.data for e in events if e.kind == kind and isinstance(e.data, dict)), {})
        method, path = method or str(data.get("method") or ""), path or str(data.get("path") or "")
    status = span.outcome_status if span is not None else None
    finished = span.finished if span is not None else None
    arrived = span.arrived if span is not None else None
    latency = words["unfinished"]
    if finished is not None and arrived is not None:
        ns = finished - arrived
        unit = "ms" if ns >= 1_000_000 else "µs"
        latency = words[unit].format(number(ns / (1e6 if unit == "ms" else 1e3)))
    return words["lane"].format(
        who=printable(" ".join(part for part in (f"#{req}", method, path) if part)),
        status=status if status is not None else words["no status"],
        latency=latency,
    )


def _violations(events: list[Event], x: Callable[[int], float], y: float) -> list[str]:
    """The lane's protocol violations as the replay marks them: a ``!`` on gold at the time
    of each (those closer than a mark's width share one), its rules and messages in its
    ``<title>``, the rule ids in ``data-rules``."""
    groups: list[tuple[float, list[Event]]] = []
    for event in sorted((e for e in events if e.kind == K.VIOLATION), key=lambda e: e.t):
        at = x(event.t)
        if groups and at - groups[-1][0] < MARK_W:
            groups[-1][1].append(event)
        else:
            groups.append((at, [event]))
    parts = []
    for at, found in groups:
        data = [e.data if isinstance(e.data, dict) else {} for e in found]
        rules = [printable(str(d.get("rule") or "?")) for d in data]
        messages = [printable(str(d.get("message") or "")) for d in data]
        tip = "\n".join(
            f"{rule}: {message}" if message else rule
            for rule, message in zip(rules, messages, strict=True)
        )
        parts.append(
            f'<g class="violation" data-rules="{escape(" ".join(rules))}">'
            f"<title>{escape(tip)}</title>{_violation_mark(at, y)}</g>"
        )
    return parts


def _violation_mark(at: float, y: float) -> str:
    """The ``!`` on gold centred on ``at``, a lane high from ``y`` (lanes and legend)."""
    return (
        _rect(at - MARK_W / 2, y, MARK_W, LANE_H, COLORS["violation"], "violation-mark")
        + f'<text x="{at - 1.8:.1f}" y="{y + LANE_H - 2:.0f}" font-size="11" '
        f'font-weight="bold" fill="#000000">!</text>'
    )


def _cpu_share(span: PhaseSpan, x: Callable[[int], float], y: float, width: float) -> list[str]:
    """A waiting thread's share of the CPU as a bar that high from the lane's floor (the
    replay UI's ``▂▅█``): threads taking turns on the GIL compute part of the time, threads
    asleep in I/O next to none of it."""
    height = (span.cpu or 0.0) * LANE_H
    if span.kind != K.SCHED_THREAD or height < 1:
        return []
    return [
        _rect(
            x(span.start), y + LANE_H - height, width, round(height, 1), COLORS["cpu"], "cpu-share"
        )
    ]


def _instant_sends(events: list[Event], x: Callable[[int], float], y: float) -> list[str]:
    """Sends recorded without a duration (the simulator's) as hairlines, as a real run's
    sends of a few microseconds are drawn: the same app looks the same simulated or real."""
    return [
        _rect(x(e.t), y, 1.0, LANE_H, COLORS["sending"], "phase-sending")
        for e in events
        if e.kind in _SENDS and not event_dur(e)
    ]


def _axis(top: float, width: int, t_span: tuple[int, int]) -> list[str]:
    t0, t_max = t_span
    scale = (width - GUTTER - RIGHT) / max(t_max - t0, 1)
    step = _nice_step((t_max - t0) / 8)
    parts = [
        f'<line x1="{GUTTER}" y1="{top:.0f}" x2="{width - RIGHT}" y2="{top:.0f}" stroke="#212121"/>'
    ]
    t = -(-t0 // step) * step  # the first tick at or after the start
    while t <= t_max:
        px = GUTTER + (t - t0) * scale
        label = _format(t)
        # A label centred on a tick near the right edge would be cut: end it at the tick.
        anchor = "end" if px + text_width(label, 12) / 2 > width - 2 else "middle"
        parts.append(
            f'<line x1="{px:.1f}" y1="{top:.0f}" x2="{px:.1f}" y2="{top + 5:.0f}" '
            f'stroke="#212121"/><text x="{px:.1f}" y="{top + 18:.0f}" font-size="12" '
            f'text-anchor="{anchor}">{label}</text>'
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


def _legend(top: float, width: int, lang: str) -> tuple[list[str], float]:
    parts = []
    x = GUTTER
    for key, text in LEGENDS.get(lang, LEGENDS["en"]):
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
            mark = _violation_mark(x + 9, top)
        else:
            mark = _rect(x, swatch_y, 18, swatch_h, COLORS[key], "legend")
        parts.append(
            mark + f'<text x="{x + 24}" y="{top + 11:.0f}" font-size="13">{escape(text)}</text>'
        )
        x += advance
    return parts, top


def timeline_svg(
    recordings: Sequence[Recording],
    *,
    width: int = 1200,
    max_lanes: int = MAX_LANES,
    standalone: bool = True,
    lang: str = "en",
    title: str | None = None,
) -> str:
    """The recordings' request lanes on one shared time axis, as one ``<svg>`` element.

    Each recording is shifted so its first request sits where the first recording's does
    (``alignment``); the axis reads the first recording's times. ``max_lanes`` lanes are drawn
    per recording, plus any a bookmark points at; when some are left out, the axis ends with
    the drawn lanes instead of the whole run. ``standalone``: declare the SVG namespace, as a
    ``.svg`` file must; inline in HTML the element needs none (so the page holds no URL at all).
    A standalone figure is named by its ``<title>``: ``title``, else the recordings' titles
    ("A vs B"). A recording without requests says so in place of its lanes; a figure with
    nothing to draw has no axis and no legend.
    """
    sides = [
        _Side(recording, *_lanes(recording, max_lanes), shift, heading)
        for recording, shift, heading in zip(
            recordings, alignment(recordings), figure_titles(recordings, lang), strict=True
        )
    ]
    t_max = max((side.end() for side in sides), default=0)
    first = first_request(recordings[0]) if recordings else 0
    # A real server's recording opens on its start-up: begin where its requests do.
    t_span = (view_start(first, t_max), t_max)
    parts: list[str] = []
    if standalone:
        name = title or " vs ".join(side.title for side in sides)
        parts.append(f"<title>{escape(printable(name))}</title>")
    parts.append('<rect width="100%" height="100%" fill="#ffffff"/>')
    top = 0.0
    for side in sides:
        block, top = _block(side, top, width, t_span, lang)
        parts += block
    if any(side.lanes or any(e.kind == K.MARK for e in side.recording.events) for side in sides):
        parts += _axis(top + 4, width, t_span)
        legend, top = _legend(top + 34, width, lang)
        parts += legend
        top += 24
    height = top
    return (
        f'<svg{SVG_NS if standalone else ""} width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}" font-family="{escape(FONT)}" role="img">'
        f"{''.join(parts)}</svg>"
    )


def recording_lang(recording: Recording) -> str:
    """The language a demo recording was made in (``en`` otherwise)."""
    demo = recording.header.get("demo")
    lang = demo.get("lang") if isinstance(demo, dict) else None
    return lang if lang in LEGENDS else "en"


def said_in(
    recordings: Sequence[Recording], lang: str | None = None
) -> tuple[list[Recording], str, str]:
    """The recordings as the replay shows them in ``lang`` (None: the language the first was
    recorded in): a demo's side names and bookmarks said in it (``tracer.demos.language``),
    the caption that is true of them (``caption_of``: empty when no demo made them) and the
    language. ``UsageError`` for a language there are no texts in.

    The scenarios (and the server models they run) are imported only for a demo's recording,
    as the replay does: other exports never load them.
    """
    if lang is None:
        lang = recording_lang(recordings[0]) if recordings else "en"
    elif lang not in LEGENDS:
        raise UsageError(f'Unknown language "{lang}"; choose one of: {", ".join(LEGENDS)}.')
    if not any(isinstance(recording.header.get("demo"), dict) for recording in recordings):
        return list(recordings), "", lang
    from tracer.demos.language import caption_of, in_language

    return [in_language(r, lang) for r in recordings], caption_of(recordings, lang), lang


def export_svg(recording: Recording, options: ExportOptions, *, lang: str | None = None) -> str:
    """Write the recording (and ``options.compare``) as an SVG figure, its texts in ``lang``
    (None: the language the first recording was made in; ``said_in``)."""
    recordings, _, lang = said_in([recording, *options.compare], lang)
    title = demo_title(recordings[0])
    svg = timeline_svg(recordings, max_lanes=options.lanes, lang=lang, title=title)
    output = options.output or default_output(recording, ".svg")
    if output == "-":
        options.stdout.write(svg + "\n")
        return "SVG figure written to stdout"
    from tracer.export.html import write_text

    write_text(output, svg)
    return f"SVG figure written to {output}"
