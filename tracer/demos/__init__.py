"""Lecture demonstrations: each claim about WSGI and ASGI as a scenario a class can watch.

``SCENARIOS`` maps the ``trace demo NAME`` choices to ``Scenario`` objects (texts in English
and Chinese, the runs to compare, bookmarks and the shape their tests check);
``run_demo(SCENARIOS[name], simulated=..., lang=...)`` makes the bookmarked recordings.
Imports the spine, ``tracer.run`` and ``sim``; never the UI or the exporters.
"""

from __future__ import annotations

from tracer.demos.concurrency import BLOCKING_CALL, CPU_GIL, SYNC_VS_ASYNC, THREADPOOL_OFFLOAD
from tracer.demos.protocols import C10K, STREAMING, WEBSOCKET, WSGI_ON_ASGI
from tracer.demos.runner import DemoRun, run_demo, save_demo
from tracer.demos.scenario import LANGS, Scenario, Side
from tracer.errors import UsageError

__all__ = ["SCENARIOS", "LANGS", "Scenario", "Side", "DemoRun", "run_demo", "save_demo", "scenario"]

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        SYNC_VS_ASYNC,
        BLOCKING_CALL,
        CPU_GIL,
        THREADPOOL_OFFLOAD,
        WSGI_ON_ASGI,
        STREAMING,
        WEBSOCKET,
        C10K,
    )
}
"""``trace demo`` name -> scenario, in the order ``--list`` shows them."""


def scenario(name: str) -> Scenario:
    """The scenario called ``name``; ``UsageError`` lists the choices."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise UsageError(
            f'Unknown demo "{name}". Choose one of: {", ".join(SCENARIOS)} (trace demo --list).'
        ) from None
