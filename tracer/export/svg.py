"""A recording (or two, compared on one time axis) as a static SVG figure: ``--to svg``.

Each recording is a block: its heading, one lane per request in arrival order
(``tracer.export.lanes``: phases as the replay UI gives them, errors, protocol violations, a
mark where a request the recording never saw end stops, and a tooltip per lane), its bookmarks as dashed verticals with their labels
(``tracer.export.bookmarks``); under the blocks a time axis (``tracer.export.axis``) and a
legend (``tracer.export.legend``). Compared recordings are aligned on their first request, so a
server that took longer to start does not look slower. A demo's recordings are drawn as the
replay shows them, their side names and bookmarks in the language asked for
(``tracer.export.titles.said_in``). Self-contained: no scripts, no external fonts or images,
nothing fetched. ``timeline_svg`` is also what the HTML page embeds. Imports the spine and
``tracer.export``; ``tracer.demos`` only for a demo's recording.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from tracer import events as K
from tracer.events import Event
from tracer.export import MAX_LANES, ExportOptions, default_output, lanes_for, spread_lanes
from tracer.export.axis import axis, tick_label
from tracer.export.bookmarks import bookmark_labels, bookmark_lines, bookmarks, label_rows
from tracer.export.drawing import (
    GAP,
    GUTTER,
    HEAD,
    LABEL_ROW,
    LANE_H,
    RIGHT,
    SHOWN_MAX,
    SVG_NS,
    fit_middle,
    font_for,
    shown,
)
from tracer.export.drawn import RunFacts, drawn_parts, lanes_chosen, shifts
from tracer.export.key_numbers import key_numbers, side_names
from tracer.export.lanes import lane, lane_facts
from tracer.export.legend import LEGENDS, legend
from tracer.export.stream import RecordingFile, shell_of
from tracer.export.titles import against, demo_title, figure_titles, said_in
from tracer.recording import Recording, view_start
from tracer.summary import RequestSpan, first_request, request_spans

__all__ = ["timeline_svg", "export_svg", "drawn_lanes"]

SHOWN: dict[str, str] = {
    "en": "{shown:,} of {total:,} requests shown",
    "zh": "显示 {total:,} 个请求中的 {shown:,} 个",
}
"""Language -> the note under lanes cut short (numbers as the summary table writes them)."""

SPREAD: dict[str, str] = {
    "en": "{shown:,} of {total:,} requests shown, spread over the whole run",
    "zh": "显示 {total:,} 个请求中的 {shown:,} 个，均匀取自整个运行过程",
}
"""Language -> the note under lanes spread over the run (``lanes_chosen``)."""


WRITTEN: dict[str, str] = {"en": "SVG figure written to {where}", "zh": "SVG 图已写入 {where}"}
"""Language -> what ``trace export`` says it did (``STDOUT``: where for ``-o -``)."""

STDOUT: dict[str, str] = {"en": "stdout", "zh": "标准输出"}

EMPTY: dict[str, str] = {"en": "no requests recorded", "zh": "没有记录到请求"}
"""Language -> the note in place of the lanes of a recording without requests."""

DESCRIBED: dict[str, dict[str, str]] = {
    "en": {
        "lanes": "Request lanes, one per request in arrival order, on a time axis of {span}.",
        "side": " {name}: {said}.",
        "alone": " {said}.",
        "all": "{total:,} requests",
        "one": "1 request",
        "marks": " Marks: {entries}.",
        "and": "; ",
    },
    "zh": {
        "lanes": "请求泳道：每个请求一条，按到达顺序排列，时间轴共 {span}。",
        "side": "{name}：{said}。",
        "alone": "{said}。",
        "all": "共 {total:,} 个请求",
        "one": "共 1 个请求",
        "marks": "图例：{entries}。",
        "and": "；",
    },
}
"""Language -> the words of the figure's ``<desc>``: what a screen reader says it shows (its
lanes, how many requests of each recording, the axis's span, what its marks mean), as the
tooltips of its lanes and its colours are not read out of an image."""


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
    spans: dict[int, RequestSpan]
    """Each request's instants (``request_spans``), found once for choosing and drawing lanes."""
    spread: bool = False
    """Its lanes are spread over the run (``lanes_chosen``), not its first requests."""

    @property
    def capped(self) -> bool:
        """Some requests are not drawn."""
        return self.total > len(self.lanes)

    def end(self) -> int:
        """The last time the figure must show (aligned): the end of the drawn lanes and of the
        bookmarks. The rest of the run is not in the figure: requests past the lane cap, and a
        real server's lifespan shutdown after the load (40% of one figure was empty)."""
        events = [e for _, drawn in self.lanes for e in drawn]
        events += [e for e in self.recording.events if e.kind == K.MARK]
        return max((e.end for e in events), default=0) - self.shift


def _side(
    recording: Recording,
    max_lanes: int,
    shift: int,
    title: str,
    total: int | None = None,
    spread: bool = False,
) -> _Side:
    """The recording as drawn: its first ``max_lanes`` requests by arrival (with ``spread``,
    as many spread over the run: ``lanes_chosen``), and any a bookmark points at. ``total``:
    the requests of the whole run, when ``recording`` holds only the part of it that is drawn
    (``tracer.export.drawn``, which chose the same lanes)."""
    grouped = recording.requests()
    spans = request_spans(recording.events)
    order = sorted((s.arrived if s.arrived is not None else 0, req) for req, s in spans.items())
    # A part read from a file holds only the lanes its first pass chose (and bookmarked ones).
    cut = total is not None and total > len(order)
    marked = marked_requests(recording) & spans.keys()
    chosen_here = (
        {req for _, req in order} if cut else lanes_chosen(order, max_lanes, spread, marked)
    )
    keep = chosen_here | marked
    chosen = [(req, grouped.get(req, [])) for _, req in order if req in keep]
    whole = len(order) if total is None else total
    return _Side(recording, chosen, whole, shift, title, spans, spread and whole > max_lanes)


def _block(
    side: _Side, top: float, width: int, t_span: tuple[int, int], lang: str, seen: set[str]
) -> tuple[list[str], float]:
    """One recording from ``top``: heading, lanes (or the note that there are none),
    bookmarks, and the note on lanes left out; returns them and where the next block starts.
    ``seen`` collects the legend keys of what it draws."""
    recording, shift = side.recording, side.shift
    t0, t_max = t_span
    scale = (width - GUTTER - RIGHT) / max(t_max - t0, 1)

    def x(t: int) -> float:
        # ``t`` in the recording's own time, drawn aligned (``shift``).
        return GUTTER + (t - shift - t0) * scale

    # A label is the recording's text: placed and drawn as ``shown`` (a label of a megabyte
    # made placing it take minutes).
    marks = [(at, shown(label)) for at, label in bookmarks(recording, x, t_span, shift)]
    placed = label_rows(marks, width)
    head = HEAD + LABEL_ROW * max(0, max((row for _, _, row, _, _ in placed), default=0))
    parts = []
    if side.title:
        # Bold glyphs run wider than ``text_width`` guesses: fit it at a larger size.
        fitted = fit_middle(side.title, width - 8, 17)
        whole = f"<title>{escape(side.title)}</title>" if fitted != side.title else ""
        parts.append(
            f'<text class="heading" x="4" y="{top + 16:.0f}" font-size="15" '
            f'font-weight="bold">{whole}{escape(fitted)}</text>'
        )
    y = top + head
    for req, events in side.lanes:
        parts += lane(
            req,
            events,
            side.spans.get(req),
            x=x,
            y=y,
            scale=scale,
            end=t_max + shift,
            right=width - RIGHT,
            lang=lang,
            seen=seen,
        )
        y += LANE_H + GAP
    if not side.total:
        parts.append(
            f'<text class="empty" x="{GUTTER}" y="{y + 12:.0f}" font-size="13" fill="#424242">'
            f"{EMPTY.get(lang, EMPTY['en'])}</text>"
        )
        y += 18
    if marks:
        seen.add("bookmark")
    parts += bookmark_lines(marks, top + head - 4, y)
    parts += bookmark_labels(placed, top + head - 6)
    if side.capped:
        said = SPREAD if side.spread else SHOWN
        parts.append(
            f'<text class="shown" x="{GUTTER}" y="{y + 12:.0f}" font-size="12" fill="#424242">'
            f"{said.get(lang, said['en']).format(shown=len(side.lanes), total=side.total)}"
            "</text>"
        )
        y += 18
    return parts, y + 8


def drawn_lanes(
    recordings: Sequence[Recording],
    *,
    max_lanes: int = MAX_LANES,
    lang: str = "en",
    facts: Sequence[RunFacts | None] | None = None,
    spread: bool = False,
) -> list[tuple[str, list[tuple[str, str, str, str]]]]:
    """Each recording's title (as ``figure_titles`` heads its lanes) and, for each lane
    ``timeline_svg`` draws of it with the same arguments, in the same order, what its tooltip
    says: ``#3``, ``GET /items``, the status and the latency (``lane_facts``). A page lists
    them where a keyboard and a screen reader reach them, which a tooltip is not."""
    found = list(facts) if facts is not None else [None] * len(recordings)
    drawn = []
    for recording, heading, fact in zip(
        recordings, figure_titles(recordings, lang), found, strict=True
    ):
        side = _side(recording, max_lanes, 0, heading, None if fact is None else fact.total, spread)
        rows = []
        for req, events in side.lanes:
            who, status, latency = lane_facts(req, events, side.spans.get(req), lang)
            number, _, what = who.partition(" ")
            rows.append((number, what, status, latency))
        drawn.append((heading, rows))
    return drawn


def timeline_svg(
    recordings: Sequence[Recording],
    *,
    width: int = 1200,
    max_lanes: int = MAX_LANES,
    standalone: bool = True,
    lang: str = "en",
    title: str | None = None,
    headed: bool = True,
    facts: Sequence[RunFacts | None] | None = None,
    spread: bool = False,
    caption: Sequence[str] = (),
) -> str:
    """The recordings' request lanes on one shared time axis, as one ``<svg>`` element.

    Each recording is shifted so its first request sits where the first recording's does
    (``alignment``); the axis reads the first recording's times. ``max_lanes`` lanes are drawn
    per recording, plus any a bookmark points at; when some are left out, the axis ends with
    the drawn lanes instead of the whole run. ``standalone``: declare the SVG namespace, as a
    ``.svg`` file must; inline in HTML the element needs none (so the page holds no URL at all).
    A standalone figure is named by its ``<title>``: ``title``, else the recordings' titles
    ("A vs B"). ``headed``: each recording's lanes under its title (a page that says the one
    recording's title above the figure needs it only once). A recording without requests says
    so in place of its lanes; a figure with nothing to draw has no axis and no legend.
    ``facts``: per recording, what is known of its whole run when it holds only the part that
    is drawn (``tracer.export.drawn``); None (or a None in it): found from its events.
    ``spread``: each recording's ``max_lanes`` lanes spread over its run (``lanes_chosen``), so
    the axis covers the whole run. ``caption``: lines under the legend (a standalone figure's
    title and key numbers, ``tracer.export.key_numbers``), each fitted to the width.

    For a screen reader the figure is an image (``role="img"``) described by its ``<desc>``
    (``DESCRIBED``) and named by its ``<title>``; inline (the page's heading above it), by
    its ``<desc>``.
    """
    found = list(facts) if facts is not None else [None] * len(recordings)
    moved = shifts(recordings, found)
    headings = figure_titles(recordings, lang)
    sides = [
        _side(recording, max_lanes, shift, heading, None if fact is None else fact.total, spread)
        for recording, shift, heading, fact in zip(recordings, moved, headings, found, strict=True)
    ]
    t_max = max((side.end() for side in sides), default=0)
    first = 0
    if recordings:
        first = first_request(recordings[0]) if found[0] is None else found[0].first
    # A real server's recording opens on its start-up: begin where its requests do.
    t_span = (view_start(first, t_max), t_max)
    parts: list[str] = []
    name = shown(
        title or against([side.title for side in sides], lang), SHOWN_MAX * (1 + len(sides))
    )
    parts.append('<rect width="100%" height="100%" fill="#ffffff"/>')
    top = 0.0
    seen: set[str] = set()
    for side in sides:
        if not headed:
            side.title = ""
        block, top = _block(side, top, width, t_span, lang, seen)
        parts += block
    if any(side.lanes or any(e.kind == K.MARK for e in side.recording.events) for side in sides):
        parts += axis(top + 4, width, t_span, lang)
        entries, top = legend(top + 34, width, lang, seen)
        parts += entries
        top += 24
    for line in caption:
        fitted = fit_middle(line, width - 8, 14)
        whole = f"<title>{escape(line)}</title>" if fitted != line else ""
        parts.append(
            f'<text class="caption" x="4" y="{top + 14:.0f}" font-size="14" fill="#212121">'
            f"{whole}{escape(fitted)}</text>"
        )
        top += 20
    height = top
    desc = _described(sides, side_names(recordings, lang), t_span, lang, seen)
    ident = "fig-" + hashlib.sha1((name + desc).encode()).hexdigest()[:10]
    # Named and described to a screen reader: an image's lanes, tooltips and colours are not
    # read out. The ids differ between figures, so several inline in one page do not clash.
    # Inline, the page's heading right above names it: its description is its name.
    labels = f'aria-labelledby="{ident}-desc"'
    head = f'<desc id="{ident}-desc">{escape(desc)}</desc>'
    if standalone:
        labels = f'aria-labelledby="{ident}-title" aria-describedby="{ident}-desc"'
        head = f'<title id="{ident}-title">{escape(name)}</title>{head}'
    return (
        f'<svg{SVG_NS if standalone else ""} width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}" font-family="{escape(font_for(lang))}" '
        f'lang="{escape(lang)}" xml:lang="{escape(lang)}" role="img" {labels}>'
        f"{head}{''.join(parts)}</svg>"
    )


def _described(
    sides: Sequence[_Side],
    names: Sequence[str],
    t_span: tuple[int, int],
    lang: str,
    seen: set[str],
) -> str:
    """The figure's ``<desc>`` (``DESCRIBED``): its lanes and axis, each recording's requests
    drawn (as the note under its lanes says it: ``SHOWN``, ``SPREAD``), named as the caption
    names it (``names``: ``side_names``), the legend's words of the marks it draws."""
    words = DESCRIBED.get(lang, DESCRIBED["en"])
    said = [words["lanes"].format(span=tick_label(t_span[1] - t_span[0], lang, digits=3))]
    for side, name in zip(sides, names, strict=True):
        note = SPREAD if side.spread else SHOWN
        count = (
            note.get(lang, note["en"]).format(shown=len(side.lanes), total=side.total)
            if side.capped
            else words["all"].format(total=side.total)
            if side.total > 1
            else words["one"]
            if side.total
            else EMPTY.get(lang, EMPTY["en"])
        )
        said.append((words["side"] if name else words["alone"]).format(name=name, said=count))
    entries = [text for key, text in LEGENDS.get(lang, LEGENDS["en"]) if key in seen]
    if entries:
        said.append(words["marks"].format(entries=words["and"].join(entries)))
    return shown("".join(said), SHOWN_MAX * (4 + len(sides)))


def figure_svg(
    recording: Recording | RecordingFile,
    options: ExportOptions,
    *,
    lang: str | None = None,
    width: int = 1200,
) -> tuple[str, str]:
    """The SVG figure of the recording (and ``options.compare``), ``width`` pixels wide, and
    the language its texts are in (``lang``; None: the first recording's, ``said_in``): its
    title, key numbers and lanes, as ``trace export --to svg`` writes it and
    ``tracer.notebook.show`` shows it. A recording file is read in two passes, keeping only
    the lanes drawn (``tracer.export.drawn``)."""
    lanes = lanes_for(options.lanes, 1 + len(options.compare))
    spread = spread_lanes(options)
    drawn, facts = drawn_parts([recording, *options.compare], lanes, spread)
    recordings, _, said = said_in(drawn, lang)
    title = demo_title(recordings[0])
    names = side_names(recordings, said)
    caption = key_numbers(recordings, facts, names, said, title)
    svg = timeline_svg(
        recordings,
        width=width,
        max_lanes=lanes,
        lang=said,
        title=title,
        facts=facts,
        spread=spread,
        caption=caption,
    )
    return svg, said


def export_svg(
    recording: Recording | RecordingFile, options: ExportOptions, *, lang: str | None = None
) -> str:
    """Write the recording (and ``options.compare``) as an SVG figure, its texts in ``lang``
    (None: the language the first recording was made in; ``said_in``): ``figure_svg``."""
    svg, lang = figure_svg(recording, options, lang=lang)
    output = options.output or default_output(shell_of(recording), ".svg")
    said = WRITTEN.get(lang, WRITTEN["en"])
    if output == "-":
        options.stdout.write(svg + "\n")
        return said.format(where=STDOUT.get(lang, STDOUT["en"]))
    from tracer.export.html import write_text

    write_text(output, svg)
    return said.format(where=output)
