"""The pytest plugin's marker: markers of the module, class and test add up (the test's own
key wins), ``allow`` takes any iterable, a number is not a string, and a mistake is one line
however many plugins wrap the fixture's setup. Real test files run by a real pytest."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

pytestmark = pytest.mark.timeout(120)

_BLOCKED = ("cacheprovider", "textual-snapshot", "hypothesispytest", "syrupy", "benchmark")
"""Plugins left out of the nested runs (session state, and seconds of start-up each)."""

APPS = """
import asyncio


async def upper_header(scope, receive, send):
    # HTTP-011, a warning: fails a test only when strict
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"Content-Type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def long_body(scope, receive, send):
    # HTTP-016, an error: more body than content-length
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"hello"})


def get(app):
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": "/", "raw_path": b"/", "query_string": b"",
             "root_path": "", "headers": [], "client": ("127.0.0.1", 5000),
             "server": ("127.0.0.1", 8000)}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        pass

    asyncio.run(app(scope, receive, send))
"""


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(*[f"-pno:{name}" for name in _BLOCKED], *args)


# -- markers add up ---------------------------------------------------------------------------


def test_a_tests_marker_keeps_the_modules_options_it_does_not_give(
    pytester: pytest.Pytester,
) -> None:
    """The module's ``strict=True`` holds for a test whose own marker sets only
    ``max_block_ms``: the warning fails both tests."""
    pytester.makepyfile(apps=APPS)
    pytester.makepyfile(
        """
        import pytest
        from apps import get, upper_header

        pytestmark = pytest.mark.gateway_tracer(strict=True)

        def test_module_marker(gateway_tracer):
            get(gateway_tracer.wrap(upper_header))

        @pytest.mark.gateway_tracer(max_block_ms=500)
        def test_own_marker_too(gateway_tracer):
            assert (gateway_tracer.strict, gateway_tracer.max_block_ms) == (True, 500)
            get(gateway_tracer.wrap(upper_header))
        """
    )
    result = _run(pytester)
    result.assert_outcomes(failed=2)
    # Only the failure sections: under CI (the CI variable set) pytest prints each failure's
    # whole message again in the short summary.
    failures = result.stdout.str().partition("short test summary info")[0]
    assert failures.count("HTTP-011 GET /:") == 2


def test_the_closest_marker_wins_key_by_key(pytester: pytest.Pytester) -> None:
    """Module, class, test: each key from the closest marker that gives it; None gives none."""
    pytester.makepyfile(apps=APPS)
    pytester.makepyfile(
        """
        import pytest
        from apps import get, long_body, upper_header

        pytestmark = pytest.mark.gateway_tracer(strict=True, max_block_ms=70, allow="HTTP-016")

        @pytest.mark.gateway_tracer(max_block_ms=80, check=True)
        class TestNested:
            @pytest.mark.gateway_tracer(strict=False, max_block_ms=None)
            def test_merged(self, gateway_tracer):
                assert gateway_tracer.strict is False
                assert gateway_tracer.max_block_ms == 80
                assert gateway_tracer.allow == {"HTTP-016"}
                assert gateway_tracer.check_enabled is True
                get(gateway_tracer.wrap(upper_header))  # a warning, not strict here: passes
                get(gateway_tracer.wrap(long_body))  # allowed by the module: passes

            @pytest.mark.gateway_tracer(allow=["HTTP-011"])
            def test_own_allow_replaces_the_modules(self, gateway_tracer):
                assert gateway_tracer.allow == {"HTTP-011"}
                get(gateway_tracer.wrap(long_body))  # HTTP-016 no longer allowed: fails
        """
    )
    result = _run(pytester, "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*::test_own_allow_replaces_the_modules FAILED*"])
    result.stdout.fnmatch_lines(["*HTTP-016 GET /: more body bytes than content-length*"])


def test_an_outer_markers_mistake_is_reported_too(pytester: pytest.Pytester) -> None:
    """Every marker is checked, not only the one the test carries: the module's typo errors
    the test even though the test's own marker is right."""
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.gateway_tracer(strickt=True)

        @pytest.mark.gateway_tracer(max_block_ms=50)
        def test_marked(gateway_tracer):
            pass
        """
    )
    result = _run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*it does not know strickt (did you mean strict?)."])


# -- allow given as any iterable ---------------------------------------------------------------


def test_allow_given_as_a_generator_allows_its_rules(pytester: pytest.Pytester) -> None:
    """A generator is read once: its rules are checked and allowed (not used up by the check)."""
    pytester.makepyfile(apps=APPS)
    pytester.makepyfile(
        """
        import pytest
        from apps import get, long_body, upper_header

        @pytest.mark.gateway_tracer(strict=True, allow=(r for r in ["HTTP-016", "HTTP-011"]))
        def test_generator(gateway_tracer):
            assert gateway_tracer.allow == {"HTTP-016", "HTTP-011"}
            get(gateway_tracer.wrap(upper_header))
            get(gateway_tracer.wrap(long_body))
        """
    )
    _run(pytester).assert_outcomes(passed=1)


def test_a_generator_of_an_unknown_rule_id_is_still_refused(pytester: pytest.Pytester) -> None:
    """Reading the generator once does not skip the check of its ids."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.gateway_tracer(allow=(r for r in ["HTTP-11"]))
        def test_generator(gateway_tracer):
            pass
        """
    )
    result = _run(pytester)
    result.assert_outcomes(errors=1)
    assert "'HTTP-11' is not a rule id (did you mean HTTP-011?)" in result.stdout.str()


# -- numbers are numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"), [('"50"', "'50'"), ('"fast"', "'fast'"), ("True", "True"), ("b'5'", "b'5'")]
)
def test_max_block_ms_given_as_anything_but_a_number_errors_the_test(
    pytester: pytest.Pytester, value: str, shown: str
) -> None:
    """A string that reads as a number is refused as ``strict=1`` is: the marker takes Python
    values, not text (the ini option is text, and is read as such)."""
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.gateway_tracer(max_block_ms={value})
        def test_marked(gateway_tracer):
            pass
        """
    )
    result = _run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            f"*@pytest.mark.gateway_tracer(max_block_ms={shown}): max_block_ms"
            " must be a positive number of milliseconds, e.g. 50."
        ]
    )


def test_max_block_ms_takes_ints_and_floats(pytester: pytest.Pytester) -> None:
    """Numbers as before; and the ini option, text by nature, still reads ``"250"``."""
    pytester.makeini("[pytest]\ngateway_tracer_max_block_ms = 250\n")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.gateway_tracer(max_block_ms=50)
        def test_int(gateway_tracer):
            assert gateway_tracer.max_block_ms == 50

        @pytest.mark.gateway_tracer(max_block_ms=12.5)
        def test_float(gateway_tracer):
            assert gateway_tracer.max_block_ms == 12.5

        def test_ini(gateway_tracer):
            assert gateway_tracer.max_block_ms == 250
        """
    )
    _run(pytester).assert_outcomes(passed=3)


# -- a mistake is one line ---------------------------------------------------------------------

FIXTURE_SETUP_WRAPPER = """
import pytest


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    # As pytest-asyncio wraps every fixture's setup: a frame pytest does not hide.
    result = yield
    return result
"""


@pytest.mark.parametrize(
    ("arguments", "line"),
    [
        pytest.param(
            "50",
            "@pytest.mark.gateway_tracer takes keyword arguments only: max_block_ms, strict,"
            " allow, check; it was given the positional argument(s) 50. Name them, e.g."
            " @pytest.mark.gateway_tracer(max_block_ms=50).",
            id="positional",
        ),
        pytest.param(
            'allow="HTTP-11"',
            "@pytest.mark.gateway_tracer(allow='HTTP-11'): 'HTTP-11' is not a rule id (did you"
            " mean HTTP-011?). The rule ids are listed in docs/rules.md.",
            id="unknown-rule",
        ),
    ],
)
def test_a_marker_mistake_is_one_line_under_another_plugins_setup_wrapper(
    pytester: pytest.Pytester, arguments: str, line: str
) -> None:
    """The error section holds the message alone: no source of the plugin's hook wrapper,
    no exception class, no traceback."""
    pytester.makeconftest(FIXTURE_SETUP_WRAPPER)
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.gateway_tracer({arguments})
        def test_marked(gateway_tracer):
            pass
        """
    )
    result = _run(pytester)
    result.assert_outcomes(errors=1)
    lines = result.stdout.lines
    start = next(i for i, text in enumerate(lines) if "ERROR at setup of test_marked" in text)
    assert lines[start + 1] == line
    assert "short test summary info" in lines[start + 2]  # nothing between
    assert "yield" not in result.stdout.str()
    assert "UsageError" not in result.stdout.str()


def test_a_bad_ini_limit_is_one_line_too(pytester: pytest.Pytester) -> None:
    """The ini option's mistake, reported by the fixture, is the message alone as well."""
    pytester.makeconftest(FIXTURE_SETUP_WRAPPER)
    pytester.makeini("[pytest]\ngateway_tracer_max_block_ms = -1\n")
    pytester.makepyfile("def test_plain(gateway_tracer):\n    pass\n")
    result = _run(pytester)
    result.assert_outcomes(errors=1)
    assert "yield" not in result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "gateway_tracer_max_block_ms must be a positive number of milliseconds, not '-1';"
            " try gateway_tracer_max_block_ms = 100."
        ]
    )


# -- what a test that ended by itself broke ----------------------------------------------------


@pytest.mark.parametrize(
    ("ending", "why"),
    [
        ('pytest.skip("not today")', "the test skipped itself"),
        ('pytest.xfail("known")', "the test called pytest.xfail"),
        ("assert False", "the test failed on its own"),
    ],
)
def test_the_section_says_how_the_test_ended(
    pytester: pytest.Pytester, ending: str, why: str
) -> None:
    """A test that hit a violation and then skipped (or xfailed, or failed) is not judged; the
    report's section says why in its heading."""
    pytester.makepyfile(apps=APPS)
    pytester.makepyfile(
        f"""
        import pytest
        from apps import get, long_body

        def test_ends(gateway_tracer):
            get(gateway_tracer.wrap(long_body))
            {ending}
        """
    )
    records = pytester.inline_run(*[f"-pno:{name}" for name in _BLOCKED])
    (call,) = [r for r in records.getreports("pytest_runtest_logreport") if r.when == "call"]
    sections = dict(call.sections)
    heading, finding = sections["Captured gateway-tracer call"].splitlines()[:2]
    assert heading == f"gateway-tracer found (not judged: {why}):"
    assert finding.startswith("  HTTP-016 GET /: more body bytes than content-length:")
