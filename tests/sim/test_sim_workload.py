"""sim.workload: inline and TOML workloads, and one clear error per kind of bad file."""

from __future__ import annotations

import random
import tomllib
from pathlib import Path

import pytest

from sim.dist import Fixed
from sim.workload import (
    BLOCKING_IO,
    CPU,
    IO,
    SEND,
    inline_workload,
    load_workload,
    workload_from_dict,
)
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
        (
            "[[route]]\nname='a'\nphases = [{ io = '1ms' }]\n" * 2,
            'routes 1 and 2 share the name "a"',
        ),
        ("routes = 1", "unknown top-level key 'routes'"),
        # description is for people, so it is text; a number there is a slip.
        ("description = 5\n[[route]]\nphases = [{ io = '1ms' }]", "description must be a string"),
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


def test_a_description_is_taken() -> None:
    """The bundled workloads describe themselves: a string description is accepted."""
    text = "description = 'a page'\n[[route]]\nphases = [{ io = '1ms' }]\n"
    assert workload_from_dict(tomllib.loads(text), where="w").routes


def test_a_file_that_is_not_a_regular_file_is_refused() -> None:
    """A device or a pipe is no workload file: /dev/zero never ended (tomllib read it all);
    /dev/null said "no routes", as if it were an empty file."""
    with pytest.raises(UsageError) as info:
        load_workload("/dev/null")
    assert str(info.value) == (
        'Workload "/dev/null" is not a regular file; give a TOML file or a bundled workload '
        "(blocking, cpu_bound, mixed)."
    )


def test_a_file_over_1_mib_is_refused(tmp_path: Path) -> None:
    """A workload is a few lines: a file over 1 MiB is a wrong file, refused unread."""
    path = _write(tmp_path, "# padding\n" * 110_000 + "[[route]]\nphases = [{ io = '1ms' }]\n")
    with pytest.raises(UsageError) as info:
        load_workload(path)
    size = path.stat().st_size
    assert str(info.value) == (
        f'Workload file "{path}" is {size:,} bytes, more than a workload takes (at most 1 MiB); '
        "give a TOML file or a bundled workload (blocking, cpu_bound, mixed)."
    )


def test_dev_zero_is_one_line_and_exit_2_at_once() -> None:
    """trace sim --workload /dev/zero read forever (and filled the memory): now one line and
    exit 2. Run apart, its memory capped, so that a regression fails instead of swapping."""
    import resource
    import subprocess
    import sys

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    proc = subprocess.run(
        [sys.executable, "-m", "tracer", "sim", "--workload", "/dev/zero", "--no-record"],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=cap_memory,
    )
    assert proc.returncode == 2
    assert proc.stderr == (
        'trace: error: Workload "/dev/zero" is not a regular file; give a TOML file or a '
        "bundled workload (blocking, cpu_bound, mixed).\n"
    )
