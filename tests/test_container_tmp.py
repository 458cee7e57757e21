"""A real server's run where no temporary folder can be written (a container whose file
system is read-only but for the recording's folder): one line naming TMPDIR and exit 2
before anything starts, instead of tempfile's traceback from inside the server's start."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tracer.cli import main

RUN = ["run", "sample_apps.io_bound:wsgi_app", "--headless", "-n", "1"]


def test_a_temporary_folder_that_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocked = tmp_path / "tmp"
    blocked.write_text("a file where the temporary folder should be")
    monkeypatch.setattr(tempfile, "tempdir", str(blocked))
    record = tmp_path / "run.jsonl"
    code = main([*RUN, "--server", "gunicorn", "--record", str(record)])
    assert code == 2
    assert capsys.readouterr().err == (
        f'trace: error: --server gunicorn keeps its output in a temporary folder, and "{blocked}" '
        "cannot be written (Not a directory): set TMPDIR to a folder you can write.\n"
    )
    assert not record.exists()


def test_an_in_process_server_needs_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocked = tmp_path / "tmp"
    blocked.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(blocked))
    assert main([*RUN, "--record", str(tmp_path / "run.jsonl")]) == 0
    assert "error" not in capsys.readouterr().err


@pytest.mark.skipif(
    sys.platform != "linux" or shutil.which("unshare") is None, reason="needs unshare (Linux)"
)
def test_no_writable_temporary_folder_at_all(tmp_path: Path) -> None:
    """/tmp and /var/tmp mounted read-only in a mount namespace of the run's own (root
    only: skipped where the namespace cannot be made), the run started in /tmp too."""
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("no mount namespace here")
    record = Path("/dev/shm") / f"gateway-tracer-{tmp_path.name}.jsonl"
    script = (
        "mount --bind /tmp /tmp && mount -o remount,ro,bind /tmp && "
        "mount --bind /var/tmp /var/tmp && mount -o remount,ro,bind /var/tmp && "
        'cd /tmp && exec env -u TMPDIR -u TEMP -u TMP "$0" -m tracer '
        + " ".join(RUN)
        + f" --server gunicorn --record {record}"
    )
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, sys.executable],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert (done.returncode, done.stderr) == (
        2,
        "trace: error: --server gunicorn keeps its output in a temporary folder, and none of "
        "TMPDIR, /tmp, /var/tmp, /usr/tmp or the current folder can be written: set TMPDIR "
        "to a folder you can write.\n",
    )
    record.unlink(missing_ok=True)
