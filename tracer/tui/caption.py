"""``Caption``: the replay's caption pane (a demo's explanation, a bookmark's caption).

At most ``LINES`` lines, so the lanes keep the screen: a caption longer than that at the pane's
width shows its first lines, the last ending in "…" and the key that shows the rest (a bare cut
read as the whole caption, stopping mid-sentence). ``whole`` shows every line. A caption that
fits is drawn as it always was. Imports Rich, Textual and the spine's ``printable``.

Captions are wrapped here (``wrap_lines``), not by Textual, whose wrap breaks only at spaces:
a Chinese sentence has none, so a line ended at the first space and the next word was cut in
the middle. Here a line may break between any two CJK characters, but a number keeps its unit
(``600 毫秒``), closing punctuation never starts a line and opening punctuation never ends one
(simple kinsoku). The ``--screenshot`` SVG is this pane as drawn, so it wraps the same way.
"""

from __future__ import annotations

import re
from typing import Any

from rich.cells import cell_len, chop_cells
from textual.content import Content
from textual.widgets import Static

from tracer.printable import printable

__all__ = ["Caption", "LINES", "wrap_lines"]

LINES = 5
"""Lines a caption takes at most, unless shown whole."""

_HINT_STYLE = "#8a8a8a"
"""The key's hint after the ellipsis, as quiet as the status line's "? keys"."""


class Caption(Static):
    """The caption pane; ``more`` is the hint after the ellipsis (e.g. "c: more"). Hidden
    while its text is empty."""

    def __init__(self, text: str, more: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.more = more
        self.whole = False
        self._caption = _caption_text(text)
        self.set_class(not text, "hidden")

    def show(self, text: str) -> None:
        """Show ``text`` (hide the pane when it is empty)."""
        self._caption = _caption_text(text)
        self.set_class(not text, "hidden")
        self.refresh(layout=True)

    @property
    def text(self) -> str:
        """The caption shown, as written (its controls escaped), before it is wrapped."""
        return self._caption

    def toggle_whole(self) -> None:
        """Show every line of a long caption, or only its first ``LINES`` again."""
        self.whole = not self.whole
        self.refresh(layout=True)

    def shown(self, width: int) -> Content:
        """What the pane draws at ``width`` cells: the caption, or its first lines and "…"."""
        if width <= 0:
            return Content(self._caption)
        lines = [Content(line) for line in wrap_lines(self._caption, width)]
        if self.whole or len(lines) <= LINES:
            return Content("\n").join(lines)
        tail = Content("…") + Content.styled(f" {self.more}", _HINT_STYLE)
        if tail.cell_length >= width:
            tail = Content("…")
        last = lines[LINES - 1].rstrip().truncate(width - tail.cell_length)
        return Content("\n").join([*lines[: LINES - 1], last + tail])

    def render(self) -> Content:
        """The caption as it fits the pane's width."""
        return self.shown(self.content_size.width)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        """The lines ``shown`` takes at ``width``: measured at the width being laid out, not
        the pane's current one (which is the old one while the terminal is resized)."""
        return len(self.shown(width).wrap(width)) if width > 0 else 0


def _caption_text(caption: str) -> str:
    """A caption as shown: a bookmark's comes from a recording's ``mark`` event, so its
    controls are escaped (a Static writes them to the terminal as they are); its own line
    breaks stay, captions being written in lines."""
    return printable(caption, newlines=True)


_CLOSING = set("。，、；：！？）」』》〉】〕…’”%％,.;:!?)]}")
"""Never at the start of a line."""
_OPENING = set("（「『《〈【〔‘“([{")
"""Never at the end of a line."""
_UNITS = ("毫秒", "微秒", "纳秒", "分钟", "小时")
"""Units of two characters a number keeps whole (a one-character unit or measure word, 秒 个
倍, is kept by the rule for any character after a number)."""
_NUMBER = re.compile(r"[-+]?\d[\d,.]*[%×x]?")
_ATOM = re.compile(r"\s+|[^\s]")


def _wide(ch: str) -> bool:
    """A character a line may break before or after (CJK, full-width punctuation); ASCII
    punctuation belongs to the word it touches."""
    return cell_len(ch) == 2 or (ord(ch) > 0x2000 and (ch in _CLOSING or ch in _OPENING))


def _atoms(line: str) -> list[str]:
    """``line`` cut where a break may fall: spaces apart, every wide (CJK) character on its
    own, a run of other characters (a word, a number, ``time.sleep(0.1)``) whole."""
    atoms: list[str] = []
    for piece in _ATOM.findall(line):
        if atoms and not piece.isspace() and not _wide(piece):
            last = atoms[-1]
            if not last.isspace() and not _wide(last[-1]):
                atoms[-1] = last + piece
                continue
        atoms.append(piece)
    return atoms


def _glued(before: str, after: str) -> bool:
    """Whether no line may break between the word ``before`` and the word ``after`` (spaces
    between them or not)."""
    if after[0] in _CLOSING or before[-1] in _OPENING:
        return True
    # A number and its unit: "600 毫秒", "40 个", "1.1 秒".
    return bool(_NUMBER.fullmatch(before)) and cell_len(after[0]) == 2 and after not in _CLOSING


def _words(line: str) -> list[tuple[str, str]]:
    """(spaces before it, word) for each unbreakable word of ``line``."""
    atoms = _atoms(line)
    words: list[tuple[str, str]] = []
    space = ""
    for atom in atoms:
        if atom.isspace():
            space = atom
            continue
        if words:
            before = words[-1][1]
            unit = words[-1][1][-1:] + atom
            if _glued(before, atom) or (unit in _UNITS and _NUMBER.fullmatch(before[:-1].rstrip())):
                words[-1] = (words[-1][0], before + space + atom)
                space = ""
                continue
        words.append((space, atom))
        space = ""
    return words


def wrap_lines(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` cells: its own line breaks kept, then broken at
    spaces or between two CJK characters, never between a number and its unit, before closing
    or after opening punctuation. A word wider than a line is cut."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for index, (space, word) in enumerate(_words(paragraph)):
            if index == 0 or cell_len(line + space + word) <= width:
                line += space + word  # a paragraph's own indent stays
            else:
                out.append(line.rstrip())
                line = word
            if cell_len(line) > width:
                *whole, line = chop_cells(line, width)
                out.extend(whole)
        out.append(line.rstrip())
    return out
