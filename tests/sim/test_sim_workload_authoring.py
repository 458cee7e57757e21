"""Writing a workload file by hand: the slips an editor or a person makes are named in one line
(the file, the spot and what is allowed), and what is right runs as one would work it out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracer.cli import main

ROUTE = '[[route]]\nname = "page"\nphases = [{io = "100ms"}]\n'


def _refusal(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """The one line ``trace sim ARGV`` says on stderr as it exits with code 2."""
    assert main(["sim", "--headless", "--no-record", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


def _summary(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, object]:
    assert main(["sim", "--no-record", "--json", *argv]) == 0
    result: dict[str, object] = json.loads(capsys.readouterr().out)
    return result


def test_a_file_saved_with_a_byte_order_mark_reads_as_without_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Windows Notepad starts a UTF-8 file with a byte order mark: the file means the same,
    so it runs the same (it was "not valid TOML: Invalid statement (at line 1, column 1)")."""
    plain, marked = tmp_path / "plain.toml", tmp_path / "marked.toml"
    plain.write_bytes(ROUTE.encode())
    marked.write_bytes(b"\xef\xbb\xbf" + ROUTE.encode())
    args = ["-c", "4", "-n", "40", "--seed", "3"]
    assert _summary(capsys, ["--workload", str(marked), *args]) == _summary(
        capsys, ["--workload", str(plain), *args]
    )


def test_a_file_in_another_encoding_is_named_with_the_byte_and_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Latin-1 é (a name typed in an old editor) is a byte UTF-8 cannot read: the line names
    the file, where the byte is and what to do (it said "cannot be read (UnicodeDecodeError)")."""
    path = tmp_path / "cafe.toml"
    path.write_bytes(b'name = "caf\xe9"\n' + ROUTE.encode())
    assert _refusal(capsys, ["--workload", str(path)]) == (
        f'trace: error: Workload file "{path}" is not UTF-8 text (byte 0xe9 at line 1, '
        "column 12); save it as UTF-8."
    )


def test_a_utf16_file_is_named_as_utf16(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Saved as "Unicode" (UTF-16, with its byte order mark): said so, with the fix."""
    path = tmp_path / "wide.toml"
    path.write_bytes(ROUTE.encode("utf-16"))
    assert _refusal(capsys, ["--workload", str(path)]) == (
        f'trace: error: Workload file "{path}" is UTF-16 text; save it as UTF-8.'
    )


def test_a_single_route_table_is_told_to_take_two_brackets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``[route]`` (one bracket) is one table, not the list of routes ``[[route]]`` makes: the
    line says so, rather than "no routes" under a route the file plainly has."""
    path = tmp_path / "one.toml"
    path.write_text(ROUTE.replace("[[route]]", "[route]"), encoding="utf-8")
    assert _refusal(capsys, ["--workload", str(path)]) == (
        f'trace: error: workload "{path}": route is a single table; write each route as a '
        "[[route]] table (two brackets)."
    )


def test_a_websocket_route_refused_by_a_wsgi_model_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The refusal names the file and the route as every other workload refusal does, not the
    workload's own ``name``, which a teacher may not connect with the file."""
    path = tmp_path / "lesson3.toml"
    path.write_text(
        'name = "chat"\n[[route]]\nname = "room"\npath = "/ws"\n'
        'phases = [{ws = {messages = 3, reply_after = "10ms"}}]\n',
        encoding="utf-8",
    )
    assert _refusal(capsys, ["--workload", str(path)]) == (
        f'trace: error: workload "{path}", route 1 ("room") is a WebSocket session (a ws '
        "phase) and WSGI has no WebSocket, so --model threads cannot serve it; simulate it "
        "with --model loop, or use a send phase for a long WSGI response."
    )


@pytest.mark.parametrize(
    "model,title",
    [
        ("loop", "sim:inline · loop workers=1 pool_size=40 (simulated time)"),
        ("wsgi-on-loop", "sim:inline · wsgi-on-loop (simulated time)"),
        ("threads", "sim:inline · threads threads=4 connection_limit=100 (simulated time)"),
        ("processes", "sim:inline · processes threads=1 workers=1 (simulated time)"),
    ],
)
def test_the_unrecorded_summary_names_only_settings_the_model_takes(
    model: str, title: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The --no-record table's title lists the server's settings: a loop has no thread count
    anyone chose (it said ``threads=1``), wsgi-on-loop neither threads nor workers, and
    waitress (threads) no workers."""
    assert (
        main(["sim", "--model", model, "--io", "1ms", "-n", "4", "--headless", "--no-record"]) == 0
    )
    out = " ".join(capsys.readouterr().out.split())
    assert out.startswith(title), out[:120]


def test_a_workload_of_no_time_says_nothing_limits_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Requests of 0 ms need no resource: the capacity line says so, without naming the GIL
    for a WSGI server whose requests only wait."""
    path = tmp_path / "zero.toml"
    path.write_text('[[route]]\nphases = [{io = "0ms"}]\n', encoding="utf-8")
    assert main(["sim", "--workload", str(path), "-n", "4", "--headless", "--no-record"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == "busiest: none (the requests take no time, so nothing limits the rate)."


def test_four_threads_of_100ms_io_serve_40_a_second_and_two_routes_split_by_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What a teacher works out by hand: 4 threads x 100 ms of I/O = 40 requests/s, every
    latency 100 ms with 4 clients; two routes of equal weight each take about half the
    requests, drawn per request, so the split is the same for the same seed."""
    path = tmp_path / "two.toml"
    path.write_text(
        ROUTE.replace('"page"', '"a"').replace("phases", 'path = "/a"\nphases')
        + ROUTE.replace('"page"', '"b"').replace("phases", 'path = "/b"\nphases'),
        encoding="utf-8",
    )
    argv = ["--workload", str(path), "-c", "4", "-n", "1000", "--seed", "1"]
    first = _summary(capsys, argv)
    assert first["rps"] == 40.0 and first["latency_ms"] == {  # type: ignore[comparison-overlap]
        key: 100.0 for key in ("mean", "p50", "p90", "p95", "p99", "p99.9", "max")
    }
    record = tmp_path / "two.jsonl"
    assert main(["sim", *argv, "--headless", "--record", str(record)]) == 0
    capsys.readouterr()
    paths = [
        json.loads(line)["data"]["path"]
        for line in record.read_text(encoding="utf-8").splitlines()[1:]
        if '"request.start"' in line
    ]
    assert (paths.count("/a"), paths.count("/b")) == (487, 513)


@pytest.mark.parametrize(
    "dist,says",
    [
        ("exp:", 'io "exp:": mean "" is not a duration'),
        ("exp:100ms,2", 'io "exp:100ms,2": mean "100ms,2" is not a duration'),
        ("fixed:-5ms", 'io "fixed:-5ms": duration "-5ms" is negative'),
        ("uniform:10..50ms", 'io "uniform:10..50ms": lower bound "10" has no unit'),
        ("uniform:10ms..5", 'io "uniform:10ms..5": upper bound "5" has no unit'),
        ("lognormal:1 00ms,0.5", 'io "lognormal:1 00ms,0.5": mean "1 00ms" is not a duration'),
    ],
)
def test_a_bad_part_of_a_distribution_is_named_with_the_whole_text(
    dist: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The line quotes the distribution as typed, then the part that is wrong: it quoted the
    part alone (``io "" is not a duration`` for ``exp:``), which the file nowhere says."""
    path = tmp_path / "dist.toml"
    path.write_text(f'[[route]]\nphases = [{{io = "{dist}"}}]\n', encoding="utf-8")
    line = _refusal(capsys, ["--workload", str(path)])
    assert line.startswith(f'trace: error: workload "{path}", route 1, phase 1: {says}'), line


def test_a_large_capacity_is_written_out_in_full(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """4 threads of 100 µs keep up with 40,000 requests a second: written so, not ``4e+04``."""
    assert main(["sim", "--io", "100us", "-n", "4", "--headless", "--no-record"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == "busiest: threads (4), keeps up to 40,000.0 req/s."


def test_a_label_names_a_simulated_side_and_the_file_stays_the_same_run_after_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two runs of one workload that differ only in a server setting had the same title side by
    side (``sim:blocking · ASGI loop``): --label names each, as a demo names its sides, and the
    same seed still gives the same bytes."""
    from tracer.recording import load

    files = [tmp_path / "one.jsonl", tmp_path / "again.jsonl"]
    for path in files:
        argv = ["sim", "--model", "loop", "--workers", "4", "--workload", "blocking", "-n", "40"]
        assert (
            main([*argv, "--label", "uvicorn, 4 workers", "--headless", "--record", str(path)]) == 0
        )
    capsys.readouterr()
    assert files[0].read_bytes() == files[1].read_bytes()
    recording = load(files[0])
    assert recording.header["label"] == "uvicorn, 4 workers"
    assert recording.title == "uvicorn, 4 workers: sim:blocking · ASGI loop (simulated)"


@pytest.mark.parametrize(
    "argv,says",
    [
        (
            ["--label", ""],
            "--label needs a name, not an empty string; give the name the replay shows for "
            'this recording, like "uvicorn, 4 workers".',
        ),
        (
            ["--label", "two\nlines"],
            "--label must be one line of printable text, not 'two\\nlines'.",
        ),
        (
            ["--label", "x" * 101],
            "--label is 101 characters long; give at most 100 (it is the recording's title).",
        ),
        (
            ["--label", "a", "--no-record"],
            "--label names the recording, and --no-record writes none; drop one of them.",
        ),
        (
            ["--label", "a", "--sweep", "threads=1,2"],
            "--label names the recording, and --sweep records none; drop --label.",
        ),
    ],
)
def test_a_label_that_cannot_name_a_recording_is_refused(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """One line and exit 2 for a label that is empty, not one line, too long to be a title, or
    given to a run that writes no recording."""
    assert main(["sim", "-n", "4", "--headless", *argv]) == 2
    err = capsys.readouterr().err
    assert err == f"trace: error: {says}\n"


def test_a_lifespan_table_is_refused_saying_the_simulator_has_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An ASGI app has a lifespan, so a teacher may write one: the simulator serves requests
    only, and the line says so rather than only that the key is unknown."""
    path = tmp_path / "start.toml"
    path.write_text('[lifespan]\nstartup = "200ms"\n\n' + ROUTE, encoding="utf-8")
    assert _refusal(capsys, ["--workload", str(path)]) == (
        f"trace: error: workload \"{path}\": unknown top-level key 'lifespan': the simulator "
        "has no lifespan (startup and shutdown), it simulates requests only; expected name, "
        "description, [[route]]."
    )
