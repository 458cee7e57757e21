"""An app that raised in every request never answered one: CHK-003, and the check fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracer.cli import main

pytestmark = pytest.mark.timeout(60)

APPS = str(Path(__file__).resolve().parent / "raising_apps.py")


def _check(capsys: pytest.CaptureFixture[str], app: str, *options: str) -> tuple[int, dict]:
    code = main(["check", f"{APPS}:{app}", "--format", "json", "--timeout", "2s", *options])
    return code, json.loads(capsys.readouterr().out)


def test_a_wsgi_app_that_raises_everywhere_fails_the_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Exit 1, CHK-003 on each of the four requests, and the crashes listed as before."""
    code, report = _check(capsys, "wsgi_boom")
    assert code == 1
    assert [(v["rule"], v["request"]) for v in report["violations"]] == [
        ("CHK-003", "GET /"),
        ("CHK-003", "HEAD /"),
        ("CHK-003", "POST /"),
        ("CHK-003", "POST / (chunked)"),
    ]
    assert {v["severity"] for v in report["violations"]} == {"error"}
    assert [e["type"] for e in report["app_errors"]] == ["RuntimeError"] * 4


def test_a_wsgi_app_checked_as_asgi_fails_the_check(capsys: pytest.CaptureFixture[str]) -> None:
    """``--interface asgi`` on a WSGI app: a TypeError in every request, exit 1."""
    code, report = _check(capsys, "wsgi_ok", "--interface", "asgi")
    assert code == 1
    assert {v["rule"] for v in report["violations"]} == {"CHK-003"}
    assert {e["type"] for e in report["app_errors"]} == {"TypeError"}


def test_an_app_that_starts_up_but_fails_every_request_fails_the_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A lifespan answered is no request answered: CHK-003 on the http probes (its websocket
    probe is skipped: an app that raises at once on a websocket scope does not handle it)."""
    code, report = _check(capsys, "asgi_boom_with_lifespan")
    assert code == 1
    assert sorted({v["request"] for v in report["violations"]}) == [
        "GET /",
        "HEAD /",
        "POST /",
        "POST / (chunked)",
    ]
    assert "lifespan" in report["requests"]


def test_an_app_that_raises_in_some_requests_still_passes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A POST handler that wants other JSON than the probe's raises: no rule broken, exit 0,
    the crash listed."""
    code, report = _check(capsys, "wsgi_post_boom")
    assert code == 0
    assert report["violations"] == []
    assert [e["request"] for e in report["app_errors"]] == ["POST /", "POST / (chunked)"]
