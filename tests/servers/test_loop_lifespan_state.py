"""The ``loop`` model's lifespan state and shutdown, as uvicorn's: every request's scope has
``state`` (a copy of the lifespan's), also when the lifespan raised, is unsupported or returned
without answering startup; a ``lifespan.shutdown.failed`` leaves one warning in ``notices``."""

from __future__ import annotations

from typing import Any

import pytest
from model_driver import running, send_all

from tracer.servers import Request

pytestmark = pytest.mark.timeout(60)


def _state_app(lifespan: str, seen: list[Any]) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            scope["state"]["db"] = "connected"
            if lifespan == "raises":
                raise ValueError("no lifespan here")
            return  # "returns": never answers startup
        seen.append(scope.get("state", "no state key"))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


@pytest.mark.parametrize("lifespan", ["raises", "returns"])
def test_requests_get_the_state_when_the_lifespan_did_not_complete(lifespan: str) -> None:
    """Served without lifespan, each request still has ``scope["state"]``, holding what the
    lifespan put there before it raised or returned (uvicorn's ``app_state.copy()``)."""
    seen: list[Any] = []
    with running("loop", _state_app(lifespan, seen)) as (model, _):
        responses = send_all(model, [Request()] * 2, concurrency=1)
        assert model.lifespan is False  # type: ignore[attr-defined]
    assert [r.status for r in responses] == [200, 200]
    assert seen == [{"db": "connected"}, {"db": "connected"}]


def test_an_app_that_rejects_the_lifespan_scope_gets_an_empty_state() -> None:
    """An app raising on the lifespan scope at once (Starlette-style ``request.state`` reads
    ``scope["state"]``): its requests' scopes have an empty ``state``."""
    seen: list[Any] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            raise ValueError("no lifespan")
        seen.append(scope.get("state", "no state key"))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    with running("loop", app) as (model, _):
        send_all(model, [Request()], concurrency=1)
    assert seen == [{}]


def _shutdown_fails(message: str | None) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            failed: dict[str, Any] = {"type": "lifespan.shutdown.failed"}
            if message is not None:
                failed["message"] = message
            await send(failed)
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


@pytest.mark.parametrize(
    ("message", "notice"),
    [
        (
            "flush\n failed",
            'warning: the app\'s lifespan shutdown failed: "flush failed" '
            "(it sent lifespan.shutdown.failed).",
        ),
        (
            None,
            "warning: the app's lifespan shutdown failed "
            "(it sent lifespan.shutdown.failed without a message).",
        ),
    ],
)
def test_a_failed_shutdown_leaves_one_warning(message: str | None, notice: str) -> None:
    """``lifespan.shutdown.failed``: one line in ``notices`` with the app's message, which the
    CLI prints after the run (uvicorn logs it as an error)."""
    with running("loop", _shutdown_fails(message)) as (model, _):
        send_all(model, [Request()], concurrency=1)
        assert model.notices == []  # type: ignore[attr-defined]
    assert model.notices == [notice]  # type: ignore[attr-defined]
