"""The pytest plugin (entry point ``gateway_tracer``): protocol violations and blocked loops fail tests.

Use the ``gateway_tracer`` fixture to wrap the app under test::

    def test_home(gateway_tracer):
        client = TestClient(gateway_tracer.wrap(app))
        assert client.get("/").status_code == 200
        # the test fails if the app broke a WSGI/ASGI rule or held the loop > max_block_ms

Limits come from ``@pytest.mark.gateway_tracer(max_block_ms=50, strict=True, allow=["HTTP-011"])``
or the ini options ``gateway_tracer_max_block_ms`` (default 100) and ``gateway_tracer_strict``
(warnings fail too). ``check=False`` in the marker records without failing. ``allow`` takes one
rule id or several, each one of ``tracer.conformance.RULES`` (docs/rules.md). Markers of the
module, the class and the test add up, outermost first: a key the test's own marker gives wins,
the others are kept (a key given as None counts as not given). The marker takes these keyword
arguments only: a positional argument, an unknown keyword, a value of the wrong kind (a number
given as a string included) or a rule id that does not exist (a typo would allow nothing) errors
the test with one line naming the marker. Imports the spine and, when an app is wrapped or
``allow`` given, ``tracer.instrument`` and ``tracer.conformance``.

An app instrumented already (``tracer.instrument(app)`` at import, for production) can be
wrapped as it is: the test's recorder records it in full, its tasks and thread hops included.
A Flask app is wrapped at its ``wsgi_app``, which ``app.test_client()`` calls:
``monkeypatch.setattr(app, "wsgi_app", gateway_tracer.wrap(app.wsgi_app))``. With plugin
autoloading off, ``pytest -p gateway_tracer`` loads the plugin.

A test that fails on its own is reported with its own failure; what its apps broke until then
is shown under it (a ``Captured gateway-tracer call`` section) instead of failing it again. A
test that skips itself (``pytest.skip()``) or calls ``pytest.xfail()`` is not judged either. A
test's recorder is dropped after its teardown, so a long session keeps one test's events at a
time, not all of them.

Rules that judge the server rather than the app (``SERVER_RULES``: WSGI-022, close() not
called) are recorded but never fail a test: in a test the "server" is the test client, and
Werkzeug's (Flask's ``app.test_client()``) never closes a response the test reads and drops
(it closes only on ``response.close()`` or ``with client.get(...)``).
"""

from __future__ import annotations

import difflib
import numbers
import re
from collections.abc import Iterable, Iterator
from typing import Any, NoReturn

import pytest

from tracer import events as K
from tracer.errors import UsageError
from tracer.events import Event
from tracer.recorder import Recorder

__all__ = [
    "GatewayTracer",
    "gateway_tracer",
    "DEFAULT_MAX_BLOCK_MS",
    "MARKER_OPTIONS",
    "SERVER_RULES",
]

DEFAULT_MAX_BLOCK_MS = 100.0
"""asyncio debug mode's ``slow_callback_duration``: a step longer than this is a bug in CI."""

SERVER_RULES = frozenset({"WSGI-022"})
"""Rules broken by whoever calls the wrapped app (here the test client), never by the app."""

MARKER_OPTIONS = ("max_block_ms", "strict", "allow", "check")
"""The keyword arguments of ``@pytest.mark.gateway_tracer``."""


class GatewayTracer:
    """Wraps apps for one test, records what they do, and judges it at the end."""

    def __init__(
        self,
        *,
        max_block_ms: float = DEFAULT_MAX_BLOCK_MS,
        strict: bool = False,
        allow: str | Iterable[str] = (),
        check: bool = True,
    ) -> None:
        self.recorder = Recorder()
        """Every event of every app wrapped in this test."""
        self.max_block_ms = max_block_ms
        self.strict = strict
        self.allow = frozenset((allow,) if isinstance(allow, str) else allow)
        unknown = _unknown_rules(self.allow) if self.allow else []
        if unknown:  # a typo would allow nothing, and pass unnoticed
            raise UsageError(f"GatewayTracer(allow=...): {'; '.join(sorted(unknown))}.")
        self.check_enabled = check
        self._judged = 0  # events already judged by a previous check()

    def wrap(self, app: Any, **options: Any) -> Any:
        """``tracer.instrument(app)`` recording into this test's recorder (options pass on)."""
        from tracer import instrument

        options.setdefault("block_threshold_ms", self.max_block_ms)
        return instrument(app, recorder=self.recorder, **options)

    @property
    def events(self) -> list[Event]:
        """Every event recorded so far."""
        return self.recorder.events

    @property
    def violations(self) -> list[Event]:
        """``violation`` events that count (not allowed; warnings only when strict)."""
        return [e for e in self.events if self._counts(e)]

    @property
    def blocks(self) -> list[Event]:
        """``loop.blocked`` events longer than ``max_block_ms``."""
        limit = self.max_block_ms * 1e6
        return [e for e in self.events if e.kind == K.LOOP_BLOCKED and (e.dur or 0) > limit]

    def _counts(self, event: Event) -> bool:
        if event.kind != K.VIOLATION:
            return False
        rule = event.data.get("rule")
        if rule in self.allow or rule in SERVER_RULES:
            return False
        return self.strict or event.data.get("severity", "error") == "error"

    def problems(self, events: list[Event] | None = None) -> list[str]:
        """One line (plus a hint line) per violation and per long loop block, in order."""
        events = self.events if events is None else events
        requests = {e.req: _request_name(e) for e in self.events if e.kind == K.REQUEST_START}
        limit = self.max_block_ms * 1e6
        lines = []
        for e in events:
            where = requests.get(e.req, f"request {e.req}").strip()
            if self._counts(e):
                at = f" (at {e.data['location']})" if e.data.get("location") else ""
                lines.append(f"{e.data.get('rule')} {where}: {e.data.get('message')}{at}")
                if e.data.get("hint"):
                    lines.append(f"    hint: {e.data['hint']}")
            elif e.kind == K.LOOP_BLOCKED and (e.dur or 0) > limit:
                at = f" at {e.data['location']}" if e.data.get("location") else ""
                delayed: int | str = len(e.data.get("delayed") or ())
                if e.data.get("delayed_complete") is False:
                    delayed = f"at least {delayed}"  # a loop (uvloop) that hides its timers
                lines.append(
                    f"event loop blocked {(e.dur or 0) / 1e6:.1f} ms (limit {self.max_block_ms:g} ms)"
                    f" by {where}{at}; {delayed} other request(s) delayed"
                )
        return lines

    def forget(self) -> list[str]:
        """Judge nothing recorded so far (the test failed, skipped or xfailed on its own: its
        own outcome is the one reported).

        Returns the problems that were set aside, so they can still be shown beside the
        test's own failure (none when ``check=False``: nothing is judged then anyway).
        """
        events = self.events
        fresh, self._judged = events[self._judged :], len(events)
        return self.problems(fresh) if self.check_enabled else []

    def check(self) -> None:
        """Fail the test now if anything not yet judged broke a rule or blocked the loop."""
        events = self.events
        fresh, self._judged = events[self._judged :], len(events)
        if not self.check_enabled:
            return
        lines = self.problems(fresh)
        if lines:
            pytest.fail("gateway-tracer found:\n  " + "\n  ".join(lines), pytrace=False)


def _request_name(start: Event) -> str:
    """``GET /items``, ``websocket /ws``, ``lifespan`` (a lifespan has no path)."""
    data = start.data
    return " ".join(
        str(part)
        for part in (data.get("method") or data.get("scope_type"), data.get("path"))
        if part
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ini options."""
    parser.addini(
        "gateway_tracer_max_block_ms",
        "gateway_tracer fixture: fail a test whose event loop step exceeds this (ms)",
        default=str(DEFAULT_MAX_BLOCK_MS),
    )
    parser.addini(
        "gateway_tracer_strict",
        "gateway_tracer fixture: protocol warnings fail tests too",
        type="bool",
        default=False,
    )


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker."""
    config.addinivalue_line(
        "markers",
        "gateway_tracer(max_block_ms=None, strict=None, allow=(), check=True): "
        "limits for the gateway_tracer fixture (keyword arguments only; a test's own marker "
        "wins key by key over its class's and its module's)",
    )


@pytest.fixture
def gateway_tracer(request: pytest.FixtureRequest) -> Iterator[GatewayTracer]:
    """A ``GatewayTracer``: wrap apps with ``.wrap(app)``; the test fails on what they break."""
    options = _merged_options(request.node)
    max_block_ms = options.pop("max_block_ms", None)
    if max_block_ms is None:
        limit = request.config.getini("gateway_tracer_max_block_ms")
        max_block_ms = _milliseconds(limit)
        if max_block_ms is None:
            _usage_error(
                f"gateway_tracer_max_block_ms must be a positive number of milliseconds, "
                f"not {limit!r}; try gateway_tracer_max_block_ms = {DEFAULT_MAX_BLOCK_MS:g}."
            )
    strict = options.pop("strict", None)
    if strict is None:
        strict = bool(request.config.getini("gateway_tracer_strict"))
    helper = GatewayTracer(max_block_ms=max_block_ms, strict=strict, **options)
    request.node.stash[_KEY] = helper
    try:
        yield helper
        helper.check()  # what happened after the test body (a client closed in teardown)
    finally:
        # The item lives until the session ends; its stash must not keep every event of
        # every test (the call's report, the last use, has been made by now).
        del request.node.stash[_KEY]


_KEY = pytest.StashKey[GatewayTracer]()

_FORGOTTEN = "gateway-tracer found (not judged: {why}):\n  "
"""Heads the report section of what a test that ended by itself broke as well."""


def _why_not_judged(exc: BaseException) -> str:
    """Why a test's recording was not judged, for the heading of its report section."""
    if isinstance(exc, pytest.skip.Exception):
        return "the test skipped itself"
    if isinstance(exc, pytest.xfail.Exception):
        return "the test called pytest.xfail"
    return "the test failed on its own"


def _usage_error(message: str) -> NoReturn:
    """Error the test with ``message`` alone: one line, no traceback.

    ``pytest.fail(pytrace=False)`` and not ``pytest.UsageError``: an exception raised in a
    fixture is shown with the source of the innermost frame pytest does not hide, and another
    plugin's ``pytest_fixture_setup`` wrapper (pytest-asyncio's) is such a frame.
    """
    __tracebackhide__ = True
    pytest.fail(message, pytrace=False)


def _merged_options(node: pytest.Item) -> dict[str, Any]:
    """The options of every ``gateway_tracer`` marker on ``node`` (module, class, test),
    each checked, merged outermost first: the test's own marker wins key by key, and a key
    one of them leaves out (or gives as None) is taken from the markers further out."""
    options: dict[str, Any] = {}
    # iter_markers yields the closest first; stacked decorators of one test come bottom-up,
    # so the one nearest the ``def`` wins, as it does for get_closest_marker.
    for marker in reversed(list(node.iter_markers("gateway_tracer"))):
        for name, value in _marker_options(marker).items():
            if value is not None:
                options[name] = value
    return options


def _marker_options(marker: pytest.Mark) -> dict[str, Any]:
    """The marker's keyword arguments, checked: a mistake errors the test with one line that
    names the marker (never silently ignored, never blamed on the ini options)."""
    usage = f"@pytest.mark.{marker.name} takes keyword arguments only: {', '.join(MARKER_OPTIONS)}"
    if marker.args:
        given = ", ".join(repr(arg) for arg in marker.args)
        _usage_error(
            f"{usage}; it was given the positional argument(s) {given}. "
            f"Name them, e.g. @pytest.mark.{marker.name}(max_block_ms=50)."
        )
    options = dict(marker.kwargs)
    unknown = [name for name in options if name not in MARKER_OPTIONS]
    if unknown:
        named = []
        for name in unknown:
            close = difflib.get_close_matches(name, MARKER_OPTIONS, n=1)
            named.append(f"{name} (did you mean {close[0]}?)" if close else name)
        _usage_error(f"{usage}; it does not know {', '.join(named)}.")

    def wrong(name: str, expected: str) -> NoReturn:
        _usage_error(
            f"@pytest.mark.{marker.name}({name}={options[name]!r}): {name} must be {expected}."
        )

    if options.get("max_block_ms") is not None:
        given = options["max_block_ms"]
        # A number, not a string that reads as one: as strict=1 is refused for True.
        limit = _milliseconds(given) if isinstance(given, numbers.Real) else None
        if limit is None:
            wrong("max_block_ms", "a positive number of milliseconds, e.g. 50")
        options["max_block_ms"] = limit
    for name in ("strict", "check"):
        if options.get(name) is not None and not isinstance(options[name], bool):
            wrong(name, "True or False")
    allow = options.get("allow")
    if allow is not None:
        rules: list[Any]
        if isinstance(allow, str):
            rules = [allow]
        else:
            try:
                rules = list(allow)  # once: a generator is used up by it
            except TypeError:
                rules = [None]
            if not all(isinstance(rule, str) for rule in rules):
                wrong("allow", 'a rule id or a list of rule ids, e.g. ["HTTP-011"]')
            options["allow"] = rules
        unknown_ids = _unknown_rules(rules)
        if unknown_ids:
            _usage_error(
                f"@pytest.mark.{marker.name}(allow={allow!r}): {'; '.join(unknown_ids)}. "
                "The rule ids are listed in docs/rules.md."
            )
    return options


_RULE_ID = re.compile(r"\s*([A-Za-z]+)[-_ ]?0*([0-9]+)\s*")
"""A rule id as people mistype it: ``http-11``, ``HTTP011``, ``WS_4``."""


def _unknown_rules(rule_ids: Iterable[str]) -> list[str]:
    """One phrase per id of ``rule_ids`` that names no rule, with the nearest id if any."""
    from tracer.conformance.rules import RULES

    out = []
    for rule_id in rule_ids:
        if rule_id in RULES:
            continue
        near = None
        match = _RULE_ID.fullmatch(rule_id)
        if match is not None:  # the same id spelt otherwise (case, dash, zero padding)
            spelt = f"{match[1].upper()}-{int(match[2]):03d}"
            near = spelt if spelt in RULES else None
        if near is None:
            close = difflib.get_close_matches(rule_id.strip().upper(), RULES, n=1)
            near = close[0] if close else None
        guess = f" (did you mean {near}?)" if near else ""
        out.append(f"{rule_id!r} is not a rule id{guess}")
    return out


def _milliseconds(value: Any) -> float | None:
    """``value`` as a positive number of milliseconds, or None when it is not one."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After a passing test body, judge what its wrapped apps did: a failure of the test itself.

    When the body failed (or skipped, or xfailed) on its own, that outcome is the one
    reported; what the apps broke is added under it as a section of the report (``Captured
    gateway-tracer call``).
    """
    helper = item.stash.get(_KEY, None)
    try:
        result = yield
    except BaseException as exc:
        lines = [] if helper is None else helper.forget()
        if lines:
            heading = _FORGOTTEN.format(why=_why_not_judged(exc))
            item.add_report_section("call", "gateway-tracer", heading + "\n  ".join(lines))
        raise
    if helper is not None:
        helper.check()
    return result
