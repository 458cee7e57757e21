"""Students' apps that end or break ``trace run`` as they are imported, run from a script:
one line says what happened, never a traceback, and no empty recording is left behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.cli_helpers import app_file, trace_process

pytestmark = pytest.mark.timeout(60)

EXITS_ON_IMPORT = """
import os

os._exit(6)
"""


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_an_app_that_calls_os_exit_on_import_is_said_and_leaves_no_recording(
    tmp_path: Path, json_flag: list[str]
) -> None:
    spec = app_file(tmp_path, "leaves_early", EXITS_ON_IMPORT)
    code, out, err = trace_process(tmp_path, "run", spec, "-n", "3", *json_flag)
    assert code == 6  # the app's own code, as for os._exit during the run
    assert out == ""
    assert err == (
        "trace: the app called os._exit(6) while it was imported; no request was sent, "
        "and no recording was kept.\n"
    )
    assert not (tmp_path / "traces").exists()


def test_an_os_exit_on_import_leaves_a_given_recording_as_it_was(tmp_path: Path) -> None:
    spec = app_file(tmp_path, "leaves_early", EXITS_ON_IMPORT)
    record = tmp_path / "kept.jsonl"
    record.write_text("what it held\n", encoding="utf-8")
    code, out, err = trace_process(tmp_path, "run", spec, "--record", str(record))
    assert code == 6
    assert "os._exit(6) while it was imported" in err
    assert record.read_text(encoding="utf-8") == "what it held\n"


CLOSES_STDOUT = """
import sys

sys.stdout.close()


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


def test_an_app_that_closes_sys_stdout_on_import_is_run_and_reported(tmp_path: Path) -> None:
    spec = app_file(tmp_path, "closes_stdout", CLOSES_STDOUT)
    code, out, err = trace_process(tmp_path, "run", spec, "-n", "3", "--record", "run.jsonl")
    assert code == 0, err
    assert "Traceback" not in err
    assert "status codes" in out
    assert out.splitlines()[-1] == "recording: run.jsonl"


def test_with_json_an_app_that_closes_sys_stdout_on_import_gets_its_summary(
    tmp_path: Path,
) -> None:
    # Under --json, sys.stdout is standard error while the app is imported: that is what it
    # closes, and the progress bar and the recording's path still reach standard error.
    spec = app_file(tmp_path, "closes_stdout", CLOSES_STDOUT)
    code, out, err = trace_process(
        tmp_path, "run", spec, "-n", "3", "--json", "--record", "run.jsonl"
    )
    assert code == 0, err
    assert json.loads(out)["status"] == {"200": 3}
    assert err.splitlines()[-1] == "recording: run.jsonl"
