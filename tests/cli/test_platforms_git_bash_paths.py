"""``--path /api`` typed in Git Bash (MSYS) on Windows reaches Python as the Windows path
``C:/Program Files/Git/api``: the refusal says what happened and how to keep the slash."""

from __future__ import annotations

import pytest

from tracer.cli import main

MADE = "C:/Program Files/Git/api"


def test_run_says_the_shell_made_a_windows_path_of_the_request_path(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "sample_apps.hello:application", "--path", MADE, "--headless"]) == 2
    assert capsys.readouterr().err == (
        f'trace: error: --path "{MADE}" must start with "/": the shell (Git Bash) turned a '
        "path starting with / into a Windows path; write it with two slashes (//api) or set "
        "MSYS_NO_PATHCONV=1.\n"
    )


def test_check_says_the_same(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "sample_apps.hello:application", "--path", "D:\\msys64\\x"]) == 2
    assert capsys.readouterr().err == (
        'trace: error: --path "D:\\msys64\\x" must start with "/": the shell (Git Bash) '
        "turned a path starting with / into a Windows path; write it with two slashes (//api) "
        "or set MSYS_NO_PATHCONV=1.\n"
    )


def test_a_plain_relative_path_keeps_its_own_words(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "sample_apps.hello:application", "--path", "api", "--headless"]) == 2
    assert capsys.readouterr().err == (
        'trace: error: --path "api" must start with "/" (or "ws:/" for a websocket).\n'
    )
