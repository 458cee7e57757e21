"""``trace check`` against apps that end the event loop itself: a SystemExit or
KeyboardInterrupt in lifespan or in a task the app created, and an app calling
``loop.stop()``. The check says so in one app-error line and probes on, without a false
CHK-001 or a traceback."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tracer.conformance.driver import check_app


async def _ok(send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _lifespan_app(when: str, exc: type[BaseException]) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            if when == "startup":
                raise exc()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            raise exc()
        if scope["type"] == "http":
            await _ok(send)

    return app


@pytest.mark.parametrize("when", ["startup", "shutdown"])
@pytest.mark.parametrize("exc", [SystemExit, KeyboardInterrupt])
def test_lifespan_raising_systemexit_is_an_app_error_and_probes_run(
    when: str, exc: type[BaseException], capfd: pytest.CaptureFixture[str]
) -> None:
    report = check_app(_lifespan_app(when, exc), paths=["/"], timeout=2.0)
    assert not [f for f in report.findings if f.rule == "CHK-001"]
    assert [(c["request"], c["type"]) for c in report.crashes] == [("lifespan", exc.__name__)]
    assert report.skipped == ["websocket /: the app does not handle websocket scopes"]
    assert "GET /" in report.requests and "lifespan" in report.requests
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Event loop is closed" not in err


def test_a_task_raising_systemexit_is_reported_and_the_check_goes_on(
    capfd: pytest.CaptureFixture[str],
) -> None:
    async def boom() -> None:
        raise SystemExit(1)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            asyncio.get_running_loop().create_task(boom())
            await _ok(send)

    report = check_app(app, paths=["/"], timeout=2.0)
    assert not report.findings
    assert {c["request"] for c in report.crashes} == {
        "GET /",
        "HEAD /",
        "POST /",
        "POST / (chunked)",
    }
    assert all(c["type"] == "SystemExit" for c in report.crashes)
    assert all("task the app created" in str(c["message"]) for c in report.crashes)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "never retrieved" not in err


def test_an_app_stopping_the_loop_is_reported_and_the_check_goes_on(
    capfd: pytest.CaptureFixture[str],
) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            asyncio.get_running_loop().stop()
            await _ok(send)

    report = check_app(app, paths=["/"], timeout=2.0)
    assert not report.findings
    stops = [c for c in report.crashes if c["type"] == "loop.stop()"]
    assert [c["request"] for c in stops] == ["GET /", "HEAD /", "POST /", "POST / (chunked)"]
    assert all("stopped the server's event loop" in str(c["message"]) for c in stops)
    assert all(
        str(c["where"]).startswith("tests/conformance/test_driver_loop_upsets.py:") for c in stops
    )
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Event loop is closed" not in err
