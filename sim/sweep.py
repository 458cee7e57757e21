"""What-if sweeps: the same simulation over several values of one setting.

``trace sim ... --sweep threads=1,2,4,8,16`` answers "how many threads do I need": one
stats-only simulation per value, same seed (so the same requests), a row of throughput and
latency percentiles each. A value given twice, or a ``cpus`` sweep whose rows could not differ
(no value below the cores the model can use), is refused in one line rather than shown as rows
that say nothing. Imports only ``tracer.errors`` and ``sim`` modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.capacity import Capacity, capacity, run_queue_grew
from sim.config import SimConfig
from sim.engine import ClockOverflow
from sim.result import SimResult
from sim.simulation import simulate
from tracer.errors import UsageError

__all__ = ["SWEEPABLE", "NAMES", "SweepRow", "parse_sweep", "sweep", "sweep_grid", "typed_name"]

SWEEPABLE: dict[str, tuple[str, type]] = {
    "threads": ("threads", int),
    "workers": ("workers", int),
    "processes": ("workers", int),
    "rate": ("rate", float),
    "concurrency": ("concurrency", int),
    "c": ("concurrency", int),
    "pool-size": ("pool_size", int),
    "pool_size": ("pool_size", int),
    "cpus": ("cpus", int),
}
"""Sweep name (as typed) -> (``SimConfig`` field, value type)."""

_ALIASES = ("c", "pool_size", "processes")

NAMES = tuple(name for name in SWEEPABLE if name not in _ALIASES)
"""The names of ``SWEEPABLE`` that ``trace sim --help`` and the errors list (no aliases)."""


@dataclass(frozen=True, slots=True)
class SweepRow:
    """One value of the swept setting and what it gave."""

    name: str
    """The ``SimConfig`` field that was varied (the key of its value in ``--json``: one key
    whichever spelling was typed, snake_case as the summary's keys)."""
    value: float
    """Its value in this row."""
    summary: dict[str, Any]
    """The simulation's summary."""
    open_loop: dict[str, Any] | None = None
    """With ``--rate``: ``offered_rps`` (the arrivals' rate; None when they all came at one
    instant) and ``drain_s`` (from the last arrival to the last end). The summary's ``rps``
    spreads the completed requests over the whole run, drain included: in a short run against
    long services it falls far below the offered rate that a stable open system keeps up
    with, without any saturation."""
    capacity: Capacity | None = None
    """What the row's server keeps up with (``sim.capacity``); with ``rate``, how loaded."""
    rate: float | None = None
    """The row's open-loop rate (None: a closed loop)."""
    fixed: tuple[tuple[str, Any], ...] = ()
    """The other swept settings' values in this row (a sweep over two settings), in order."""
    queue_grew: bool = False
    """Whether the wait queue grew over the run past chance (``sim.capacity.queue_grew``)."""

    @property
    def saturated(self) -> bool:
        """An open loop past what the server keeps up with: its latencies grow with the run."""
        if self.rate is None:
            return False
        return self.queue_grew or (self.capacity is not None and self.capacity.saturated(self.rate))

    def as_dict(self) -> dict[str, Any]:
        """For ``--json``: ``{"threads": 4, "rps": ..., "latency_ms": {...}, ...,
        "capacity": {"resource": "threads", "capacity_rps": ..., "utilisation": ...,
        "saturated": ...}}`` (``utilisation`` and ``saturated`` with a rate only)."""
        load = (
            {}
            if self.capacity is None
            else {"capacity": self.capacity.as_dict(self.rate, queue_grew=self.queue_grew)}
        )
        return {
            **dict(self.fixed),
            self.name: self.value,
            **self.summary,
            **(self.open_loop or {}),
            **load,
        }


def typed_name(text: str) -> str:
    """The setting a ``--sweep`` text names, as typed (``pool-size``, ``pool_size``, ``c``):
    the messages and the table name it so, not by an option the user never typed."""
    return text.partition("=")[0].strip().lower()


def parse_sweep(text: str) -> tuple[str, list[Any]]:
    """``"threads=1,2,4"`` -> ``("threads", [1, 2, 4])``; a ``UsageError`` naming the problem."""
    key = typed_name(text)
    _, equals, values_text = text.partition("=")
    if not equals or not values_text.strip():
        raise UsageError(f'--sweep "{text}" should look like threads=1,2,4,8.')
    if key not in SWEEPABLE:
        names = ", ".join(NAMES)
        raise UsageError(f'--sweep "{text}": cannot sweep "{key}"; sweep one of {names}.')
    field_name, kind = SWEEPABLE[key]
    values: list[Any] = []
    for item in values_text.split(","):
        item = item.strip()
        try:
            value = kind(item)
        except ValueError:
            raise UsageError(
                f'--sweep "{text}": "{item}" is not {_KIND_NAMES.get(kind, kind.__name__)}.'
            ) from None
        if not value > 0:
            raise UsageError(f'--sweep "{text}": values must be above 0, not "{item}".')
        if value in values:
            # A second row of the same value is the first one again (same seed, same
            # requests): refused rather than dropped, so the table has the rows that were typed.
            raise UsageError(
                f'--sweep "{text}": {_shown(value)} is given twice; give each value once.'
            )
        values.append(value)
    return field_name, values


_KIND_NAMES = {int: "a whole number", float: "a number"}


def sweep(
    config: SimConfig,
    name: str,
    values: list[Any],
    *,
    label: str | None = None,
    fixed: tuple[tuple[str, Any], ...] = (),
) -> list[SweepRow]:
    """Simulate ``config`` once per value of field ``name`` (stats only; a rate means open loop).

    ``label``: the setting as the user typed it (``typed_name``), for the messages; by default
    the field's name with dashes. ``fixed``: other swept fields and their values, set in
    ``config`` already, which each row carries (``sweep_grid``)."""
    label = label or name.replace("_", "-")
    if name == "concurrency" and config.rate is not None:
        raise UsageError(f"--sweep {label} needs a closed loop (-c), not --rate.")
    # Every value is checked before the first row runs: a typo in the last value (threads=
    # 1,2,100000000) is refused at once, not after the other rows have been simulated.
    # A message names the row and the setting as swept: "--sweep cpus=9000: cpus must be...".
    configs = []
    for value in values:
        try:
            configs.append(config.with_value(name, value).check(names={name: label}))
        except UsageError as exc:
            raise UsageError(f"--sweep {label}={_shown(value)}: {exc}") from None
    if name == "cpus" and not fixed:  # the values are whole numbers of cores from here on
        _refuse_idle_cores(config, values, label)
    rows = []
    for value, one in zip(values, configs, strict=True):
        try:
            result = simulate(one)
        except ClockOverflow as exc:  # say which row ran out of time
            raise UsageError(f"--sweep {label}={_shown(value)}: {exc}") from None
        rows.append(
            SweepRow(
                name,
                value,
                result.summary,
                _open_loop(result),
                capacity(one),
                one.rate,
                tuple(fixed),
                run_queue_grew(result),
            )
        )
    return rows


def sweep_grid(config: SimConfig, axes: list[tuple[str, list[Any], str]]) -> list[SweepRow]:
    """``sweep`` over one setting, or over every pair of values of two (``axes``: field,
    values, label as typed; the first is the outer one): ``--sweep workers=2,4 --sweep
    threads=2,4,8`` is six rows, a workers x threads table. Every pair is checked before the
    first row runs; a ``cpus`` axis is refused only when none of its rows could differ."""
    if len(axes) == 1:
        ((name, values, label),) = axes
        return sweep(config, name, values, label=label)
    (outer, outer_values, outer_label), (name, values, label) = axes
    for first in outer_values:
        for second in values:
            try:
                config.with_value(outer, first).with_value(name, second).check(
                    names={outer: outer_label, name: label}
                )
            except UsageError as exc:
                raise UsageError(
                    f"--sweep {outer_label}={_shown(first)} with {label}={_shown(second)}: {exc}"
                ) from None
    if "cpus" in (outer, name):
        _refuse_idle_grid(config, axes)
    rows: list[SweepRow] = []
    for first in outer_values:
        one = config.with_value(outer, first)
        rows += sweep(one, name, values, label=label, fixed=((outer, first),))
    return rows


def _refuse_idle_grid(config: SimConfig, axes: list[tuple[str, list[Any], str]]) -> None:
    """``_refuse_idle_cores`` for a grid with a ``cpus`` axis: refused only when, for every
    value of the other axis, no core count could change a row."""
    ((_, cpus_values, cpus_label),) = [axis for axis in axes if axis[0] == "cpus"]
    ((other, other_values, _),) = [axis for axis in axes if axis[0] != "cpus"]
    errors = []
    for value in other_values:
        try:
            _refuse_idle_cores(config.with_value(other, value), cpus_values, cpus_label)
        except UsageError as exc:
            errors.append(exc)
    if len(errors) == len(other_values):
        raise errors[0]


def _refuse_idle_cores(config: SimConfig, values: list[Any], label: str) -> None:
    """``UsageError`` when no swept core count is below what the model can use, so every row
    would be the same: each process computes on one core at a time (its GIL holder), so a model
    uses at most as many cores as it has processes (``--workers`` for ``processes`` and
    ``loop``, else 1),
    and a closed loop keeps no more of them busy than it has clients."""
    fewest = min(values)
    if config.model not in ("processes", "loop"):
        busy = 1
        why = f"--model {config.model} is one process, whose GIL runs one thread at a time"
        fix = "sweep cpus with --model processes --workers N"
    elif config.rate is None and config.concurrency < config.workers:
        busy = config.concurrency
        requests = "1 request" if busy == 1 else f"{busy} requests"
        why = (
            f"-c {busy} keeps at most {requests} in flight, on at most {busy} of the "
            f"{config.workers} processes"
        )
        fix = f"give -c above {_shown(fewest)} to see fewer cores slow it down"
    else:
        busy = config.workers
        many = "process, whose GIL" if busy == 1 else "processes, each with a GIL that"
        why = f"--workers {busy} is {busy} {many} runs one thread at a time"
        fix = f"give --workers above {_shown(fewest)} to see fewer cores slow it down"
    if fewest < busy:
        return
    shown = ",".join(_shown(value) for value in values)
    cores = "1 core" if busy == 1 else f"{busy} cores"
    raise UsageError(
        f"--sweep {label}={shown}: {why}, so it never uses more than {cores} and every row "
        f"would be the same; {fix}."
    )


def _shown(value: float) -> str:
    """A swept value as a message shows it: ``4``, ``0.5``, ``1e-08``."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _open_loop(result: SimResult) -> dict[str, Any] | None:
    """``SweepRow.open_loop`` of an open-loop run (None for a closed loop, or no stats)."""
    stats = result.stats
    if result.config.rate is None or stats is None or len(stats.queued) < 2:
        return None
    first, last = min(stats.queued), max(stats.queued)
    # Arrivals all at one instant (gaps rounded to 0 ns) have no rate: None, not 0.0.
    offered = round((len(stats.queued) - 1) / ((last - first) / 1e9), 1) if last > first else None
    return {"offered_rps": offered, "drain_s": round((max(stats.ended) - last) / 1e9, 3)}
