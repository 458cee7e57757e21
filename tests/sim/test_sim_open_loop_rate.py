"""``trace sim --rate``: the throughput of a short open loop stays at or under the offered
rate unless more requests really arrived, in the stats-only summary, the summary of the
recording and the command's JSON alike."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cli_helpers import trace_cli

from tracer.summary import summarize


@pytest.mark.parametrize("seed", range(1, 6))
def test_n_requests_at_a_rate_report_at_most_that_rate(recorded: Any, seed: int) -> None:
    """-n 20 --rate 100, 10 ms each: the 20 arrivals' span from the first is 19 gaps (seed 3
    drew them into 171 ms and reported 116.9 requests/s); over the 200 ms in which 100 a
    second offer twenty, at most 100. The recording's summary agrees."""
    result, recording = recorded(rate=100.0, requests=20, io="10ms", seed=seed)
    assert result.summary["completed"] == 20
    assert result.summary["rps"] <= 100.0
    assert summarize(recording) == result.summary


def test_the_command_reports_the_same(capsys: pytest.CaptureFixture[str]) -> None:
    """``trace sim --rate 100 -n 20 --json`` (the reproduction): 100.0, not 116.9."""
    argv = ["sim", "--rate", "100", "-n", "20", "--io", "10ms", "--seed", "3"]
    code, out, err = trace_cli(capsys, *argv, "--json", "--no-record")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["wall_s"] == 0.171 and summary["rps"] == 100.0


def test_a_duration_run_reports_what_arrived_in_its_duration(recorded: Any) -> None:
    """-z 1s at 100/s, seed 2: 113 requests arrived and completed within the second, so
    113.0 a second (it said 114.0, over their 0.991 s span): above the rate because more
    than 100 really came."""
    result, recording = recorded(rate=100.0, requests=None, duration_ns=10**9, io="1ms", seed=2)
    assert result.summary["completed"] == 113 and result.summary["wall_s"] == 0.991
    assert result.summary["rps"] == 113.0
    assert summarize(recording)["rps"] == 113.0
