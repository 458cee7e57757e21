"""What every checker shares: reporting a rule once per request, with severity, hint and place.

Violations are rare, so everything here is off the fast path: a checker that finds nothing
never calls into this module. Imports only ``tracer.conformance.rules`` and
``tracer.sourcepath`` (whose ``OWN_DIR``, the tracer package's directory, it passes on: frames
in it, shim, checker or driver, are never the culprit).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from tracer.conformance.rules import RULES
from tracer.sourcepath import OURS, OWN_DIR, USER, display_path, source_kind

__all__ = [
    "Report",
    "OWN_DIR",
    "Site",
    "Locator",
    "Checker",
    "caller_location",
    "report_late_call",
    "format_site",
    "short",
]

Report = Callable[..., None]
"""``report(rule_id: str, message: str, **data)``: one violation of the request being checked."""

_MAX_DEPTH = 200
"""Frames looked through for the app's line: a framework's middleware stack is deep."""


Site = tuple[str, int]
"""A place in the app's source, not yet formatted: ``(code.co_filename, line)``."""

Locator = Callable[[], Site | None]
"""Works out where a violation happened; called only once the violation is reported."""


def format_site(site: Site) -> str:
    """``file:line``, named as every other location of a recording (relative where it can be)."""
    filename, line = site
    return f"{display_path(os.path.abspath(filename))}:{line}"


def caller_location(depth: int = 2) -> str | None:
    """``file:line`` of the app's call that reached the tracer ``depth`` frames up, or None.

    The frames between that tracer frame (a ``send`` or ``start_response`` hook) and the next
    one out (the shim's call of the app) are the app's: the innermost of them that is the
    user's own code (``tracer.sourcepath.source_kind``: not site-packages, not the standard
    library) is the place, so a Starlette endpoint's ``websocket.close`` names the endpoint
    and not the framework's wrapper that forwards it; with none of the user's there, the
    innermost of them at all (a framework's own response, a standard-library app). Frames
    past the shim's call (the server, a test calling the client) did not make the call.
    """
    try:
        frame: FrameType | None = sys._getframe(depth)
    except ValueError:
        return None
    nearest: FrameType | None = None
    inside = False  # past the tracer's own frames at the top of the stack
    for _ in range(_MAX_DEPTH):
        if frame is None:
            break
        kind = source_kind(frame.f_code.co_filename)
        if kind == OURS:
            if inside:
                break  # the shim's call of the app: outside it is not the app
        else:
            inside = True
            if kind == USER:
                nearest = frame
                break
            if nearest is None:
                nearest = frame
        frame = frame.f_back
    if nearest is None:
        return None
    return format_site((nearest.f_code.co_filename, nearest.f_lineno))


def report_late_call(
    report: Report, rule_id: str, detail: str, location: str | None = None
) -> None:
    """Report ``rule_id`` for a protocol callable the app kept and called after its request
    ended (``detail`` names the call); the request's checker is gone by then, so the shim calls
    this from inside the late call. ``location`` is the app's line that made it, as the shim
    found it on the stack (``tracer.shim.frames.where_called``: the app's frame, never the
    standard library's or ours); None leaves it out.

    Reporting it once per request is the caller's part: it alone knows the request.
    """
    rule = RULES[rule_id]
    data: dict[str, Any] = {"severity": rule.severity, "hint": rule.hint}
    if location is not None:
        data["location"] = location
    report(rule_id, f"{rule.message}: {detail}", **data)


class Checker:
    """Base of the per-request checkers: holds ``report`` and the rules already reported."""

    __slots__ = ("report", "_flagged")

    def __init__(self, report: Report) -> None:
        self.report = report
        self._flagged: set[str] | None = None

    def _flagged_any(self, *rule_ids: str) -> bool:
        """Whether any of ``rule_ids`` was reported for this request: a rule that only follows
        from one of them (a body whose size is unknown, a header that is there but mistyped)
        stays quiet, so one mistake is one finding."""
        flagged = self._flagged
        return flagged is not None and not flagged.isdisjoint(rule_ids)

    def _flag(self, rule_id: str, detail: str = "", *, locate: bool | Locator = True) -> None:
        """Report ``rule_id`` for this request (once: a loop of bad chunks is one finding).

        ``locate=True`` adds the app's ``file:line`` from the stack: right for hooks called
        from inside the app (``start_response``, ``send``), wrong for ``finish``. A
        ``Locator`` is asked instead, and only when the rule is reported (not for repeats);
        ``False`` or a locator that returns None leaves ``location`` out.
        """
        flagged = self._flagged
        if flagged is None:
            flagged = self._flagged = set()
        elif rule_id in flagged:
            return
        flagged.add(rule_id)
        rule = RULES[rule_id]
        message = f"{rule.message}: {detail}" if detail else rule.message
        data: dict[str, Any] = {"severity": rule.severity, "hint": rule.hint}
        location: str | None = None
        if callable(locate):
            site = locate()
            if site is not None:
                location = format_site(site)
        elif locate:
            location = caller_location(3)
        if location is not None:
            data["location"] = location
        self.report(rule_id, message, **data)


def short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
