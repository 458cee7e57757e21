"""A standalone figure's caption lines: what it shows and the numbers that make the point.

An SVG on a slide travels without the HTML page's table, so it says under its legend the
scenario's title and, a line per recording, its median latency,
throughput and wall time, in the figure's language, from the whole run (``RunFacts`` when the
figure was read in part). A median only of a sample that measures it
(``tracer.report.measures``), as the report and the page's table give it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tracer.export.drawing import shown
from tracer.export.drawn import RunFacts
from tracer.export.numbers import number
from tracer.recording import Recording
from tracer.summary import request_spans, sample_sizes, summarize

__all__ = ["key_numbers", "side_names", "WORDS", "PLACES"]

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "p50": "p50 {} ms",
        "rps": "{} req/s",
        "wall": "{} s in all",
        "comma": ", ",
        "colon": ": ",
    },
    "zh": {
        "p50": "p50 {} 毫秒",
        "rps": "每秒 {} 个请求",
        "wall": "共 {} 秒",
        "comma": "，",
        "colon": "：",
    },
}
"""Language -> the caption line's words (Chinese with full-width punctuation, no spaces
around it)."""


PLACES: dict[str, tuple[str, str]] = {"en": ("top", "bottom"), "zh": ("上", "下")}
"""Language -> what names the two recordings of a compare that have no label of their own."""


def side_names(recordings: Sequence[Recording], lang: str) -> list[str]:
    """What the caption calls each recording: its label (a demo side's, as shown), else its
    place in a compare of two (its heading is right above its lanes; said again, a long one
    would crowd the line), else its number; nothing for a figure of one (its heading says
    it)."""
    if len(recordings) < 2:
        return [""] * len(recordings)
    places = PLACES.get(lang, PLACES["en"])
    names = []
    for index, recording in enumerate(recordings):
        label = recording.header.get("label")
        if isinstance(label, str) and label:
            names.append(shown(label))
        elif len(recordings) == 2:
            names.append(places[index])
        else:
            names.append(str(index + 1))
    return names


def _side(recording: Recording, facts: RunFacts | None, lang: str) -> str:
    """One recording's numbers: ``p50 1,200.0 ms, 40.0 req/s, 2.5 s in all``."""
    from tracer.report import measures  # the report's rule; rich is loaded only when asked

    words = WORDS.get(lang, WORDS["en"])
    if facts is None:
        summary: dict[str, Any] = summarize(recording)
        samples = sample_sizes(request_spans(recording.events))
    else:
        summary, samples = facts.summary, facts.samples
    said = []
    p50 = summary.get("latency_ms", {}).get("p50")
    if isinstance(p50, (int, float)) and measures("p50", samples.get("latency_ms", 0)):
        said.append(words["p50"].format(number(p50)))
    if summary.get("requests"):
        for key in ("rps", "wall"):
            value = summary.get("rps" if key == "rps" else "wall_s")
            if isinstance(value, (int, float)):
                said.append(words[key].format(number(value)))
    return words["comma"].join(said)


def key_numbers(
    recordings: Sequence[Recording],
    facts: Sequence[RunFacts | None],
    names: Sequence[str],
    lang: str,
    title: str | None = None,
) -> list[str]:
    """The caption's lines: the title (when given), then ``name: numbers`` per recording
    (``names`` one per recording, as its lanes are headed) that has any."""
    words = WORDS.get(lang, WORDS["en"])
    sides = [
        f"{name}{words['colon']}{numbers}" if name else numbers
        for recording, found, name in zip(recordings, facts, names, strict=True)
        if (numbers := _side(recording, found, lang))
    ]
    return ([title] if title else []) + sides
