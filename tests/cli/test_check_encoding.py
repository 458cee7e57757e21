"""``trace check`` on a standard output that is not UTF-8 (``PYTHONIOENCODING=ascii``,
``latin-1``): the text report, for a person, is written in that encoding with ASCII stand-ins
as every other command's report is; JSON and JUnit XML, files for machines, stay UTF-8 byte for
byte. The app raises with a message of non-ASCII characters, which the report quotes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)

MESSAGE = "café → crashed · here"
"""What the app raises with: ``é`` and ``·``, which latin-1 has and ASCII lacks, and ``→``,
which both lack."""

APP = f"""
def app(environ, start_response):
    raise ValueError({MESSAGE!r})
"""


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("check_encoding")
    (folder / "uniapp.py").write_text(APP, encoding="utf-8")
    return folder


def _check(app_dir: Path, encoding: str, fmt: str) -> tuple[int, bytes, str]:
    """``trace check uniapp:app --format FMT`` with ``PYTHONIOENCODING=encoding``: exit code,
    stdout's bytes, stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "PYTHONIO"))}
    env.update(PYTHONUTF8="0", LANG="C", PYTHONIOENCODING=encoding)
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    proc = subprocess.run(
        [sys.executable, "-m", "tracer", "check", "uniapp:app", "--format", fmt],
        cwd=app_dir,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=50,
    )
    return proc.returncode, proc.stdout, proc.stderr.decode("latin-1")


def test_text_report_is_ascii_with_stand_ins(app_dir: Path) -> None:
    """Under ASCII: every byte ASCII, the app's message with its stand-ins, the verdict whole,
    exit 1 (the app raised) as under UTF-8."""
    code, out, err = _check(app_dir, "ascii", "text")
    assert code == 1, err
    assert "Traceback" not in err
    assert out.isascii(), out
    text = out.decode("ascii")
    assert "ValueError: cafe -> crashed . here" in text
    assert "uniapp:app (wsgi): 4 violation(s)" in text


def test_text_report_in_latin_1(app_dir: Path) -> None:
    """Under latin-1: what it has is written in it (``é``, ``·``: one byte each), the arrow
    stood in for."""
    code, out, err = _check(app_dir, "latin-1", "text")
    assert code == 1, err
    assert "ValueError: café -> crashed · here".encode("latin-1") in out


def test_text_report_under_utf_8_is_unchanged(app_dir: Path) -> None:
    """Under UTF-8 the message is printed as the app wrote it."""
    code, out, err = _check(app_dir, "utf-8", "text")
    assert code == 1, err
    assert f"ValueError: {MESSAGE}".encode() in out


@pytest.mark.parametrize("fmt", ["json", "junit"])
def test_machine_formats_stay_utf_8(app_dir: Path, fmt: str) -> None:
    """JSON and JUnit XML are the same bytes under ASCII as under UTF-8, the message whole."""
    code, out, err = _check(app_dir, "ascii", fmt)
    assert code == 1, err
    assert (code, out) == _check(app_dir, "utf-8", fmt)[:2]
    if fmt == "json":
        assert MESSAGE in {crash["message"] for crash in json.loads(out)["app_errors"]}
    else:
        assert out.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
        assert MESSAGE.encode() in out
