"""The load generator: a request plan, closed- or open-loop arrivals, client timeouts.

It talks to any server model through ``tracer.servers.Target`` and never imports a model,
the TUI, the exporters or the CLI.
"""

from __future__ import annotations

from tracer.loadgen.driver import LoadSettings, LoadStats, Progress, drive
from tracer.loadgen.plan import RequestPlan, build_plan, parse_header

__all__ = [
    "LoadSettings",
    "LoadStats",
    "Progress",
    "RequestPlan",
    "build_plan",
    "drive",
    "parse_header",
]
