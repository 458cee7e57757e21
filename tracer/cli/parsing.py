"""What the commands' parsers share: ``OneLineParser``, ``bounded`` number options and
``parse_duration`` for every option that takes a duration (``-z``, ``--timeout``), so that each
option has one rule and one message in every sub-command.

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
from tracer.errors import UsageError

__all__ = ["OneLineParser", "bounded", "parse_duration", "DURATION_FORM", "MAX_DURATION_S"]


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

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        """argparse's, but a command that writes a recording (it has ``--record``) given
        ``-o``/``--output`` says, in its one line, which option it takes instead.

        ``trace export -o`` is what users know; on ``trace run``, ``sim`` or ``demo`` argparse
        would only call it unrecognized (from the top parser, which does not know the
        command), leaving them to find ``--record`` in the help.
        """
        namespace, extras = super().parse_known_args(args, namespace)
        record = self._option_string_actions.get("--record")
        if record is not None and any(_is_output_option(extra) for extra in extras):
            self.error(
                f"unrecognized arguments: {' '.join(extras)} (-o is for trace export; to "
                f"choose where the recording is written, use --record {record.metavar or 'FILE'})"
            )
        return namespace, extras


def _is_output_option(given: str) -> bool:
    """``-o``, ``-oFILE``, ``--output[=FILE]`` or its shortening ``--out[=FILE]``."""
    if given.startswith("-o"):
        return True
    name = given.partition("=")[0]
    return len(name) >= len("--out") and "--output".startswith(name)


N = TypeVar("N", int, float)


def bounded(
    kind: Callable[[str], N],
    *,
    low: N | None = None,
    high: N | None = None,
    above: N | None = None,
) -> Callable[[str], N]:
    """An argparse ``type=`` for a number option: ``kind`` (int or float), finite, in
    ``[low, high]`` (``above``: greater than it, for a bound that is not a value itself);
    anything else is a usage error (one line, exit 2) naming the option.

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
        if (
            (low is not None and value < low)
            or (above is not None and value <= above)
            or (high is not None and value > high)
        ):
            raise argparse.ArgumentTypeError(f"{text} is out of range: {_range(low, high, above)}")
        return value

    return parse


def _range(low: float | None, high: float | None, above: float | None = None) -> str:
    if above is not None:
        return f"give a number above {above:g}" + (f" and at most {high:g}" if high else "")
    if low is not None and high is not None:
        return f"give {low:g} to {high:g}"
    if low is not None:
        return f"give {low:g} or more"
    return f"give at most {high:g}"


DURATION_FORM = "such as 10s, 500ms, 100us, 2m or 1h (a plain number is seconds)"
"""What every duration option takes, as its messages say it."""

MAX_DURATION_S = (2**63 - 1) / 1e9
"""The longest duration (about 292 years): the simulator's clock is 64-bit nanoseconds
(``sim.dist.MAX_DURATION_NS``, written out: importing sim would slow every command's start),
and ``trace run`` keeps its options to the same bound."""

_DURATION = re.compile(r"^\s*((?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(ns|us|µs|μs|ms|s|m|h)?\s*$")
_NANOSECONDS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # micro sign
    "μs": 1_000,  # Greek mu: both are typed for microseconds
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    None: 1_000_000_000,
}


def parse_duration(
    text: str, option: str, *, most: float = MAX_DURATION_S, most_text: str = "about 292 years"
) -> float:
    """Seconds above 0 and at most ``most`` (said as ``most_text``) from ``10s``, ``500ms``,
    ``100us``, ``2m``, ``1h`` or a plain number of seconds: the one reading of every duration
    option (``-z``, ``--timeout``). Anything else is a ``UsageError`` naming ``option``, what is
    wrong and what it takes, in the same words for every command."""
    match = _DURATION.match(text)
    if match is None:
        wrong = "is negative" if text.strip().startswith("-") else "is not a duration"
        raise UsageError(f'{option} "{text}" {wrong}: give a duration above 0, {DURATION_FORM}.')
    # Through nanoseconds: 100us is then 0.0001 s exactly as a float can say it.
    seconds = float(match.group(1)) * _NANOSECONDS[match.group(2)] / 1e9
    if seconds == 0:
        raise UsageError(f'{option} "{text}" is zero: give a duration above 0, {DURATION_FORM}.')
    if not seconds <= most:  # inf too
        raise UsageError(f'{option} "{text}" is too long: give at most {most_text}.')
    return seconds
