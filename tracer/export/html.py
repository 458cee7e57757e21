"""A recording (or two compared) as one self-contained HTML page for slides: ``--to html``.

The page holds the timelines as inline SVG lanes, a legend, the bookmarks, a summary table
(one column per recording) and, under a ``<details>``, each lane's request, status and latency
(its tooltip's words, for the keyboard and a screen reader), styled by inline CSS in large
type for a projector. Nothing is fetched: no scripts, no external stylesheets, fonts, images
or links, not even an ``http`` namespace. A demo's recordings say what the replay says of them, in the language asked for
(``tracer.export.titles.said_in``). Imports the spine and ``tracer.export``; ``tracer.demos``
only for a demo's recording.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from html import escape
from typing import Any

from tracer import events as K
from tracer.export import (
    MAX_LANES,
    ExportOptions,
    default_output,
    lanes_for,
    spread_lanes,
    writing,
)
from tracer.export.drawing import SHOWN_MAX, font_for, shown
from tracer.export.drawn import RunFacts, drawn_parts, shifts, undefined_figures
from tracer.export.numbers import number
from tracer.export.stream import RecordingFile, shell_of
from tracer.export.svg import STDOUT, drawn_lanes, timeline_svg
from tracer.export.titles import against, demo_title, figure_titles, said_in
from tracer.recording import Recording
from tracer.report import measures
from tracer.summary import request_spans, sample_sizes, summarize

__all__ = [
    "html_page",
    "export_html",
    "write_text",
    "static_caption",
    "SUMMARY_ROWS",
    "WHEN_ANY_ROWS",
]

KEY_HINTS = re.compile(r"\s*(?:Press [^.]*\.|按\s*[A-Za-z,.\[\]+\-←→↑↓][^。]*。)")
"""A caption's sentences telling the viewer which keys to press ("Press m, then space to
play.", "按 m，再按空格播放。"): true in the replay UI, meaningless on a page without a script."""

SUMMARY_ROWS: tuple[tuple[str, str, str], ...] = (
    ("requests", "requests", "请求"),
    ("completed", "completed", "完成"),
    ("errors", "errors", "错误"),
    ("rps", "requests per second", "每秒请求数"),
    ("latency_ms.p50", "latency p50 (ms)", "延迟 p50（毫秒）"),
    ("latency_ms.p99", "latency p99 (ms)", "延迟 p99（毫秒）"),
    ("queue_ms.p50", "queued p50 (ms)", "排队 p50（毫秒）"),
    ("max_in_flight", "max in flight", "最大并发"),
    ("loop_blocked_ms", "loop blocked (ms)", "事件循环被阻塞（毫秒）"),
    ("violations", "protocol violations", "协议违规"),
    ("wall_s", "wall time (s)", "总时长（秒）"),
)
"""(summary key, English label, Chinese label); dotted keys for nested figures. A percentile
is given only of a sample that measures it (``tracer.report.measures``), as the report gives
it: else ``NONE``."""

WHEN_ANY_ROWS: tuple[tuple[str, str, str], ...] = (
    ("cut_short", "cut short", "截断"),
    ("client_closed", "closed by client", "客户端主动关闭"),
    ("lifespan_failed", "lifespan", "lifespan"),
)
"""Rows after ``errors`` only when some recording's summary has their key (it has them only
when there are any): responses cut short, responses the client stopped reading on purpose
(``trace run --read-for`` / ``--read-bytes``; neither errors nor cut short) (each a count, 0
where there are none), a failed lifespan (``startup failed: <the app's message>``)."""

COUNTED_ROWS = frozenset({"cut_short", "client_closed"})
"""The ``WHEN_ANY_ROWS`` that are counts: 0 where the summary leaves the key out."""

LIFESPAN_FAILED: dict[str, dict[str, str]] = {
    "en": {"startup": "startup failed", "shutdown": "shutdown failed", "colon": ": ", "and": "; "},
    "zh": {"startup": "启动失败", "shutdown": "关闭失败", "colon": "：", "and": "；"},
}
"""Language -> the words of a failed lifespan's cell."""

NONE = "–"
"""A figure that does not exist: a latency with no request finished, a rate without requests."""

CAPTION_MAX = 4 * SHOWN_MAX
"""The most characters of a caption (a demo's, or a bookmark's) the page shows: a few
sentences, more than a title."""

LANE_TABLE: dict[str, dict[str, str]] = {
    "en": {
        "summary": "Each lane: request, status and latency",
        "lane": "lane",
        "request": "request",
        "status": "status",
        "latency": "latency",
    },
    "zh": {
        "summary": "各泳道：请求、状态与延迟",
        "lane": "泳道",
        "request": "请求",
        "status": "状态",
        "latency": "延迟",
    },
}
"""Language -> the words of the table of lanes (``_lane_tables``)."""

WRITTEN: dict[str, str] = {"en": "HTML page written to {where}", "zh": "HTML 页面已写入 {where}"}
"""Language -> what ``trace export`` says it did."""

_CSS = """
body {{ font-family: {font}; margin: 2rem; color: #111; background: #fff; font-size: 20px; }}
h1 {{ font-size: 2rem; margin: 0 0 .5rem; overflow-wrap: anywhere; }}
p.caption {{ font-size: 1.3rem; max-width: 70rem; line-height: 1.5; }}
figure {{ margin: 1rem 0; }}
figure svg {{ width: 100%; height: auto; }}
table {{ border-collapse: collapse; font-size: 1.1rem; margin-top: 1rem; }}
th, td {{ border: 1px solid #9e9e9e; padding: .35rem .8rem; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
ol.marks li {{ margin: .3rem 0; }}
details {{ margin-top: 1rem; }}
summary {{ cursor: pointer; }}
caption {{ text-align: left; font-weight: bold; }}
"""


def _figure(
    summary: dict[str, Any], key: str, undefined: frozenset[str], samples: dict[str, int]
) -> str:
    """The summary's figure at ``key`` (``number``), ``NONE`` for one in ``undefined`` or
    missing, or a percentile its sample (``samples``, by the figure's group) does not
    measure."""
    value: Any = summary
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    group, _, name = key.partition(".")
    if value is None or group in undefined:
        return NONE
    if name.startswith("p") and not measures(name, samples.get(group, 0)):
        return NONE
    if isinstance(value, bool):
        return escape(str(value))
    if isinstance(value, float):
        return number(value)
    return f"{value:,}" if isinstance(value, int) else escape(shown(value))


def _cell(
    summary: dict[str, Any],
    key: str,
    lang: str,
    undefined: frozenset[str],
    samples: dict[str, int],
) -> str:
    """One recording's cell of the row for ``key``: a failed lifespan in words, responses cut
    short or closed by the client as a count (none where the summary leaves the key out),
    else ``_figure``."""
    if key == "lifespan_failed":
        return _lifespan_cell(summary, lang)
    if key in COUNTED_ROWS:
        return f"{summary.get(key, 0):,}"
    return _figure(summary, key, undefined, samples)


def _lifespan_cell(summary: dict[str, Any], lang: str) -> str:
    """A recording's failed lifespans (``startup failed: <message>``), each phase and message
    once (every worker process runs its own lifespan, and fails alike), escaped; ``NONE``
    without any."""
    words = LIFESPAN_FAILED.get(lang, LIFESPAN_FAILED["en"])
    failures = summary.get("lifespan_failed")
    said: list[str] = []
    for failure in failures if isinstance(failures, list) else []:
        phase = failure.get("phase") if isinstance(failure, dict) else None
        if phase not in ("startup", "shutdown"):
            continue
        message = failure.get("message")
        text = words[phase] + (words["colon"] + shown(message) if message else "")
        if text not in said:
            said.append(text)
    return escape(words["and"].join(said)) if said else NONE


def _facts_of(
    recording: Recording, summary: dict[str, Any]
) -> tuple[frozenset[str], dict[str, int]]:
    """The summary figures that have nothing to be made of (``undefined_figures``), and how
    many values ``latency_ms`` and ``queue_ms`` are each of (``sample_sizes``)."""
    spans = request_spans(recording.events)
    return undefined_figures(spans, summary, _has_loop(recording)), sample_sizes(spans)


def _has_loop(recording: Recording) -> bool:
    """The app ran on an event loop: an ASGI app, a WSGI app on ``wsgi-on-loop``, or any
    recording with loop steps or blocks in it."""
    server = recording.header.get("server")
    model = server.get("model") if isinstance(server, dict) else None
    if recording.header.get("interface") != "wsgi" or model == "wsgi-on-loop":
        return True
    return any(e.kind in (K.SCHED_STEP, K.LOOP_BLOCKED) for e in recording.events)


def static_caption(caption: str) -> str:
    """``caption`` without its keyboard instructions (``KEY_HINTS``)."""
    return KEY_HINTS.sub("", caption).strip()


def _summary_table(
    recordings: Sequence[Recording], lang: str, facts: Sequence[RunFacts | None]
) -> str:
    summaries = [
        summarize(r) if f is None else f.summary for r, f in zip(recordings, facts, strict=True)
    ]
    found = [
        _facts_of(r, s) if f is None else (f.undefined, f.samples)
        for r, s, f in zip(recordings, summaries, facts, strict=True)
    ]
    # Header cells name their column, each row's first cell its row: a screen reader says
    # "requests, <recording>" with a cell, not the bare number.
    head = "".join(
        f'<th scope="col">{escape(title)}</th>' for title in figure_titles(recordings, lang)
    )
    rows = [f'<tr><th scope="col">{"摘要" if lang == "zh" else "summary"}</th>{head}</tr>']
    table_rows: list[tuple[str, str, str]] = []
    for row in SUMMARY_ROWS:
        table_rows.append(row)
        if row[0] == "errors":
            table_rows += [r for r in WHEN_ANY_ROWS if any(r[0] in s for s in summaries)]
    for key, english, chinese in table_rows:
        label = chinese if lang == "zh" else english
        cells = "".join(
            f"<td>{_cell(s, key, lang, none, samples)}</td>"
            for s, (none, samples) in zip(summaries, found, strict=True)
        )
        rows.append(f'<tr><th scope="row">{escape(label)}</th>{cells}</tr>')
    return f"<table>{''.join(rows)}</table>"


def _lane_tables(tables: list[tuple[str, list[tuple[str, str, str, str]]]], lang: str) -> str:
    """What each drawn lane's tooltip says (``drawn_lanes``), as a table per recording (its
    caption the recording's title, in a compare) under one ``<details>``: a tooltip is reached
    by a pointer only, a table by the keyboard and a screen reader's table commands."""
    if not any(rows for _, rows in tables):
        return ""
    words = LANE_TABLE.get(lang, LANE_TABLE["en"])
    head = "".join(
        f'<th scope="col">{escape(words[key])}</th>'
        for key in ("lane", "request", "status", "latency")
    )
    parts = []
    for title, rows in tables:
        caption = f"<caption>{escape(title)}</caption>" if len(tables) > 1 else ""
        body = "".join(
            f'<tr><th scope="row">{escape(number)}</th><td>{escape(what)}</td>'
            f"<td>{escape(status)}</td><td>{escape(latency)}</td></tr>"
            for number, what, status, latency in rows
        )
        parts.append(f'<table class="lanes">{caption}<tr>{head}</tr>{body}</table>')
    return f"<details><summary>{escape(words['summary'])}</summary>{''.join(parts)}</details>"


def _marks(
    recordings: Sequence[Recording], lang: str = "en", facts: Sequence[RunFacts | None] = ()
) -> str:
    """The bookmarks as a list, each at its time on the figure's (aligned) axis (a Chinese
    page puts it in full-width brackets and a full-width colon before the caption); in a compare, each says whose it is
    (the recording's title, as its lanes are headed)."""
    colon, comma = ("：", "，") if lang == "zh" else (": ", ", ")
    # The time in brackets, in the page's words ("毫秒" as the lanes' tooltips say it).
    when = "（{}{} 毫秒）" if lang == "zh" else " ({}{} ms)"
    titles = figure_titles(recordings, lang) if len(recordings) > 1 else [""] * len(recordings)
    items = []
    moved = shifts(recordings, list(facts) or [None] * len(recordings))
    for recording, shift, title in zip(recordings, moved, titles, strict=True):
        whose = f"{escape(title)}{comma}" if title else ""
        for e in recording.events:
            if e.kind == K.MARK:
                # The recording's text, as ``shown`` (``figure_title``).
                label = escape(shown(e.data.get("label", "")))
                caption = escape(shown(e.data.get("caption", ""), CAPTION_MAX))
                at = (e.t - shift) / 1e6
                said = when.format(whose, f"{at:,.1f}")
                items.append(
                    f"<li><b>{label}</b>{said}{colon}{caption}</li>"
                    if caption
                    else f"<li><b>{label}</b>{said}</li>"
                )
    return f'<ol class="marks">{"".join(items)}</ol>' if items else ""


def html_page(
    recordings: Sequence[Recording],
    *,
    title: str | None = None,
    caption: str = "",
    lang: str = "en",
    max_lanes: int = MAX_LANES,
    facts: Sequence[RunFacts | None] | None = None,
    spread: bool = False,
) -> str:
    """The whole page: heading, caption, timelines (inline SVG), bookmarks, summary and,
    folded away, a table of what each lane's tooltip says (``_lane_tables``).

    The caption loses its keyboard instructions: the page has no script to obey them; its
    line breaks stay. Title and caption (a saved demo's header holds them) are ``shown``:
    control characters as escapes, cut when too long. ``facts``: as ``timeline_svg`` takes
    them, for recordings that hold only the part of their run that is drawn; ``spread``:
    lanes spread over each run, as ``timeline_svg`` draws them.
    """
    found = list(facts) if facts is not None else [None] * len(recordings)
    titles = figure_titles(recordings, lang)
    heading = shown(title or against(titles, lang), SHOWN_MAX * (1 + len(titles)))
    body = [f"<h1>{escape(heading)}</h1>"]
    caption = shown(static_caption(caption), CAPTION_MAX, newlines=True)
    if caption:
        # A caption written in lines (one per recording shown) keeps them on the page.
        lines = "<br>\n".join(escape(line) for line in caption.splitlines())
        body.append(f'<p class="caption">{lines}</p>')
    # One recording headed by its own title: the page's heading says it once.
    headed = titles != [heading]
    svg = timeline_svg(
        recordings,
        standalone=False,
        lang=lang,
        max_lanes=max_lanes,
        headed=headed,
        facts=found,
        spread=spread,
    )
    body.append(f"<figure>{svg}</figure>")
    body.append(_marks(recordings, lang, found))
    body.append(_summary_table(recordings, lang, found))
    # Last: what the lanes' tooltips say, for the keyboard and a screen reader.
    lanes = drawn_lanes(recordings, max_lanes=max_lanes, lang=lang, facts=found, spread=spread)
    body.append(_lane_tables(lanes, lang))
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(heading)}</title>\n<style>{_CSS.format(font=font_for(lang))}</style>\n</head>\n<body>\n"
        + "\n".join(part for part in body if part)
        + "\n</body>\n</html>\n"
    )


def write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` (UTF-8); an unwritable path, or a disk that fills up, is a
    ``UsageError`` (``tracer.export.writing``)."""
    with writing(path, sys.stdout) as handle:
        handle.write(text)


def export_html(
    recording: Recording | RecordingFile, options: ExportOptions, *, lang: str | None = None
) -> str:
    """Write the recording (and ``options.compare``) as a self-contained HTML page, its texts
    in ``lang`` (None: the language the first recording was made in). A demo's recordings
    are said as the replay says them (``said_in``): the caption only what is true of the
    recordings shown, side names and bookmarks in ``lang``. A recording file is read in two
    passes, keeping only the lanes drawn (``tracer.export.drawn``)."""
    lanes = lanes_for(options.lanes, 1 + len(options.compare))
    spread = spread_lanes(options)
    drawn, facts = drawn_parts([recording, *options.compare], lanes, spread)
    recordings, caption, lang = said_in(drawn, lang)
    # The scenario's title in the page's language.
    title = demo_title(recordings[0])
    page = html_page(
        recordings,
        title=title,
        caption=caption,
        lang=lang,
        max_lanes=lanes,
        facts=facts,
        spread=spread,
    )
    output = options.output or default_output(shell_of(recording), ".html")
    said = WRITTEN.get(lang, WRITTEN["en"])
    if output == "-":
        options.stdout.write(page)
        return said.format(where=STDOUT.get(lang, STDOUT["en"]))
    write_text(os.fspath(output), page)
    return said.format(where=output)
