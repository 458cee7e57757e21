"""Helpers for driving a server model directly: start it, send requests, collect events."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tracer.events import Event
from tracer.recorder import Recorder
from tracer.servers import Request, Response, ServerConfig, ServerModel, server_model


@contextmanager
def running(name: str, app: Any = None, **config: Any) -> Iterator[tuple[ServerModel, Recorder]]:
    """A started server model on an in-memory recorder; stopped on exit."""
    recorder = Recorder()
    model = server_model(name)(ServerConfig(app=app, **config), recorder)
    model.start()
    try:
        yield model, recorder
    finally:
        model.stop(timeout=2.0)


def send_all(
    model: ServerModel,
    requests: list[Request],
    *,
    concurrency: int,
    timeout: float | None = 10.0,
) -> list[Response]:
    """Send ``requests`` through ``concurrency`` closed-loop clients; responses in send order."""

    async def main() -> list[Response]:
        pending = list(enumerate(requests))
        out: list[Response | None] = [None] * len(requests)

        async def client() -> None:
            while pending:
                index, request = pending.pop(0)
                out[index] = await model.target.request(request, timeout=timeout)

        await asyncio.gather(*(client() for _ in range(concurrency)))
        return [r for r in out if r is not None]

    return asyncio.run(main())


def by_kind(events: list[Event], kind: str) -> list[Event]:
    """The events of one kind, in time order."""
    return sorted((e for e in events if e.kind == kind), key=lambda e: (e.t, e.seq))


def spans(events: list[Event]) -> dict[int, dict[str, Event]]:
    """req -> {kind: first event of that kind} for the lifecycle kinds."""
    out: dict[int, dict[str, Event]] = {}
    for event in sorted(events, key=lambda e: (e.t, e.seq)):
        if event.req is not None:
            out.setdefault(event.req, {}).setdefault(event.kind, event)
    return out
