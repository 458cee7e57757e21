"""How the ``loop`` model ends what the app will not end: a request spinning on ``receive()``
after its disconnect, a lifespan startup or shutdown that hangs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from model_driver import by_kind, send_all

from tracer import events as K
from tracer.errors import ServerError
from tracer.recorder import Recorder
from tracer.servers import Request, ServerConfig
from tracer.servers import loop as loop_module
from tracer.servers.loop import LoopServer

pytestmark = pytest.mark.timeout(60)


async def _spins_on_receive(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Ignores ``http.disconnect`` (and ``websocket.disconnect``): calls ``receive()`` again,
    which then returns at once, so the loop is never given back."""
    if scope["type"] == "lifespan":
        raise RuntimeError("no lifespan")
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
    while True:
        await receive()


@pytest.mark.parametrize("websocket", [False, True], ids=["http", "websocket"])
def test_an_app_spinning_on_receive_after_its_disconnect_is_cancelled_at_stop(
    websocket: bool,
) -> None:
    """The HTTP client times out (the WebSocket one has its accept and leaves); the app keeps
    calling ``receive()``, each returning the disconnect at once. The stop still cancels its
    task: the loop thread ends (so nothing more is recorded), and the request ends as
    cancelled after its client's end. (Before, the loop thread spun on, recording, for as long
    as the process lived.)"""
    recorder = Recorder()
    model = LoopServer(ServerConfig(app=_spins_on_receive), recorder)
    model.start()
    try:
        [response] = send_all(model, [Request(websocket=websocket)], concurrency=1, timeout=0.2)
    finally:
        model.stop(timeout=2.0)
    assert not model.thread.is_alive()
    if websocket:
        assert (response.status, response.error) == (101, None)
    else:
        assert (response.status, response.error) == (None, "timeout")
    ends = [
        e.data["error"] for e in by_kind(recorder.events, K.REQUEST_END) if e.req == response.req
    ]
    assert ends == (["cancelled"] if websocket else ["timeout", "cancelled"])


def _lifespan_app(*, hang_in: str) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        for phase in ("startup", "shutdown"):
            await receive()
            if phase == hang_in:
                await asyncio.Event().wait()
            await send({"type": f"lifespan.{phase}.complete"})

    return app


def test_a_lifespan_shutdown_that_hangs_is_cancelled_with_one_line() -> None:
    """The shutdown is given what is left of the stop's bound, then cancelled; ``notices``
    holds one line saying so, and the lifespan ends as cancelled in the recording."""
    recorder = Recorder()
    model = LoopServer(ServerConfig(app=_lifespan_app(hang_in="shutdown")), recorder)
    model.start()
    assert model.lifespan
    model.stop(timeout=0.5)
    assert not model.thread.is_alive()
    [line] = model.notices
    assert line.startswith("the app's lifespan shutdown did not finish within 0.3 s")
    assert line.endswith("it was cancelled: fix its shutdown handler.")
    [end] = by_kind(recorder.events, K.REQUEST_END)
    assert end.task == "lifespan" and end.data["error"] == "cancelled"


def test_a_lifespan_shutdown_that_finishes_leaves_no_notice() -> None:
    """A shutdown answered in time: nothing to say."""
    recorder = Recorder()
    model = LoopServer(ServerConfig(app=_lifespan_app(hang_in="")), recorder)
    model.start()
    model.stop(timeout=2.0)
    assert model.notices == []


def test_a_lifespan_startup_that_hangs_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The startup has its own bound (``STARTUP_TIMEOUT``, not ``--timeout``); past it, one
    ``ServerError`` naming the bound."""
    monkeypatch.setattr(loop_module, "STARTUP_TIMEOUT", 0.2)
    model = LoopServer(ServerConfig(app=_lifespan_app(hang_in="startup")), Recorder())
    try:
        with pytest.raises(ServerError) as info:
            model.start()
    finally:
        model.stop(timeout=1.0)
    assert str(info.value) == (
        "The app's lifespan startup did not finish within 0.2 s; fix its startup handler."
    )
