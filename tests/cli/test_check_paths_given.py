"""``trace check`` names the files of ``--record`` and ``-o`` as the user gave them, as
``trace run``, ``sim`` and ``summary`` do: a relative path stays relative in what it says
(it makes them absolute only so that an app's ``os.chdir`` cannot move them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracer.cli import main
from tracer.recording import load

APP = "sample_apps.hello:wsgi_app"


@pytest.fixture
def blocked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's folder as the working directory, holding ``a-file``, a file where a
    folder would be needed."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    return tmp_path


def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


def test_a_recording_that_cannot_be_written_is_named_as_given(
    blocked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--record a-file/c.jsonl``: the relative path, and its folder, as typed."""
    err = _error(["check", APP, "--record", "a-file/c.jsonl"], capsys)
    assert err == (
        'trace: error: Cannot write the recording "a-file/c.jsonl": "a-file" is a file, '
        "not a directory.\n"
    )


def test_a_recording_above_the_working_directory_is_named_as_given(
    blocked: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--record ../a-file/c.jsonl`` from a folder below: ``..`` kept."""
    (blocked / "below").mkdir()
    monkeypatch.chdir(blocked / "below")
    err = _error(["check", APP, "--record", "../a-file/c.jsonl"], capsys)
    assert err == (
        'trace: error: Cannot write the recording "../a-file/c.jsonl": "../a-file" is a '
        "file, not a directory.\n"
    )


def test_a_report_that_cannot_be_written_is_named_as_given(
    blocked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``-o a-file/report.txt`` and ``-o .`` (a folder): the paths as typed."""
    err = _error(["check", APP, "-o", "a-file/report.txt"], capsys)
    assert err == 'trace: error: Cannot write "a-file/report.txt": Not a directory.\n'
    err = _error(["check", APP, "-o", "."], capsys)
    assert err == 'trace: error: Cannot write ".": Is a directory.\n'


def test_an_absolute_path_stays_absolute(blocked: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A path given absolute is said absolute, and the files are still written."""
    err = _error(["check", APP, "--record", str(blocked / "a-file" / "c.jsonl")], capsys)
    assert err == (
        f'trace: error: Cannot write the recording "{blocked / "a-file" / "c.jsonl"}": '
        f'"{blocked / "a-file"}" is a file, not a directory.\n'
    )
    assert main(["check", APP, "--record", "c.jsonl", "-o", "report.txt"]) == 0
    assert capsys.readouterr() == ("", "")
    assert load(str(blocked / "c.jsonl")).header["app"] == APP
    assert (
        (blocked / "report.txt")
        .read_text(encoding="utf-8")
        .endswith("no violations in 4 requests\n")
    )


@pytest.mark.parametrize("output", ["same.txt", "./same.txt", "link.txt"])
def test_a_report_over_the_recording_is_refused(
    blocked: Path, capsys: pytest.CaptureFixture[str], output: str
) -> None:
    """``--record same.txt -o same.txt`` (or a link to it): the report would replace the
    recording just written; refused before the app is checked, and nothing is written."""
    (blocked / "link.txt").symlink_to("same.txt")
    err = _error(["check", APP, "--record", "same.txt", "-o", output], capsys)
    assert err == (
        f'trace: error: -o "{output}" is the file --record writes: choose another file '
        "(the report would replace the recording).\n"
    )
    assert sorted(p.name for p in blocked.iterdir()) == ["a-file", "link.txt"]
