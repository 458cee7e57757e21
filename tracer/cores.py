"""The cores this process may use: its CPU affinity, lowered to a container's CPU quota.

``--cpus=2`` (Docker), a Kubernetes CPU limit or systemd's ``CPUQuota=`` leave the affinity at
every core of the host (64 on a large one) and limit the time instead: the process's cgroup
gets a CFS bandwidth quota, ``cpu.max`` (``"200000 100000"``: 200 ms of CPU every 100 ms, two
cores' worth) under cgroup v2, ``cpu.cfs_quota_us`` and ``cpu.cfs_period_us`` under v1. As
loky, gunicorn's and uvicorn's advice and the JVM do, the quota counts as ``ceil(quota /
period)`` cores, and the cores are the lower of that and the affinity.

The quota is read along the process's cgroup path (``/proc/self/cgroup``) from its own group
up to the root, the lowest one found counting, as the kernel applies every one of them; in a
container the path is usually ``/`` (a cgroup namespace) or not mounted under that name, so
the root of the mount, the container's own group, is read too. Anything unreadable or
malformed counts as no quota. ``CGROUP_ROOT`` and ``SELF_CGROUP`` are where they are read
(tests point them at a folder of their own). Imports nothing of ours.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CGROUP_ROOT", "SELF_CGROUP", "Cores", "cpu_quota", "host_cores", "usable_cores"]

CGROUP_ROOT = Path("/sys/fs/cgroup")
"""Where the cgroup file systems are mounted."""

SELF_CGROUP = Path("/proc/self/cgroup")
"""The process's cgroups: ``ID:CONTROLLERS:PATH`` a line (``0::PATH`` for cgroup v2)."""


@dataclass(frozen=True, slots=True)
class Cores:
    """How many cores this process may use, and the quota that lowered them, if any."""

    count: int
    """min(affinity, ceil(quota)), at least 1."""
    quota: float | None
    """The cgroup's CPU quota in cores (quota / period, e.g. 1.5), None without one."""


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace")
    except (OSError, ValueError):  # missing, not allowed (a sandbox), or not a file
        return None


# A quota is kept as its two integers, (quota, period) in µs: its whole cores are rounded up
# from them exactly, not from a float.
_Quota = tuple[int, int]


def _ratio(quota: str, period: str) -> _Quota | None:
    """(quota, period); None for no limit (``max``, ``-1``) or anything else."""
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return None
    return (q, p) if q > 0 and p > 0 else None


def _v2_quota(folder: Path) -> _Quota | None:
    text = _read(folder / "cpu.max")
    fields = text.split() if text else []
    return _ratio(fields[0], fields[1]) if len(fields) == 2 else None


def _v1_quota(folder: Path) -> _Quota | None:
    quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
    if quota is None or period is None:
        return None
    return _ratio(quota.strip(), period.strip())


def _upwards(mount: Path, path: str) -> list[Path]:
    """``mount`` joined with ``path`` and each of its parents, down to ``mount`` itself."""
    parts = [part for part in path.split("/") if part and part not in (".", "..")]
    return [mount.joinpath(*parts[:end]) for end in range(len(parts), -1, -1)]


def _memberships(self_cgroup: Path) -> tuple[str, str | None]:
    """(the cgroup v2 path, the v1 ``cpu`` controller's ``CONTROLLERS:PATH``) of the process."""
    v2, v1 = "/", None
    for line in (_read(self_cgroup) or "").splitlines():
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        if fields[0] == "0" and not fields[1]:
            v2 = fields[2]
        elif "cpu" in fields[1].split(","):
            v1 = f"{fields[1]}:{fields[2]}"
    return v2, v1


def _lowest_quota(root: Path | None, self_cgroup: Path | None) -> _Quota | None:
    root = CGROUP_ROOT if root is None else root
    v2, v1 = _memberships(SELF_CGROUP if self_cgroup is None else self_cgroup)
    found = [_v2_quota(folder) for folder in _upwards(root, v2)]
    controllers, path = v1.split(":", 1) if v1 else ("cpu", "/")
    # Docker and systemd mount the v1 controller as "cpu,cpuacct" with "cpu" a link to it.
    for mount in dict.fromkeys((root / controllers, root / "cpu", root / "cpu,cpuacct")):
        found += [_v1_quota(folder) for folder in _upwards(mount, path)]
    quotas = [quota for quota in found if quota is not None]
    return min(quotas, key=lambda quota: quota[0] / quota[1]) if quotas else None


def cpu_quota(root: Path | None = None, self_cgroup: Path | None = None) -> float | None:
    """The CPU quota of this process's cgroups in cores (``quota / period``), the lowest
    along its path; None where none is set or none can be read (off Linux, no cgroup)."""
    quota = _lowest_quota(root, self_cgroup)
    return None if quota is None else quota[0] / quota[1]


def _affinity() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def usable_cores(root: Path | None = None, self_cgroup: Path | None = None) -> Cores:
    """The cores this process may run on: its CPU affinity where the platform has one (a
    ``taskset``, a container's cpuset), else every core of the machine, lowered to the
    cgroup's CPU quota rounded up (``--cpus=1.5``: 2)."""
    count = _affinity()
    quota = _lowest_quota(root, self_cgroup)
    if quota is None:
        return Cores(count, None)
    whole = -(-quota[0] // quota[1])  # rounded up
    return Cores(min(count, max(1, whole)), quota[0] / quota[1])


def host_cores() -> dict[str, int | float]:
    """The recording header's ``host`` fields for the cores: ``cpus``, and ``cpu_quota``
    (the quota in cores) when a cgroup sets one, which tells where ``cpus`` came from."""
    cores = usable_cores()
    fields: dict[str, int | float] = {"cpus": cores.count}
    if cores.quota is not None:
        fields["cpu_quota"] = round(cores.quota, 3)
    return fields
