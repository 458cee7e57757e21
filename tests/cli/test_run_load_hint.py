"""``trace run`` says the loader's hint once, on stderr before the run, when APP was taken for
an ASGI 2 app though it may not be one (a class whose instances are apps, a view), as
``trace check`` does: whichever model loads the app in the ``trace`` process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)

APPS = str(Path(__file__).resolve().parent / "run_hint_apps.py")
NOTE = "trace: note: "


def _run(tmp_path: Path, app: str, *options: str) -> tuple[int, list[str]]:
    """``trace run APPS:app`` with 2 requests, headless: its exit code and stderr's lines."""
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "run", f"{APPS}:{app}", "-n", "2", "--headless",
         "--record", str(tmp_path / "run.jsonl"), *options],
        capture_output=True, text=True, timeout=90, cwd=tmp_path,
    )  # fmt: skip
    return done.returncode, done.stderr.splitlines()


@pytest.mark.parametrize(
    "options",
    [(), ("--server", "loop"), ("--server", "uvicorn")],
    ids=["auto", "loop", "uvicorn"],
)
def test_a_class_whose_instances_are_apps_gets_one_note_before_the_run(
    tmp_path: Path, options: tuple[str, ...]
) -> None:
    """The class itself as APP, its model chosen or given (a real server: loaded here once, then
    silently in its processes): one note, the first line on stderr, saying to point APP at an instance or pass --factory; the run goes on."""
    code, err = _run(tmp_path, "FrameworkApp", *options)
    assert code == 0, err
    notes = [line for line in err if line.startswith(NOTE)]
    assert len(notes) == 1 and err[0] == notes[0]
    assert "FrameworkApp" in notes[0] and "instance" in notes[0] and "--factory" in notes[0]


def test_a_model_that_refuses_the_app_says_the_note_before_its_error(tmp_path: Path) -> None:
    """``--server processes`` (WSGI only) loads the app in the ``trace`` process first: the
    note, once (its workers are never started), then the one-line error, exit 2."""
    code, err = _run(tmp_path, "FrameworkApp", "--server", "processes")
    assert code == 2
    assert [line.split(":")[:2] for line in err] == [["trace", " note"], ["trace", " error"]]
    assert "--server loop" in err[1]


def test_a_view_gets_the_note_and_a_real_asgi2_app_none(tmp_path: Path) -> None:
    """A one-argument function not of ``scope`` gets it; an ASGI 2 class made with the scope
    (and an ASGI 3 app) get no note."""
    code, err = _run(tmp_path, "view")
    notes = [line for line in err if line.startswith(NOTE)]
    assert code == 0 and len(notes) == 1 and '"request"' in notes[0]
    for app in ("Asgi2App", "asgi_ok"):
        code, err = _run(tmp_path, app)
        assert code == 0 and not [line for line in err if line.startswith(NOTE)], err
