"""What a failed lifespan said reaches the recording and the summary; the summary's
throughput keeps three significant digits, so slow runs read true."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator

import tracer
from tracer import events as K
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.shim.asgi import AsgiShim
from tracer.shim.frames import MESSAGE_LIMIT
from tracer.stats import rate_figure

pytestmark = pytest.mark.timeout(60)

S = 1_000_000_000


def _lifespan_app(startup: str | None, shutdown: str | None) -> Any:
    """A lifespan that fails its startup with ``startup`` (its message), else completes it,
    then fails its shutdown with ``shutdown``, else completes it."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "lifespan.startup"
        if startup is not None:
            await send({"type": "lifespan.startup.failed", "message": startup})
            return
        await send({"type": "lifespan.startup.complete"})
        assert (await receive())["type"] == "lifespan.shutdown"
        if shutdown is not None:
            await send({"type": "lifespan.shutdown.failed", "message": shutdown})
            return
        await send({"type": "lifespan.shutdown.complete"})

    return app


def _run_lifespan(app: Any) -> Recorder:
    """Run ``app``'s lifespan as a server does: startup, then shutdown if it started."""
    rec = Recorder()
    shim = AsgiShim(app, recorder=rec)

    async def main() -> None:
        talk = ApplicationCommunicator(shim, {"type": "lifespan", "asgi": {"version": "3.0"}})
        await talk.send_input({"type": "lifespan.startup"})
        answer = await talk.receive_output(5)
        if answer["type"] == "lifespan.startup.complete":
            await talk.send_input({"type": "lifespan.shutdown"})
            await talk.receive_output(5)
        await talk.wait(5)

    asyncio.run(main())
    return rec


def _sends(rec: Recorder) -> list[dict[str, Any]]:
    return [dict(e.data) for e in rec.recording().events if e.kind == K.ASGI_SEND]


def _failed_pid(rec: Recorder) -> int:
    """The process that sent the lifespan failure."""
    [send] = [
        e for e in rec.recording().events if e.kind == K.ASGI_SEND and "failed" in e.data["type"]
    ]
    return send.pid


def test_a_failed_startup_keeps_the_apps_message_and_the_summary_says_so() -> None:
    rec = _run_lifespan(_lifespan_app("db unreachable: connection refused", None))
    [failed] = _sends(rec)
    assert (failed["type"], failed["message"]) == (
        "lifespan.startup.failed",
        "db unreachable: connection refused",
    )
    summary = tracer.summarize(rec)
    assert summary["lifespan_failed"] == [
        {
            "phase": "startup",
            "message": "db unreachable: connection refused",
            "pid": _failed_pid(rec),
        }
    ]
    assert summary["requests"] == 0  # the lifespan is still no request


def test_a_failed_shutdown_is_said_with_its_message_cut_as_an_errors_is() -> None:
    """A message longer than an error's limit is cut there; a lone surrogate spelled out."""
    long = "flush failed \udcff " + "x" * (2 * MESSAGE_LIMIT)
    rec = _run_lifespan(_lifespan_app(None, long))
    complete, failed = _sends(rec)
    assert complete == {
        "type": "lifespan.startup.complete",
        "status": None,
        "bytes": None,
        "more_body": None,
    }
    assert failed["message"] == long[:MESSAGE_LIMIT].replace("\udcff", "\\udcff")
    [said] = tracer.summarize(rec)["lifespan_failed"]
    assert (said["phase"], said["message"]) == ("shutdown", failed["message"])


def test_a_failure_without_a_message_and_a_lifespan_that_went_well() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed"})

    rec = _run_lifespan(app)
    [failed] = _sends(rec)
    assert "message" not in failed
    assert [f["message"] for f in tracer.summarize(rec)["lifespan_failed"]] == [None]
    assert "lifespan_failed" not in tracer.summarize(_run_lifespan(_lifespan_app(None, None)))


def _streams(count: int, seconds: int) -> list[Event]:
    """``count`` requests that all arrive at 0 and end at ``seconds``."""
    events: list[Event] = []
    for req in range(1, count + 1):
        seq = 3 * req
        events += [
            Event(seq, 0, K.REQUEST_QUEUED, req),
            Event(seq + 1, 0, K.REQUEST_START, req, data={"scope_type": "http"}),
            Event(seq + 2, seconds * S, K.REQUEST_END, req, data={"status": 200, "error": None}),
        ]
    return events


def test_the_throughput_of_a_slow_run_keeps_three_significant_digits() -> None:
    """5 streams over 20 s are 0.25 requests a second (was 0.2), so throughput x latency is
    the 5 requests out at once; 3 over 20 s are 0.15 (was 0.1), 3 over 20.1 s 0.149."""
    summary = tracer.summarize(_streams(5, 20))
    assert summary["rps"] == 0.25
    assert summary["rps"] * summary["latency_ms"]["mean"] / 1000 == 5.0
    assert tracer.summarize(_streams(3, 20))["rps"] == 0.15
    assert rate_figure(3 / 20.1) == 0.149


@pytest.mark.parametrize(
    ("value", "figure"),
    [(0.0012345, 0.00123), (2.4689, 2.47), (39.84, 39.8), (96.66, 96.7), (1234.56, 1234.6)],
)
def test_rate_figure(value: float, figure: float) -> None:
    assert rate_figure(value) == figure
