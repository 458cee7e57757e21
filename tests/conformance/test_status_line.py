"""``trace check`` on status lines servers refuse or pass on broken (WSGI-005)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracer.cli import main

APPS = str(Path(__file__).resolve().parent / "status_apps.py")

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize(
    ("app", "why"),
    [
        ("not_latin1", "got '200 Grüß ✓': the reason holds '✓', which is not latin-1"),
        ("nul", "got '200 O\\x00K': the reason holds the control character '\\x00'"),
        ("escape", "got '200 \\x1b[31mOK': the reason holds the control character '\\x1b'"),
    ],
)
def test_a_reason_not_latin1_or_with_a_control_character_is_wsgi_005(
    app: str, why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """PEP 3333: the status is latin-1 text without control characters. A reason of other
    text makes gunicorn and waitress answer 500; NUL and ESC go out as they are."""
    assert main(["check", f"{APPS}:{app}", "--path", "/"]) == 1
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("WSGI-005 error   GET /, HEAD /, POST /, POST / (chunked): ")
    assert first.endswith(
        f"status is not of the form '<3-digit code> <reason>' in latin-1: {why}"
    ), first


def test_a_latin1_reason_passes(capsys: pytest.CaptureFixture[str]) -> None:
    """A reason outside ASCII but inside latin-1 is what servers send: no finding."""
    assert main(["check", f"{APPS}:latin1", "--path", "/"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("no violations in 4 requests")
