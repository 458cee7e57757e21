"""Small builders the scenario tables share: real runs, simulated runs, bookmark moments.

The scenario tables call the run builders inside each ``Side``'s ``make``, so ``tracer.run``
(``RunConfig``) and ``sim`` (configs and workloads) are imported by the builders when a side's
runs are first made, not with the tables. Imports ``tracer.demos.scenario`` at the top.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracer.demos.scenario import Moment

if TYPE_CHECKING:
    from sim import SimConfig
    from sim.workload import Workload
    from tracer.run import RunConfig

__all__ = ["real_run", "sim_run", "workload", "moment", "SEED"]

SEED = 1
"""Every demo run uses this seed: the same arrivals every time."""


def real_run(app: str, server: str, path: str, *, c: int, n: int, **options: Any) -> RunConfig:
    """An in-process run of a bundled sample app on a server model, ``-c c -n n``."""
    from tracer.run import RunConfig

    return RunConfig(
        app=app, server=server, paths=(path,), concurrency=c, requests=n, seed=SEED, **options
    )


def workload(name: str, *phases: dict[str, Any], sync: bool = False) -> Workload:
    """A one-route workload from phase tables as in a workload TOML file."""
    from sim.workload import workload_from_dict

    route: dict[str, Any] = {"name": name, "path": "/", "phases": list(phases)}
    if sync:
        route["sync"] = True
    if not any("ws" in phase for phase in phases):
        # The real side's sample apps never call receive() on an HTTP request: nor does this.
        route["reads_body"] = False
    return workload_from_dict({"name": name, "route": [route]}, where=f'demo workload "{name}"')


def sim_run(model: str, work: Workload, *, c: int, n: int, **options: Any) -> SimConfig:
    """A simulated run: ``model`` serving ``work`` to ``c`` clients, ``n`` requests."""
    from sim import SimConfig

    return SimConfig(model=model, workload=work, concurrency=c, requests=n, seed=SEED, **options)


def moment(side: int, found: tuple[int, int] | int | None, key: str) -> list[Moment]:
    """A bookmark on ``side`` at a found time (``(req, t)``, about that request, or ``t``);
    none if not found."""
    if found is None:
        return []
    if isinstance(found, tuple):
        return [(side, int(found[1]), key, int(found[0]))]
    return [(side, int(found), key, None)]
