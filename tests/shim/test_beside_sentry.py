"""The shim beside sentry-sdk: its ASGI middleware and the task factory of its asyncio
integration, in either order around the shim.

Sentry is initialised with a transport that keeps each envelope in memory (no DSN is ever
reached) and with tracing on, so its spans and its captured errors can be checked too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import tracer
from tracer import events as K
from tracer.events import Event

sentry_sdk = pytest.importorskip("sentry_sdk")
pytest.importorskip("fastapi")

from fastapi import FastAPI  # noqa: E402
from fastapi.responses import PlainTextResponse  # noqa: E402
from sentry_sdk.integrations.asgi import SentryAsgiMiddleware  # noqa: E402
from sentry_sdk.integrations.asyncio import patch_asyncio  # noqa: E402

pytestmark = pytest.mark.timeout(60)

BLOCK_S = 0.03


class _Kept(sentry_sdk.transport.Transport):
    """Sentry's envelopes, kept in memory: the item types of each one."""

    envelopes: list[list[str]] = []

    def capture_envelope(self, envelope: Any) -> None:
        _Kept.envelopes.append([item.type for item in envelope.items])


@pytest.fixture
def sentry() -> Iterator[list[list[str]]]:
    """sentry-sdk initialised, tracing every request; closed afterwards. Its asyncio
    integration patches a loop once per process (at its first ``init``), so a test puts
    Sentry's task factory on its own loop with ``patch_asyncio``, which is what that
    integration does."""
    _Kept.envelopes = []
    sentry_sdk.init(
        dsn="http://key@127.0.0.1:9/1",
        transport=_Kept,
        traces_sample_rate=1.0,
        # No integration patches anything for the rest of the test process: the app is
        # wrapped in Sentry's ASGI middleware by hand, its task factory set by hand.
        default_integrations=False,
        auto_enabling_integrations=False,
    )
    try:
        yield _Kept.envelopes
    finally:
        sentry_sdk.get_client().close()
        # No client for the tests after this one. Not a bare ``init()``: that sets up Sentry's
        # default integrations, whose patches (threads, executors) stay for the whole process.
        sentry_sdk.init(default_integrations=False, auto_enabling_integrations=False)


async def _child() -> int:
    time.sleep(BLOCK_S)  # the line a task's loop.blocked names
    return 1


CHILD_LINE = _child.__code__.co_firstlineno + 1


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/task")
    async def task() -> PlainTextResponse:
        await asyncio.create_task(_child(), name="child")
        return PlainTextResponse("ok")

    @app.get("/sleeper")
    async def sleeper() -> PlainTextResponse:
        await asyncio.create_task(asyncio.sleep(0), name="sleeper")
        return PlainTextResponse("ok")

    app.get("/block")(_block)
    app.get("/boom")(_boom)
    return app


async def _block() -> PlainTextResponse:
    time.sleep(BLOCK_S)
    return PlainTextResponse("ok")


async def _boom() -> PlainTextResponse:
    raise ValueError("kaboom")


BLOCK_LINE = _block.__code__.co_firstlineno + 1
BOOM_LINE = _boom.__code__.co_firstlineno + 1


def _get(asgi_app: Any, paths: list[str], before: Any = None) -> list[int]:
    """GET each of ``paths`` in turn on one loop (``before(i)`` first, inside it)."""

    async def go() -> list[int]:
        transport = httpx.ASGITransport(app=asgi_app, raise_app_exceptions=False)
        statuses = []
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for at, path in enumerate(paths):
                if before is not None:
                    before(at)
                statuses.append((await client.get(path)).status_code)
        return statuses

    return asyncio.run(go())


def _of(rec: tracer.Recorder, kind: str) -> list[Event]:
    return [e for e in rec.events if e.kind == kind]


def _child_steps(rec: tracer.Recorder) -> list[tuple[int, str | None, Any, Any]]:
    """(request, task, awaiting, location) of each step of a task other than a request's own."""
    own = {e.req: e.task for e in _of(rec, K.REQUEST_START)}
    return [
        (e.req, e.task, e.data["awaiting"], e.data["location"])
        for e in _of(rec, K.SCHED_STEP)
        if e.task != own[e.req]
    ]


def _where(location: str | None) -> str | None:
    return None if location is None else location.rsplit("/", 1)[-1]


def test_a_task_made_through_sentrys_task_factory_set_after_the_shims_is_stepped_once(
    sentry: list[list[str]],
) -> None:
    """Sentry's asyncio integration enabled once the shim's factory is the loop's (in a
    lifespan startup, as Sentry's docs have it): Sentry's factory wraps the shim's, and the
    shim must not wrap Sentry's again at the next request, or each task is driven by two
    step proxies and its one step is recorded as three (one ending "started eagerly")."""
    rec = tracer.Recorder()

    def enable(at: int) -> None:
        if at == 1:  # the shim's factory was set at the first request
            patch_asyncio()

    assert _get(tracer.instrument(_app(), recorder=rec), ["/task"] * 3, enable) == [200] * 3
    starts = [e.req for e in _of(rec, K.REQUEST_START)]
    here = f"test_beside_sentry.py:{CHILD_LINE}"
    steps = _child_steps(rec)
    assert [(req, awaiting) for req, _, awaiting, _ in steps] == [(req, None) for req in starts]
    assert [task for _, task, _, _ in steps] == ["child"] * 3
    # The request's own first step may be long too (a cold first request): only the tasks'.
    blocked = [e for e in _of(rec, K.LOOP_BLOCKED) if e.task == "child"]
    assert [(e.req, _where(e.data["location"])) for e in blocked] == [(req, here) for req in starts]


def test_sentrys_task_factory_set_before_the_shims_is_wrapped_and_steps_once(
    sentry: list[list[str]],
) -> None:
    """The other order: Sentry's factory is the loop's before the first request; the shim's
    wraps it, and each task is one step."""
    rec = tracer.Recorder()

    def enable(at: int) -> None:
        if at == 0:
            patch_asyncio()

    assert _get(tracer.instrument(_app(), recorder=rec), ["/task"] * 2, enable) == [200] * 2
    steps = _child_steps(rec)
    assert [(task, awaiting) for _, task, awaiting, _ in steps] == [("child", None)] * 2


def test_a_step_inside_sentrys_task_wrapper_is_located_as_without_it(
    sentry: list[list[str]],
) -> None:
    """A task of asyncio's own coroutine made through Sentry's factory, its step ending inside
    Sentry's ``await coro``: located at the awaited primitive, as without Sentry."""
    rec = tracer.Recorder()
    wrapped = tracer.instrument(_app(), recorder=rec)
    assert _get(wrapped, ["/sleeper", "/sleeper"], lambda at: at and patch_asyncio()) == [200] * 2
    steps = [(task, awaiting, location) for _, task, awaiting, location in _child_steps(rec)]
    assert [(task, awaiting) for task, awaiting, _ in steps] == [
        ("sleeper", "asyncio.sleep"),
        ("sleeper", None),
    ] * 2
    plain, sentrys = steps[0][2], steps[2][2]
    assert plain is not None and plain.startswith("asyncio/tasks.py:")
    assert sentrys == plain


@pytest.mark.parametrize("order", ["shim outside", "shim inside"])
def test_sentrys_asgi_middleware_either_side_of_the_shim(
    sentry: list[list[str]], order: str
) -> None:
    """``tracer.instrument(SentryAsgiMiddleware(app))`` and the reverse: each request is
    recorded once, a block is named at the app's line, the app's error is recorded where it
    was raised and still reaches Sentry, and Sentry makes one transaction per request."""
    rec = tracer.Recorder()
    app = _app()
    if order == "shim outside":
        # Detected as ASGI: Sentry's middleware sets ``__call__`` per instance (a slot).
        wrapped = tracer.instrument(SentryAsgiMiddleware(app), recorder=rec)
    else:
        wrapped = SentryAsgiMiddleware(tracer.instrument(app, recorder=rec))

    assert _get(wrapped, ["/block", "/boom", "/task"]) == [200, 500, 200]
    sentry_sdk.flush()
    starts = [e.req for e in _of(rec, K.REQUEST_START)]
    assert len(starts) == 3
    assert [(e.req, e.data["status"]) for e in _of(rec, K.REQUEST_END)] == [
        (starts[0], 200),
        (starts[1], 500),
        (starts[2], 200),
    ]
    blocks = [(e.req, _where(e.data["location"])) for e in _of(rec, K.LOOP_BLOCKED)]
    assert (starts[0], f"test_beside_sentry.py:{BLOCK_LINE}") in blocks
    assert (starts[2], f"test_beside_sentry.py:{CHILD_LINE}") in blocks
    assert [(e.req, e.data["type"], _where(e.data["where"])) for e in _of(rec, K.ERROR)] == [
        (starts[1], "ValueError", f"test_beside_sentry.py:{BOOM_LINE}")
    ]
    assert not _of(rec, K.VIOLATION)
    kept = sorted(kind for kinds in sentry for kind in kinds if kind in ("event", "transaction"))
    assert kept == ["event"] + ["transaction"] * 3
