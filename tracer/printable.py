"""Strings from a recording made safe to show: control characters as visible escapes.

A recording holds what apps and clients sent: a path ``/%1b]0;title%07`` decodes to an escape
sequence, and an exception message may carry one too. Printed as they are, they move the
cursor, clear the screen or retitle the terminal of whoever reads the report or opens the
replay, and an SVG or JUnit file holding them is not well-formed XML. Every place that shows a
recording's strings passes them through :func:`printable` first.
"""

from __future__ import annotations

__all__ = ["escape", "printable"]


def escape(char: str) -> str:
    """``char`` as a Python escape: ``\\x1b``, ``\\u202e``, ``\\U0001f600``."""
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: object, *, newlines: bool = False) -> str:
    """``text`` with every character Python calls unprintable (C0 and C1 controls, DEL, bidi
    overrides and other format characters, surrogates, noncharacters) written as a Python
    escape (``\\x1b``, ``\\u202e``); ``newlines`` keeps line feeds and tabs as they are.
    A value that is not a string (a recording read from elsewhere may hold a number where a
    message belongs) is shown as its ``str()``.

    Plain text (the usual case) is returned as the same object, after one C-level scan.
    """
    if not isinstance(text, str):
        text = str(text)
    if text.isprintable():
        return text
    keep = "\n\t" if newlines else ""
    return "".join(c if c.isprintable() or c in keep else escape(c) for c in text)
