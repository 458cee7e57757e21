"""``-z`` runs sure (or on course) to pass the request bound are refused at once or stopped
early: up front from the workload for closed loops, with a Poisson margin for ``--rate``, and
during a closed loop's run from its measured rate, before most of the bound is simulated."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import trace_cli

import sim.config
from sim import SimConfig, simulate
from sim.config import MAX_REQUESTS, TooManyRequests
from sim.dist import parse_dist
from sim.workload import inline_workload
from tracer.recording import load

STATS_WHY = "each simulated request keeps about 350 bytes, 3.5 GB at this bound"
FIX = "give a shorter -z, a lower load or -n."


def _refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run ``trace sim ARGV``, expect exit 2 and one stderr line; return that line's message."""
    code, out, err = trace_cli(capsys, "sim", *argv)
    assert code == 2, err
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    return err.removeprefix("trace: error: ").rstrip("\n")


def test_a_rate_whose_poisson_count_may_pass_the_bound_is_refused_up_front(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--rate 10 -z 1e6s: a mean of exactly the bound passes it about half the time, only
    after simulating all of it; refused at once, with the reach of 6 standard deviations."""
    message = _refused(capsys, "--rate", "10", "-z", "1e6s", "--no-record")
    assert message == (
        "--rate 10 for -z 1e+06s comes to about 10,000,000 requests, and random arrivals may "
        f"make up to 10,018,974, more than 10,000,000 ({STATS_WHY}); give a shorter -z or a "
        "lower --rate, or -n."
    )
    # Six standard deviations below the bound is taken.
    rate = (MAX_REQUESTS - 6 * MAX_REQUESTS**0.5 - 10) / 1e6
    assert SimConfig(rate=rate, requests=None, duration_ns=10**15).check()


def test_a_closed_loop_sure_to_pass_the_bound_is_refused_up_front(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """-z 1e9s with ten clients of 100 ms each: over 5 x 10^9 requests even served one at a
    time; one line at once, not after minutes and gigabytes."""
    assert _refused(capsys, "-z", "1e9s", "--no-record") == (
        "-c 10 -z 1e+09s would make over 5,000,000,000 requests (even if the server did one "
        f"request at a time), more than 10,000,000 ({STATS_WHY}); {FIX}"
    )


def test_the_up_front_bound_counts_think_time_and_every_route() -> None:
    """The bound is N / (N·D + Z) a second, halved: a think time or a slower route lowers it
    below the bound, so the run is left to go (and to be stopped as it runs, if need be)."""
    io = inline_workload(io=parse_dist("100ms"))
    config = SimConfig(requests=None, duration_ns=10**17, workload=io)
    with pytest.raises(Exception, match="would make over 500,000,000 requests"):
        config.check()
    assert SimConfig(requests=None, duration_ns=10**15, workload=io).check()
    thinking = SimConfig(
        requests=None, duration_ns=4 * 10**15, workload=io, think=parse_dist("10s")
    )
    assert thinking.check()  # 10 / (1 s + 10 s) x 4e6 s / 2: about 1,800,000


@pytest.fixture
def small_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bounds of 1,000 requests, so that a run reaches them in a moment."""
    notes = sim.config._MEMORY_NOTE
    monkeypatch.setitem(notes, False, (1000, notes[False][1]))
    monkeypatch.setitem(notes, True, (1000, notes[True][1]))


def test_a_closed_loop_on_course_to_pass_the_bound_stops_early() -> None:
    """trace sim -c 10 -z 300000s (default 100 ms of I/O on 4 threads): 12,000,000 requests,
    20 % past the bound, which the up-front bound (half of one request at a time) cannot
    see. It stops once its count reaches 1/32 of the bound, with the count it was on course
    for, instead of at the bound after 10,000,000 requests and 2 GB."""
    config = SimConfig(requests=None, duration_ns=300_000 * 10**9)
    with pytest.raises(TooManyRequests) as info:
        simulate(config)
    assert str(info.value) == (
        "-c 10 -z 300000s is on course to make about 11,999,858 requests (312,499 by 7812.3 s "
        "of simulated time), more than 10,000,000, the most one simulation makes "
        f"({STATS_WHY}); {FIX}"
    )


@pytest.mark.usefixtures("small_bounds")
def test_a_recorded_run_on_course_to_pass_the_bound_leaves_a_short_recording(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """-c 10 --io exp:1ms -z 0.5s would make about 2,000 requests: it stops after a few
    dozen, so the recording it names holds those, not the whole bound."""
    record = tmp_path / "cut.jsonl"
    message = _refused(capsys, "--io", "exp:1ms", "-z", "0.5s", "--record", str(record))
    assert message.startswith("-c 10 -z 0.5s is on course to make about ")
    assert message.endswith(
        f'{FIX} The recording "{record}" ends at that point: the requests in flight then have '
        "no end."
    )
    made = len(load(record).requests())
    assert made < 100 and f"({made} by " in message


@pytest.mark.usefixtures("small_bounds")
def test_a_run_that_fits_the_bound_is_not_stopped() -> None:
    """A closed loop of about 800 requests under a bound of 1,000 runs to its -z: the
    projection never stops a run that fits with room to spare."""
    config = SimConfig(
        requests=None, duration_ns=200_000_000, workload=inline_workload(io=parse_dist("exp:1ms"))
    )
    assert 700 < simulate(config).summary["requests"] < 900
