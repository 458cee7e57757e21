"""``trace check``: exit codes, formats, and one-line errors on bad input."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import check_apps
import pytest

from tracer.cli import main
from tracer.sourcepath import display_path

HERE = Path(__file__).resolve().parent
APPS = str(HERE / "check_apps.py")

pytestmark = pytest.mark.timeout(60)


def test_clean_app_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """The seed ASGI example passes and says so."""
    assert main(["check", "sample_apps.hello:asgi_app", "--path", "/", "--path", "/x"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == (
        "sample_apps.hello:asgi_app (asgi): no violations in 9 requests"
    )


def test_errors_exit_1_with_rule_request_and_location(capsys: pytest.CaptureFixture[str]) -> None:
    """Errors make exit 1; the text names rule, request, app file:line and hint."""
    assert main(["check", f"{APPS}:wsgi_bad"]) == 1
    out = capsys.readouterr().out
    assert (
        "WSGI-019 error   GET /, POST /, POST / (chunked): "
        "more body bytes than Content-Length: sent 5, declared 2\n"
    ) in out
    assert f"    at {display_path(APPS)}:" in out
    assert "    hint: " in out


@pytest.mark.parametrize(
    ("app", "rule"), [("wsgi_yields_str", "WSGI-014"), ("wsgi_length_lies", "WSGI-019")]
)
def test_a_rule_judged_after_the_call_names_the_line_that_caused_it(
    app: str, rule: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A generator's bad chunk is at its yield; a wrong Content-Length at the start_response
    that declared it (not at the app's def line)."""
    assert main(["check", f"{APPS}:{app}", "--path", "/"]) == 1
    lines = capsys.readouterr().out.splitlines()
    line = check_apps.line_of(getattr(check_apps, app), rule)
    # A HEAD response has no body to measure against its Content-Length.
    head = "" if rule == "WSGI-019" else "HEAD /, "
    assert lines[0].startswith(f"{rule} error   GET /, {head}POST /, POST / (chunked): ")
    assert lines[1] == f"    at {display_path(APPS)}:{line}"


def test_warnings_exit_1_only_with_strict(capsys: pytest.CaptureFixture[str]) -> None:
    """A warning-only app exits 0, and 1 with --strict."""
    assert main(["check", f"{APPS}:wsgi_untyped"]) == 0
    assert main(["check", f"{APPS}:wsgi_untyped", "--strict"]) == 1


def test_json_output_parses(capsys: pytest.CaptureFixture[str]) -> None:
    """--format json prints {"violations": [{rule, severity, message, hint, request, location}]}."""
    assert main(["check", f"{APPS}:asgi_bad", "--format", "json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    rows = payload["violations"]
    assert {"rule", "severity", "message", "hint", "request", "location"} == set(rows[0])
    assert {row["rule"] for row in rows} >= {"HTTP-001", "WS-001", "LS-001"}


def test_junit_output_parses_and_can_go_to_a_file(tmp_path: Path) -> None:
    """--format junit -o FILE writes JUnit XML a CI server can read."""
    out = tmp_path / "check.xml"
    assert main(["check", f"{APPS}:wsgi_bad", "--format", "junit", "-o", str(out)]) == 1
    suite = ET.parse(out).getroot()
    assert suite.get("tests") == "4" and suite.get("failures") == "4"
    assert [c.get("name") for c in suite.iter("testcase")] == [
        "GET /",
        "HEAD /",
        "POST /",
        "POST / (chunked)",
    ]


def test_record_saves_a_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--record FILE keeps the check's events, violations included."""
    import tracer

    path = tmp_path / "check.jsonl"
    main(["check", f"{APPS}:wsgi_untyped", "--record", str(path)])
    recording = tracer.load(path)
    assert recording.header["interface"] == "wsgi"
    assert tracer.summarize(recording)["violations"] == 4


def test_a_recording_leaves_out_the_probes_the_report_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The websocket and lifespan probes of an HTTP-only app are skipped, not judged: the saved
    recording counts what the report counts (it used to add their violation and an error)."""
    import tracer

    path = tmp_path / "check.jsonl"
    code = main(["check", f"{APPS}:asgi_http_only", "--record", str(path), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and len(report["skipped"]) == 2
    summary = tracer.summarize(tracer.load(path))
    assert summary["violations"] == len(report["violations"]) == len(report["requests"]) == 4
    assert summary["requests"] == len(report["requests"]) and summary["errors"] == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "no_such_module_here:app"],
        ["check", "not-a-spec"],
        ["check", f"{APPS}:missing"],
        ["check", f"{APPS}:not_an_app"],
        ["check", "sample_apps.hello:asgi_app", "--timeout", "0"],
        ["check", "sample_apps.hello:asgi_app", "--timeout", "nan"],
        ["check", "sample_apps.hello:asgi_app", "--timeout", "inf"],
        ["check", "sample_apps.hello:asgi_app", "--timeout", "1e300"],
        ["check", "sample_apps.hello:asgi_app", "--path", "noslash"],
        ["check", "sample_apps.hello:asgi_app", "--path", "ws:/chat"],
        ["check", "sample_apps.hello:asgi_app", "-o", "{blocked}/report.txt"],
        ["check", "sample_apps.hello:asgi_app", "--record", "{blocked}/check.jsonl"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Import errors, bad APP, bad options, unwritable outputs: one stderr line, exit 2."""
    blocked = tmp_path / "a-file"  # a file where a directory should be: nothing can go under it
    blocked.write_text("")
    assert main([arg.format(blocked=blocked) for arg in argv]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_ws_prefix_is_explained_not_corrected_to_nonsense(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``ws:/chat`` is trace run's way to ask for a websocket: check says it needs none."""
    assert main(["check", "sample_apps.hello:asgi_app", "--path", "ws:/chat"]) == 2
    err = capsys.readouterr().err
    assert 'has no "ws:" prefix' in err and "give --path /chat." in err and "/ws:" not in err


def test_the_report_files_missing_folders_are_made(tmp_path: Path) -> None:
    """``-o`` makes its missing folders, as ``--record`` and every other output do."""
    out = tmp_path / "new" / "deeper" / "report.json"
    assert main(["check", "sample_apps.hello:asgi_app", "--format", "json", "-o", str(out)]) == 0
    assert json.loads(out.read_text())["violations"] == []
