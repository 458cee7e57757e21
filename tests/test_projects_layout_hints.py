"""Where a project's layout hides its app, ``trace run`` says where it is, in one line: a module
in ``src/`` (a src layout, not installed), a package's folder given as a file, and a module of a
package run from inside its folder, whose relative imports fail."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cli_helpers import trace_script

pytestmark = pytest.mark.timeout(120)

WSGI = """\
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
"""


def _trace(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """``trace ARGV -n 1 --headless`` in ``cwd``, as the console script runs it."""
    return trace_script(cwd, *argv, "-n", "1", "--headless")


@pytest.fixture
def src_layout(tmp_path: Path) -> Path:
    """``src/myapp/__init__.py`` holding a WSGI ``app``, as a src layout lays it out."""
    package = tmp_path / "src" / "myapp"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(WSGI)
    return tmp_path


def test_a_module_in_src_is_named_with_the_option_that_reaches_it(src_layout: Path) -> None:
    done = _trace(src_layout, "run", "myapp:app")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        'trace: error: Could not import module "myapp". It is in "src" (a src layout): pass '
        "--app-dir src."
    ]
    assert _trace(src_layout, "run", "myapp:app", "--app-dir", "src").returncode == 0


def test_a_package_folder_given_as_a_file_is_named_as_a_folder(src_layout: Path) -> None:
    done = _trace(src_layout, "run", "src/myapp:app")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        'trace: error: "src/myapp" is a folder (a package), not a file: pass "myapp:app" with '
        "--app-dir src."
    ]


def test_a_module_run_from_inside_its_package_says_the_dotted_name(tmp_path: Path) -> None:
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "routers.py").write_text(WSGI)
    (package / "main.py").write_text("from .routers import app\n")
    done = _trace(package, "run", "main:app")
    assert done.returncode == 2
    last = done.stderr.splitlines()[-1]  # after the app's own traceback
    assert last.startswith('trace: error: Importing module "main" failed: ImportError: ')
    assert last.endswith(
        '. "main" is part of the package "app" (its folder has __init__.py): run it as '
        '"app.main" from the folder above, or pass --app-dir ..'
    )
    assert _trace(tmp_path, "run", "app.main:app").returncode == 0


def test_a_module_not_found_anywhere_keeps_the_general_advice(tmp_path: Path) -> None:
    done = _trace(tmp_path, "run", "nowhere_at_all:app")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        'trace: error: Could not import module "nowhere_at_all". Run from the directory that '
        "holds it, or pass --app-dir DIR."
    ]
