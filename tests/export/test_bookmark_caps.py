"""Bookmark labels of any length cost what a short one does: ``bookmarks`` gives them as a
figure shows them (at most ``SHOWN_MAX`` characters), ``label_rows`` places no more than that
of a label it is given, and ``fit`` finds its cut by a binary search among the starts that
could fit, never by measuring each length of the whole label in turn (a label of a megabyte
took over ten minutes). The cuts themselves are those of the one-character-at-a-time search.
"""

from __future__ import annotations

import io
import random
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

import tracer.export.bookmarks as bookmarks_module
from tracer import events as K
from tracer.export import ExportOptions
from tracer.export.bookmarks import bookmarks, fit, label_rows
from tracer.export.drawing import SHOWN_MAX, fit_middle, text_width
from tracer.export.svg import export_svg
from tracer.recorder import Recorder
from tracer.recording import Recording

MEGABYTE = 1_000_000

BUDGET = 20_000
"""Characters measured, at most, to place or cut one label of a megabyte: a few short
candidates. Measuring the label whole once is already fifty times more."""


class _Measured:
    """``text_width`` as ``tracer.export.bookmarks`` calls it, counting the characters it is
    asked to measure; past ``BUDGET`` it fails at once, rather than let a quadratic search
    run for minutes."""

    def __init__(self) -> None:
        self.chars = 0

    def __call__(self, text: str, size: int) -> float:
        self.chars += len(text)
        if self.chars > BUDGET:
            raise AssertionError(f"measured {self.chars:,} characters of a bookmark label")
        return text_width(text, size)


@pytest.fixture
def measured(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Measured]:
    spy = _Measured()
    monkeypatch.setattr(bookmarks_module, "text_width", spy)
    yield spy


def _one_by_one(text: str, room: float, size: int) -> str:
    """The cut as it was first made: one character off the end at a time."""
    if text_width(text, size) <= room:
        return text
    while text and text_width(text + "…", size) > room:
        text = text[:-1]
    return text + "…"


def _middle_one_by_one(text: str, room: float, size: int) -> str:
    """``fit_middle`` as it was first made: a character off the longer half at a time."""
    if text_width(text, size) <= room:
        return text
    head, tail = len(text) // 2, len(text) - len(text) // 2
    while head + tail > 0 and text_width(text[:head] + "…" + text[-tail:], size) > room:
        if head >= tail:
            head -= 1
        else:
            tail -= 1
    return text[:head] + "…" + (text[-tail:] if tail else "")


@pytest.mark.parametrize("char", ["L", "排"])
def test_fit_cuts_a_megabyte_label_measuring_a_few_short_starts(
    measured: _Measured, char: str
) -> None:
    """The cut of a megabyte label is the one-by-one search's cut of its first few hundred
    characters, found measuring no more than ``BUDGET`` characters."""
    label = char * MEGABYTE
    cut = fit(label, 500, 13)
    assert measured.chars <= BUDGET
    assert cut == _one_by_one(label[:200], 500, 13)
    assert cut.endswith("…") and text_width(cut, 13) <= 500 < text_width(char + cut, 13)


def test_label_rows_places_a_megabyte_label_as_its_first_and_last_characters(
    measured: _Measured,
) -> None:
    """Placed beside a short one, a megabyte label is cut to the room right of its line;
    what it keeps whole for its tooltip is at most ``SHOWN_MAX`` characters, its start and
    end."""
    label = "a" * (MEGABYTE // 2) + "z" * (MEGABYTE // 2)
    placed = label_rows([(100.0, label), (600.0, "short")], 1_200)
    assert measured.chars <= BUDGET
    (at, shown, row, anchor, whole), short = placed
    assert (at, row, anchor) == (104.0, 0, "start")
    assert len(whole) == SHOWN_MAX and whole.startswith("aaa") and whole.endswith("zzz")
    assert "…" in whole and shown.endswith("…") and text_width(shown, 13) <= 1_200 - 2 - 104
    assert short[1:4] == ("short", 1, "start")  # the long one takes the first row's room


def _marked(label: str) -> Recording:
    """One request and a bookmark labelled ``label``."""
    rec = Recorder(
        start_ns=0, clock=lambda: 0, app="app", interface="asgi", server={"model": "loop"}
    )
    rec.emit(K.REQUEST_START, 1, {"method": "GET", "path": "/"}, t=1_000)
    rec.emit(K.SCHED_STEP, 1, {"cpu_ns": 10}, t=1_000, dur=500)
    rec.emit(K.MARK, None, {"label": label}, t=1_300)
    rec.emit(K.REQUEST_END, 1, {"status": 200}, t=2_000)
    return rec.recording()


def test_bookmarks_gives_each_label_as_a_figure_shows_it() -> None:
    """A megabyte label holding an escape sequence comes back as at most ``SHOWN_MAX``
    characters, its start and end, the control character written as an escape."""
    recording = _marked("\x1b[31m" + "L" * MEGABYTE + "!")
    [(_, label)] = bookmarks(recording, float, (0, 2_000), 0)
    assert len(label) <= SHOWN_MAX + 3  # ESC written as the four characters \x1b
    assert label.startswith("\\x1b[31mLLL") and label.endswith("LL!") and "…" in label


def test_a_megabyte_label_makes_a_small_figure(measured: _Measured) -> None:
    """The SVG figure of a recording with a megabyte bookmark label: a few kilobytes, the
    label cut short on the figure and in its tooltip."""
    out = io.StringIO()
    export_svg(_marked("L" * MEGABYTE), ExportOptions(output="-", stdout=out), lang="en")
    svg = out.getvalue()
    assert len(svg) < 20_000, len(svg)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    [label] = [t for t in root.iter(f"{ns}text") if t.get("class") == "bookmark-label"]
    assert (label.text or "").endswith("…") and len(label.text or "") < SHOWN_MAX
    assert measured.chars <= BUDGET


def test_the_cuts_are_those_of_the_one_by_one_search() -> None:
    """Random labels of Latin, CJK and mixed text, rooms from none to more than enough: the
    binary searches cut where the one-character-at-a-time searches did."""
    rng = random.Random(7)
    alphabet = "abcXYZ 0123/-_.:排队线程请求…ー"
    for _ in range(2_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 60)))
        size = rng.choice([12, 13, 15, 17])
        # A room exactly as wide as some start with its "…": the cut keeps that start.
        exact = text_width(text[: rng.randrange(0, len(text) + 1)] + "…", size)
        room = rng.choice([-5.0, 0.0, 3.0, rng.uniform(0, 500), float(rng.randrange(500)), exact])
        assert fit(text, room, size) == _one_by_one(text, room, size), (text, room, size)
        assert fit_middle(text, room, size) == _middle_one_by_one(text, room, size), (
            text,
            room,
            size,
        )
