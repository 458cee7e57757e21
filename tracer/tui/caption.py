"""``Caption``: the replay's caption pane (a demo's explanation, a bookmark's caption).

At most ``LINES`` lines, so the lanes keep the screen: a caption longer than that at the pane's
width shows its first lines, the last ending in "…" and the key that shows the rest (a bare cut
read as the whole caption, stopping mid-sentence). ``whole`` shows every line. A caption that
fits is drawn as it always was. Imports Rich, Textual and the spine's ``printable``.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.content import Content
from textual.widgets import Static

from tracer.printable import printable

__all__ = ["Caption", "LINES"]

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
        self._caption = Content.from_rich_text(_caption_text(text))
        self.set_class(not text, "hidden")

    def show(self, text: str) -> None:
        """Show ``text`` (hide the pane when it is empty)."""
        self._caption = Content.from_rich_text(_caption_text(text))
        self.set_class(not text, "hidden")
        self.refresh(layout=True)

    def toggle_whole(self) -> None:
        """Show every line of a long caption, or only its first ``LINES`` again."""
        self.whole = not self.whole
        self.refresh(layout=True)

    def shown(self, width: int) -> Content:
        """What the pane draws at ``width`` cells: the caption, or its first lines and "…"."""
        text = self._caption
        if self.whole or width <= 0:
            return text
        lines = text.wrap(width)
        if len(lines) <= LINES:
            return text
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


def _caption_text(caption: str) -> Text:
    """A caption as shown: a bookmark's comes from a recording's ``mark`` event, so its
    controls are escaped (a Static writes them to the terminal as they are); its own line
    breaks stay, captions being written in lines."""
    return Text(printable(caption, newlines=True))
