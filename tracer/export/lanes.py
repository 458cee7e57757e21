"""One request's lane of the SVG figure, drawn as the replay UI draws it.

Each stretch in the phase ``tracer.phases`` gives it: queued (grey), running a loop step or a
thread on the CPU (green), sending (blue, a hairline for a send that took no measurable time,
standing ``SEND_RISE`` above the lane as no other mark does: ``send_mark``),
a step that blocked the loop (vermillion, white dashes along it: ``blocked_mark``), waiting (a dark line: suspended on an await; a bolder one
where a thread sat blocked in I/O, on a lock or on the GIL, with a short green bar as high as
its share of the CPU), errors (a cross) and protocol violations (a ``!`` on gold at the
violation's time, its rules in the mark's ``<title>``) and, for a request the recording never
saw end, a ``?`` where its events stop (``incomplete_mark``); after a client gave up, the work
its app still did is light dashes up to the app's own end, over the waiting marks
(``abandoned_mark``). Every phase mark carries
``class="phase-<name>"``; the lane's ``<title>`` (a viewer's tooltip) says its request's
method, path, status and latency. Imports the spine and ``tracer.export`` helpers only.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from tracer import events as K
from tracer.events import Event
from tracer.export.drawing import COLORS, GUTTER, LANE_H, MARK_W, WAIT_H, rect, shown
from tracer.export.numbers import number
from tracer.phases import (
    BLOCKED,
    ERROR,
    QUEUED,
    SENDING,
    WAITING,
    PhaseSpan,
    event_dur,
    request_phases,
    unended,
)
from tracer.summary import RequestSpan

__all__ = [
    "ABANDONED_DASH",
    "SEND_RISE",
    "TIPS",
    "abandoned_mark",
    "blocked_mark",
    "incomplete_mark",
    "lane",
    "lane_facts",
    "lane_tip",
    "send_mark",
    "phase_marks",
    "violations",
    "violation_mark",
]

TIPS: dict[str, dict[str, str]] = {
    "en": {
        "lane": "{who}: {status}, {latency}",
        "ms": "{} ms",
        "µs": "{} µs",
        "no status": "no response",
        "unfinished": "not finished",
        "incomplete": "not finished: nothing was recorded of it after this",
    },
    "zh": {
        "lane": "{who}：{status}，{latency}",
        "ms": "{} 毫秒",
        "µs": "{} 微秒",
        "no status": "无响应",
        "unfinished": "未结束",
        "incomplete": "未结束：此后没有它的记录",
    },
}
"""Language -> the words of a lane's tooltip (``<title>``): request, status, latency."""

_SENDS = frozenset({K.ASGI_SEND, K.WSGI_BODY, K.WSGI_WRITE})

ABANDONED_DASH = ' stroke-dasharray="4 3"'
"""How a waiting line is dashed where its client had given up (lanes and legend)."""

SEND_RISE = 2
"""How far a send stands out above its lane's top (into the gap between lanes, less than it).
In gray a send's blue and a running step's green are 1.67:1 apart, and a send is most often a
hairline beside a step's bar: its shape, not its colour, has to tell it apart."""


def send_mark(left: float, y: float, width: float, cls: str = "phase-sending") -> str:
    """A send from ``left``, ``width`` wide (at least a hairline), on the lane whose top is
    ``y``: as tall as the lane and ``SEND_RISE`` above it (lanes and legend)."""
    return rect(left, y - SEND_RISE, width, LANE_H + SEND_RISE, COLORS["sending"], cls)


def lane(
    req: int,
    events: list[Event],
    span: RequestSpan | None,
    *,
    x: Callable[[int], float],
    y: float,
    scale: float,
    end: int,
    right: float,
    lang: str,
    seen: set[str] | None = None,
) -> list[str]:
    """Request ``req``'s lane at ``y``, as one ``<g class="lane">`` (its parts in order).

    ``x`` maps a time of the recording to the figure, ``scale`` pixels a nanosecond; ``end``
    is the last time drawn, in the recording's own time (a request still open then is drawn
    up to it); ``right`` is the figure's right edge, which keeps the violation marks inside
    the drawn span as bookmarks are kept. ``span`` gives the tooltip its status and latency.
    ``seen`` collects the legend keys (``tracer.export.legend.LEGENDS``) of the marks drawn.
    """
    seen = set() if seen is None else seen
    tip = escape(lane_tip(req, events, span, lang))
    parts = [f'<g class="lane" data-req="{req}"><title>{tip}</title>']
    parts.append(f'<text x="4" y="{y + LANE_H - 2:.0f}" font-size="11">#{req}</text>')
    parts += phase_marks(request_phases(events, end), x, y, scale, seen)
    sends = _instant_sends(events, x, y)
    parts += sends
    # On top of the phases.
    marks = violations(events, lambda t: min(max(x(t), GUTTER), right), y)
    parts += marks
    seen.update(key for key, drawn in (("sending", sends), ("violation", marks)) if drawn)
    if unended(events):
        seen.add("incomplete")
        # Where what is known of it stops: the recording ends before the request does.
        at = min(max(x(max(e.end for e in events)), GUTTER), right - MARK_W)
        tip = escape(TIPS.get(lang, TIPS["en"])["incomplete"])
        parts.append(f'<g class="incomplete"><title>{tip}</title>{incomplete_mark(at, y)}</g>')
    parts.append("</g>")
    return parts


def incomplete_mark(at: float, y: float) -> str:
    """The ``?`` of a request with no end, from ``at`` on the lane at ``y`` (lanes and legend):
    its last event is there, and nothing after it was recorded."""
    return (
        f'<text class="incomplete-mark" x="{at + 1:.1f}" y="{y + LANE_H - 1:.0f}" '
        f'font-size="12" font-weight="bold" fill="{COLORS["incomplete"]}">?</text>'
    )


def phase_marks(
    phases: list[PhaseSpan],
    x: Callable[[int], float],
    y: float,
    scale: float,
    seen: set[str] | None = None,
) -> list[str]:
    """One request's phase spans (in paint order) as SVG marks on the lane at ``y``; the
    legend keys of those that show are added to ``seen``."""
    parts: list[str] = []
    seen = set() if seen is None else seen
    mid = y + LANE_H / 2
    for span in _abandoned_over_waiting(phases):
        phase, width = span.phase, (span.end - span.start) * scale
        cls = f"phase-{phase}"
        key = _legend_key(span, phases, scale)
        if key is not None and (span.end > span.start or phase in (ERROR, SENDING)):
            seen.add(key)
        if phase == ERROR:
            parts.append(
                f'<text class="{cls}" x="{x(span.start) - 4:.1f}" y="{y + LANE_H - 1:.0f}" '
                f'font-size="13" fill="{COLORS["blocked"]}">✖</text>'
            )
        elif span.end <= span.start and phase == SENDING:
            # A chunk handed straight on (a simulated stream): a hairline, as an instant send.
            parts.append(send_mark(x(span.start), y, 1.0, cls))
        elif span.end <= span.start:
            continue  # nothing to see: a zero-length stretch
        elif phase == WAITING and span.kind == K.REQUEST_END:
            parts.append(abandoned_mark(x(span.start), x(span.end), mid))
        elif phase == WAITING and span.kind is None:
            # The request in flight between the spans saying what it did (suspended, parked).
            parts.append(
                f'<line class="{cls}" x1="{x(span.start):.1f}" y1="{mid:.1f}" '
                f'x2="{x(span.end):.1f}" y2="{mid:.1f}" '
                f'stroke="{COLORS["waiting"]}" stroke-width="1.5"/>'
            )
        elif phase == WAITING:
            # A thread held but off the CPU (I/O, a lock, the GIL), or a timed read: waiting,
            # not running.
            parts.append(
                rect(x(span.start), mid - WAIT_H / 2, width, WAIT_H, COLORS["waiting"], cls)
            )
            share = _cpu_share(span, x, y, width)
            parts += share
            if share:
                seen.add("cpu")
        elif phase == QUEUED:
            parts.append(rect(x(span.start), y + 3, width, LANE_H - 6, COLORS["queued"], cls))
        elif phase == SENDING:
            parts.append(send_mark(x(span.start), y, width, cls))
        else:  # running, blocked
            parts.append(rect(x(span.start), y, width, LANE_H, COLORS[phase], cls))
            if phase == BLOCKED:
                parts.append(blocked_mark(x(span.start), width, mid))
    return parts


BLOCKED_MARK = "#ffffff"
"""The dashes along a blocked bar: 3.75:1 off its vermillion, so they show in a greyscale
print too, where blocked and running bars are 1.44:1 apart, and to a protanope (CIEDE2000 14
apart): colour is not the only thing telling a blocked loop from a running step."""


def blocked_mark(left: float, width: float, mid: float, cls: str = "blocked-mark") -> str:
    """White dashes along the middle of the blocked bar from ``left``, ``width`` wide (drawn as
    ``rect`` draws the bar: at least 1 px), on the lane whose middle is ``mid`` (lanes and
    legend)."""
    start = round(left, 1)
    end = start + round(max(width, 1.0), 1)
    return (
        f'<line class="{cls}" x1="{start:.1f}" y1="{mid:.1f}" x2="{end:.1f}" y2="{mid:.1f}" '
        f'stroke="{BLOCKED_MARK}" stroke-width="2" stroke-dasharray="3 3"/>'
    )


def abandoned_mark(
    left: float, right: float, mid: float, cls: str = "phase-waiting abandoned"
) -> str:
    """The work an app still did after its client gave up, from ``left`` to ``right`` on the
    lane whose middle is ``mid`` (lanes and legend): light dashes as tall as a held thread's
    bar, so they show over that bar (the thread was still held) as over the white lane, as
    the replay draws it apart from waiting (a dashed line, a lighter gray)."""
    return (
        f'<line class="{cls}" x1="{left:.1f}" y1="{mid:.1f}" '
        f'x2="{right:.1f}" y2="{mid:.1f}" stroke="{COLORS["abandoned"]}" '
        f'stroke-width="{WAIT_H}"{ABANDONED_DASH}/>'
    )


def _abandoned_over_waiting(phases: list[PhaseSpan]) -> list[PhaseSpan]:
    """``phases`` in paint order with the abandoned work after every other waiting mark: a
    thread's bar that starts later (a second stretch) is under it, not over it."""
    tail = [p for p in phases if p.phase == WAITING and p.kind == K.REQUEST_END]
    if not tail:
        return phases
    rest = [p for p in phases if not (p.phase == WAITING and p.kind == K.REQUEST_END)]
    at = max((i + 1 for i, p in enumerate(rest) if p.phase == WAITING), default=0)
    return rest[:at] + tail + rest[at:]


def _legend_key(span: PhaseSpan, phases: list[PhaseSpan], scale: float) -> str | None:
    """The legend entry that explains ``span``'s mark: its phase's, but for a waiting line
    (``awaiting``, ``abandoned``) and a held thread's bar (``waiting``). None for the in-flight
    line under a WSGI thread's bar: it shows nowhere, the bars over it explain themselves."""
    if span.phase != WAITING:
        return span.phase
    if span.kind == K.REQUEST_END:
        return "abandoned"
    if span.kind is not None:
        return WAITING
    # Uncovered for a pixel or more: the line shows between the bars.
    slack = 1 / scale if scale > 0 else 0
    reached = span.start
    for other in sorted((p for p in phases if p.kind not in (None, K.REQUEST_END)), key=_start):
        if other.phase == ERROR or other.end <= reached:
            continue
        if other.start - reached > slack:
            break
        reached = other.end
    return "awaiting" if span.end - reached > slack or reached == span.start else None


def _start(span: PhaseSpan) -> int:
    return span.start


def lane_tip(req: int, events: list[Event], span: RequestSpan | None, lang: str) -> str:
    """A lane's tooltip: ``#3 GET /items: 200, 164 µs`` (``lane_facts``, in ``TIPS``'s words)."""
    who, status, latency = lane_facts(req, events, span, lang)
    return TIPS.get(lang, TIPS["en"])["lane"].format(who=who, status=status, latency=latency)


def lane_facts(
    req: int, events: list[Event], span: RequestSpan | None, lang: str
) -> tuple[str, str, str]:
    """What a lane's tooltip says, apart: ``#3 GET /items``, the status the client got and the
    latency, as the summary counts them ("no response", "not finished" where there is none).
    Method and path are the recording's: as ``shown`` (a path of megabytes is cut)."""
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
    return (
        " ".join(part for part in (f"#{req}", shown(method), shown(path)) if part),
        shown(status) if status is not None else words["no status"],
        latency,
    )


def violations(events: list[Event], x: Callable[[int], float], y: float) -> list[str]:
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
        rules = [shown(d.get("rule") or "?") for d in data]
        messages = [shown(d.get("message") or "") for d in data]
        tip = "\n".join(
            f"{rule}: {message}" if message else rule
            for rule, message in zip(rules, messages, strict=True)
        )
        parts.append(
            f'<g class="violation" data-rules="{escape(" ".join(rules))}">'
            f"<title>{escape(tip)}</title>{violation_mark(at, y)}</g>"
        )
    return parts


def violation_mark(at: float, y: float) -> str:
    """The ``!`` on gold centred on ``at``, a lane high from ``y`` (lanes and legend)."""
    return (
        rect(at - MARK_W / 2, y, MARK_W, LANE_H, COLORS["violation"], "violation-mark")
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
        rect(
            x(span.start), y + LANE_H - height, width, round(height, 1), COLORS["cpu"], "cpu-share"
        )
    ]


def _instant_sends(events: list[Event], x: Callable[[int], float], y: float) -> list[str]:
    """Sends recorded without a duration (the simulator's) as hairlines, as a real run's
    sends of a few microseconds are drawn: the same app looks the same simulated or real."""
    return [send_mark(x(e.t), y, 1.0) for e in events if e.kind in _SENDS and not event_dur(e)]
