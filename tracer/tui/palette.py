"""How each phase looks: a glyph and a colour, chosen to read on a laptop and on a projector.

Glyphs differ as well as colours, so the phases stay apart in monochrome (``NO_COLOR``) and for
colour-blind readers: a full block runs, a thin line waits, a dashed line is work its client
had given up on, a light shade queues, a dark shade sends, a checker blocks the loop, a cross
fails; no two phases share a glyph. Worker lanes fill their blocks with a glyph per phase
too (``WORKER_GLYPHS``). Imports only Rich and ``tracer.tui.lane`` (for the phase codes).
"""

from __future__ import annotations

from rich.style import Style

from tracer.tui.lane import ABANDONED, BLOCKED, ERROR, NONE, QUEUED, RUNNING, SENDING, WAITING

__all__ = [
    "GLYPHS",
    "COLOURS",
    "PHASE_STYLES",
    "WORKER_STYLES",
    "WORKER_GLYPHS",
    "MARKER_STYLE",
    "MARKER_GLYPH",
    "INCOMPLETE_STYLE",
    "INCOMPLETE_GLYPH",
    "IN_FLIGHT_STYLE",
    "IN_FLIGHT_GLYPH",
    "CURSOR_STYLE",
    "CURSOR_GLYPH",
    "LABEL_STYLE",
    "SELECTED_LABEL_STYLE",
    "ERROR_LABEL_STYLE",
    "BLANK_STYLE",
]

BLANK_STYLE = Style()
"""Empty cells: a style of their own, never none at all. With ``NO_COLOR`` set, Textual's
Monochrome filter reads the colour of every segment's style and fails on a segment without
one (``Strip.blank(width)``, ``Segment(text)``), so the UI gives every segment this one."""

GLYPHS: dict[int, str] = {
    NONE: " ",
    WAITING: "─",
    ABANDONED: "╌",  # the figures' dashed line
    QUEUED: "░",
    RUNNING: "█",
    SENDING: "▓",
    BLOCKED: "▚",  # not running's block: in monochrome both are grey
    ERROR: "✖",
}
"""Phase code -> the character a by-request lane draws it with (one per phase)."""

COLOURS: dict[int, str] = {
    NONE: "#808080",
    WAITING: "#b2b2b2",
    ABANDONED: "#eeeeee",
    QUEUED: "#ffd75f",
    RUNNING: "#66bb6a",
    SENDING: "#1e88e5",
    BLOCKED: "#ff6868",
    ERROR: "#ff6cff",
}
"""Phase code -> its colour (hex, so SVG snapshots do not depend on the terminal theme).

As the figures (``tracer.export.drawing.COLORS``) where a dark terminal allows: running their
green, sending their blue, blocked red; waiting is the figures' ink line, light gray here as
the ink of a dark screen is light, and abandoned work their dashes, in a lighter gray still
(the only lightness left free). Blocked is a light red and error a magenta, as a dark red or
pink goes nearly black in monochrome.

Each reads on the dark background (a contrast of 3:1 at least) however the terminal shows it:
in full colour, reduced to 256 or 16 colours, and in the grays of ``NO_COLOR`` (Textual's
``Color.monochrome``, ``0.2126 R + 0.7152 G + 0.0722 B``: sending 120, blocked 136, error 150,
running 163, waiting 178, queued 215, abandoned 238). No two phases share a colour, in 256 or
16 colours either, nor a gray: printed in grayscale they stay apart (the glyphs differ as
well)."""


PHASE_STYLES: dict[int, Style] = {
    code: Style(color=colour, bold=code == ERROR) for code, colour in COLOURS.items()
}
"""By-request lanes: the glyph in the phase colour."""

# Worker lanes draw requests as coloured blocks holding the request id; two shades per phase
# tell neighbouring requests apart. Black on every shade reads at 3:1 or more, in monochrome too.
_SHADES: dict[int, tuple[str, str]] = {
    WAITING: ("#b2b2b2", "#d0d0d0"),
    QUEUED: ("#ffd75f", "#ffeb9c"),
    RUNNING: ("#66bb6a", "#a5d6a7"),
    SENDING: ("#1e88e5", "#64b5f6"),
    BLOCKED: ("#ff6868", "#ffa8a8"),
    ERROR: ("#ff6cff", "#ffb0ff"),
}
WORKER_STYLES: dict[tuple[int, int], Style] = {
    (code, shade): Style(color="#000000", bgcolor=colours[shade])
    for code, colours in _SHADES.items()
    for shade in (0, 1)
}
"""(phase code, shade 0|1) -> the style of a worker-lane cell."""

WORKER_GLYPHS: dict[int, str] = {
    WAITING: "─",
    QUEUED: "░",
    RUNNING: " ",  # the block of colour itself
    SENDING: "»",
    BLOCKED: "▚",
    ERROR: "✖",
}
"""Phase code -> what fills a worker-lane block after its request id, in black on the shade.

Shades alone do not keep phases apart everywhere: in monochrome running and waiting are two
light grays, and 16 colours make both white. One glyph per phase does (no two share one)."""


MARKER_GLYPH = "!"
MARKER_STYLE = Style(color="#000000", bgcolor="#ffd700", bold=True)
"""A protocol violation on a request lane."""

INCOMPLETE_GLYPH = "?"
INCOMPLETE_STYLE = Style(color="#000000", bgcolor="#e65100", bold=True)
"""A request the recording never saw end, where its events stop (the figures' ``?`` and
colour)."""

IN_FLIGHT_GLYPH = "╱"
IN_FLIGHT_STYLE = Style(color="#87afaf")
"""A request still going in the live view, from where its events stop until now: hatched, in
a muted colour, as no phase is (nothing says yet whether it runs or waits)."""

CURSOR_GLYPH = "│"
CURSOR_STYLE = Style(color="#ffffff", bold=True)
"""The time cursor, drawn on every lane where the lane is idle (behind its cells)."""

LABEL_STYLE = Style(color="#c0c0c0")
SELECTED_LABEL_STYLE = Style(color="#000000", bgcolor="#00afd7", bold=True)
ERROR_LABEL_STYLE = Style(color="#ff5f5f")
