"""A recording written by ``trace sim`` opens in the replay UI as a real run's does."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracer.cli import main
from tracer.recording import load
from tracer.tui.app import ReplayApp
from tracer.tui.screen import ReplayScreen

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


@pytest.fixture
def anyio_backend() -> str:
    """Textual runs on asyncio."""
    return "asyncio"


async def test_loop_with_offload_shows_the_loop_and_pool_threads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """By request: one lane per request; by worker (v): the event loop and the pool's threads."""
    workload = tmp_path / "w.toml"
    workload.write_text(
        '[[route]]\nname = "r"\nphases = [{ cpu = "2ms" }, { offload = { io = "30ms" } }]\n',
        encoding="utf-8",
    )
    path = tmp_path / "sim.jsonl"
    argv = [
        "sim",
        "--model",
        "loop",
        "--workload",
        str(workload),
        "-c",
        "3",
        "-n",
        "6",
        "--pool-size",
        "2",
    ]
    assert main([*argv, "--record", str(path), "--json"]) == 0
    capsys.readouterr()
    app = ReplayApp([load(path)])
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        assert [lane.kind for lane in screen.timeline.lanes] == ["request"] * 6
        await pilot.press("v")
        lanes = screen.timeline.lanes
        assert [lane.kind for lane in lanes].count("loop") == 1
        threads = [lane for lane in lanes if lane.kind == "thread"]
        assert len(threads) == 2 and all("AnyIO worker thread" in lane.label for lane in threads)
