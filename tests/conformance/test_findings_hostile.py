"""``trace check`` output of a hostile app: escapes shown as text, JUnit XML that parses.

An app chooses its exception types and messages and its routes (``trace check`` probes each
route); what it chose must not drive the terminal of whoever reads the text report, nor make
the JUnit file one a CI server cannot read.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tracer.cli import main
from tracer.conformance.findings import CheckReport, Finding, render_junit, render_text

pytestmark = pytest.mark.timeout(60)

ESC = "\x1b]0;PWNED\x07\x1b[31mRED\x1b[0m\x9b\u202e"
"""An OSC retitle ended by BEL, a CSI colour, a C1 CSI and a bidi override."""

SHOWN = "\\x1b]0;PWNED\\x07\\x1b[31mRED\\x1b[0m\\x9b\\u202e"
"""``ESC`` as printable() writes it."""

XML_FORBIDDEN = "a\x00b\x01c\x08d\x0be\x0cf\x1fg\ufffeh"
"""Characters XML 1.0 does not allow, even as character references."""


def _report(text: str) -> CheckReport:
    """A report whose app-chosen strings (request, messages, locations, crash) hold ``text``."""
    request = f"GET /ok{text}"
    return CheckReport(
        app="evil:app",
        interface="wsgi",
        findings=[
            Finding(f"R{text}", "error", f"bad {text}", f"hint {text}", request, f"a{text}.py:3")
        ],
        requests=[request, f"GET /b{text}"],
        skipped=[f"websocket /{text}: the app does not handle websocket scopes"],
        crashes=[
            {
                "request": request,
                "type": f"Weird{text}",
                "message": f"boom {text}",
                "where": f"w{text}.py:9",
            }
        ],
    )


def test_text_shows_escapes_as_text() -> None:
    """Rule, message, hint, location, request names, paths and crashes: no raw ESC or BEL."""
    text = render_text(_report(ESC))
    for raw in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert raw not in text, repr(raw)
    lines = text.splitlines()
    assert lines[0] == f"R{SHOWN} error   GET /ok{SHOWN}: bad {SHOWN}"
    assert f"app raised GET /ok{SHOWN}: Weird{SHOWN}: boom {SHOWN}" in lines
    assert f"    at w{SHOWN}.py:9" in lines
    assert f"paths: /ok{SHOWN}, /b{SHOWN}" in lines


def test_plain_text_is_unchanged() -> None:
    """Ordinary strings print as they did."""
    text = render_text(_report("x"))
    assert text.splitlines()[0] == "Rx error   GET /okx: bad x"


@pytest.mark.parametrize("text", [XML_FORBIDDEN, ESC, "\udcff lone surrogate"])
def test_junit_parses_whatever_the_app_named(text: str) -> None:
    """Request names, rule ids, messages, hints and locations that hold characters XML 1.0
    forbids: the JUnit XML still parses, and says them as visible escapes."""
    suite = ET.fromstring(render_junit(_report(text)))
    names = [case.get("name") or "" for case in suite.iter("testcase")]
    assert len(names) == 3 and names[0].startswith("GET /ok")
    failure = suite.find("testcase/failure")
    assert failure is not None
    assert (failure.get("message") or "").startswith("R")
    assert "\\x" in names[0] or "\\u" in names[0] or "\\U" in names[0]


def test_junit_of_plain_strings_is_unchanged() -> None:
    """Ordinary names and messages are as the app gave them."""
    suite = ET.fromstring(render_junit(_report("x")))
    failure = suite.find("testcase/failure")
    assert failure is not None and failure.get("message") == "Rx: bad x"
    assert failure.text == "hint x\nat ax.py:3"


ROUTE_APP = '''
"""A Starlette app whose routes and exception hold control characters."""
from starlette.applications import Starlette
from starlette.routing import Route


async def handler(request):
    raise RuntimeError("bad \\x1b]0;PWNED\\x07 thing")


app = Starlette(routes=[Route("/ok\\x1b[31mRED\\x1b[0m\\x00\\x01", handler)])
'''


@pytest.fixture
def route_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """``hostile_routes:app`` importable from ``tmp_path``."""
    pytest.importorskip("starlette")
    (tmp_path / "hostile_routes.py").write_text(ROUTE_APP, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "hostile_routes", raising=False)
    return "hostile_routes:app"


def test_check_text_of_an_app_with_escapes_in_routes(
    route_app: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``trace check`` of an app whose route and exception message hold ESC and BEL."""
    main(["check", route_app])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\x00" not in out
    assert "/ok\\x1b[31mRED\\x1b[0m\\x00\\x01" in out
    assert "RuntimeError: bad \\x1b]0;PWNED\\x07 thing" in out


def test_check_junit_of_an_app_with_escapes_in_routes(
    route_app: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``trace check --format junit``: the XML parses though a route holds NUL and ESC."""
    main(["check", route_app, "--format", "junit"])
    suite = ET.fromstring(capsys.readouterr().out)
    names = [case.get("name") for case in suite.iter("testcase")]
    assert "GET /ok\\x1b[31mRED\\x1b[0m\\x00\\x01" in names
