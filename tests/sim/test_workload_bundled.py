"""``--workload NAME``: the workload files that ship in the package, found from any folder.

The README's ``--workload sim/workloads/mixed.toml`` only exists in a checkout; an installed
package has the files too (package data), reached by their names.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.workload import bundled_workloads, load_workload
from tracer.errors import UsageError

_REPO = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    # The package under test, whether or not it is installed; the cwd is elsewhere.
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO), env.get("PYTHONPATH")]))
    return env


def test_the_bundled_names_are_the_shipped_files() -> None:
    """Every ``sim/workloads/*.toml`` is offered by its file name, without the suffix."""
    shipped = sorted(path.stem for path in (_REPO / "sim" / "workloads").glob("*.toml"))
    assert bundled_workloads() == shipped == ["blocking", "cpu_bound", "mixed"]


def test_a_bundled_workload_is_read_from_a_folder_outside_the_repo(tmp_path: Path) -> None:
    """``trace sim --workload mixed`` run from an empty folder simulates the bundled file."""
    proc = subprocess.run(
        [sys.executable, "-m", "tracer", "sim", "--model", "loop", "--workload", "mixed"]
        + ["-n", "40", "--no-record", "--json", "--seed", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=_env(),
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert (report["requests"], report["completed"], report["errors"]) == (40, 40, 0)
    assert list(tmp_path.iterdir()) == []  # --no-record: nothing written where it ran


def test_each_bundled_workload_loads_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name gives the same workload as the file's path does in a checkout."""
    monkeypatch.chdir(tmp_path)
    for name in ["blocking", "cpu_bound", "mixed"]:
        by_path = load_workload(_REPO / "sim" / "workloads" / f"{name}.toml")
        assert load_workload(name) == by_path


def test_a_file_of_that_name_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file called ``mixed`` in the working folder is read, not the bundled one."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mixed").write_text('name = "mine"\n[[route]]\nphases = [{ io = "1ms" }]\n')
    workload = load_workload("mixed")
    assert workload.name == "mine" and len(workload.routes) == 1


def test_an_unknown_name_lists_the_bundled_ones(tmp_path: Path) -> None:
    """The refusal names what can be given instead of a repository path that may not exist."""
    proc = subprocess.run(
        [sys.executable, "-m", "tracer", "sim", "--workload", "mixd", "--no-record"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=_env(),
    )
    assert proc.returncode == 2
    assert proc.stderr == (
        'trace: error: Workload file "mixd" does not exist; give a TOML file or a bundled '
        "workload (blocking, cpu_bound, mixed).\n"
    )
    with pytest.raises(UsageError, match=r"\(blocking, cpu_bound, mixed\)\.$"):
        load_workload(tmp_path / "missing.toml")
