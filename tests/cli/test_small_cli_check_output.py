"""``trace check -o FILE``: the report written whole or not at all, and ``-o /dev/stdout``."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import BOUND, app_file

pytestmark = pytest.mark.timeout(60)

CLEAN_WSGI = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""

LIMIT = 100
"""Bytes a file may grow to under ``ulimit -f``: less than any JSON report of ``check``."""


def _limited(limit: int) -> None:
    """In the child: files may not grow past ``limit`` bytes, and a write past it fails with
    EFBIG instead of killing the process (SIGXFSZ ignored, as across ``exec``)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def _check(cwd: Path, *argv: str, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m tracer check ARGV`` from ``cwd``, its files bounded by ``limit`` bytes."""
    return subprocess.run(
        [sys.executable, "-m", "tracer", "check", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=BOUND,
        preexec_fn=None if limit is None else (lambda: _limited(limit)),
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(sys.path),
            "PYTHONDONTWRITEBYTECODE": "1",  # no cache files meeting the limit
        },
    )


def test_a_report_that_cannot_be_written_whole_leaves_the_earlier_one(tmp_path: Path) -> None:
    """A write failing part-way (``ulimit -f``: "File too large") is the one error line and exit
    2, and the earlier report at that path is left as it was, with no temporary file beside it
    (written in place, it was emptied and then cut short at the limit)."""
    spec = app_file(tmp_path, "clean_app", CLEAN_WSGI)
    (tmp_path / "out").mkdir()
    report = tmp_path / "out" / "report.json"
    earlier = '{"earlier": "a report from before"}\n' * 20
    report.write_text(earlier, encoding="utf-8")
    assert len(earlier) > LIMIT  # it exists already: the limit is on growing a file

    done = _check(tmp_path, spec, "--format", "json", "-o", "out/report.json", limit=LIMIT)

    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        'trace: error: Cannot write "out/report.json": File too large.'
    ]
    assert done.stdout == ""
    assert report.read_text(encoding="utf-8") == earlier
    assert sorted(os.listdir(tmp_path / "out")) == ["report.json"]


def test_a_report_written_whole_replaces_the_earlier_one(tmp_path: Path) -> None:
    """Without a limit the new report takes the earlier one's place, and nothing else is left."""
    spec = app_file(tmp_path, "clean_app", CLEAN_WSGI)
    report = tmp_path / "report.json"
    report.write_text("earlier\n" * 100, encoding="utf-8")

    done = _check(tmp_path, spec, "--format", "json", "-o", "report.json")

    assert done.returncode == 0, done.stderr
    assert json.loads(report.read_text(encoding="utf-8"))["app"] == spec
    assert sorted(os.listdir(tmp_path)) == ["clean_app.py", "report.json"]


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"])
def test_dash_o_standard_output_is_the_report_on_stdout(tmp_path: Path, name: str) -> None:
    """``-o /dev/stdout`` puts the report on standard output, as no ``-o`` does (opened by name
    while the app ran, descriptor 1 was standard error: the report went there)."""
    if not os.path.exists(name):
        pytest.skip(f"no {name} here")
    spec = app_file(tmp_path, "clean_app", CLEAN_WSGI)

    done = _check(tmp_path, spec, "--format", "json", "-o", name)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["app"] == spec
    assert done.stderr == ""
