"""``trace summary F 2>/dev/full``: standard error has no room, standard output has.

A recording cut short is warned about on stderr before its report; that warning failing
stopped the command before the report, which went nowhere (exit 2, stdout empty). The report
(or the JSON) is written whole now, and the exit code still says a write failed: 2, as for
``> /dev/full`` (tests/cli/test_no_room_to_write.py), never a traceback's 1. A whole recording
writes nothing on stderr: exit 0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full"),
]


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A whole recording (20 requests on two threads) and the same cut inside its last line."""
    from tracer.tui.examples import threads_example

    recording = threads_example(20, 2)
    folder = tmp_path_factory.mktemp("stderr-full")
    lines = [json.dumps(recording.header)] + [json.dumps(e.to_dict()) for e in recording.events]
    whole, cut = folder / "whole.jsonl", folder / "cut.jsonl"
    whole.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cut.write_text("\n".join(lines)[:-10], encoding="utf-8")
    return str(whole), str(cut)


def _stderr_to_full_disk(*argv: str) -> tuple[int, str]:
    """``python -m tracer ARGV 2> /dev/full``: exit code and stdout."""
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "tracer", *argv],
            stdout=subprocess.PIPE,
            stderr=full,
            text=True,
            timeout=30,
            env={**os.environ, "COLUMNS": "100"},
        )
    return done.returncode, done.stdout


def test_the_report_of_a_cut_recording_is_written_and_the_exit_code_says(
    recordings: tuple[str, str],
) -> None:
    _, cut = recordings
    code, out = _stderr_to_full_disk("summary", cut)
    assert out.startswith("sample_apps.hello:wsgi_app · WSGI threads"), out
    assert "Workers" in out and "ends with a cut-short line" in out.replace("\n", " "), out
    assert code == 2


def test_the_json_of_a_cut_recording_is_written_and_the_exit_code_says(
    recordings: tuple[str, str],
) -> None:
    _, cut = recordings
    code, out = _stderr_to_full_disk("summary", "--json", cut)
    assert json.loads(out)["requests"] == 20
    assert code == 2


def test_a_whole_recording_says_nothing_on_stderr_and_exits_0(
    recordings: tuple[str, str],
) -> None:
    whole, _ = recordings
    code, out = _stderr_to_full_disk("summary", whole)
    assert out.startswith("sample_apps.hello:wsgi_app · WSGI threads") and "Workers" in out
    assert code == 0


def test_the_warning_on_a_roomy_stderr_comes_before_the_report(
    recordings: tuple[str, str],
) -> None:
    """Unchanged where stderr has room: the warning, then the report, exit 0."""
    _, cut = recordings
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "summary", cut],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.stderr.startswith(f"trace: warning: {cut} ends with a cut-short line")
    assert done.stdout.startswith("sample_apps.hello:wsgi_app") and done.returncode == 0
