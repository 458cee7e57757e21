"""APP as a Windows path: the drive letter's colon is not the one before the attribute."""

from __future__ import annotations

import ntpath
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracer.cli import main
from tracer.loading import load_app, split_spec

FORM = (
    'must be in the form "<module>:<attribute>" or "<path/file.py>:<attribute>", '
    'for example "myapp:app".'
)


@pytest.fixture(autouse=True)
def _unchanged_sys_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import sys

    monkeypatch.setattr(sys, "path", list(sys.path))
    yield


@pytest.mark.parametrize(
    ("spec", "parts"),
    [
        ("C:\\apps\\app.py:app", ("C:\\apps\\app.py", "app", True)),
        ("C:/apps/app.py:app", ("C:/apps/app.py", "app", True)),
        ("D:\\x\\my.app.py:api.asgi", ("D:\\x\\my.app.py", "api.asgi", True)),
        ("\\\\server\\share\\app.py:app", ("\\\\server\\share\\app.py", "app", True)),
        ("apps\\app.py:app", ("apps\\app.py", "app", True)),
        ("pkg.mod:app", ("pkg.mod", "app", False)),
        ("path/to/file.py:app", ("path/to/file.py", "app", True)),
    ],
)
def test_the_attribute_is_after_the_last_colon_and_a_path_is_a_file(
    spec: str, parts: tuple[str, str, bool]
) -> None:
    assert split_spec(spec) == parts


def test_a_windows_file_with_its_attribute_is_imported_from_that_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What Windows would open: the path as typed, with backslashes, given to the file loader.
    (tmp_path / "app.py").write_text("def app(environ, start_response):\n    return [b'']\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("os.sep", "\\")  # a separator of its own, as os.sep is on Windows
    monkeypatch.setattr("os.path.abspath", lambda p: str(tmp_path / ntpath.basename(p)))
    monkeypatch.setattr("os.path.isfile", lambda p: Path(p).is_file())
    loaded = load_app(".\\app.py:app")
    assert loaded.interface == "wsgi"
    assert loaded.spec == ".\\app.py:app"


@pytest.mark.parametrize("spec", ["C:\\apps\\app.py", "C:/apps/app.py", "apps\\app.py"])
def test_a_windows_path_without_an_attribute_says_the_form(
    spec: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", spec]) == 2
    assert capsys.readouterr().err == f'trace: error: APP "{spec}" {FORM}\n'
