"""The logs ``trace run`` keeps beside its recording (tracer.cli.run_logs)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from tracer.cli.run_logs import open_app_log, say_app_log


def test_the_app_log_is_this_runs_and_named_with_its_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The app log beside the recording is emptied when opened, handed to a server that takes
    one, and named with its number of lines when closed; an empty one is removed unsaid."""
    recording = tmp_path / "run.jsonl"
    (tmp_path / "run.app.log").write_text("an older run's line\n")
    server = SimpleNamespace(app_output=None)
    log_path, prints = open_app_log(str(recording), server)
    assert log_path == str(tmp_path / "run.app.log") and server.app_output == log_path
    prints.write("one\ntwo\n")
    say_app_log(log_path, prints)
    assert (tmp_path / "run.app.log").read_text() == "one\ntwo\n"
    assert capsys.readouterr().err == f"the app printed 2 lines: {log_path}\n"
    log_path, prints = open_app_log(str(recording), SimpleNamespace())
    say_app_log(log_path, prints)
    assert not (tmp_path / "run.app.log").exists()
    assert capsys.readouterr().err == ""
