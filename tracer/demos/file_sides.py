"""One ``[[side]]`` of a scenario file: its texts and its runs, every key checked.

``read_side(table, where, folder, scenario)`` gives the side's texts (``name``, ``about``, in
English and, from its ``zh`` table, Chinese) and its ``Runs``: the simulation (``model``, its
sizes, ``concurrency``, ``requests``, ``seed``, and a workload: a bundled one by name, a workload
file next to the scenario, or ``[[side.route]]`` tables as in a workload file) and, given
``app``, the real in-process run of that app on the same model. Every problem is one
``UsageError`` naming the file, the side and the key (the workload's own checks name the route
and phase). Imports ``sim`` (configs, workloads) and ``tracer.run``'s config.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sim import SimConfig
from sim.config import MAX_RECORDED_REQUESTS, MODEL_NAMES
from sim.workload import Workload, bundled_workloads, load_workload, workload_from_dict
from tracer.demos.build import SEED
from tracer.demos.scenario import Runs
from tracer.errors import UsageError
from tracer.run import RunConfig

__all__ = ["SideFile", "read_side", "SIDE_KEYS", "text_value", "MAX_NAME"]

SIDE_KEYS = (
    "name",
    "about",
    "zh",
    "model",
    "threads",
    "workers",
    "pool_size",
    "concurrency",
    "requests",
    "seed",
    "workload",
    "route",
    "app",
    "path",
)
"""The keys a ``[[side]]`` table takes, in the order messages list them."""

APPLIES = {"threads": ("threads", "processes"), "workers": ("processes", "loop")}
"""Size key -> the models it changes anything for (``trace sim``'s rule: ``wsgi-on-loop`` has
one thread, ``loop`` one loop thread per process)."""

MAX_NAME = 100
"""The longest title or side name: ``trace sim --label``'s bound (a title is one line)."""
MAX_TEXT = 2000
"""The longest caption or ``about``: a caption pane, not a page."""


@dataclass(frozen=True, slots=True)
class SideFile:
    """What one ``[[side]]`` table says."""

    texts: dict[str, dict[str, str]]
    """Language -> ``name`` and ``about`` (``about`` may be missing)."""
    runs: Runs
    """Its simulation, and the real run when it names an ``app``."""


def text_value(table: dict[str, Any], key: str, where: str, *, line: bool) -> str | None:
    """``table[key]`` as a text (None when absent): a non-empty string, one printable line
    when ``line`` (a title, a name), else lines of at most ``MAX_TEXT`` characters."""
    if key not in table:
        return None
    value = table[key]
    most = MAX_NAME if line else MAX_TEXT
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{where}: {key} must be a non-empty string, not {value!r}.")
    if len(value) > most:
        raise UsageError(f"{where}: {key} is {len(value):,} characters; give at most {most:,}.")
    shown = value if line else value.replace("\n", "")
    if not shown.isprintable():
        what = "one line without control characters" if line else "text without control characters"
        raise UsageError(f"{where}: {key} must be {what}, not {value!r}.")
    return value.strip() if line else value


def _whole(table: dict[str, Any], key: str, where: str, default: int | None, most: int) -> Any:
    value = table.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise UsageError(
            f"{where}: {key} must be a whole number from 1 to {most:,}, not {value!r}."
        )
    return value


def read_side(table: Any, where: str, folder: str, scenario: str) -> SideFile:
    """The side ``table`` of the scenario file in ``folder`` (``where``: how messages name it;
    ``scenario``: the scenario's name, which names an inline workload)."""
    if not isinstance(table, dict):
        raise UsageError(f"{where} is not a table; write each side as a [[side]] table.")
    unknown = sorted(set(table) - set(SIDE_KEYS))
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r}; expected {', '.join(SIDE_KEYS)}.")
    for key in ("name", "model"):
        if key not in table:
            example = 'name = "WSGI, 4 threads"' if key == "name" else 'model = "threads"'
            raise UsageError(f'{where}: missing key "{key}"; add one, like {example}.')
    texts = {"en": _texts(table, where)}
    if "zh" in table:
        zh = table["zh"]
        if not isinstance(zh, dict):
            raise UsageError(f'{where}: zh must be a table, like zh = {{name = "WSGI，4 个线程"}}.')
        wrong = sorted(set(zh) - {"name", "about"})
        if wrong:
            raise UsageError(f"{where}, zh: unknown key {wrong[0]!r}; expected name, about.")
        texts["zh"] = _texts(zh, f"{where}, zh")
    model = table["model"]
    if model not in MODEL_NAMES:
        raise UsageError(f"{where}: model must be one of {', '.join(MODEL_NAMES)}, not {model!r}.")
    for key, models in APPLIES.items():
        if key in table and model not in models:
            raise UsageError(
                f'{where}: {key} does not apply to model "{model}" (only to '
                f"{', '.join(models)}); drop it or choose another model."
            )
    if "pool_size" in table and model != "loop":
        raise UsageError(f'{where}: pool_size does not apply to model "{model}" (only to loop).')
    sim = _sim(table, where, folder, scenario, model)
    return SideFile(texts, Runs(sim=sim, real=_real(table, where, folder, sim)))


def _texts(table: dict[str, Any], where: str) -> dict[str, str]:
    found = {"name": text_value(table, "name", where, line=True)}
    found["about"] = text_value(table, "about", where, line=False)
    return {key: value for key, value in found.items() if value is not None}


def _sim(table: dict[str, Any], where: str, folder: str, scenario: str, model: str) -> SimConfig:
    """The side's simulation, checked as ``trace sim`` checks its own (messages name the key)."""
    workload = _workload(table, where, folder, scenario)
    for number, route in enumerate(workload.routes, 1):
        if route.websocket and model != "loop":
            # trace sim's own refusal names its --model option, which a file has not.
            raise UsageError(
                f"{workload.source}, route {number} is a WebSocket session (a ws phase) and WSGI has no "
                f'WebSocket, so model "{model}" cannot serve it; use model = "loop", or a '
                "send phase for a long WSGI response."
            )
    config = SimConfig(
        model=model,
        threads=_whole(table, "threads", where, None, 4_194_304),
        workers=_whole(table, "workers", where, 1, 4_194_304),
        pool_size=_whole(table, "pool_size", where, 40, 4_194_304),
        concurrency=_whole(table, "concurrency", where, 10, 1_048_576),
        requests=_whole(table, "requests", where, 100, MAX_RECORDED_REQUESTS),
        seed=_seed(table, where),
        workload=workload,
    )
    names = {
        field: f"{where}: {field}" for field in ("threads", "workers", "pool_size", "concurrency")
    }
    return config.check(recorded=True, names=names)


def _seed(table: dict[str, Any], where: str) -> int:
    seed = table.get("seed", SEED)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UsageError(f"{where}: seed must be a whole number of 0 or more, not {seed!r}.")
    return seed


def _workload(table: dict[str, Any], where: str, folder: str, scenario: str) -> Workload:
    """A bundled workload by name, a workload file (relative to the scenario's folder), or the
    side's ``[[side.route]]`` tables, read by ``trace sim --workload``'s checks."""
    if "workload" in table and "route" in table:
        raise UsageError(f"{where}: give workload or [[side.route]] tables, not both.")
    if "route" in table:
        data = {"name": scenario, "route": table["route"]}
        return workload_from_dict(data, where=where)
    if "workload" not in table:
        raise UsageError(
            f'{where}: missing key "workload"; add one, like workload = "mixed" (a bundled '
            "workload or a workload file), or [[side.route]] tables after the side's keys."
        )
    name = table["workload"]
    if not isinstance(name, str) or not name:
        raise UsageError(f"{where}: workload must be a string, not {name!r}.")
    path = os.path.join(folder, name)
    if os.path.lexists(path):
        return load_workload(path)
    bundled = bundled_workloads()
    if name in bundled:
        return load_workload(name)
    raise UsageError(
        f'{where}: workload "{name}" is neither a file beside the scenario ("{path}") nor a '
        f"bundled workload ({', '.join(bundled)})."
    )


def _real(table: dict[str, Any], where: str, folder: str, sim: SimConfig) -> RunConfig | None:
    """The real in-process run of ``app`` (None without one), sized as the simulation."""
    path = table.get("path")
    if "app" not in table:
        if path is not None:
            raise UsageError(f"{where}: path is the real app's request path; add app or drop it.")
        return None
    app = table["app"]
    if not isinstance(app, str) or ":" not in app or not app.isprintable():
        raise UsageError(
            f'{where}: app must be "module:attribute", like "sample_apps.io_bound:wsgi_app", '
            f"not {app!r}."
        )
    if path is None:
        path = "/"
    if not isinstance(path, str) or not path.startswith("/") or not path.isprintable():
        raise UsageError(f'{where}: path must be a string starting with "/", not {path!r}.')
    if "pool_size" in table:
        raise UsageError(
            f"{where}: pool_size is the simulation's alone (a real loop has anyio's 40 tokens); "
            "drop pool_size or app."
        )
    return RunConfig(
        app=app,
        app_dir=folder,  # an app beside the scenario file imports from any folder
        server=sim.model,
        paths=(path,),
        concurrency=sim.concurrency,
        requests=sim.requests,
        seed=sim.seed,
        threads=table.get("threads"),
        workers=table.get("workers"),
    )
