"""Readable output on a terminal or pipe whose encoding is not UTF-8.

Under ``LC_ALL=C`` (ASCII), ``PYTHONIOENCODING=latin-1`` or a legacy code page, standard
output cannot encode the report's glyphs (``·``, ``…``, box drawing, arrows, Chinese captions)
and Python raises ``UnicodeEncodeError`` in the middle of a report. ``fit_standard_streams``
registers one codecs error handler, ``STAND_INS``, and sets it on standard output and error
when their encoding is not a Unicode one: what the encoding cannot take is written as an ASCII
stand-in (``·`` ``.``, ``…`` ``...``, ``─`` ``-``, ``│`` ``|``, ``┼`` ``+``, ``✖`` ``x``, ``→``
``->``, ``é`` ``e``, full-width ``：`` ``:``) or, with none, as a ``\\u`` escape, as Python
writes standard error. Streams made later on the same descriptor copy the stream's ``errors``
(``tracer.cli.streams``), so they keep it. Rich, which draws the tables, already falls back
to ASCII boxes on such a stream by itself (its ``ascii_only`` option).

Text with no stand-in (Chinese captions of ``--lang zh``, an app's emoji) is written as
escapes rather than refused: the command's work (its recording, figures, verdict and exit code)
does not depend on the terminal, a CI job's log stays ASCII, and the escapes lose nothing. So
that a reader is not left with ``\\u6a21\\u62df`` and no reason, the command ends with one line on
standard error saying how many characters were escaped and how to get a UTF-8 output
(``escaped_note``, said at exit once a stream was fitted).

A full-screen UI cannot be drawn in stand-ins (its bars and lanes would not line up):
``no_ui_line`` says when the terminal cannot show it, and how to fix that, so a
command declines its UI as it does on ``TERM=dumb``.
Imports only ``tracer.printable`` of ours (its escapes).
"""

from __future__ import annotations

import atexit
import codecs
import os
import sys
from typing import Any

from tracer.printable import escape

__all__ = [
    "STAND_INS",
    "UI_GLYPHS",
    "fit_standard_streams",
    "fit_stream",
    "register",
    "encoding_fix",
    "escaped_note",
    "no_ui_line",
    "ui_shown",
    "stand_in",
    "ui_cannot_show",
]

STAND_INS = "tracer-stand-ins"
"""The name of the codecs error handler (``stream.reconfigure(errors=STAND_INS)``)."""

UI_GLYPHS = "█▚░▓╱━│┃…·→✖▁▇●"
"""Characters the replay and the live dashboard draw with: a terminal whose encoding cannot
take all of them cannot show the UI."""

# The error handlers a stream gets by default (strict; surrogateescape under the C locale;
# backslashreplace on stderr): one of these is replaced, one the user chose is left alone.
_DEFAULT_ERRORS = frozenset({"strict", "surrogateescape", "backslashreplace"})

_TABLE: dict[str, str] = {
    "·": ".",
    "•": "*",
    "●": "*",
    "…": "...",
    "‐": "-",
    "–": "-",
    "—": "-",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "×": "x",
    "÷": "/",
    "µ": "u",
    "±": "+-",
    "≈": "~",
    "≤": "<=",
    "≥": ">=",
    "≠": "!=",
    "→": "->",
    "←": "<-",
    "↔": "<->",
    "⇒": "=>",
    "↑": "^",
    "↓": "v",
    "▶": ">",
    "▸": ">",
    "◀": "<",
    "▲": "^",
    "▼": "v",
    "▾": "v",
    "✖": "x",
    "✗": "x",
    "✘": "x",
    "✓": "v",
    "✔": "v",
    "░": ".",
    "▒": ":",
    "▓": "%",
    "。": ". ",
    "、": ", ",
    "「": '"',
    "」": '"',
}


def _box(name: str) -> str:
    """The ASCII for a box-drawing character, from its Unicode name: a line across ``-``, a
    line down ``|``, a diagonal ``/`` or ``\\``, a corner or junction ``+``."""
    if "DIAGONAL" in name:
        return "X" if "CROSS" in name else "/" if "UPPER RIGHT" in name else "\\"
    words = set(name.split())
    across = bool(words & {"HORIZONTAL", "LEFT", "RIGHT"})
    down = bool(words & {"VERTICAL", "UP", "DOWN"})
    if across and not down:
        return "-"
    if down and not across:
        return "|"
    return "+"


def stand_in(char: str) -> str:
    """What ``char`` is written as where the encoding cannot take it: an ASCII stand-in, else
    its ``\\x``, ``\\u`` or ``\\U`` escape."""
    import unicodedata  # only once a character needs it: not on the way to a command

    found = _TABLE.get(char)
    if found is not None:
        return found
    code = ord(char)
    if 0x2500 <= code <= 0x257F:
        return _box(unicodedata.name(char, ""))
    if 0x2580 <= code <= 0x259F:  # block elements: bars and sparklines
        return "#"
    # Full-width forms (CJK punctuation), ligatures, "…": their compatibility form; accented
    # letters: the letter without its marks.
    for form in ("NFKC", "NFKD"):
        plain = unicodedata.normalize(form, char)
        plain = "".join(c for c in plain if not unicodedata.combining(c))
        if plain and plain.isascii() and plain.isprintable():
            # A full-width comma or colon takes two cells: with a space after, text after
            # it stays where it was, and reads as Latin punctuation does.
            wide = unicodedata.east_asian_width(char) in ("F", "W")
            return plain + " " if wide and plain in ",:;.!?" else plain
    return escape(char)


_escaped: dict[str, int] = {}
"""By the encoding that could not take them, how many characters were written as escapes
(no stand-in): ``escaped_note`` says so."""


def _handle(error: UnicodeError) -> tuple[str | bytes, int]:
    """The error handler: the first character the encoding could not take, as its stand-in;
    the codec calls again for the next. A byte ``surrogateescape`` decoded (a file name read
    under the C locale) is written back as that byte, as that handler would."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    char = error.object[error.start]
    if 0xDC80 <= ord(char) <= 0xDCFF:
        return bytes([ord(char) - 0xDC00]), error.start + 1
    written = stand_in(char)
    if written.startswith("\\"):  # an escape: the reader cannot read it as it is
        _escaped[error.encoding] = _escaped.get(error.encoding, 0) + 1
    return written, error.start + 1


def register() -> str:
    """Register the ``STAND_INS`` error handler (again is harmless); return its name."""
    codecs.register_error(STAND_INS, _handle)
    return STAND_INS


def _unicode(encoding: str | None) -> bool:
    """Whether ``encoding`` is one of UTF-8, -16, -32 (any character goes); an unknown name
    counts as one, as there is nothing to fit it to."""
    try:
        return codecs.lookup(encoding or "utf-8").name.startswith("utf")
    except LookupError:
        return True


def fit_stream(stream: Any) -> bool:
    """Give ``stream`` the ``STAND_INS`` handler when its encoding is not a Unicode one and
    its errors are Python's default (a handler the user chose, ``PYTHONIOENCODING=ascii:replace``,
    stays); True if it did. Anything but a text stream that can be reconfigured is left."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is None or _unicode(getattr(stream, "encoding", None)):
        return False
    if getattr(stream, "errors", None) not in _DEFAULT_ERRORS:
        return False
    try:
        reconfigure(errors=register())
    except (OSError, ValueError):  # closed, or not reconfigurable after all
        return False
    return True


def fit_standard_streams() -> None:
    """Fit standard output and error, and the process's own when they were swapped (a test's
    capture): call it once as a command starts, before anything is printed."""
    fitted = False
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        if stream is not None:
            fitted |= fit_stream(stream)  # a second time for the same stream finds it fitted
    if fitted:
        atexit.unregister(_say_escaped)  # once, however often a process runs commands
        atexit.register(_say_escaped)


def escaped_note() -> str | None:
    """The line that says how many characters an output's encoding could not take, written
    as escapes, and how to see them; None when there were none."""
    if not _escaped:
        return None
    encoding, count = max(_escaped.items(), key=lambda item: item[1])
    were = "character was" if count == 1 else "characters were"
    return (
        f"trace: note: {count:,} {were} written as \\u escapes: the output's encoding "
        f"({encoding}) cannot show them; to see them, {encoding_fix()}."
    )


def _say_escaped() -> None:
    for stream in (sys.stdout, sys.__stdout__):  # text still in their buffers is encoded now
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    line = escaped_note()
    _escaped.clear()
    if line is None or sys.stderr is None:
        return
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):  # standard error closed, or a pipe nobody reads any more
        pass


def _can_take(encoding: str | None, text: str) -> bool:
    try:
        text.encode(encoding or "utf-8")
    except UnicodeEncodeError:
        return False
    except LookupError:
        return True
    return True


def ui_cannot_show(stream: Any = None) -> str | None:
    """The encoding of ``stream`` (where the UI draws: the process's standard error by default,
    as Textual's) when it cannot take the UI's characters; None when it can."""
    stream = sys.__stderr__ if stream is None else stream
    encoding = getattr(stream, "encoding", None)
    if stream is None or _can_take(encoding, UI_GLYPHS):
        return None
    return str(encoding)


def encoding_fix() -> str:
    """How to give ``trace`` a UTF-8 terminal, for a message: PYTHONIOENCODING wins over the
    locale and UTF-8 mode, so when it is set it is the one to change."""
    if os.environ.get("PYTHONIOENCODING"):
        return "unset PYTHONIOENCODING or set it to utf-8"
    return "use a UTF-8 locale (e.g. LC_ALL=C.UTF-8) or set PYTHONUTF8=1"


def ui_shown(instead: str) -> bool:
    """Whether the UI can be shown on this terminal's encoding; if not, ``no_ui_line`` is
    printed on stderr first (``instead``: what the command does without it)."""
    line = no_ui_line(instead)
    if line is None:
        return True
    print(line, file=sys.stderr)
    return False


def no_ui_line(instead: str) -> str | None:
    """The line a command prints on stderr when it goes on without its UI because the
    terminal's encoding cannot show it (``instead``: what it does), as ``TERM=dumb`` has one;
    None when the UI can be shown."""
    encoding = ui_cannot_show()
    if encoding is None:
        return None
    return (
        f"trace: the terminal's encoding ({encoding}) cannot show the UI, {instead}; "
        f"for the UI, {encoding_fix()}"
    )
