"""The key bindings of the replay, in one table, and the ``?`` screen that lists them.

``KEYS`` is the single source: the replay screen builds its bindings from it and the help
screen prints it, so the two cannot drift apart. Imports Textual, Rich and tracer.tui only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["Key", "KEYS", "bindings", "help_table", "ClauseFlow", "HelpScreen"]


class Key(NamedTuple):
    """One binding: the keys, what they look like in the help, the action, its label key."""

    keys: str
    shown: str
    action: str
    label: str


KEYS: tuple[Key, ...] = (
    Key("v", "v", "toggle_view", "key_view"),
    Key("space", "space", "toggle_play", "key_play"),
    Key("left_square_bracket", "[", "slower", "key_slower"),
    Key("right_square_bracket", "]", "faster", "key_faster"),
    Key("comma", ",", "prev_event", "key_prev_event"),
    Key("full_stop", ".", "next_event", "key_next_event"),
    Key("b", "b", "next_blocked", "key_next_blocked"),
    Key("m", "m", "next_mark", "key_next_mark"),
    Key("c", "c", "toggle_caption", "key_caption"),
    Key("plus,equals_sign", "+ =", "zoom_in", "key_zoom_in"),
    Key("minus", "-", "zoom_out", "key_zoom_out"),
    Key("0", "0", "fit", "key_fit"),
    Key("left,h", "← h", "pan(-1)", "key_pan_left"),
    Key("right,l", "→ l", "pan(1)", "key_pan_right"),
    Key("home", "home", "cursor_home", "key_home"),
    Key("end", "end", "cursor_end", "key_end"),
    Key("up,k", "↑ k", "select(-1)", "key_up"),
    Key("down,j", "↓ j", "select(1)", "key_down"),
    Key("pageup", "pgup", "select_page(-1)", "key_page_up"),
    Key("pagedown", "pgdn", "select_page(1)", "key_page_down"),
    Key("tab,shift+tab", "tab", "next_timeline", "key_next_timeline"),
    Key("enter", "enter", "toggle_detail", "key_detail"),
    Key("escape", "esc", "close_detail", "key_close"),
    # Shifted or capital, so the arrows and j/k keep the lanes (ctrl+u/d: many terminals keep
    # shift+pgup/pgdn to scroll their own history).
    Key("shift+up,K", "shift+↑ K", "scroll_detail(-1)", "key_detail_up"),
    Key("shift+down,J", "shift+↓ J", "scroll_detail(1)", "key_detail_down"),
    Key("shift+pageup,ctrl+u", "shift+pgup ctrl+u", "scroll_detail_page(-1)", "key_detail_page_up"),
    Key(
        "shift+pagedown,ctrl+d",
        "shift+pgdn ctrl+d",
        "scroll_detail_page(1)",
        "key_detail_page_down",
    ),
    Key("s", "s", "screenshot", "key_screenshot"),
    Key("question_mark", "?", "help", "key_help"),
    # Textual's own copy key (its ctrl+c is quit here), listed so the screen names every key.
    Key("super+c", "super+c", "copy_text", "key_copy"),
    # ctrl+q: Textual's own quit key, taken over so the list names it.
    Key("q,ctrl+q,ctrl+c", "q ctrl+q ctrl+c", "quit", "key_quit"),
)
"""Every key of the replay screen."""


def bindings() -> list[BindingType]:
    """Textual bindings for ``KEYS`` (shown in no footer: the help screen lists them)."""
    return [
        # Quitting comes before anything a widget does with the same keys (ctrl+c copies text).
        Binding(key.keys, key.action, key.label, show=False, priority=key.action == "quit")
        for key in KEYS
    ]


def help_table(labels: Mapping[str, str]) -> Table:
    """Two columns: keys, and what they do in the UI's language."""
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
    table.add_column(style="bold #00afd7", no_wrap=True)
    # Wrapped, never cut: Chinese has no spaces to wrap at, and a phrase longer than the
    # column was cut to "切换视图：按…" (its end wrapped on the next row); fold breaks it.
    table.add_column(overflow="fold")
    for key in KEYS:
        table.add_row(key.shown, labels[key.label])
    return table


_CLAUSE_END = re.compile(r"(?<=[；\s])(?=\S)")
"""Where a line may break: after a full-width semicolon (Chinese puts no space after it) or
after a space."""


class ClauseFlow:
    """``text`` wrapped between its clauses (after a ``；`` or a space), as many to a line as
    fit; a clause wider than the whole line is folded on its own. Chinese has no space to
    wrap at: Rich alone would cut the mouse note anywhere, even inside "ctrl"."""

    def __init__(self, text: str, style: str = "") -> None:
        self.clauses = _CLAUSE_END.split(text)
        self.style = style

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widest = max((cell_len(clause.rstrip()) for clause in self.clauses), default=0)
        return Measurement(min(widest, options.max_width), cell_len("".join(self.clauses)))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(1, options.max_width)
        line = ""
        for clause in self.clauses:
            if line and cell_len(line + clause.rstrip()) > width:
                yield Text(line.rstrip(), self.style)
                line = ""
            if cell_len(clause.rstrip()) > width:
                *whole, last = Text(clause.rstrip(), self.style).wrap(
                    console, width, overflow="fold"
                )
                yield from whole
                line = last.plain + clause[len(clause.rstrip()) :]
                continue
            line += clause
        if line.strip():
            yield Text(line.rstrip(), self.style)


class HelpScreen(ModalScreen[None]):
    """The ``?`` screen; ``?`` or escape closes it, and q, Ctrl-Q and Ctrl-C quit, as they do
    on the screen below (the help lists them: a key means one thing everywhere)."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: round #00afd7; background: $surface; padding: 0 1; }
    """
    BINDINGS = [
        Binding("question_mark,escape", "dismiss_help", "close", show=False, priority=True),
        # The app's quit, as the replay's (the live dashboard's replay included).
        Binding("q,ctrl+q,ctrl+c", "app.quit", "quit", show=False, priority=True),
    ]

    def __init__(self, labels: Mapping[str, str]) -> None:
        super().__init__()
        self.labels = labels

    def compose(self) -> ComposeResult:
        """Title, the table, then the mouse and speed notes."""
        with VerticalScroll():
            yield Static(Text(self.labels["help_title"], style="bold"))
            yield Static(help_table(self.labels))
            yield Static(
                Group(
                    ClauseFlow(self.labels["mouse"], "#8a8a8a"),
                    Text(self.labels["speed_note"], style="#8a8a8a"),
                )
            )

    def action_dismiss_help(self) -> None:
        """Close the help screen."""
        self.dismiss(None)
