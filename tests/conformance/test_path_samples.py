"""Values a path parameter's pattern matches, and whole route regexes filled (``re_path``)."""

from __future__ import annotations

import re

import pytest

from tracer.conformance.path_samples import fill_regex, sample_matching

NIL = "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(
    ("pattern", "value"),
    [
        ("[^/]+", "1"),
        (r"-?\d+", "1"),
        ("[a-z]{3}", "aaa"),
        ("[0-9]{4}", "1111"),
        ("[0-9a-f]{32}", "1" * 32),
        ("[A-Za-z]+", "a"),
        (r"[12]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])", "2000-01-01"),
        ("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", NIL),
        (re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$"), "1"),
    ],
)
def test_the_first_plain_value_the_pattern_matches_whole(
    pattern: str | re.Pattern[str], value: str
) -> None:
    assert sample_matching(pattern) == value


def test_a_pattern_nothing_plain_matches_or_that_does_not_compile_has_no_value() -> None:
    assert sample_matching(r"\s+") is None
    assert sample_matching("(unclosed") is None
    assert sample_matching("x|y", first=["y"]) == "y"


@pytest.mark.parametrize(
    ("regex", "path"),
    [
        (r"^articles/(?P<year>[0-9]{4})/$", "articles/1111/"),
        (r"^(?P<app_label>auth|sites)/$", "auth/"),
        (r"^robots\.txt$", "robots.txt"),
        (r"^a/(?:b/)?(?P<slug>[-\w]+)/$", "a/1/"),
        (r"^(?P<pk>\d+)/change/$", "1/change/"),
        (r"^api/v(?P<version>[12])/", "api/v1/"),
        (r"^static/(?P<path>.*)$", "static/1"),
        (r"^$", ""),
    ],
)
def test_a_route_regex_is_filled_group_by_group(regex: str, path: str) -> None:
    """Groups get a value of their own pattern (words: the first), literal text stays,
    optional parts are left out; the whole regex matches the result."""
    assert fill_regex(regex) == path
    assert re.match(regex, path)


@pytest.mark.parametrize("regex", [r"^q/\s+$", r"^(?P<p>\w+)/(?P=p)$", "(unclosed"])
def test_a_regex_with_no_plain_filling_gives_none(regex: str) -> None:
    """Whitespace, a backreference, a pattern that does not compile: left out, not guessed."""
    assert fill_regex(regex) is None
