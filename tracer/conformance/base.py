"""What every checker shares: reporting a rule once per request, with severity, hint and place.

Violations are rare, so everything here is off the fast path: a checker that finds nothing
never calls into this module. Imports only ``tracer.conformance.rules``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from tracer.conformance.rules import RULES
from tracer.sourcepath import display_path

__all__ = ["Report", "Checker", "caller_location", "short"]

Report = Callable[..., None]
"""``report(rule_id: str, message: str, **data)``: one violation of the request being checked."""

# Frames inside this package are the tracer's own (shim, checker, driver), never the culprit.
_OWN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_MAX_DEPTH = 40


def caller_location(depth: int = 2) -> str | None:
    """``file:line`` of the nearest frame outside the tracer package, or None."""
    try:
        frame: FrameType | None = sys._getframe(depth)
    except ValueError:
        return None
    for _ in range(_MAX_DEPTH):
        if frame is None:
            return None
        filename = frame.f_code.co_filename
        if not filename.startswith(_OWN_DIR):
            # Named as every other location of a recording (relative where it can be).
            return f"{display_path(os.path.abspath(filename))}:{frame.f_lineno}"
        frame = frame.f_back
    return None


class Checker:
    """Base of the per-request checkers: holds ``report`` and the rules already reported."""

    __slots__ = ("report", "_flagged")

    def __init__(self, report: Report) -> None:
        self.report = report
        self._flagged: set[str] | None = None

    def _flag(self, rule_id: str, detail: str = "", *, locate: bool = True) -> None:
        """Report ``rule_id`` for this request (once: a loop of bad chunks is one finding).

        ``locate`` adds the app's ``file:line`` from the stack: right for hooks called from
        inside the app (``start_response``, ``send``), wrong for ``finish``.
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
        if locate:
            location = caller_location(3)
            if location is not None:
                data["location"] = location
        self.report(rule_id, message, **data)


def short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
