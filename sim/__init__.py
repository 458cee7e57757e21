"""Discrete-event simulator of server concurrency models; emits gateway-trace recordings.

``simulate(SimConfig(model="loop", ...), recorder=Recorder(...))`` runs a model against a
workload in virtual time and yields the same events a real run of that model would record.
Imports only the spine of ``tracer`` (events, recording, recorder, errors, summary).
"""

from __future__ import annotations

from sim.config import MODEL_NAMES, SimConfig
from sim.dist import parse_dist, parse_duration
from sim.result import SimResult
from sim.simulation import simulate
from sim.workload import Workload, inline_workload, load_workload

__all__ = [
    "MODEL_NAMES",
    "SimConfig",
    "SimResult",
    "Workload",
    "inline_workload",
    "load_workload",
    "parse_dist",
    "parse_duration",
    "simulate",
]
