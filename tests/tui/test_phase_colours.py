"""The replay's phases are told apart by colour, in grayscale and on a 256-colour terminal, as
well as by glyph (the figures' colours where a dark terminal allows)."""

from __future__ import annotations

import itertools

from rich.color import Color, ColorSystem

from tracer.tui.lane import (
    ABANDONED,
    BLOCKED,
    ERROR,
    PHASE_NAMES,
    QUEUED,
    RUNNING,
    SENDING,
    WAITING,
)
from tracer.tui.palette import COLOURS, GLYPHS, WORKER_STYLES

PHASES = (WAITING, ABANDONED, QUEUED, RUNNING, SENDING, BLOCKED, ERROR)


def luminance(colour: str) -> float:
    """The gray a colour prints as (the figures' rule, ``tracer.export.drawing``)."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.299 * red + 0.587 * green + 0.114 * blue


def test_no_two_phases_share_a_colour_or_a_gray() -> None:
    """Waiting and sending were #5f87d7 and #af5fd7: distinct hues, one gray (132 and 133)."""
    pairs = itertools.combinations(PHASES, 2)
    for one, other in pairs:
        names = (PHASE_NAMES[one], PHASE_NAMES[other])
        assert COLOURS[one].lower() != COLOURS[other].lower(), names
        assert abs(luminance(COLOURS[one]) - luminance(COLOURS[other])) >= 20, names
        # A 256-colour terminal shows the nearest xterm colour: still one each.
        near = [
            Color.parse(COLOURS[c]).downgrade(ColorSystem.EIGHT_BIT).number for c in (one, other)
        ]
        assert near[0] != near[1], names


def test_the_phases_wear_the_figures_colours_where_they_can() -> None:
    """Running green, sending blue as the figures; blocked red, waiting a neutral gray."""
    assert COLOURS[RUNNING] == "#66bb6a"
    assert COLOURS[SENDING] == "#1e88e5"
    red, green, blue = (int(COLOURS[BLOCKED][i : i + 2], 16) for i in (1, 3, 5))
    assert red > 2 * max(green, blue)
    red, green, blue = (int(COLOURS[WAITING][i : i + 2], 16) for i in (1, 3, 5))
    assert red == green == blue


def test_worker_lanes_keep_phases_apart_too() -> None:
    """Every shade of a worker lane belongs to one phase only."""
    owner = {}
    for (code, _shade), style in WORKER_STYLES.items():
        colour = style.bgcolor.name if style.bgcolor else None
        assert owner.setdefault(colour, code) == code, colour


def test_no_two_phases_share_a_glyph() -> None:
    glyphs = [GLYPHS[code] for code in PHASES]
    assert len(set(glyphs)) == len(glyphs)
