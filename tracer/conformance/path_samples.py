"""A value for a path parameter that its pattern matches, and a path for a whole route regex.

Route tables that say what a parameter takes by a regular expression (Bottle's ``re`` filter,
Sanic's pattern parameters and typed labels, Django's converters, Falcon's ``re`` converter)
get the first of a few plain values the pattern matches whole (``sample_matching``): ``1``,
``a``, ``1.0``, the nil UUID, an ISO date, then runs of ``1`` and ``a`` of the lengths tokens
and hashes have (``[0-9]{4}`` gets ``1111``). A route written as one regex (Django's
``re_path``) is filled group by group (``fill_regex``): each capturing group gets a value its
own pattern matches (a group of plain words, ``(?P<app>auth|sites)``, its first word), the
literal text between stays, optional parts are left out, and the result is kept only if the
whole regex matches it. No converter is called: a custom one is the app's code. Imports
nothing of ours but ``route_params``' nil UUID.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tracer.conformance.route_params import NIL_UUID

__all__ = ["CANDIDATES", "sample_matching", "fill_regex"]

_LENGTHS = (2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 36, 40, 64)
CANDIDATES: tuple[str, ...] = (
    "1",
    "a",
    "1.0",
    NIL_UUID,
    "2000-01-01",
    "2000-01-01T00:00:00",
    "a.txt",
    "a-1",
    "A",
    *(char * length for length in _LENGTHS for char in "1a"),
)
"""The values tried, in order: the first a pattern matches whole is the sample."""

_QUANTIFIER = re.compile(r"[?*+]\??|\{(\d*)(?:,(\d*))?\}\??")
# Escapes that stand for a class of characters: the value of one such character.
_CLASS_ESCAPES = {"d": "1", "w": "a", "s": None, "D": "a", "W": "-", "S": "a"}
_EMPTY_ESCAPES = frozenset("AbBZz")  # anchors and word boundaries: no character
_PLAIN_WORD = re.compile(r"[\w\-.~]+")


def sample_matching(pattern: str | re.Pattern[str], first: Iterable[str] = ()) -> str | None:
    """The first of ``first``, then of ``CANDIDATES``, that ``pattern`` matches whole; None
    when none does or the pattern does not compile."""
    try:
        compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
    except (re.error, TypeError, ValueError):
        return None
    for value in (*first, *CANDIDATES):
        if compiled.fullmatch(value):
            return value
    return None


def fill_regex(pattern: str | re.Pattern[str]) -> str | None:
    """A path ``pattern`` matches from its start (as Django's resolver matches each part), or
    None when it cannot be filled plainly."""
    try:
        compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
        filled = _fill(compiled.pattern)
    except (_Unfillable, re.error, RecursionError, TypeError, ValueError):
        return None
    return filled if compiled.match(filled) else None


class _Unfillable(Exception):
    """A construct with no plain value (a backreference, a whitespace class)."""


def _fill(source: str, depth: int = 0) -> str:
    """``source`` filled: its first alternative, atom by atom."""
    if depth > 8:
        raise _Unfillable
    out: list[str] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "|":
            break  # the first alternative is enough
        if char in "^$":
            i += 1
            continue
        atom, end = _atom(source, i)
        quantifier = _QUANTIFIER.match(source, end)
        after = quantifier.end() if quantifier else end
        least = _least(quantifier)
        if char == "(":
            value = "" if least == 0 else _group(atom, depth)
            out.append(value * max(least, 1) if value else "")
        elif least == 0 or not atom:
            pass  # an optional atom, an anchor: no character
        elif len(atom) == 1 and char not in ".[":
            out.append(atom * least)
        else:
            out.append(_atom_value(atom + source[end:after]))
        i = after
    return "".join(out)


def _atom(source: str, i: int) -> tuple[str, int]:
    """The atom starting at ``i`` (a group, a class, an escape, a character) as the text it
    stands for when literal, and where it ends."""
    char = source[i]
    if char == "(":
        end = _closing(source, i)
        return source[i : end + 1], end + 1
    if char == "[":
        end = _class_end(source, i)
        return source[i : end + 1], end + 1
    if char == "\\":
        if i + 1 >= len(source):
            raise _Unfillable
        escaped = source[i + 1]
        if escaped in _EMPTY_ESCAPES:
            return "", i + 2
        if escaped in _CLASS_ESCAPES or escaped.isdigit():
            return source[i : i + 2], i + 2
        return escaped, i + 2
    return char, i + 1


def _atom_value(text: str) -> str:
    """A value of one non-literal atom with its quantifier (``[0-9]{4}``, ``\\d+``, ``.``)."""
    if len(text) == 2 and text[0] == "\\" and text[1] in _CLASS_ESCAPES:
        value = _CLASS_ESCAPES[text[1]]
        if value is None:
            raise _Unfillable
        return value
    sample = sample_matching(text)
    if sample is None:
        raise _Unfillable
    return sample


def _group(group: str, depth: int) -> str:
    """A value of ``group`` (its parentheses included)."""
    body = group[1:-1]
    if body.startswith("?"):
        if body.startswith("?P<"):
            body = body[body.index(">") + 1 :]
        elif body.startswith("?:"):
            return _fill(body[2:], depth + 1)
        elif body.startswith(("?=", "?!", "?<=", "?<!")) or re.match(r"\?[aiLmsux-]+\)?$", body):
            return ""  # a lookaround or inline flags: no character
        else:
            raise _Unfillable  # a backreference, a conditional
    words = body.split("|")
    choices = [word for word in words if _PLAIN_WORD.fullmatch(word)]
    sample = sample_matching(body, first=choices[:1])
    return sample if sample is not None else _fill(body, depth + 1)


def _least(quantifier: re.Match[str] | None) -> int:
    """How many times a quantifier asks for its atom at least (1 without one)."""
    if quantifier is None:
        return 1
    text = quantifier.group(0)
    if text[0] in "?*":
        return 0
    if text[0] == "+":
        return 1
    low = quantifier.group(1)
    return int(low) if low else 0


def _closing(source: str, start: int) -> int:
    """The index of the parenthesis closing the one at ``start``."""
    depth = 0
    i = start
    while i < len(source):
        char = source[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            i = _class_end(source, i) + 1
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise _Unfillable


def _class_end(source: str, start: int) -> int:
    """The index of the ``]`` closing the character class at ``start``."""
    i = start + 1
    if i < len(source) and source[i] == "^":
        i += 1
    if i < len(source) and source[i] == "]":
        i += 1  # a leading ] is a member
    while i < len(source):
        if source[i] == "\\":
            i += 2
            continue
        if source[i] == "]":
            return i
        i += 1
    raise _Unfillable
