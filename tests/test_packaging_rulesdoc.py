"""``python -m tracer.conformance.rulesdoc`` from a checkout and from an installed package.

It wrote to the working folder's ``docs/rules.md`` and ended in a traceback anywhere else. The
package is copied into a fake site-packages and a fake checkout, so the repository's own
docs/rules.md is never written by the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tracer.conformance.rulesdoc import render

_REPO = Path(__file__).resolve().parents[1]
_PROG = "python -m tracer.conformance.rulesdoc"


def _copy_package(into: Path) -> None:
    shutil.copytree(_REPO / "tracer", into / "tracer", ignore=shutil.ignore_patterns("__pycache__"))


def _rulesdoc(pythonpath: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(pythonpath))
    return subprocess.run(
        [sys.executable, "-m", "tracer.conformance.rulesdoc", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
    )


def test_installed_without_output_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """Installed (no pyproject.toml, no docs beside the package): one line saying to give a
    file, exit 2, nothing written in the working folder."""
    site, elsewhere = tmp_path / "site-packages", tmp_path / "elsewhere"
    _copy_package(site)
    (elsewhere / "docs").mkdir(parents=True)  # a docs folder of the user's: not written
    proc = _rulesdoc(site, elsewhere)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == (
        f"{_PROG}: error: tracer is installed ({site / 'tracer'}), not a checkout with a docs "
        f"folder; give the file to write, e.g. {_PROG} rules.md\n"
    )
    assert list((elsewhere / "docs").iterdir()) == []


def test_a_checkout_gets_its_own_docs_file_from_any_folder(tmp_path: Path) -> None:
    """Run from another folder, a checkout's docs/rules.md is the one written."""
    checkout, elsewhere = tmp_path / "checkout", tmp_path / "elsewhere"
    _copy_package(checkout)
    (checkout / "pyproject.toml").write_text('[project]\nname = "gateway-tracer"\n')
    (checkout / "docs").mkdir()
    elsewhere.mkdir()
    proc = _rulesdoc(checkout, elsewhere)
    assert proc.returncode == 0, proc.stderr
    target = checkout / "docs" / "rules.md"
    assert proc.stdout.startswith(f"wrote {target} (")
    assert target.read_text(encoding="utf-8") == render()
    assert list(elsewhere.iterdir()) == []


def test_an_output_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    """An OUTPUT in a folder that does not exist: one line, exit 2, no traceback."""
    target = tmp_path / "missing" / "rules.md"
    proc = _rulesdoc(_REPO, tmp_path, str(target))
    assert proc.returncode == 2
    assert proc.stderr == (
        f'{_PROG}: error: cannot write "{target}" (No such file or directory).\n'
    )
