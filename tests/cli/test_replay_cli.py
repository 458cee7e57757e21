"""``trace replay``: bad input is one line and exit 2; --screenshot renders without a terminal."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tracer.cli import main
from tracer.cli.replay import parse_size
from tracer.errors import UsageError
from tracer.tui.examples import loop_example, threads_example

pytestmark = pytest.mark.timeout(60)


def _write(path: Path, recording) -> Path:  # type: ignore[no-untyped-def]
    lines = [json.dumps(recording.header)] + [json.dumps(e.to_dict()) for e in recording.events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "content,message",
    [
        (None, "does not exist"),
        ('{"hello": "world"}\n', "not a gateway-trace recording"),
        ("\x00\x01binary", "not a gateway-trace recording"),
        ('{"format": "gateway-trace", "version": 9}\n', "version 9"),
        (
            '{"format": "gateway-trace", "version": 1}\n{"seq": 0, "t": 0, "kind": "mark"}\nbroken{\n'
            '{"seq": 1, "t": 1, "kind": "mark"}\n',
            "line 3 is not a valid event",
        ),
    ],
    ids=["missing", "foreign", "binary", "newer", "corrupt"],
)
def test_bad_recordings_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    """A missing, foreign, newer or corrupt file: exit 2 and a single stderr line naming it."""
    path = tmp_path / "run.jsonl"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert main(["replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and str(path) in err


def test_bad_second_file_is_reported_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """In compare mode the second file is checked the same way."""
    good = _write(tmp_path / "a.jsonl", loop_example())
    assert (
        main(
            [
                "replay",
                str(good),
                str(tmp_path / "nope.jsonl"),
                "--screenshot",
                str(tmp_path / "x.svg"),
            ]
        )
        == 2
    )
    assert "nope.jsonl" in capsys.readouterr().err
    assert not (tmp_path / "x.svg").exists()


def test_no_traceback_from_the_real_command(tmp_path: Path) -> None:
    """The installed command prints no traceback for a foreign file (checked in a subprocess)."""
    path = tmp_path / "foreign.jsonl"
    path.write_text("[1, 2, 3]\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "tracer", "replay", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


def test_screenshot_writes_an_svg(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--screenshot renders the replay headless and writes an SVG holding the title and legend."""
    path = _write(tmp_path / "run.jsonl", loop_example())
    out = tmp_path / "shot.svg"
    assert main(["replay", str(path), "--screenshot", str(out), "--size", "100x30"]) == 0
    svg = out.read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<svg") and "queued" in svg and "ASGI" in svg
    assert str(out) in capsys.readouterr().out


def test_compare_screenshot_of_gzipped_files(tmp_path: Path) -> None:
    """Two files (one gzipped) render as compare mode, both titles in the SVG."""
    first = _write(tmp_path / "a.jsonl", threads_example())
    second = tmp_path / "b.jsonl.gz"
    with gzip.open(second, "wt", encoding="utf-8") as handle:
        handle.write(_write(tmp_path / "b.jsonl", loop_example()).read_text(encoding="utf-8"))
    out = tmp_path / "cmp.svg"
    assert (
        main(["replay", str(first), str(second), "--screenshot", str(out), "--view", "worker"]) == 0
    )
    svg = out.read_text(encoding="utf-8")
    assert "WSGI" in svg and "ASGI" in svg


def test_unwritable_screenshot_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A screenshot under a file (a folder that cannot be made) is a usage error, not a
    traceback."""
    path = _write(tmp_path / "run.jsonl", loop_example())
    (tmp_path / "plain").write_text("", encoding="utf-8")
    shot = tmp_path / "plain" / "dir" / "x.svg"
    assert main(["replay", str(path), "--screenshot", str(shot)]) == 2
    err = capsys.readouterr().err
    assert err == f'trace: error: Cannot write the screenshot "{shot}": Not a directory.\n'


@pytest.mark.parametrize("name", ["shot.png", "shot", ""])
def test_a_screenshot_name_not_ending_in_svg_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """Only SVG is written: a .png name got SVG inside it, and an empty one opened the UI."""
    path = _write(tmp_path / "run.jsonl", loop_example())
    assert main(["replay", str(path), "--screenshot", name]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--screenshot writes SVG only" in err
    assert list(tmp_path.iterdir()) == [path]


def test_size_parsing() -> None:
    """--size takes COLUMNSxROWS and refuses what cannot hold the UI, or what would take hours
    to render."""
    assert parse_size("120x40") == (120, 40)
    assert parse_size(" 80 × 24 ") == (80, 24)
    assert parse_size("1000x500") == (1000, 500)
    for bad in ("big", "10x5", "120", "100000x100000", "1001x40"):
        with pytest.raises(UsageError):
            parse_size(bad)


def test_without_a_terminal_it_says_how_to_render(tmp_path: Path) -> None:
    """Run with no terminal and no --screenshot: one line pointing at --screenshot, exit 2."""
    path = _write(tmp_path / "run.jsonl", loop_example())
    result = subprocess.run(
        [sys.executable, "-m", "tracer", "replay", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--screenshot" in result.stderr


def test_more_than_two_recordings_are_refused_saying_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three files were "unrecognized arguments"; the line now says what replay takes."""
    paths = [str(_write(tmp_path / f"{n}.jsonl", loop_example())) for n in "abc"]
    assert main(["replay", *paths]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "shows one recording, or two to compare on one time axis, not 3" in err
