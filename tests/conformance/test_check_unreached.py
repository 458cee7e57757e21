"""``trace check`` says when its probes never reached the app's views, and when APP, taken
for an ASGI 2 app, looks like something else (a framework's app class, a view)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracer.cli import main
from tracer.conformance.session import UNREACHED_NOTE

pytestmark = pytest.mark.timeout(60)

APPS = str(Path(__file__).resolve().parent / "unreached_apps.py")


def _check(capsys: pytest.CaptureFixture[str], app: str, *options: str) -> tuple[int, str, str]:
    code = main(["check", f"{APPS}:{app}", "--timeout", "2s", *options])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("app", ["asgi_not_found", "wsgi_not_allowed"])
def test_every_probe_of_slash_refused_is_noted(
    capsys: pytest.CaptureFixture[str], app: str
) -> None:
    """No routes read and every probe answered 404/405 (the websocket refused: 403): the check
    passes, and its notes say the views were not exercised and how to name paths."""
    code, out, _ = _check(capsys, app, "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["violations"] == []
    assert report["notes"] == [UNREACHED_NOTE.format(paths="/")]
    code, out, _ = _check(capsys, app)
    assert code == 0
    assert f"note: {UNREACHED_NOTE.format(paths='/')}" in out


def test_named_paths_or_an_answered_probe_get_no_such_note(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Paths the user named are what they meant to probe; an app that answered is reached."""
    _, out, _ = _check(capsys, "asgi_not_found", "--format", "json", "--path", "/missing")
    assert json.loads(out)["notes"] == []
    _, out, _ = _check(capsys, "asgi_ok", "--format", "json")
    assert json.loads(out)["notes"] == []


def test_a_class_whose_instances_are_apps_gets_a_factory_hint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The class itself as APP: served as ASGI 2 (as uvicorn would), with one line on stderr
    saying to point APP at an instance or pass --factory."""
    _, _, err = _check(capsys, "FrameworkApp", "--format", "json")
    hints = [line for line in err.splitlines() if line.startswith("trace check: ")]
    assert len(hints) == 1
    assert "FrameworkApp" in hints[0] and "--factory" in hints[0] and "instance" in hints[0]


def test_a_view_gets_a_hint_and_a_real_asgi2_app_none(capsys: pytest.CaptureFixture[str]) -> None:
    _, _, err = _check(capsys, "view", "--format", "json")
    hints = [line for line in err.splitlines() if line.startswith("trace check: ")]
    assert len(hints) == 1 and '"request"' in hints[0] and "--factory" in hints[0]
    code, out, err = _check(capsys, "Asgi2App", "--format", "json")
    assert code == 0 and json.loads(out)["violations"] == []
    assert "trace check: " not in err
