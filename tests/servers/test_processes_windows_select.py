"""``--server processes`` where ``select`` takes sockets only (Windows): the workers' pipes and
sentinels are waited on as multiprocessing waits on them, and the run completes."""

from __future__ import annotations

import os
import select
import selectors
import stat
from pathlib import Path
from typing import Any

import pytest

from tracer.cli import main
from tracer.recording import load

pytestmark = pytest.mark.timeout(60)


class SocketsOnlySelector(selectors.SelectSelector):
    """Windows' ``select``: a descriptor that is not a socket is an error (WSAENOTSOCK)."""

    def select(self, timeout: float | None = None) -> list[Any]:
        for key in self.get_map().values():
            if not stat.S_ISSOCK(os.fstat(key.fd).st_mode):
                raise OSError(10038, "An operation was attempted on something that is not a socket")
        return super().select(timeout)


def test_a_processes_run_completes_where_select_takes_sockets_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delattr(select, "poll")  # as on Windows
    monkeypatch.setattr(selectors, "DefaultSelector", SocketsOnlySelector)
    record = tmp_path / "run.jsonl"
    argv = ["run", "sample_apps.hello:application", "--server", "processes", "--workers", "2"]
    code = main([*argv, "-n", "6", "-c", "2", "--headless", "--json", "--record", str(record)])
    assert code == 0, capsys.readouterr().err
    recording = load(record)
    ends = [e for e in recording.events if e.kind == "request.end"]
    assert [e.data.get("status") for e in ends] == [200] * 6
