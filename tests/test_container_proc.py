"""A sandbox that hides ``/proc`` (gVisor, some CI runners): the watchdog's kernel view (a
loop thread's ``schedstat`` and ``syscall``) is gone, and a run still records every block,
without the ``descheduled_ns`` only the kernel can tell. Made with an empty ``/proc`` in a
mount namespace of the run's own (root on Linux only: skipped elsewhere)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or shutil.which("unshare") is None, reason="needs unshare (Linux)"
)


def hidden_proc_run(tmp_path: Path, server: list[str]) -> list[dict[str, object]]:
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("no mount namespace here")
    record = tmp_path / "run.jsonl"
    script = (
        'mount -t tmpfs none /proc && test ! -e /proc/self && exec "$0" -m tracer run '
        f"sample_apps.blocking:app --headless -c 3 -n 3 --record {record} " + " ".join(server)
    )
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, sys.executable],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "warning" not in done.stderr
    return [json.loads(line) for line in record.read_text().splitlines()[1:]]


@pytest.mark.parametrize("server", [[], ["--server", "uvicorn"]], ids=["loop", "uvicorn"])
def test_blocks_are_recorded_without_the_kernel_s_view(tmp_path: Path, server: list[str]) -> None:
    blocks = [
        event for event in hidden_proc_run(tmp_path, server) if event["kind"] == "loop.blocked"
    ]
    assert len(blocks) == 3
    for block in blocks:
        data = block["data"]
        assert isinstance(data, dict)
        assert data["location"].endswith("sample_apps/blocking.py:23")
        assert "descheduled_ns" not in data
