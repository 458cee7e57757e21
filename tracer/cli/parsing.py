"""What the commands' parsers share: ``OneLineParser`` and ``bounded`` number options.

Kept out of ``tracer.cli`` itself, which every ``trace`` command imports before its Ctrl-C
handling is in place: argparse is loaded here, once ``main`` runs.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from tracer.cli import EXIT_USAGE

__all__ = ["OneLineParser", "bounded"]


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit code 2.

    A value that starts with a dash and a digit (``-z -1s``, ``--timeout -500ms``) is the
    option's value, as ``-z=-1s`` is: argparse takes ``-1s`` for an unknown option and says
    "expected one argument", hiding what is wrong (it is negative). No option of ``trace``
    starts with a digit, so nothing is lost; the option's own check then names the problem.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"^-\.?\d")

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


N = TypeVar("N", int, float)


def bounded(
    kind: Callable[[str], N], *, low: N | None = None, high: N | None = None
) -> Callable[[str], N]:
    """An argparse ``type=`` for a number option: ``kind`` (int or float), finite, in
    ``[low, high]``; anything else is a usage error (one line, exit 2) naming the option.

    Plain ``type=float`` lets ``nan``, ``inf`` and out-of-range values through to the code
    that uses them, where they fail with a traceback or are silently accepted.
    """

    def parse(text: str) -> N:
        try:
            value = kind(text)
        except ValueError:
            noun = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{text} is out of range: {_range(low, high)}")
        return value

    return parse


def _range(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"give {low:g} to {high:g}"
    if low is not None:
        return f"give {low:g} or more"
    return f"give at most {high:g}"
