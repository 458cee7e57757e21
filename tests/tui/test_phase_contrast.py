"""Every phase reads, and reads apart from the others, however the terminal shows colour.

What a cell shows is taken from the segments the lanes are drawn with, passed through what
shows them: Textual's ``NO_COLOR`` filter (``monochrome_style``) and Rich's reduction to 256
or 16 colours, read back as the RGB of Rich's default terminal theme. Under ``NO_COLOR`` a
blocked step's ``▚`` was #2e2e2e on the #121212 screen and an error's ``✖`` #404040; the worker
lanes had no glyphs, so running and waiting were two near grays (one white in 16 colours).
"""

from __future__ import annotations

import itertools

import pytest
from rich.color import Color, ColorSystem
from rich.segment import Segment
from rich.style import Style
from textual.filter import monochrome_style

from tracer.tui.lane import (
    ABANDONED,
    BLOCKED,
    ERROR,
    PHASE_NAMES,
    QUEUED,
    RUNNING,
    SENDING,
    WAITING,
    Lane,
    Span,
)
from tracer.tui.lane_strip import lane_segments

SCREEN = "#121212"
"""The timeline's background: the screen's, in Textual's dark theme."""

MODES = [
    (mono, system)
    for mono in (False, True)
    for system in (ColorSystem.TRUECOLOR, ColorSystem.EIGHT_BIT, ColorSystem.STANDARD)
]
"""Full colour, 256 and 16 colours; each also with ``NO_COLOR`` set."""

REQUEST_PHASES = (WAITING, ABANDONED, QUEUED, RUNNING, SENDING, BLOCKED, ERROR)
WORKER_PHASES = (WAITING, QUEUED, RUNNING, SENDING, BLOCKED, ERROR)


def _rgb(color: Color, mono: bool, system: ColorSystem) -> tuple[int, int, int]:
    style = Style(color=color)
    if mono:
        style = monochrome_style(style)
    assert style.color is not None
    shown = style.color.downgrade(system).get_truecolor()
    return (shown.red, shown.green, shown.blue)


def _contrast(one: tuple[int, int, int], other: tuple[int, int, int]) -> float:
    """WCAG's contrast ratio of two colours."""

    def luminance(rgb: tuple[int, int, int]) -> float:
        lin = [c / 255 / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    dark, light = sorted((luminance(one), luminance(other)))
    return (light + 0.05) / (dark + 0.05)


def _cell(segment: Segment, mono: bool, system: ColorSystem) -> tuple[str, tuple, tuple]:
    """A segment's first cell as shown: its glyph, foreground and background RGB."""
    style = segment.style
    assert style is not None and style.color is not None
    bg = style.bgcolor or Color.parse(SCREEN)
    return (segment.text[:1], _rgb(style.color, mono, system), _rgb(bg, mono, system))


def _request_cell(phase: int) -> Segment:
    lane = Lane("req:1", "#1", "request", [Span(0, 100, phase, 1)])
    return lane_segments(lane, 0, 10, 10)[0]


def _worker_cells(phase: int) -> list[Segment]:
    """A worker lane held by request 1 in one phase, wide enough for its id and some fill."""
    lane = Lane("thread:1", "w-0", "thread", [Span(0, 100, phase, 1)])
    return lane_segments(lane, 0, 10, 10, worker=True)


@pytest.mark.parametrize(("mono", "system"), MODES)
def test_request_lanes_glyphs_stand_out_and_apart(mono: bool, system: ColorSystem) -> None:
    """On a by-request lane each phase's glyph has a contrast of 3:1 or more on the screen,
    and no two phases look alike."""
    seen = {}
    for phase in REQUEST_PHASES:
        glyph, fg, bg = _cell(_request_cell(phase), mono, system)
        assert _contrast(fg, bg) >= 3, (PHASE_NAMES[phase], fg, bg)
        seen[PHASE_NAMES[phase]] = (glyph, fg)
    for one, other in itertools.combinations(seen, 2):
        assert seen[one] != seen[other], (one, other)


@pytest.mark.parametrize(("mono", "system"), MODES)
def test_worker_lanes_phases_stand_out_and_apart(mono: bool, system: ColorSystem) -> None:
    """On a by-worker lane the id and what fills the block read at 3:1 or more on its
    shade, and no two phases look alike: under ``NO_COLOR`` in 16 colours every shade is one
    gray, and the fill tells them apart."""
    seen = {}
    for phase in WORKER_PHASES:
        text = "".join(segment.text for segment in _worker_cells(phase))
        assert text.startswith(" 1 ") and len(text) == 10
        _, fg, bg = _cell(_worker_cells(phase)[0], mono, system)
        assert _contrast(fg, bg) >= 3, (PHASE_NAMES[phase], fg, bg)
        seen[PHASE_NAMES[phase]] = (text, fg, bg)
    for one, other in itertools.combinations(seen, 2):
        assert seen[one] != seen[other], (one, other)
