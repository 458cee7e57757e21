"""Durations and distributions of durations, as the command line and workload files spell them.

``parse_duration("150ms")`` gives integer nanoseconds; ``parse_dist("exp:100ms")`` gives a
``Dist`` whose ``sample(rng)`` draws nanoseconds from an injected ``random.Random``.
Spellings (DESIGN.md): ``100ms``, ``fixed:100ms``, ``exp:100ms`` (mean), ``uniform:50ms..150ms``,
``lognormal:100ms,0.5`` (mean, sigma of the underlying normal). Units: ns, us, µs, ms, s.
Imports only ``tracer.errors``.
"""

from __future__ import annotations

import math
import random
import re
import sys
from dataclasses import dataclass
from typing import Protocol

from tracer.errors import UsageError

__all__ = [
    "Dist",
    "Fixed",
    "Exponential",
    "Uniform",
    "LogNormal",
    "DISTS",
    "parse_duration",
    "parse_dist",
    "format_ns",
    "MAX_DURATION_NS",
]

UNITS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
}

MAX_DURATION_NS = 2**63 - 1
"""The longest duration (about 292 years): the most a signed 64-bit count of nanoseconds holds,
as operating systems and trace formats keep time. Longer is a typo (``1e300s``), and it keeps
every draw of a distribution a finite number (an ``exp:`` draw is at most ~37 times its mean).
"""

_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(ns|us|µs|μs|ms|s)\s*$")


class Dist(Protocol):
    """A distribution of durations in integer nanoseconds."""

    @property
    def mean_ns(self) -> float:
        """The expected value, in nanoseconds."""
        ...

    def sample(self, rng: random.Random) -> int:
        """One draw, in nanoseconds (never negative)."""
        ...


@dataclass(frozen=True, slots=True)
class Fixed:
    """Always the same duration."""

    ns: int
    """The duration."""

    @property
    def mean_ns(self) -> float:
        """The duration itself."""
        return float(self.ns)

    def sample(self, rng: random.Random) -> int:
        """The duration (draws nothing from ``rng``)."""
        return self.ns


@dataclass(frozen=True, slots=True)
class Exponential:
    """Exponentially distributed durations (memoryless service, Poisson gaps)."""

    mean: int
    """Mean duration in ns."""

    @property
    def mean_ns(self) -> float:
        """The mean."""
        return float(self.mean)

    def sample(self, rng: random.Random) -> int:
        """One exponential draw, rounded to ns (``expovariate``'s formula, written out)."""
        return round(-math.log(1.0 - rng.random()) * self.mean)


@dataclass(frozen=True, slots=True)
class Uniform:
    """Durations uniform between ``low`` and ``high``."""

    low: int
    """Smallest duration in ns."""
    high: int
    """Largest duration in ns."""

    @property
    def mean_ns(self) -> float:
        """Midpoint of the range."""
        return (self.low + self.high) / 2

    def sample(self, rng: random.Random) -> int:
        """One uniform draw, rounded to ns."""
        return round(self.low + (self.high - self.low) * rng.random())


@dataclass(frozen=True, slots=True)
class LogNormal:
    """Log-normal durations with the given mean; ``sigma`` is the spread of ``log(duration)``."""

    mean: int
    """Mean duration in ns (not the median: the median is ``mean * exp(-sigma²/2)``)."""
    sigma: float
    """Standard deviation of the underlying normal."""

    @property
    def mean_ns(self) -> float:
        """The mean."""
        return float(self.mean)

    def sample(self, rng: random.Random) -> int:
        """One log-normal draw, rounded to ns."""
        mu = math.log(self.mean) - self.sigma * self.sigma / 2 if self.mean > 0 else 0.0
        return round(rng.lognormvariate(mu, self.sigma)) if self.mean > 0 else 0


DISTS = ("fixed", "exp", "uniform", "lognormal")
"""The distribution names ``parse_dist`` accepts before the colon."""


def parse_duration(text: str, *, what: str = "duration") -> int:
    """``"150ms"`` -> 150_000_000 ns; a clear ``UsageError`` naming ``text`` otherwise."""
    if not isinstance(text, str):
        raise UsageError(f'{what} {text!r} must be a string with a unit, like "100ms".')
    match = _DURATION.match(text)
    if match is None:
        stripped = text.strip()
        if stripped.startswith("-"):
            raise UsageError(f'{what} "{text}" is negative; durations must be 0 or more.')
        if re.fullmatch(r"[0-9.]+", stripped):
            raise UsageError(
                f'{what} "{text}" has no unit; write e.g. "{stripped}ms" or "{stripped}s".'
            )
        raise UsageError(
            f'{what} "{text}" is not a duration; write a number and a unit (ns, us, ms, s), '
            'like "100ms".'
        )
    value = float(match.group(1))
    if not math.isfinite(value):
        raise UsageError(f'{what} "{text}" is not a finite duration.')
    ns = value * UNITS[match.group(2)]
    if ns >= MAX_DURATION_NS + 1:  # 2**63: float(MAX_DURATION_NS) rounds up to it
        raise UsageError(
            f'{what} "{text}" is too long; durations go up to about 292 years (2**63 - 1 ns).'
        )
    return round(ns)


def parse_dist(text: str, *, what: str = "distribution") -> Dist:
    """Parse a DIST (see the module docstring); a ``UsageError`` naming ``text`` when malformed."""
    if not isinstance(text, str):
        raise UsageError(f'{what} {text!r} must be a string like "exp:100ms".')
    name, colon, rest = text.partition(":")
    name = name.strip().lower()
    if not colon:
        return Fixed(parse_duration(text, what=what))
    # A part is named after the whole text as typed: the part alone ("" of "exp:") is not
    # what the file or the command line says.
    part = f'{what} "{text}":'
    if name == "fixed":
        return Fixed(parse_duration(rest, what=f"{part} duration"))
    if name == "exp":
        return Exponential(parse_duration(rest, what=f"{part} mean"))
    if name == "uniform":
        low_text, dots, high_text = rest.partition("..")
        if not dots:
            raise UsageError(f'{what} "{text}" needs a range: "uniform:50ms..150ms".')
        low = parse_duration(low_text, what=f"{part} lower bound")
        high = parse_duration(high_text, what=f"{part} upper bound")
        if high < low:
            raise UsageError(f'{what} "{text}": the upper bound is below the lower bound.')
        return Uniform(low, high)
    if name == "lognormal":
        mean_text, comma, sigma_text = rest.partition(",")
        if not comma:
            raise UsageError(f'{what} "{text}" needs a mean and a sigma: "lognormal:100ms,0.5".')
        try:
            sigma = float(sigma_text)
        except ValueError:
            raise UsageError(f'{what} "{text}": sigma "{sigma_text}" is not a number.') from None
        if not (math.isfinite(sigma) and sigma >= 0):
            raise UsageError(f'{what} "{text}": sigma must be a number of 0 or more.')
        mean = parse_duration(mean_text, what=f"{part} mean")
        most = _most_sigma(mean)
        if sigma > most:
            # sigma² (or e^sigma²) overflowed: the mean's log turned -inf and every draw was 0.
            raise UsageError(
                f'{what} "{text}": sigma {sigma:g} is too large: the variance of the durations '
                f"overflows; give a sigma of at most {math.floor(most * 10) / 10:g} for a mean "
                f"of {format_ns(mean)}."
            )
        return LogNormal(mean, sigma)
    raise UsageError(
        f'{what} "{text}": unknown distribution "{name}"; use one of {", ".join(DISTS)}.'
    )


def _most_sigma(mean: int) -> float:
    """The largest sigma of a log-normal of this mean (ns) whose variance, mean² (e^sigma² - 1),
    is a finite float (infinite for a mean of 0: all its draws are 0 whatever the sigma)."""
    if mean <= 0:
        return math.inf
    return math.sqrt(math.log(sys.float_info.max) - 2 * math.log(mean))


def format_ns(ns: float) -> str:
    """A short human form of a duration (``1.5ms``, ``2s``), for tables and labels."""
    if ns >= 1_000_000_000:
        return f"{ns / 1e9:g}s"
    if ns >= 1_000_000:
        return f"{ns / 1e6:g}ms"
    if ns >= 1_000:
        return f"{ns / 1e3:g}us"
    return f"{ns:g}ns"
