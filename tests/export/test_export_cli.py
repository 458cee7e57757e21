"""``trace export``: the command line over real files and a real receiver."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chrome_trace_checks import check_chrome_trace
from export_recordings import two_requests

from tracer.cli import main
from tracer.otel.testing import OtlpHttpReceiver

pytestmark = pytest.mark.timeout(60)


def test_export_to_perfetto_writes_the_named_file(tmp_path: Any, capsys: Any) -> None:
    """``trace export run.jsonl --to perfetto -o out.json``: exit 0, a valid trace, one line."""
    run = two_requests(tmp_path / "run.jsonl")
    out = tmp_path / "out.json"
    assert main(["export", run, "--to", "perfetto", "-o", str(out)]) == 0
    check_chrome_trace(json.loads(out.read_text()))
    assert capsys.readouterr().err.startswith("trace: wrote ")


@pytest.mark.parametrize("target", ["perfetto", "otlp-json"])
def test_export_to_stdout_says_stdout(tmp_path: Any, capsys: Any, target: str) -> None:
    """``-o -`` puts the export on stdout (JSON that parses) and the note names stdout, not "-"."""
    run = two_requests(tmp_path / "run.jsonl")
    assert main(["export", run, "--to", target, "-o", "-"]) == 0
    out, err = capsys.readouterr()
    assert all(json.loads(line) for line in out.splitlines())
    assert err.startswith("trace: wrote ") and " to stdout" in err and " to -" not in err


def test_export_to_otlp_sends_to_the_endpoint(tmp_path: Any, capsys: Any, monkeypatch: Any) -> None:
    """``--to otlp --otlp-endpoint URL --otel-detail spans`` delivers every span."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    run = two_requests(tmp_path / "run.jsonl")
    with OtlpHttpReceiver() as receiver:
        code = main(
            [
                "export",
                run,
                "--to",
                "otlp",
                "--otlp-endpoint",
                receiver.endpoint,
                "--otel-detail",
                "spans",
            ]
        )
        names = sorted(span.name for span in receiver.spans())
    assert code == 0
    assert names == sorted(
        [
            "GET /items",
            "GET /fail",
            "sched.step",
            "asgi.send http.response.start",
            "asgi.send http.response.body",
        ]
    )
    assert "sent 5 spans" in capsys.readouterr().err


def test_a_missing_recording_is_one_line_and_exit_2(tmp_path: Any, capsys: Any) -> None:
    """Bad input: exit 2, one line on stderr, no traceback."""
    assert main(["export", str(tmp_path / "nope.jsonl"), "--to", "perfetto"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.jsonl" in err and "Traceback" not in err


def test_an_unknown_target_is_rejected_by_the_parser(tmp_path: Any, capsys: Any) -> None:
    """``--to`` choices come from the registry; anything else exits 2 naming them."""
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "run.jsonl", "--to", "pdf"])
    assert exit_info.value.code == 2
    assert "perfetto" in capsys.readouterr().err


def test_no_collector_is_one_line_and_exit_2(tmp_path: Any, capsys: Any, monkeypatch: Any) -> None:
    """Nothing listens: the exporter's retry chatter is held back; one line, exit 2."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1")
    run = two_requests(tmp_path / "run.jsonl")
    with OtlpHttpReceiver() as receiver:
        endpoint = receiver.endpoint  # a port that was just free, now closed again
    assert main(["export", run, "--to", "otlp", "--otlp-endpoint", endpoint]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and endpoint in err and "Traceback" not in err


def test_lanes_is_for_the_figures(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """``--lanes 5 --to perfetto`` was accepted and did nothing: one line, exit 2."""
    path = two_requests(tmp_path / "a.jsonl")
    assert main(["export", path, "--to", "perfetto", "--lanes", "5"]) == 2
    assert capsys.readouterr().err.strip() == (
        "trace: error: --lanes is for --to html or svg (figures); --to perfetto has no lanes."
    )
    out = tmp_path / "fig.svg"
    assert main(["export", path, "--to", "svg", "--lanes", "1", "-o", str(out)]) == 0


def test_a_second_file_after_the_options_is_understood(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """``trace export a --to perfetto b``: not "unrecognized arguments" but the line saying
    FILE2 is for html and svg; ``a --to svg b`` compares the two."""
    path = two_requests(tmp_path / "a.jsonl")
    assert main(["export", path, "--to", "perfetto", path]) == 2
    err = capsys.readouterr().err
    assert "html or svg" in err and "unrecognized" not in err
    out = tmp_path / "fig.svg"
    assert main(["export", path, "--to", "svg", path, "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").count('class="lane"') == 4
