"""``trace sim --no-record --headless`` (the short table, without a recording to report on)
shows the thread pool's waits when work hopped to it, as the full report does."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracer.cli import main


def _table(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["sim", "--model", "loop", *args, "--no-record", "--headless"]) == 0
    return capsys.readouterr().out


def test_two_tokens_six_clients_wait_in_the_short_table(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Two tokens, six clients of a def endpoint's 10 ms: 0, 0, 10, 10, 20, 20 ms at first,
    20 ms for every later request once the queue is steady."""
    workload = tmp_path / "w.toml"
    workload.write_text(
        'name = "def"\n[[route]]\nname = "sync"\npath = "/"\nsync = true\n'
        'phases = [{ io = "10ms" }]\n'
    )
    out = _table(capsys, "--pool-size", "2", "-c", "6", "-n", "30", "--workload", str(workload))
    rows = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in out.splitlines()
        if line.startswith("│")
    }
    assert rows["thread pool hops"] == "30"
    assert rows["thread pool wait p50"] == "20.0 ms"
    assert rows["thread pool wait max"] == "20.0 ms"
    assert "thread pool wait p99" not in rows  # 30 hops do not measure a p99


def test_no_hop_no_pool_rows(capsys: pytest.CaptureFixture[str]) -> None:
    """Async work only: nothing went to the pool, so nothing is said of it."""
    out = _table(capsys, "--io", "10ms", "-c", "4", "-n", "20")
    assert "thread pool" not in out
    assert "loop blocked" in out
