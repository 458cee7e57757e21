"""The bench scripts still run and still measure what they say: each, with the smallest load,
exits 0, prints its table with the counts it divided by or recorded, and warns of nothing (a
coroutine never awaited meant one of them measured nothing); a child's peak memory is its own;
a usage mistake is one line and exit 2. Speed itself is measured by running them, never
asserted here."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"

pytestmark = pytest.mark.timeout(120)


def _bench(script: str, *args: str, timeout: float = 110) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", str(BENCH / script), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


def _count(text: str) -> int:
    return int(text.replace(",", ""))


@pytest.mark.parametrize(
    ("script", "args", "prints"),
    [
        (
            "overhead.py",
            ["--chunk", "5", "--rounds", "1"],
            # the concurrent scenario serves whole batches of 50 and divides by them
            [
                "ASGI sequential: 5 requests served per variant per round",
                "ASGI 50 concurrent, interleaved: 50 requests served per variant per round",
                "WSGI: 5 requests served per variant per round",
                "OpenTelemetry middleware",
            ],
        ),
        ("conformance_checks.py", ["--requests", "50", "--repeats", "1"], ["checking adds"]),
        ("export_cost.py", ["--requests", "50", "--repeats", "1"], ["export --to otlp-json"]),
        ("tui_frames.py", ["--requests", "50", "--repeats", "1", "--frames", "1"], ["peak RSS"]),
        (
            "server_overhead.py",
            ["--requests", "100", "--repeats", "1"],
            [
                "tracer.client / aiohttp client CPU per request = ",
                "tracer.client / h11 streams client CPU per request = ",
                "traced / untraced throughput = ",
            ],
        ),
        (
            "run_capacity.py",
            ["--requests", "100", "--repeats", "1", "--big", "300"],
            ["ASGI loop", "trace run -n 300: peak RSS", "trace summary of its recording"],
        ),
    ],
)
def test_a_bench_script_runs_on_a_tiny_load(
    script: str, args: list[str], prints: list[str]
) -> None:
    """RuntimeWarnings are errors here: an un-awaited scenario fails instead of timing nothing."""
    done = _bench(script, *args)
    assert done.returncode == 0, done.stderr[-2000:]
    for line in prints:
        assert line in done.stdout, done.stdout
    assert "Traceback" not in done.stderr and "never awaited" not in done.stderr
    if script == "server_overhead.py":  # the traced server's events reached the recording
        merged = re.search(r"server events merged: ([\d,]+)", done.stdout)
        assert merged and _count(merged[1]) >= 100, done.stdout


def test_each_shim_variant_drains_its_own_recording_in_its_own_time() -> None:
    """conformance_checks.py: every shim variant recorded events, and all of them were drained
    before its time stopped (none left for a background drain in another variant's time)."""
    done = _bench("conformance_checks.py", "--requests", "50", "--repeats", "2")
    assert done.returncode == 0, done.stderr[-2000:]
    for family in ("wsgi", "asgi"):
        for checks in (False, True):
            line = re.search(
                rf"^{family} shim checks={checks}: ([\d,]+) events drained in its own time, "
                r"([\d,]+) left to another variant's$",
                done.stdout,
                re.MULTILINE,
            )
            assert line, done.stdout
            assert _count(line[1]) >= 2 * 2 * 50  # at least a start and an end per request
            assert _count(line[2]) == 0


def test_sim_speed_times_the_writing_where_it_happens() -> None:
    """sim_speed.py at a size where the simulator drains its recorder itself (a backlog over
    50,000 events): the events its drains moved during simulate() and in close() add up to the
    recording, and the rate is the events over the writing row's seconds."""
    done = _bench("sim_speed.py", "--requests", "8000", "--repeats", "1")
    assert done.returncode == 0, done.stderr[-2000:]
    summary = re.search(
        r"recording: ([\d,]+) events, [\d.]+ MB, ([\d,]+) events/s written "
        r"\(drains: ([\d,]+) events during simulate\(\), ([\d,]+) in close\(\)\)",
        done.stdout,
    )
    assert summary, done.stdout
    events, rate, during, in_close = (_count(group) for group in summary.groups())
    assert during > 0 and during + in_close == events
    writing = re.search(r"the recorder writing those lines\s+([\d.]+)", done.stdout)
    assert writing, done.stdout
    seconds = float(writing[1])
    assert rate == pytest.approx(events / seconds, rel=0.05 + 0.01 / seconds)


def _load(script: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{script[:-3]}", BENCH / script)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_overhead_divides_by_the_requests_served() -> None:
    """overhead.py with a clock that moves 1 µs per request the app serves: every variant of
    every scenario reads 1.00 µs/request, the concurrent one at --chunk 5 (whole batches of
    50 served) included."""
    overhead = _load("overhead.py")
    from sample_apps.hello import asgi_app, wsgi_app

    now = [0.0]
    overhead._CLOCK[0] = lambda: now[0]

    async def counted_asgi(scope: Any, receive: Any, send: Any) -> None:
        now[0] += 1e-6
        await asgi_app(scope, receive, send)

    def counted_wsgi(environ: Any, start_response: Any) -> Any:
        now[0] += 1e-6
        return wsgi_app(environ, start_response)

    for name, interface, app, run in (
        ("sequential", "asgi", counted_asgi, overhead._asgi_sequential),
        ("concurrent", "asgi", counted_asgi, overhead._asgi_concurrent),
        ("wsgi", "wsgi", counted_wsgi, overhead._wsgi),
    ):
        result = overhead.measure(overhead.Scenario(name, interface, app, run), 5, 1)
        for variant, us in result.us.items():
            if us is not None:
                assert us == pytest.approx(1.0), (name, variant, us)


# A process grown to 200 MB, then one small command in a child: the peak reported must be the
# child's own, not the floor a fork-and-exec child's ru_maxrss inherits from its parent.
_GROWN_PARENT = """
import sys
sys.path.insert(0, sys.argv[1])
grown = bytearray(200 * 2**20)
grown[::4096] = b"x" * len(grown[::4096])
del grown
recording = sys.argv[2]
import {module}
print({call})
"""


@pytest.mark.parametrize(
    ("module", "call", "peak"),
    [
        ("run_capacity", "run_capacity._child_peak(['summary', recording])", 0),
        ("export_cost", "export_cost.measure(['summary', recording])", 1),
    ],
)
def test_a_childs_peak_memory_is_its_own(tmp_path: Path, module: str, call: str, peak: int) -> None:
    """run_capacity.py's and export_cost.py's children report their own peak RSS."""
    recording = tmp_path / "run.jsonl"
    made = subprocess.run(
        [sys.executable, "-m", "tracer", "sim", "-n", "20", "--headless", "--record", recording],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    code = _GROWN_PARENT.format(module=module, call=call)
    done = subprocess.run(
        [sys.executable, "-c", code, str(BENCH), str(recording)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    reported = eval(done.stdout.strip().splitlines()[-1])[peak]  # a tuple of two floats
    assert 0 < reported < 150, reported


def test_a_failed_child_is_shown_with_its_stderr(tmp_path: Path) -> None:
    """A ``trace`` command that fails under run_capacity.py ends it with the command's own
    message, not a traceback or a bare exit status."""
    missing = tmp_path / "missing.jsonl"
    code = f"import sys; sys.path.insert(0, {str(BENCH)!r}); import run_capacity; " + (
        f"run_capacity._child_peak(['summary', {str(missing)!r}])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 1
    assert "missing.jsonl" in done.stderr and "Traceback" not in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("script", "args"),
    [
        ("overhead.py", ["--chunk", "0"]),
        ("overhead.py", ["--rounds", "-1"]),
        ("conformance_checks.py", ["--requests", "0"]),
        ("export_cost.py", ["--repeats", "0"]),
        ("run_capacity.py", ["--big", "-1"]),
        ("tui_frames.py", ["--frames", "0"]),
        ("load_speed.py", ["--file", "/nonexistent/recording.jsonl"]),
        ("server_overhead.py", ["--requests", "0"]),
        ("sim_speed.py", ["--repeats", "0"]),
    ],
)
def test_a_bad_count_is_one_line_and_exit_2(script: str, args: list[str]) -> None:
    """Zero, negative or missing: one line on stderr, exit code 2, nothing measured."""
    done = _bench(script, *args, timeout=60)
    assert done.returncode == 2, done.stdout[-500:] + done.stderr[-2000:]
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert f"{script}: error: argument {args[0]}" in done.stderr
    assert done.stdout == ""


def test_the_helper_module_says_so_when_run() -> None:
    """server_variants.py is imported by uvicorn, not run: run, it says so and exits 2."""
    done = _bench("server_variants.py", "--help", timeout=60)
    assert done.returncode == 2
    assert "helper module" in done.stderr and done.stdout == ""
