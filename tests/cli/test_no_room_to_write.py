"""Writes the machine has no room for: standard output on a full disk (``> /dev/full``), a file
past ``ulimit -f``. One line on stderr and exit code 2, as for a recording that cannot be
written, never a traceback."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full"),
]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small recording (20 requests on two threads)."""
    from tracer.tui.examples import threads_example

    recording = threads_example(20, 2)
    path = tmp_path_factory.mktemp("no-room") / "run.jsonl"
    lines = [json.dumps(recording.header)] + [json.dumps(e.to_dict()) for e in recording.events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _trace_to_full_disk(*argv: str, cwd: Path | None = None) -> tuple[int, str]:
    """``python -m tracer ARGV > /dev/full``: exit code and stderr."""
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "tracer", *argv],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=30,
            cwd=cwd,
        )
    return done.returncode, done.stderr


@pytest.mark.parametrize(
    "argv",
    [["summary"], ["summary", "--json"], ["export", "--to", "otlp-json", "-o", "-"]],
    ids=["summary", "summary-json", "export-stdout"],
)
def test_stdout_on_a_full_disk_is_one_line(recording: str, argv: list[str]) -> None:
    """``trace summary F > /dev/full``: the report cannot be written; one line saying so (which
    stream failed is not known: a stream drops what it could not write)."""
    code, err = _trace_to_full_disk(*argv, recording)
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert err == "trace: error: Cannot write: No space left on device.\n"
    assert code == 2


def test_the_run_report_on_a_full_disk_keeps_the_recording(tmp_path: Path) -> None:
    """``trace run --json > /dev/full``: the run and its recording are whole; the summary JSON
    it could not print is one line on stderr."""
    record = tmp_path / "run.jsonl"
    code, err = _trace_to_full_disk(
        "run", "sample_apps.hello:asgi_app", "-n", "5", "--json", "--record", str(record),
        cwd=Path.cwd(),
    )  # fmt: skip
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert err.endswith("trace: error: Cannot write: No space left on device.\n")
    assert code == 2
    from tracer import events as K
    from tracer.recording import load

    events = load(record).events
    answered = [e for e in events if e.kind == K.REQUEST_END and e.data.get("status") == 200]
    assert len(answered) == 5


def _file_size_limit(kib: int) -> None:
    """In the child: files may grow to ``kib`` KiB (``ulimit -f``)."""
    resource.setrlimit(
        resource.RLIMIT_FSIZE, (kib * 1024, resource.getrlimit(resource.RLIMIT_FSIZE)[1])
    )


def test_a_file_size_limit_at_start_up_is_one_line(tmp_path: Path) -> None:
    """``ulimit -f 200`` then ``trace run --server processes``: the shared memory the model
    sets up for its workers is larger than a file may be; one line naming ``ulimit -f``, not a
    traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "run", "sample_apps.hello:application",
         "--server", "processes", "-n", "5", "--headless", "--record", str(tmp_path / "r.jsonl")],
        capture_output=True,
        text=True,
        timeout=30,
        preexec_fn=lambda: _file_size_limit(200),
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.splitlines() == [
        "trace: error: --server processes cannot set up the memory its workers share: File "
        "too large (it needs a file of 512 kB, past the file-size limit, ulimit -f 200). "
        "Raise the limit (ulimit -f unlimited)."
    ]
    assert done.returncode == 2
