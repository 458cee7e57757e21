"""The replay's phases are told apart by colour, in grayscale and on a 256-colour terminal, as
well as by glyph (the figures' colours where a dark terminal allows)."""

from __future__ import annotations

import itertools

from rich.color import Color, ColorSystem
from textual.color import Color as TextualColor

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
    """The gray a colour shows as with ``NO_COLOR`` set (Textual's ``Color.monochrome``)."""
    return float(TextualColor.parse(colour).monochrome.r)


def test_no_two_phases_share_a_colour_or_a_gray() -> None:
    """Waiting and sending were #5f87d7 and #af5fd7: distinct hues, one gray (132 and 121 in
    Textual's monochrome). Grays a step of a 256-colour terminal's gray ramp (10) apart and
    more, so ``NO_COLOR`` there keeps them apart too."""
    pairs = itertools.combinations(PHASES, 2)
    for one, other in pairs:
        names = (PHASE_NAMES[one], PHASE_NAMES[other])
        assert COLOURS[one].lower() != COLOURS[other].lower(), names
        assert abs(luminance(COLOURS[one]) - luminance(COLOURS[other])) >= 12, names
        for system in (ColorSystem.EIGHT_BIT, ColorSystem.STANDARD):
            # A 256- or 16-colour terminal shows the nearest of its colours: still one each.
            near = [Color.parse(COLOURS[c]).downgrade(system).number for c in (one, other)]
            assert near[0] != near[1], (names, system)


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
