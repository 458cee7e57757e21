"""``trace check --timeout`` holds against an ASGI handler that blocks the event loop.

The probes' own asyncio timeouts cannot fire on a blocked loop; the driver runs the loop on a
thread of its own and waits for each probe with a deadline, so a blocked loop is CHK-001 and
the check ends (the probes after it listed as skipped) instead of hanging.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import blocking_apps
import pytest

from tracer.cli import main
from tracer.conformance.driver import check_app

pytestmark = pytest.mark.timeout(20)

APPS = str(Path(__file__).resolve().parent / "blocking_apps.py")


def test_a_handler_blocking_the_loop_is_chk_001_within_the_timeout() -> None:
    """time.sleep(3) in async def with a 0.5 s timeout: CHK-001 for the first probe, the rest
    (and lifespan shutdown) skipped with the reason, well before the sleep is over."""
    began = time.monotonic()
    report = check_app(blocking_apps.sleeps_3s, paths=["/"], timeout=0.5)
    assert time.monotonic() - began < 2.5
    assert [(f.rule, f.request) for f in report.findings] == [("CHK-001", "GET /")]
    assert "(0.5 s)" in report.findings[0].message and report.failed()
    assert report.requests == ["GET /", "lifespan"]
    blocked = "not run: the event loop was still blocked by GET / past the 0.5 s timeout"
    assert report.skipped == [
        f"HEAD /: {blocked}",
        f"POST /: {blocked}",
        f"POST / (chunked): {blocked}",
        f"websocket /: {blocked}",
        f"lifespan shutdown: {blocked}",
    ]


def test_trace_check_cli_exits_1_with_chk_001(capsys: pytest.CaptureFixture[str]) -> None:
    """The command from the report: ``trace check app --timeout 0.5`` ends, exit 1, CHK-001."""
    began = time.monotonic()
    assert main(["check", f"{APPS}:sleeps_3s", "--timeout", "0.5"]) == 1
    assert time.monotonic() - began < 2.5
    out = capsys.readouterr().out
    assert "CHK-001 error   GET /: the app did not finish the request within the timeout" in out
    assert "skipped: POST /: not run: the event loop was still blocked by GET /" in out


def test_a_loop_blocked_briefly_past_the_timeout_is_chk_001_and_the_check_goes_on() -> None:
    """A loop held 0.3 s with a 0.1 s timeout comes back within the grace: each http probe
    is CHK-001 (it was over its timeout), and nothing is skipped."""
    report = check_app(blocking_apps.sleeps_briefly, paths=["/"], timeout=0.1)
    assert [(f.rule, f.request) for f in report.findings] == [
        ("CHK-001", "GET /"),
        ("CHK-001", "HEAD /"),
        ("CHK-001", "POST /"),
        ("CHK-001", "POST / (chunked)"),
    ]
    assert report.skipped == ["websocket /: the app does not handle websocket scopes"]


def test_a_lifespan_startup_blocking_the_loop_ends_the_check() -> None:
    """Blocked in lifespan startup: CHK-001 under lifespan, every request probe skipped."""
    began = time.monotonic()
    report = check_app(blocking_apps.blocks_at_startup, paths=["/"], timeout=0.5)
    assert time.monotonic() - began < 2.5
    assert [(f.rule, f.request) for f in report.findings] == [("CHK-001", "lifespan")]
    assert report.requests == ["lifespan"]
    assert report.skipped[0] == (
        "GET /: not run: the event loop was still blocked by lifespan startup past the 0.5 s timeout"
    )
    assert len(report.skipped) == 5


def _check_loop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "trace-check-loop"]


def test_a_task_that_swallows_cancellation_is_chk_001_and_the_check_goes_on() -> None:
    """The loop's timeout fires but the task never ends: the caller's deadline cuts the probe,
    the loop still answers, so every probe is run (and CHK-001), nothing skipped for it.
    Once the test lets the task end, the check's loop closes and its thread ends: none is left
    running (traced, with the shim's watchdog) for the rest of the session."""
    before = set(_check_loop_threads())
    blocking_apps.RELEASED.clear()
    began = time.monotonic()
    try:
        report = check_app(blocking_apps.ignores_cancellation, paths=["/"], timeout=0.2)
        took = time.monotonic() - began
    finally:
        blocking_apps.RELEASED.set()
    ours = [t for t in _check_loop_threads() if t not in before]
    for thread in ours:
        thread.join(10)
    assert [t.name for t in ours if t.is_alive()] == []
    assert took < 5
    assert [(f.rule, f.request) for f in report.findings] == [
        ("CHK-001", "GET /"),
        ("CHK-001", "HEAD /"),
        ("CHK-001", "POST /"),
        ("CHK-001", "POST / (chunked)"),
    ]
    assert all("blocked" not in note for note in report.skipped)


def test_a_task_that_never_ends_is_given_up_and_the_check_closes_its_loop() -> None:
    """A task that swallows every cancellation for ever: each probe is CHK-001, the check
    returns, and its loop is closed anyway (the task given up after the grace), so the loop's
    thread ends instead of running for the rest of the process."""
    blocking_apps.RAN_ON.clear()
    report = check_app(blocking_apps.never_ends, paths=["/"], timeout=0.2)
    [loop_thread] = set(blocking_apps.RAN_ON)
    assert loop_thread.name == "trace-check-loop"
    loop_thread.join(10)
    assert not loop_thread.is_alive()
    assert [(f.rule, f.request) for f in report.findings] == [
        ("CHK-001", "GET /"),
        ("CHK-001", "HEAD /"),
        ("CHK-001", "POST /"),
        ("CHK-001", "POST / (chunked)"),
    ]
    assert all("blocked" not in note for note in report.skipped)
