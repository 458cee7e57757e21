"""The cores a recording's header names in a container with a CPU quota (``docker run
--cpus=N``, a Kubernetes CPU limit): the affinity still says every core of the host, the
cgroup's ``cpu.max`` (v2) or ``cpu.cfs_quota_us`` (v1) says how many cores' worth of time the
process gets. Each test writes a cgroup tree of its own and points ``tracer.cores`` at it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import tracer.cores
from tracer.cli import main
from tracer.cores import cpu_quota, host_cores, usable_cores
from tracer.recording import load, make_header, usable_cpus


def affinity() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cgroup(tmp_path: Path, files: dict[str, str], membership: str = "0::/\n") -> tuple[Path, Path]:
    """A cgroup mount under ``tmp_path`` holding ``files`` (path: text), and the process's
    ``/proc/self/cgroup`` saying ``membership``."""
    root = tmp_path / "cgroup"
    root.mkdir(parents=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    self_cgroup = tmp_path / "self-cgroup"
    self_cgroup.write_text(membership)
    return root, self_cgroup


@pytest.fixture
def one_core_quota(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process's cgroup v2 allows one core's worth: ``docker run --cpus=1``."""
    root, self_cgroup = cgroup(tmp_path, {"cpu.max": "100000 100000\n"})
    monkeypatch.setattr(tracer.cores, "CGROUP_ROOT", root)
    monkeypatch.setattr(tracer.cores, "SELF_CGROUP", self_cgroup)


def test_a_v2_quota_lowers_the_affinity(tmp_path: Path) -> None:
    root, self_cgroup = cgroup(tmp_path, {"cpu.max": "100000 100000\n"})
    assert cpu_quota(root, self_cgroup) == 1.0
    assert usable_cores(root, self_cgroup) == tracer.cores.Cores(1, 1.0)


def test_a_fraction_of_a_core_is_rounded_up(tmp_path: Path) -> None:
    """``--cpus=1.5`` lets two threads run at once (for 1.5 cores' worth): 2 cores; half a
    core is still one."""
    root, self_cgroup = cgroup(tmp_path, {"cpu.max": "150000 100000\n"})
    assert usable_cores(root, self_cgroup) == tracer.cores.Cores(min(affinity(), 2), 1.5)
    root, self_cgroup = cgroup(tmp_path / "half", {"cpu.max": "50000 100000"})
    assert usable_cores(root, self_cgroup) == tracer.cores.Cores(1, 0.5)


def test_more_quota_than_cores_leaves_the_affinity(tmp_path: Path) -> None:
    root, self_cgroup = cgroup(tmp_path, {"cpu.max": f"{100000 * (affinity() + 8)} 100000"})
    assert usable_cores(root, self_cgroup).count == affinity()


def test_no_limit_is_the_affinity(tmp_path: Path) -> None:
    root, self_cgroup = cgroup(tmp_path, {"cpu.max": "max 100000\n"})
    assert usable_cores(root, self_cgroup) == tracer.cores.Cores(affinity(), None)


def test_the_lowest_quota_along_the_cgroup_path_counts(tmp_path: Path) -> None:
    """The kernel applies every ancestor's limit: a group without one inside a limited one
    is limited (systemd's slices, a pod and its container)."""
    files = {
        "cpu.max": "max 100000",
        "kubepods/cpu.max": "100000 100000",
        "kubepods/pod1/cpu.max": "max 100000",
        "kubepods/pod1/ctr/cpu.max": "300000 100000",
    }
    root, self_cgroup = cgroup(tmp_path, files, "0::/kubepods/pod1/ctr\n")
    assert cpu_quota(root, self_cgroup) == 1.0


def test_a_v1_quota_in_a_container_without_its_cgroup_path(tmp_path: Path) -> None:
    """cgroup v1 (Docker before cgroup v2): ``/proc/self/cgroup`` names the host's path
    (``/docker/ID``) while the mount shows the container's own group at its root."""
    files = {
        "cpu,cpuacct/cpu.cfs_quota_us": "50000\n",
        "cpu,cpuacct/cpu.cfs_period_us": "100000\n",
        "memory/memory.limit_in_bytes": "1073741824\n",
    }
    membership = "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n"
    root, self_cgroup = cgroup(tmp_path, files, membership)
    assert usable_cores(root, self_cgroup) == tracer.cores.Cores(1, 0.5)


def test_a_v1_group_without_a_quota(tmp_path: Path) -> None:
    files = {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}
    root, self_cgroup = cgroup(tmp_path, files, "3:cpu:/\n")
    assert cpu_quota(root, self_cgroup) is None


@pytest.mark.parametrize(
    "files",
    [
        {},
        {"cpu.max": ""},
        {"cpu.max": "two cores"},
        {"cpu.max": "200000 0"},
        {"cpu.max": "0 100000"},
        {"cpu.max/inside": "a folder where the file was"},
        {"cpu/cpu.cfs_quota_us": "100000"},  # its period missing
    ],
)
def test_anything_unreadable_is_no_quota(tmp_path: Path, files: dict[str, str]) -> None:
    root, self_cgroup = cgroup(tmp_path, files, "garbage\n0::\n")
    assert usable_cores(root, self_cgroup) == tracer.cores.Cores(affinity(), None)


def test_no_cgroup_at_all(tmp_path: Path) -> None:
    """Off Linux, or a sandbox that hides /sys and /proc: the affinity, quietly."""
    missing = tmp_path / "missing"
    assert usable_cores(missing, missing / "cgroup") == tracer.cores.Cores(affinity(), None)


def test_this_machine() -> None:
    cores = usable_cores()
    assert 1 <= cores.count <= affinity()
    assert usable_cpus() == cores.count


@pytest.mark.usefixtures("one_core_quota")
def test_the_header_names_the_quota_s_cores() -> None:
    assert make_header()["host"]["cpus"] == 1
    assert make_header()["host"]["cpu_quota"] == 1.0
    assert host_cores() == {"cpus": 1, "cpu_quota": 1.0}


@pytest.mark.usefixtures("one_core_quota")
def test_trace_run_records_the_quota_s_cores(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    code = main(
        ["run", "sample_apps.io_bound:wsgi_app", "--headless", "-n", "1", "--record", str(path)]
    )
    assert code == 0
    assert load(str(path)).header["host"]["cpus"] == 1
