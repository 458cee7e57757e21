"""``offline_svg``: an SVG screenshot whose text runs are as wide as their terminal cells, and
that fetches nothing.

Rich's ``Console.export_svg`` (which Textual's screenshots use) places each run of text at its
cell offset but gives it ``textLength`` = characters x cell width (Textualize/rich#2742). A
browser honouring ``textLength`` then squeezes a run of CJK text, two cells a character, into
half its room (``cell_text_lengths``). Its ``@font-face`` rules also name Fira Code on a CDN,
which a browser fetches when the font is not installed: a screenshot opened offline (a lecture
room's projector) waits for them and logs errors, while the exports (HTML, SVG) fetch nothing
(``without_web_fonts``). And its text is set in ``Fira Code, monospace``: a renderer that reads
only the first family (cairosvg) falls back to a proportional font when Fira Code is not
installed, and the axis labels drift from their ticks; an installed monospace goes first
(``monospace_fonts``). Imports Rich only.
"""

from __future__ import annotations

import html
import re

from rich.cells import cell_len

__all__ = [
    "cell_text_lengths",
    "offline_svg",
    "without_web_fonts",
    "monospace_fonts",
    "MONO_FONTS",
    "CJK_MONO_FONTS",
]

MONO_FONTS = (
    '"DejaVu Sans Mono", "Liberation Mono", "Fira Code", Menlo, Consolas, "Courier New", monospace'
)
"""The screenshot's font families: monospace ones common on Linux, macOS and Windows, the
generic one last (a renderer reading only the first still gets a monospace font)."""

CJK_MONO_FONTS = (
    '"WenQuanYi Zen Hei Mono", "Noto Sans Mono CJK SC", "Sarasa Mono SC", ' + MONO_FONTS
)
"""A screenshot with wide (CJK) text: a monospace family with CJK glyphs first (in the first
family only, cairosvg would draw the Chinese as boxes)."""

_MATRIX_FONT = re.compile(r"(\.[\w-]+-matrix \{\s*font-family: )([^;]*)(;)")
"""The ``font-family`` of Rich's terminal text (its ``-matrix`` class)."""

_SIZED_TEXT = re.compile(r'(<text [^>]*?textLength=")([^"]*)("[^>]*>)([^<]*)(</text>)')
"""A ``<text>`` element with a ``textLength``, as Rich writes it: its content is escaped, so
it holds no ``<``, and its attribute values hold no ``>``."""


_WEB_FONT = re.compile(r',\s*url\("https?://[^"]*"\)\s*format\("[^"]*"\)')
"""One web source of an ``@font-face`` ``src`` list, with its comma: what is left is the
``local(...)`` font, and browsers fall back to a monospace one when it is not installed."""


def offline_svg(svg: str) -> str:
    """A Textual screenshot as it should be saved: text runs sized by cells, no web fonts, an
    installed monospace font first."""
    return monospace_fonts(without_web_fonts(cell_text_lengths(svg)))


def monospace_fonts(svg: str) -> str:
    """``svg`` with its terminal text set in ``MONO_FONTS`` (``CJK_MONO_FONTS`` when it holds
    wide characters) rather than Rich's ``Fira Code, monospace``."""
    wide = any(cell_len(char) > 1 for char in set(svg))
    families = CJK_MONO_FONTS if wide else MONO_FONTS
    return _MATRIX_FONT.sub(lambda match: match.group(1) + families + match.group(3), svg)


def without_web_fonts(svg: str) -> str:
    """``svg`` with the web sources of its ``@font-face`` rules left out (the local font
    names stay); any other ``url(...)`` (clip paths) is untouched."""
    return _WEB_FONT.sub("", svg)


def cell_text_lengths(svg: str) -> str:
    """``svg`` with each ``<text>``'s ``textLength`` counting the cells of its text, not its
    characters. Runs of single-width characters are left byte for byte as they are."""

    def fix(match: re.Match[str]) -> str:
        start, length, middle, content, end = match.groups()
        text = html.unescape(content)  # "&#160;" is one character and one cell, as is "&amp;"
        cells = cell_len(text)
        # A run of no cells (Rich writes each line's "\n" as one) is left alone: nothing to size.
        if cells == len(text) or cells == 0:
            return match.group(0)
        # The cell width Rich used, from the element itself: it wrote characters x width.
        width = float(length) / len(text)
        # Formatted as Rich formats its numbers ("g"), which also hides float noise.
        return f"{start}{format(width * cells, 'g')}{middle}{content}{end}"

    return _SIZED_TEXT.sub(fix, svg)
