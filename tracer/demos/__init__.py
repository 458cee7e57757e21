"""Lecture demonstrations: each claim about WSGI and ASGI as a scenario a class can watch.

``SCENARIOS`` maps the ``trace demo NAME`` choices to ``Scenario`` objects (texts in English
and Chinese, the runs to compare, bookmarks and the shape their tests check);
``run_demo(SCENARIOS[name], simulated=..., lang=...)`` makes the bookmarked recordings; a
teacher's own scenario comes from a TOML file (``tracer.demos.from_file.load_scenario``).
Imports the spine and the scenario tables; ``tracer.run`` and ``sim`` only when a scenario's
runs are made or ``run_demo``, ``save_demo`` or ``DemoRun`` is first asked for (a replay or an
export of a demo's recording reads the scenarios' texts only). Never the UI or the exporters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracer.demos.concurrency import BLOCKING_CALL, CPU_GIL, SYNC_VS_ASYNC, THREADPOOL_OFFLOAD
from tracer.demos.protocols import C10K, STREAMING, WEBSOCKET, WSGI_ON_ASGI
from tracer.demos.scenario import LANGS, Runs, Scenario, Side
from tracer.errors import UsageError

if TYPE_CHECKING:
    from tracer.demos.runner import DemoRun, run_demo, save_demo

__all__ = [
    "SCENARIOS",
    "LANGS",
    "Scenario",
    "Side",
    "Runs",
    "DemoRun",
    "run_demo",
    "save_demo",
    "scenario",
]

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


# The submodule tracer.demos.scenario is imported above, before this def: imported after it,
# the submodule would replace this function as the package's attribute ``scenario``.
def scenario(name: str) -> Scenario:
    """The scenario called ``name``; ``UsageError`` lists the choices."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise UsageError(
            f'Unknown demo "{name}". Choose one of: {", ".join(SCENARIOS)} (trace demo --list).'
        ) from None


_LAZY = {
    "DemoRun": "tracer.demos.runner",
    "run_demo": "tracer.demos.runner",
    "save_demo": "tracer.demos.runner",
}
"""Public name -> the module that defines it, imported on first use (PEP 562): the runner
imports ``tracer.run`` (the server models, the load generator) and ``sim``."""


def __getattr__(name: str) -> Any:
    """``run_demo`` and the other names of ``_LAZY``, imported when first asked for (then kept
    here, so later look-ups are plain attribute reads)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the ones not imported yet included."""
    return sorted(set(globals()) | set(_LAZY))
