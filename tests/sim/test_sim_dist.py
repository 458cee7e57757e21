"""sim.dist: the DIST spellings of DESIGN.md, their draws, and their error messages."""

from __future__ import annotations

import random

import pytest

from sim.dist import Exponential, Fixed, LogNormal, Uniform, format_ns, parse_dist, parse_duration
from tracer.errors import UsageError

MS = 1_000_000


@pytest.mark.parametrize(
    "text,ns",
    [
        ("100ms", 100 * MS),
        ("1.5s", 1_500 * MS),
        ("250us", 250_000),
        ("250µs", 250_000),
        ("7ns", 7),
        ("0ms", 0),
        ("2e-3s", 2 * MS),
    ],
)
def test_durations_in_every_unit(text: str, ns: int) -> None:
    """Units ns, us, µs, ms, s; decimals and exponents; integer nanoseconds out."""
    assert parse_duration(text) == ns


def test_every_dist_spelling() -> None:
    """A bare duration is fixed; fixed/exp/uniform/lognormal parse to their classes."""
    assert parse_dist("100ms") == Fixed(100 * MS)
    assert parse_dist("fixed:100ms") == Fixed(100 * MS)
    assert parse_dist("exp:100ms") == Exponential(100 * MS)
    assert parse_dist("uniform:50ms..150ms") == Uniform(50 * MS, 150 * MS)
    assert parse_dist("lognormal:100ms,0.5") == LogNormal(100 * MS, 0.5)


@pytest.mark.parametrize(
    "text,says",
    [
        ("-5ms", "negative"),
        ("100", "no unit"),
        ("abc", "not a duration"),
        ("10 parsecs", "not a duration"),
        ("gamma:10ms", 'unknown distribution "gamma"'),
        ("uniform:5ms", "needs a range"),
        ("uniform:9ms..5ms", "below the lower bound"),
        ("lognormal:10ms", "needs a mean and a sigma"),
        ("lognormal:10ms,x", 'sigma "x"'),
        ("exp:-1s", "negative"),
        # sigma² overflowed: every draw was 0 with a stated mean of 100 ms.
        ("lognormal:100ms,1e308", "sigma 1e+308 is too large"),
        ("lognormal:100ms,30", "sigma 30 is too large"),
    ],
)
def test_bad_text_is_named(text: str, says: str) -> None:
    """Each malformed DIST raises UsageError quoting the text and saying what is wrong."""
    with pytest.raises(UsageError) as info:
        parse_dist(text, what="--io")
    assert says in str(info.value) and "--io" in str(info.value)


def test_draws_have_the_stated_means() -> None:
    """Over 50,000 seeded draws each distribution's sample mean is within 2% of its mean."""
    for dist in (Exponential(10 * MS), Uniform(5 * MS, 15 * MS), LogNormal(10 * MS, 0.5)):
        rng = random.Random(1)
        draws = [dist.sample(rng) for _ in range(50_000)]
        assert abs(sum(draws) / len(draws) / dist.mean_ns - 1) < 0.02, dist
        assert min(draws) >= 0
    uniform = [Uniform(5, 15).sample(random.Random(seed)) for seed in range(200)]
    assert min(uniform) >= 5 and max(uniform) <= 15


def test_same_seed_same_draws() -> None:
    """Draws depend only on the injected generator."""
    a = [Exponential(MS).sample(random.Random(3)) for _ in range(3)]
    b = [Exponential(MS).sample(random.Random(3)) for _ in range(3)]
    assert a == b


def test_format_ns() -> None:
    """Short labels for tables."""
    assert format_ns(1_500_000) == "1.5ms" and format_ns(2e9) == "2s" and format_ns(30) == "30ns"


def test_a_lognormal_sigma_is_bounded_by_its_finite_variance() -> None:
    """The variance, mean² (e^(sigma²) - 1), must be a float: the message gives the largest
    sigma for the mean, and that sigma is taken; a mean of 0 draws 0 whatever its sigma."""
    with pytest.raises(UsageError) as info:
        parse_dist("lognormal:100ms,26", what="--io")
    assert str(info.value) == (
        '--io "lognormal:100ms,26": sigma 26 is too large: the variance of the durations '
        "overflows; give a sigma of at most 25.9 for a mean of 100ms."
    )
    assert parse_dist("lognormal:100ms,25.9") == LogNormal(100 * MS, 25.9)
    assert parse_dist("lognormal:0ms,1e308").sample(random.Random(1)) == 0
