"""``trace export``: the command line over real files and a real receiver."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from chrome_trace_checks import check_chrome_trace
from export_recordings import UNIX_NS, two_requests

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
            "GET",  # no route: named by the method alone (url.path tells them apart)
            "GET",
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


FILE_TARGETS = ["perfetto", "otlp-json", "html", "svg", "console"]
"""Every target that writes a file with ``-o``."""


def _unwritable_folder(tmp_path: Any) -> str:
    """A path in a folder nobody may write: a read-only folder, or /sys for root."""
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o500)
        return str(folder / "out")
    if not os.path.isdir("/sys/kernel"):
        pytest.skip("root may write anywhere, and there is no sysfs")
    return "/sys/gateway-tracer-out"


@pytest.mark.parametrize("target", FILE_TARGETS)
@pytest.mark.parametrize("where", ["full disk", "a directory", "read-only folder"])
def test_an_output_that_cannot_be_written_is_one_line_and_exit_2(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], target: str, where: str
) -> None:
    """Every file target says the same one line, exit 2, whether the file cannot be opened
    (a directory, a read-only folder) or its writes fail (/dev/full: a full disk); otlp-json
    and console printed a traceback and exited 1 on a full disk."""
    run = two_requests(tmp_path / "run.jsonl")
    if where == "full disk":
        if not os.path.exists("/dev/full"):
            pytest.skip("no /dev/full here")
        out, reason = "/dev/full", "No space left on device"
    elif where == "a directory":
        out, reason = str(tmp_path), "Is a directory"
    else:
        out, reason = _unwritable_folder(tmp_path), "Permission denied"
    assert main(["export", run, "--to", target, "-o", out]) == 2
    err = capsys.readouterr().err
    assert err == f'trace: error: Cannot write "{out}": {reason}.\n'


def _cut_short(path: Any) -> str:
    """``path`` with its last line cut in the middle, as an interrupted run leaves it."""
    text = path.read_text(encoding="utf-8")
    last = text.rstrip("\n").rfind("\n")
    cut = path.with_name("cut.jsonl")
    cut.write_text(text[: last + 20], encoding="utf-8")
    return str(cut)


def test_a_cut_short_recording_exports_with_one_warning_and_its_unfinished_request_marked(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    """The last line (GET /fail's request.end) cut in half: exit 0, one warning line as
    ``trace summary`` words it, and over the wire GET /fail is marked tracer.incomplete and
    ends at its last recorded event (the exception, t=3,500); GET /items is as it was."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    cut = _cut_short(Path(two_requests(tmp_path / "run.jsonl")))
    with OtlpHttpReceiver() as receiver:
        code = main(["export", cut, "--to", "otlp", "--otlp-endpoint", receiver.endpoint])
        spans = {  # by url.path: a request with no route is named by its method alone
            next(a.value.string_value for a in span.attributes if a.key == "url.path"): span
            for span in receiver.spans()
        }
    assert code == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        f"trace: warning: {cut} ends with a cut-short line (the run was interrupted): it is "
        "left out; a request with no end is marked tracer.incomplete."
    )
    assert len(err) == 2 and err[1].startswith("trace: sent 2 spans")
    fail, items = spans["/fail"], spans["/items"]
    marks = {a.key: a.value for a in fail.attributes}
    assert marks["tracer.incomplete"].bool_value is True
    assert fail.end_time_unix_nano - UNIX_NS == 3_500
    assert "tracer.incomplete" not in {a.key for a in items.attributes}
    assert items.end_time_unix_nano - UNIX_NS == 2_000


def test_a_whole_recording_exports_without_a_warning(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The warning is for cut-short recordings only."""
    run = two_requests(tmp_path / "run.jsonl")
    assert main(["export", run, "--to", "otlp-json", "-o", str(tmp_path / "o.json")]) == 0
    assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--to", "perfetto", "--otel-detail", "spans"],
            "--otel-detail is for --to otlp, otlp-json or console (spans); "
            "--to perfetto makes no spans.",
        ),
        (
            ["--to", "svg", "--otel-detail", "events"],
            "--otel-detail is for --to otlp, otlp-json or console (spans); "
            "--to svg makes no spans.",
        ),
        (
            ["--to", "html", "--otel-detail", "spans"],
            "--otel-detail is for --to otlp, otlp-json or console (spans); "
            "--to html makes no spans.",
        ),
        (
            ["--to", "perfetto", "--otlp-endpoint", "http://127.0.0.1:1"],
            "--otlp-endpoint is for --to otlp (a collector); --to perfetto sends nothing.",
        ),
        (
            ["--to", "otlp-json", "--otlp-endpoint", "http://127.0.0.1:1"],
            "--otlp-endpoint is for --to otlp (a collector); --to otlp-json sends nothing.",
        ),
        (
            ["--to", "otlp", "-o", "spans.json"],
            "-o is for targets that write a file; --to otlp sends the spans to a collector "
            "(--otlp-endpoint).",
        ),
    ],
)
def test_an_option_the_target_would_ignore_is_refused(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    """As --lanes with perfetto is: one line, exit 2, nothing written or sent (these were
    silently ignored, rc 0)."""
    run = two_requests(tmp_path / "run.jsonl")
    assert main(["export", run, *options]) == 2
    assert capsys.readouterr().err == f"trace: error: {message}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.jsonl"]


@pytest.mark.parametrize("target", ["otlp-json", "console"])
def test_otel_detail_still_applies_to_the_span_targets(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    """--otel-detail spans with a target that makes spans: child spans, exit 0."""
    run = two_requests(tmp_path / "run.jsonl")
    out = tmp_path / "o.txt"
    assert main(["export", run, "--to", target, "--otel-detail", "spans", "-o", str(out)]) == 0
    assert "sched.step" in out.read_text()


@pytest.mark.parametrize("target", ["html", "perfetto", "otlp-json"])
def test_an_output_that_is_the_recording_itself_is_refused(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    """``-o`` naming the recording being exported (or the second one compared) overwrote it
    without a word, exit 0: now one line, exit 2, and the recording is untouched."""
    run = two_requests(tmp_path / "run.jsonl")
    before = open(run, "rb").read()
    assert main(["export", run, "--to", target, "-o", run]) == 2
    assert "is the recording being exported" in capsys.readouterr().err
    if target == "html":
        other = two_requests(tmp_path / "other.jsonl")
        assert (
            main(
                [
                    "export",
                    other,
                    run,
                    "--to",
                    target,
                    "-o",
                    str(tmp_path / ".." / tmp_path.name / "run.jsonl"),
                ]
            )
            == 2
        )
    assert open(run, "rb").read() == before


def test_no_collector_at_a_bare_address_names_the_url_posted_to(
    tmp_path: Any, capsys: Any, monkeypatch: Any
) -> None:
    """A bare collector address gets the signal path (``/v1/traces``) added, and the line says
    the address the spans were posted to, as ``trace run --otlp-endpoint`` says it."""
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1")
    run = two_requests(tmp_path / "run.jsonl")
    with OtlpHttpReceiver() as receiver:
        bare = receiver.endpoint.removesuffix("/v1/traces")  # a port now closed again
    assert main(["export", run, "--to", "otlp", "--otlp-endpoint", bare]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{bare}/v1/traces" in err
