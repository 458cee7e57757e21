"""``trace`` in a bare container or CI job: no locale (``LC_ALL=C``), no ``TERM``, no
``HOME``, ``NO_COLOR``, no terminal. Python's UTF-8 mode makes ``LC_ALL=C`` a UTF-8 output;
with it turned off (``PYTHONUTF8=0 PYTHONCOERCECLOCALE=0``) the output is ASCII, where
Chinese (``--lang zh``) is written as ``\\u`` escapes and the command ends with one line on
standard error saying so and how to see it, its exit code unchanged."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DEMO = ["demo", "blocking-call", "--headless", "--sim"]

NOTE = (
    "trace: note: {count} characters were written as \\u escapes: the output's encoding "
    "(ascii) cannot show them; to see them, use a UTF-8 locale (e.g. LC_ALL=C.UTF-8) or set "
    "PYTHONUTF8=1.\n"
)


def bare(args: list[str], cwd: Path, *, utf8_mode: bool) -> subprocess.CompletedProcess[bytes]:
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", "LANG": "C", "NO_COLOR": "1"}
    if not utf8_mode:
        env |= {"PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    return subprocess.run(
        [sys.executable, "-m", "tracer", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )


def escapes(text: str) -> int:
    return len(re.findall(r"\\u[0-9a-f]{4}", text))


@pytest.mark.skipif(sys.platform == "win32", reason="the C locale is POSIX's")
def test_chinese_on_an_ascii_output_is_escaped_and_said(tmp_path: Path) -> None:
    done = bare([*DEMO, "--lang", "zh"], tmp_path, utf8_mode=False)
    out, err = done.stdout.decode("ascii"), done.stderr.decode("ascii")  # ASCII, or it raises
    assert done.returncode == 0, err
    assert "Traceback" not in err
    said, note = err.rsplit("trace: note: ", 1)
    assert "trace: note: " + note == NOTE.format(count=escapes(out) + escapes(said))
    assert escapes(out) > 10  # the captions, whose text is there to be read back


@pytest.mark.skipif(sys.platform == "win32", reason="the C locale is POSIX's")
def test_english_on_an_ascii_output_needs_no_note(tmp_path: Path) -> None:
    done = bare(DEMO, tmp_path, utf8_mode=False)
    assert done.returncode == 0
    assert done.stderr.decode("ascii") == "trace: simulating blocking-call...\n"
    assert escapes(done.stdout.decode("ascii")) == 0


@pytest.mark.skipif(sys.platform == "win32", reason="the C locale is POSIX's")
def test_the_c_locale_is_utf8_by_default(tmp_path: Path) -> None:
    """Python's UTF-8 mode: under ``LC_ALL=C`` Chinese and ``µs`` are written as they are."""
    done = bare([*DEMO, "--lang", "zh"], tmp_path, utf8_mode=True)
    assert done.returncode == 0
    assert "模拟" in done.stdout.decode("utf-8")
    assert "note" not in done.stderr.decode("utf-8")
