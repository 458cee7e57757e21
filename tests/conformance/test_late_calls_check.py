"""``trace check`` sees the calls the app makes after a request ended from a thread it left.

An app thread that calls the kept ``start_response``/``write`` (WSGI-026) or ``send``
(ASGI-003) a little after its request ended is a mistake ``trace run`` records; the check
waits (at most ``LATE_GRACE``, only while such threads run) after its last request for them,
and files each under the request it came from, not under the probe running when it came.
The apps' threads make their call 50 ms after their request: that delay is the mistake under
test, as an app's timer or worker thread makes it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tracer.conformance.base import format_site
from tracer.conformance.driver import check_app

pytestmark = pytest.mark.timeout(60)

DELAY = 0.05
"""How long after its request an app thread makes its late call: well within the check's
grace (``LATE_GRACE``, 0.2 s)."""

TEXT = [("Content-Type", "text/plain")]
HTTP_PROBES = ["GET /", "HEAD /", "POST /", "POST / (chunked)"]


def late_wsgi_app() -> tuple[Any, list[threading.Thread]]:
    """A WSGI app whose every request starts a thread that calls start_response and write
    after ``DELAY``; the threads, to be joined."""
    threads: list[threading.Thread] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        def later() -> None:
            time.sleep(DELAY)
            try:
                start_response("200 OK", TEXT)("late")  # late from a thread
            except Exception:
                pass

        thread = threading.Thread(target=later, name="left-behind")
        threads.append(thread)
        thread.start()
        start_response("200 OK", TEXT)
        return [b"ok"]

    return app, threads


def late_asgi_app() -> tuple[Any, list[threading.Thread]]:
    """An ASGI app whose every http request starts a thread that hands a ``send`` to the
    loop after ``DELAY`` (``run_coroutine_threadsafe``); the threads, to be joined."""
    threads: list[threading.Thread] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        loop = asyncio.get_running_loop()

        def later() -> None:
            time.sleep(DELAY)
            late = {"type": "http.response.body", "body": b"late"}
            try:
                asyncio.run_coroutine_threadsafe(send(late), loop).result(1)
            except Exception:
                pass

        thread = threading.Thread(target=later, name="left-behind")
        threads.append(thread)
        thread.start()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app, threads


def line_of(marker: str) -> str:
    """``file:line`` (as a recording names it) of the line of this file ending in ``# marker``."""
    lines = Path(__file__).read_text(encoding="utf-8").splitlines()
    [number] = [n for n, text in enumerate(lines, 1) if text.endswith(f"# {marker}")]
    return format_site((__file__, number))


def late_findings(report: Any, rule_id: str) -> list[str]:
    """The probes ``rule_id`` was found in, in probe order."""
    found = {f.request for f in report.findings if f.rule == rule_id}
    return [request for request in report.requests if request in found]


def test_a_wsgi_thread_calling_start_response_late_is_wsgi_026_of_its_request() -> None:
    """Every probe's thread calls late, the last one's after the last probe: each probe has
    its WSGI-026 (the last one too), located at the thread's call, and nothing else."""
    app, threads = late_wsgi_app()
    report = check_app(app, paths=["/"])
    for thread in threads:
        thread.join()
    assert late_findings(report, "WSGI-026") == HTTP_PROBES
    assert {f.rule for f in report.findings} == {"WSGI-026"}
    assert len(report.findings) == len(HTTP_PROBES)
    assert {f.location for f in report.findings} == {line_of("late from a thread")}


def test_an_asgi_thread_sending_late_is_asgi_003_of_its_request() -> None:
    """The same with an ASGI app's thread handing ``send`` to the loop: ASGI-003 of each
    http probe, the last one's too."""
    app, threads = late_asgi_app()
    report = check_app(app, paths=["/"])
    for thread in threads:
        thread.join()
    assert late_findings(report, "ASGI-003") == HTTP_PROBES
    assert {f.rule for f in report.findings} == {"ASGI-003"}
    assert len(report.findings) == len(HTTP_PROBES)
