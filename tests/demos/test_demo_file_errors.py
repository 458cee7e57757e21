"""``trace demo --scenario FILE`` refuses a bad file in one line naming the file and the key (or
the line and column), exit code 2, before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracer.cli import main

SIDE = 'name = "A"\nmodel = "threads"\nworkload = "mixed"\n'
HEAD = 'title = "T"\ncaption = "C"\n'


def _refused(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert main(["demo", "--scenario", str(path), "--sim", "--headless", *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1, captured.err
    return captured.err.removeprefix("trace: error: ").removesuffix("\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'caption = "C"\n[[side]]\n' + SIDE,
            'missing key "title"; add title = "..." at the top.',
        ),
        (
            HEAD + '[[side]]\nname = "A"\nworkload = "mixed"\n',
            'side 1: missing key "model"; add one, like model = "threads".',
        ),
        (
            HEAD + '[[side]]\nname = "A"\nmodel = "thread"\nworkload = "mixed"\n',
            "side 1: model must be one of threads, processes, loop, wsgi-on-loop, not 'thread'.",
        ),
        (
            HEAD + "[[side]]\n" + SIDE + 'threads = "4"\n',
            "side 1: threads must be a whole number from 1 to 4,194,304, not '4'.",
        ),
        (
            HEAD + "[[side]]\n" + SIDE + "concurrency = 0\n",
            "side 1: concurrency must be a whole number from 1 to 1,048,576, not 0.",
        ),
        (
            HEAD + "[[side]]\n" + SIDE + "thread = 4\n",
            "side 1: unknown key 'thread'; expected name, about, zh, model, threads, workers, "
            "pool_size, concurrency, requests, seed, workload, route, app, path.",
        ),
        (
            HEAD + "[[side]]\n" + SIDE + "workers = 2\n",
            'side 1: workers does not apply to model "threads" (only to processes, loop); '
            "drop it or choose another model.",
        ),
        (
            HEAD + "[[side]]\n" + SIDE + "[[side]]\n" + SIDE + "[[side]]\n" + SIDE,
            "a scenario shows one or two sides, not 3; give one or two [[side]] tables.",
        ),
        (
            HEAD + "[side]\n" + SIDE,
            "side is a single table; write each as [[side]] (two brackets).",
        ),
        (
            HEAD + "speed = 2\n[[side]]\n" + SIDE,
            "unknown top-level key 'speed'; expected name, title, caption, [zh], "
            "[bookmarks.<key>], [[side]].",
        ),
        (
            HEAD + '[zh]\ntitle = "标题"\n[[side]]\n' + SIDE,
            '[zh]: missing key "caption"; add caption = "..." at the top.',
        ),
        (
            'title = "T\\u0007"\ncaption = "C"\n[[side]]\n' + SIDE,
            "title must be one line without control characters, not 'T\\x07'.",
        ),
        (
            'name = "../up"\n' + HEAD + "[[side]]\n" + SIDE,
            "name must be 1 to 64 letters, digits, '.', '_' or '-' (it names the recordings, "
            "NAME-1.jsonl), starting with a letter or digit, not '../up'.",
        ),
        (
            HEAD + '[[side]]\nname = "A"\nmodel = "threads"\n',
            'side 1: missing key "workload"; add one, like workload = "mixed" (a bundled '
            "workload or a workload file), or [[side.route]] tables after the side's keys.",
        ),
        (
            HEAD + "[[side]]\n" + SIDE + '[[side.route]]\nphases = [{io = "1ms"}]\n',
            "side 1: give workload or [[side.route]] tables, not both.",
        ),
        (
            HEAD + '[[side]]\nname = "A"\nmodel = "threads"\n[[side.route]]\n'
            'phases = [{sleep = "1ms"}]\n',
            "side 1, route 1, phase 1: unknown phase 'sleep'; use one of cpu, io, blocking-io, "
            "offload, send, ws.",
        ),
        (
            HEAD + '[[side]]\nname = "A"\nmodel = "threads"\n[[side.route]]\n'
            "phases = [{ws = {messages = 2}}]\n",
            "side 1, route 1 is a WebSocket session (a ws phase) and WSGI has no WebSocket, so "
            'model "threads" cannot serve it; use model = "loop", or a send phase for a long '
            "WSGI response.",
        ),
        (
            HEAD + "[[side]]\n" + SIDE + 'app = "sample_apps.io_bound"\n',
            'side 1: app must be "module:attribute", like "sample_apps.io_bound:wsgi_app", '
            "not 'sample_apps.io_bound'.",
        ),
        (
            HEAD + "[[side]]\n" + SIDE + 'path = "/?ms=5"\n',
            "side 1: path is the real app's request path; add app or drop it.",
        ),
    ],
)
def test_a_bad_key_is_named_with_its_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    """Missing keys, wrong types, unknown keys and models, the workload's own checks."""
    path = tmp_path / "lesson.toml"
    path.write_text(text, encoding="utf-8")
    # A side's or [zh]'s message continues the file's place; the file's own follows a colon.
    separator = ", " if message.startswith(("side 1", "[zh]")) else ": "
    assert _refused(path, capsys) == f'scenario "{path}"{separator}{message}'


def test_an_unknown_workload_names_where_it_was_looked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A workload is a file beside the scenario or a bundled one: neither is said with both."""
    path = tmp_path / "lesson.toml"
    path.write_text(HEAD + '[[side]]\nname = "A"\nmodel = "loop"\nworkload = "nope"\n')
    assert _refused(path, capsys) == (
        f'scenario "{path}", side 1: workload "nope" is neither a file beside the scenario '
        f'("{tmp_path / "nope"}") nor a bundled workload (blocking, cpu_bound, mixed).'
    )


def test_a_workload_file_beside_the_scenario_is_read_with_its_own_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``workload = "io.toml"`` is read from the scenario's folder, whatever the working
    folder; its problems are named as trace sim --workload names them."""
    (tmp_path / "io.toml").write_text('[[route]]\nphases = [{io = "-1ms"}]\n')
    path = tmp_path / "lesson.toml"
    path.write_text(HEAD + '[[side]]\nname = "A"\nmodel = "loop"\nworkload = "io.toml"\n')
    said = _refused(path, capsys)
    assert said.startswith(f'workload "{tmp_path / "io.toml"}", route 1, phase 1: io')


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'title = "T"\ncaption = \n', "is not valid TOML: Invalid value (at line 2, column 11)."),
        (b"\xff\xfet\x00", "is UTF-16 text; save it as UTF-8."),
        (
            b'title = "T"\ncaption = "caf\xe9"\n',
            "is not UTF-8 text (byte 0xe9 at line 2, column 15); save it as UTF-8.",
        ),
    ],
)
def test_a_file_that_is_no_toml_says_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], raw: bytes, message: str
) -> None:
    """Syntax and encoding: the line and column, or the encoding, and the fix."""
    path = tmp_path / "lesson.toml"
    path.write_bytes(raw)
    assert _refused(path, capsys) == f'Scenario file "{path}" {message}'


def test_a_utf8_byte_order_mark_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Notepad's UTF-8 byte order mark is skipped, as the workload loader skips it."""
    path = tmp_path / "lesson.toml"
    path.write_bytes(b"\xef\xbb\xbf" + (HEAD + "[[side]]\n" + SIDE).encode())
    assert main(["demo", "--scenario", str(path), "--sim", "--headless"]) == 0
    assert capsys.readouterr().out.startswith("lesson: T (simulated)\n")


def test_a_missing_file_or_a_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No such file; a folder given for the file."""
    missing = tmp_path / "none.toml"
    assert _refused(missing, capsys) == (
        f'Scenario file "{missing}" does not exist; give the path of a scenario TOML file.'
    )
    assert _refused(tmp_path, capsys) == (
        f'Scenario "{tmp_path}" is a folder, not a TOML file; give the path of a scenario '
        "TOML file."
    )


def test_a_name_and_a_file_or_list_with_a_file_are_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """NAME with --scenario would leave one unused; --list runs nothing."""
    assert main(["demo", "sync-vs-async", "--scenario", "lesson.toml"]) == 2
    assert capsys.readouterr().err == (
        'trace: error: Give a scenario NAME or --scenario FILE, not both (NAME "sync-vs-async").\n'
    )
    assert main(["demo", "--list", "--scenario", "lesson.toml"]) == 2
    assert capsys.readouterr().err == (
        "trace: error: --list only lists the scenarios; --scenario is for running one: drop "
        "one of them.\n"
    )
