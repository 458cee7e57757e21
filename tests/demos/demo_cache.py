"""Simulated demo runs, made once per test session (they are deterministic, so sharing is safe)."""

from __future__ import annotations

from functools import cache

from tracer.demos import SCENARIOS, DemoRun, run_demo


@cache
def simulated(name: str, lang: str = "en") -> DemoRun:
    """The full-size ``--sim`` run of scenario ``name`` with texts in ``lang``."""
    return run_demo(SCENARIOS[name], simulated=True, lang=lang)
