"""An export stopped while it writes its file (SIGINT, SIGTERM, SIGHUP) leaves no hidden
temporary file beside it, keeps the earlier file at the path as it was, and ends as those
signals end ``trace export``: exit 130 and ``trace: interrupted`` for Ctrl-C, death by the
signal itself for SIGTERM and SIGHUP."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tracer.cli import main

pytestmark = pytest.mark.timeout(120)

EARLIER = '{"earlier": "export"}\n'
"""What the file at the export's path held before the export began."""


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A recording whose Perfetto trace takes a while to write (megabytes of events)."""
    path = tmp_path_factory.mktemp("stopped-export") / "big.jsonl"
    assert main(["sim", "-n", "2000", "--headless", "--record", str(path)]) == 0
    return path


def _temporaries(folder: Path) -> list[Path]:
    return sorted(folder.glob(".out.json.*.tmp"))


def _stopped_while_writing(
    recording: Path, folder: Path, signum: int, ignored: int | None = None
) -> tuple[int, str]:
    """Run ``trace export --to perfetto -o out.json`` in ``folder`` (with the signal
    ``ignored`` inherited ignored, as ``nohup`` starts a command); once its temporary file
    exists, send ``signum`` (its disposition the default, whatever this process inherited). The
    exit status and stderr."""
    out = folder / "out.json"
    out.write_text(EARLIER, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracer", "export", str(recording), "--to", "perfetto",
         "-o", "out.json"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # The signal's disposition as the test says, not as this test process inherited it: a
        # suite started under ``nohup`` would hand the export SIGHUP ignored.
        preexec_fn=lambda: signal.signal(
            signum if ignored is None else ignored,
            signal.SIG_DFL if ignored is None else signal.SIG_IGN,
        ),
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not _temporaries(folder) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    assert _temporaries(folder), "the export never wrote its temporary file"
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


@pytest.mark.parametrize(
    ("signum", "code", "said"),
    [
        (signal.SIGINT, 130, "trace: interrupted\n"),
        (signal.SIGTERM, -signal.SIGTERM, ""),
        (signal.SIGHUP, -signal.SIGHUP, ""),
    ],
    ids=["SIGINT", "SIGTERM", "SIGHUP"],
)
def test_a_stopped_export_leaves_no_temporary_file(
    recording: Path, tmp_path: Path, signum: int, code: int, said: str
) -> None:
    """The signal ends the export as before, the temporary file is gone, the earlier stays."""
    returncode, err = _stopped_while_writing(recording, tmp_path, signum)
    assert (returncode, err) == (code, said)
    assert _temporaries(tmp_path) == []
    assert (tmp_path / "out.json").read_text(encoding="utf-8") == EARLIER
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_a_hang_up_ignored_by_nohup_stays_ignored(recording: Path, tmp_path: Path) -> None:
    """Under ``nohup`` the export goes on through a SIGHUP and replaces the file."""
    returncode, err = _stopped_while_writing(recording, tmp_path, signal.SIGHUP, signal.SIGHUP)
    assert returncode == 0, err
    assert err.startswith("trace: wrote ")
    assert err.endswith(" trace events to out.json (open it in ui.perfetto.dev)\n")
    assert _temporaries(tmp_path) == []
    assert (tmp_path / "out.json").read_text(encoding="utf-8").startswith('{"traceEvents"')
