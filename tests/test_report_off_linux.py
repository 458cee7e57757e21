"""A recording made off Linux says its loop-blocked breakdown was not measured.

Whether a step that held the loop waited for a CPU or on other threads is read from the
kernel's view of the loop thread (``/proc``), which only Linux has. A recording made on macOS
or Windows showed the loop's blocked time with nothing waiting, as if that had been measured.
The report's loop-blocked line now says so once when the header's ``host.platform`` is not
Linux's; a simulation (no ``host``) and a Linux recording read as before. ``--json`` has no
figure of those waits (only ``loop_blocked_ms`` and the places), so it has no 0 to mistake.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tracer.cli import main
from tracer.report import OFF_LINUX_NOTE

pytestmark = [pytest.mark.timeout(60)]

_APP = '''
import time


async def app(scope, receive, send):
    """Holds the loop 30 ms a request: a block past the 10 ms threshold each time."""
    if scope["type"] == "http":
        time.sleep(0.03)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
'''


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run on the loop model that blocked it, recorded on this (Linux) machine."""
    folder = tmp_path_factory.mktemp("blocked")
    (folder / "blocker.py").write_text(_APP)
    path = folder / "run.jsonl"
    argv = ["run", "blocker:app", "--app-dir", str(folder), "--server", "loop"]
    code = main([*argv, "-n", "3", "-c", "1", "--headless", "--record", str(path)])
    assert code == 0
    return path


def _with_host(path: Path, tmp_path: Path, host: Any) -> Path:
    """The recording with its header's ``host`` replaced (left out when ``host`` is None)."""
    header, rest = path.read_text().split("\n", 1)
    fields = json.loads(header)
    assert fields["host"]["platform"] == "linux"
    if host is None:
        del fields["host"]
    else:
        fields["host"] = host
    moved = tmp_path / "moved.jsonl"
    moved.write_text(json.dumps(fields) + "\n" + rest)
    return moved


def _summary(path: Path, capsys: Any, *flags: str) -> str:
    assert main(["summary", *flags, str(path)]) == 0
    return capsys.readouterr().out


def _blocked_line(report: str) -> str:
    """The report's loop-blocked line, its wrapped rows put together."""
    words = " ".join(report.split())
    start = words.index("loop blocked ")
    return words[start : words.index(" violations ", start)].split(" lifespan ")[0]


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_off_linux_the_line_says_the_waits_were_not_measured(
    recorded: Path, tmp_path: Path, capsys: Any, platform: str
) -> None:
    linux = _summary(recorded, capsys)
    host = {"python": "3.11.7", "platform": platform, "cpus": 8}
    moved = _summary(_with_host(recorded, tmp_path, host), capsys)
    line = _blocked_line(moved)
    assert line == f"{_blocked_line(linux)} {OFF_LINUX_NOTE}"
    assert line.startswith("loop blocked ") and line.split()[3] == "ms"
    assert float(line.split()[2]) >= 30.0  # three 30 ms sleeps held the loop
    assert " ".join(moved.split()).count("off Linux") == 1
    assert OFF_LINUX_NOTE == (
        "(off Linux, a block's wait for other threads or a CPU is not measured: "
        "all of it counts as the app's)"
    )


@pytest.mark.parametrize("host", ["linux", None, "web-3"])
def test_linux_and_recordings_without_a_platform_read_as_before(
    recorded: Path, tmp_path: Path, capsys: Any, host: str | None
) -> None:
    """Linux's own, a header without ``host``, and an older release's string ``host``."""
    path = recorded if host == "linux" else _with_host(recorded, tmp_path, host)
    assert "off Linux" not in " ".join(_summary(path, capsys).split())


def test_a_simulation_has_no_host_and_no_note(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "sim.jsonl"
    argv = ["sim", "--model", "loop", "--blocking-io", "20ms", "-n", "3", "-c", "1"]
    assert main([*argv, "--headless", "--record", str(path)]) == 0
    report = " ".join(capsys.readouterr().out.split())
    assert "loop blocked 60.0 ms" in report
    assert "off Linux" not in report


def test_the_json_has_no_figure_of_the_waits_to_read_as_zero(
    recorded: Path, tmp_path: Path, capsys: Any
) -> None:
    host = {"python": "3.11.7", "platform": "darwin", "cpus": 8}
    linux = json.loads(_summary(recorded, capsys, "--json"))
    darwin = json.loads(_summary(_with_host(recorded, tmp_path, host), capsys, "--json"))
    assert darwin == linux
    assert set(darwin) == {
        "requests",
        "completed",
        "errors",
        "wall_s",
        "rps",
        "latency_ms",
        "queue_ms",
        "status",
        "max_in_flight",
        "loop_blocked_ms",
        "violations",
        "loop_blocked_places",
    }
