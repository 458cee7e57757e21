"""sim.workload: inline and TOML workloads, and one clear error per kind of bad file."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from sim.dist import Fixed
from sim.workload import BLOCKING_IO, CPU, IO, SEND, inline_workload, load_workload
from tracer.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
MS = 1_000_000


def test_inline_order_is_cpu_io_blocking() -> None:
    """--cpu, --io and --blocking-io make one route with phases in that order."""
    workload = inline_workload(cpu=Fixed(MS), io=Fixed(2 * MS), blocking_io=Fixed(3 * MS))
    (route,) = workload.routes
    assert route.sample(random.Random(0)) == ((CPU, MS), (IO, 2 * MS), (BLOCKING_IO, 3 * MS))
    assert route.sampler()(random.Random(0)) == route.sample(random.Random(0))


@pytest.mark.parametrize("name", ["mixed", "blocking", "cpu_bound"])
def test_bundled_workloads_load(name: str) -> None:
    """Every sample workload under sim/workloads parses, and its samplers match sample()."""
    workload = load_workload(ROOT / "sim" / "workloads" / f"{name}.toml")
    assert workload.routes
    for route in workload.routes:
        assert route.sampler()(random.Random(5)) == route.sample(random.Random(5))


def test_mixed_workload_fields() -> None:
    """Routes keep their method, path, weight, sync flag and phase kinds."""
    workload = load_workload(ROOT / "sim" / "workloads" / "mixed.toml")
    routes = {route.name: route for route in workload.routes}
    assert workload.name == "mixed"
    assert routes["export"].method == "POST" and routes["export"].sync
    assert routes["page"].weight == 8 and routes["page"].bytes == 2048
    codes = [phase.code for phase in routes["stream"].phases]
    assert codes == [IO, SEND] and routes["stream"].phases[1].chunks == 4


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "w.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "text,says",
    [
        ("name = ", "not valid TOML"),
        ("name = 'x'", "no routes"),
        ("[[route]]\nphases = [{ nap = '1ms' }]", "unknown phase 'nap'"),
        ("[[route]]\nphases = [{ io = '-1ms' }]", "negative"),
        ("[[route]]\nphases = [{ io = 'exp:fast' }]", "not a duration"),
        ("[[route]]\nweight = 0\nphases = []", "weight must be a number above 0"),
        ("[[route]]\ncolour = 1", "unknown key 'colour'"),
        ("[[route]]\nphases = [{ cpu = '1ms', io = '1ms' }]", "one key"),
        ("[[route]]\nphases = [{ offload = {} }]", "offload needs cpu and/or io"),
        (
            "[[route]]\nphases = [{ send = { chunks = 0 } }]",
            "chunks must be a whole number from 1 to 1,000,000",
        ),
        ("[[route]]\nname='x'", "no phases"),
        ("[[route]]\nphases = []", "no phases"),
        ("[[route]]\nname='a'\nphases = [{ io = '1ms' }]\n" * 2, "share a name"),
        ("routes = 1", "unknown top-level key 'routes'"),
    ],
)
def test_invalid_files_name_the_problem(tmp_path: Path, text: str, says: str) -> None:
    """A bad workload file raises one UsageError naming the file and what is wrong."""
    path = _write(tmp_path, text)
    with pytest.raises(UsageError) as info:
        load_workload(path)
    assert says in str(info.value) and str(path) in str(info.value)


def test_missing_file() -> None:
    """A workload that does not exist is a UsageError, not a traceback."""
    with pytest.raises(UsageError, match="does not exist"):
        load_workload("/nonexistent/w.toml")
