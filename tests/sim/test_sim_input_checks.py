"""``trace sim`` input checks: a workload's method and path, the most requests a run may make,
and a throughput that cannot be measured (requests that take no simulated time)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import trace_cli

import sim.config
from sim import SimConfig, simulate
from sim.config import MAX_RECORDED_REQUESTS, MAX_REQUESTS
from sim.dist import Fixed
from sim.workload import inline_workload
from tracer import events as K
from tracer.errors import UsageError
from tracer.recording import load

TOKEN_RULE = "letters, digits and !#$%&'*+-.^_`|~"
STATS_WHY = "each simulated request keeps about 350 bytes, 3.5 GB at this bound"
RECORDED_WHY = (
    "each recorded request writes about 1.3 KB of file, 1.3 GB at this "
    "bound; --no-record simulates up to 10,000,000"
)


def _workload(tmp_path: Path, **route: str) -> Path:
    """A one-route workload file; the route's strings written as TOML basic strings (JSON's
    escapes, ``\\t`` and ``\\u0000`` included, are TOML's too)."""
    lines = ["[[route]]", 'name = "home"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in route.items()]
    if "phases" not in route:
        lines.append('phases = [{io = "1ms"}]')
    path = tmp_path / "work.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run ``trace sim ARGV``, expect exit 2 and one stderr line; return that line's message."""
    code, out, err = trace_cli(capsys, "sim", *argv)
    assert code == 2, err
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("trace: error: ")
    return err.removeprefix("trace: error: ").rstrip("\n")


@pytest.mark.parametrize("method", ["get me", "", "GÉT", "GET\n", "G(ET)", "GET/1.1"])
def test_a_method_that_is_no_http_token_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, method: str
) -> None:
    """A method is a non-empty RFC 9110 token: one line names the file, the route, the field
    and the value (its repr, so a newline in it cannot break the line)."""
    path = _workload(tmp_path, method=method)
    assert _refused(capsys, "--workload", str(path), "--no-record") == (
        f'workload "{path}", route 1 ("home"): method must be an HTTP token ({TOKEN_RULE}), '
        f'like "GET" or "PURGE", not {method!r}.'
    )


@pytest.mark.parametrize("value", ["noslash", "*", "", "http://example.com/"])
def test_a_path_not_starting_with_a_slash_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, value: str
) -> None:
    """A route's path is an origin-form target: it starts with "/" ("*", the asterisk form of
    OPTIONS, is no route's path; nor is an absolute URL)."""
    path = _workload(tmp_path, path=value)
    assert _refused(capsys, "--workload", str(path), "--no-record") == (
        f'workload "{path}", route 1 ("home"): path must start with "/", like "/users", '
        f"not {value!r}."
    )


@pytest.mark.parametrize("value", ["/a b", "/a\tb", "/a\nb", "/a\x00b", "/a\x7f", "/a\u0085"])
def test_a_path_with_whitespace_or_control_characters_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, value: str
) -> None:
    """Whitespace and control characters cannot go in a request line unencoded."""
    path = _workload(tmp_path, path=value)
    assert _refused(capsys, "--workload", str(path), "--no-record") == (
        f'workload "{path}", route 1 ("home"): path must not contain whitespace or control '
        f"characters (percent-encode them, like %20), not {value!r}."
    )


def test_a_websocket_routes_path_is_checked_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A ws route's path is the path of its upgrade request: the same rule."""
    path = tmp_path / "chat.toml"
    path.write_text(
        '[[route]]\nname = "chat"\npath = "chat"\nphases = [{ws = {messages = 2, bytes = 4}}]\n',
        encoding="utf-8",
    )
    assert _refused(capsys, "--model", "loop", "--workload", str(path), "--no-record") == (
        f'workload "{path}", route 1 ("chat"): path must start with "/", like "/users", '
        "not 'chat'."
    )


@pytest.mark.parametrize(
    ("route", "method", "target"),
    [
        ({"method": "PURGE", "path": "/a?b=1"}, "PURGE", "/a"),  # the query is not the path
        ({"method": "purge"}, "PURGE", "/"),  # methods are upper-cased, as before
        ({"method": "M-SEARCH", "path": "/caf%C3%A9/~x"}, "M-SEARCH", "/caf%C3%A9/~x"),
        ({"method": "!#$%&'*+-.^_`|~09azAZ", "path": "/"}, "!#$%&'*+-.^_`|~09AZAZ", "/"),
        ({"path": "/café"}, "GET", "/café"),  # an ASGI path is decoded text
    ],
)
def test_valid_methods_and_paths_still_run(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    route: dict[str, str],
    method: str,
    target: str,
) -> None:
    """Edge cases that are valid: exit 0, and the recording carries the method and path."""
    path = _workload(tmp_path, **route)
    record = tmp_path / "run.jsonl"
    code, _, err = trace_cli(
        capsys, "sim", "--workload", str(path), "-n", "3", "--json", "--record", str(record)
    )
    assert code == 0, err
    queued = [e.data for e in load(record).events if e.kind == K.REQUEST_QUEUED]
    assert queued == [{"method": method, "path": target}] * 3


@pytest.mark.parametrize(
    ("model", "app"),
    [("threads", "sample_apps.hello:wsgi_app"), ("loop", "sample_apps.hello:asgi_app")],
)
def test_the_app_sees_the_same_path_and_query_simulated_as_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: str, app: str
) -> None:
    """``request.start`` of a simulated request splits its target as a run of the same model
    does: the path percent-decoded as UTF-8 text (the WSGI shim reads PATH_INFO back as UTF-8),
    the query apart and as sent;
    ``request.queued`` has the path as sent, without the query, in both."""
    target = "/caf%C3%A9/a%20b?q=1&x=%20"
    ran, simulated = tmp_path / "ran.jsonl", tmp_path / "sim.jsonl"
    argv = ["run", app, "--server", model, "-n", "1", "--path", target, "--headless"]
    code, _, err = trace_cli(capsys, *argv, "--record", str(ran))
    assert code == 0, err
    work = _workload(tmp_path, path=target)
    code, _, err = trace_cli(
        capsys,
        "sim",
        "--model",
        model,
        "--workload",
        str(work),
        "-n",
        "1",
        "--record",
        str(simulated),
    )
    assert code == 0, err

    def seen(path: Path) -> tuple[object, ...]:
        events = load(path).events
        start = next(
            e.data for e in events if e.kind == K.REQUEST_START and e.data["scope_type"] == "http"
        )
        queued = next(e.data for e in events if e.kind == K.REQUEST_QUEUED)
        return start["path"], start["query"], queued["path"], sorted(start)

    assert seen(simulated) == seen(ran)  # the same fields too (sim: no addresses, as null)
    assert seen(simulated)[:3] == (
        "/café/a b",
        "q=1&x=%20",
        "/caf%C3%A9/a%20b",
    )


def test_a_websocket_route_with_a_slash_path_still_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The README's ws example (path "/chat") is unaffected."""
    path = tmp_path / "chat.toml"
    path.write_text(
        '[[route]]\nname = "chat"\npath = "/chat"\nphases = [{ws = {messages = 2, bytes = 4}}]\n',
        encoding="utf-8",
    )
    argv = ["sim", "--model", "loop", "--workload", str(path), "-n", "2", "--json", "--no-record"]
    code, out, err = trace_cli(capsys, *argv)
    assert code == 0, err
    assert json.loads(out)["status"] == {"101": 2}


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (
            ["-n", "100000000000", "--no-record"],
            f"-n must be at most 10,000,000, not 100,000,000,000 ({STATS_WHY}); "
            "give fewer requests.",
        ),
        (
            ["-n", "10000001", "--no-record"],
            f"-n must be at most 10,000,000, not 10,000,001 ({STATS_WHY}); give fewer requests.",
        ),
        (
            ["--rate", "1000000", "-z", "3600s", "--no-record"],
            "--rate 1e+06 for -z 3600s comes to about 3,600,000,000 requests, more than "
            f"10,000,000 ({STATS_WHY}); give a shorter -z or a lower --rate, or -n.",
        ),
        (
            ["--sweep", "rate=10,1e9", "-z", "1s"],  # every row is checked before the first runs
            "--sweep rate=1e+09: rate 1e+09 for -z 1s comes to about 1,000,000,000 requests, "
            f"more than 10,000,000 ({STATS_WHY}); give a shorter -z or a lower rate, or -n.",
        ),
        (
            ["--io", "0ms", "-z", "1s", "--no-record"],
            '-z 1s would never end: every request of workload "inline" takes no simulated time '
            "(all its durations are 0, and any --think too), so the clock never reaches -z; "
            "give the work a duration, or -n.",
        ),
    ],
)
def test_too_many_requests_are_refused_before_the_run(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    """-n past MAX_REQUESTS, or a -z sure to pass it (or never to end): one line, exit 2, at
    once (not after filling the memory)."""
    assert _refused(capsys, *argv) == says


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (
            ["-n", "1000001"],
            f"-n must be at most 1,000,000, not 1,000,001 ({RECORDED_WHY}); give fewer requests.",
        ),
        (
            ["--rate", "1000", "-z", "3600s"],
            "--rate 1000 for -z 3600s comes to about 3,600,000 requests, more than 1,000,000 "
            f"({RECORDED_WHY}); give a shorter -z or a lower --rate, or -n.",
        ),
        (
            ["-c", "1048576", "-z", "1s"],
            "-c 1,048,576 with -z sends 1,048,576 requests at once, more than 1,000,000 "
            f"({RECORDED_WHY}); give fewer clients.",
        ),
    ],
)
def test_a_recorded_run_has_a_lower_bound(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], says: str
) -> None:
    """A recording holds its events in memory until written: MAX_RECORDED_REQUESTS. The
    refusal comes before the recording is claimed, so no file is left behind."""
    record = tmp_path / "big.jsonl"
    assert _refused(capsys, *argv, "--record", str(record)) == says
    assert not record.exists()


def test_the_bounds_themselves_are_accepted() -> None:
    """Exactly MAX_REQUESTS (MAX_RECORDED_REQUESTS when recorded) passes the check."""
    assert SimConfig(requests=MAX_REQUESTS).check()
    assert SimConfig(requests=MAX_RECORDED_REQUESTS).check(recorded=True)
    assert SimConfig(requests=MAX_RECORDED_REQUESTS + 1).check()
    with pytest.raises(UsageError, match="^-n must be at most 1,000,000, not 1,000,001 "):
        SimConfig(requests=MAX_RECORDED_REQUESTS + 1).check(recorded=True)


def test_the_help_states_the_request_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    """The help writes the bounds out (importing sim at start-up is slow): the same numbers."""
    code, out, _ = trace_cli(capsys, "sim", "--help")
    assert code == 0
    text = " ".join(out.split())
    assert f"at most {MAX_REQUESTS}, {MAX_RECORDED_REQUESTS} when recording" in text
    assert "about 350 bytes of memory, and 1.3 KB of file when recorded" in text


@pytest.fixture
def small_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bounds of 100 requests, so that a run reaches them in a moment."""
    notes = sim.config._MEMORY_NOTE
    monkeypatch.setitem(notes, False, (100, notes[False][1]))
    monkeypatch.setitem(notes, True, (100, notes[True][1]))


@pytest.mark.usefixtures("small_bounds")
def test_a_duration_run_stops_at_the_bound(capsys: pytest.CaptureFixture[str]) -> None:
    """A closed loop's count under -z is known only as it runs: it stops at the bound, with
    the simulated time it had reached."""
    # About 104 requests: too close to the bound to be refused up front or on course.
    message = _refused(capsys, "--io", "exp:1ms", "-z", "0.023s", "--no-record")
    assert re.fullmatch(
        r"-c 10 -z 0\.023s made more than 100 requests by 0\.0\d+ s of simulated time, the most one "
        rf"simulation makes \({re.escape(STATS_WHY)}\); give a shorter -z, a lower load or -n\.",
        message,
    ), message


@pytest.mark.usefixtures("small_bounds")
def test_a_recorded_duration_run_stops_at_the_bound_and_names_its_recording(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """As ClockOverflow does: the recording keeps what was written and the line says so."""
    record = tmp_path / "cut.jsonl"
    message = _refused(capsys, "--io", "exp:1ms", "-z", "0.023s", "--record", str(record))
    assert message.startswith("-c 10 -z 0.023s made more than 100 requests by ")
    assert message.endswith(
        f'; give a shorter -z, a lower load or -n. The recording "{record}" ends at that '
        "point: the requests in flight then have no end."
    )
    assert len(load(record).requests()) == 100  # the 101st was refused, never sent


def test_zero_time_requests_have_no_throughput_in_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Five requests that all end at t=0 have no rate: rps is null, not 0.0."""
    code, out, err = trace_cli(capsys, "sim", "--io", "0ms", "-n", "5", "--json", "--no-record")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["completed"] == 5 and summary["wall_s"] == 0.0
    assert summary["rps"] is None


@pytest.mark.parametrize("record", [False, True])
def test_zero_time_requests_have_no_throughput_in_the_table(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, record: bool
) -> None:
    """The headless table says the throughput is not measurable (recorded or not)."""
    where = ["--record", str(tmp_path / "zero.jsonl")] if record else ["--no-record"]
    code, out, err = trace_cli(capsys, "sim", "--io", "0ms", "-n", "5", "--headless", *where)
    assert code == 0, err
    (row,) = [line for line in out.splitlines() if "throughput" in line]
    assert "n/a (zero time)" in row and "0.0" not in row


def test_zero_time_requests_in_a_sweep(capsys: pytest.CaptureFixture[str]) -> None:
    """A sweep's rows: null in --json, "n/a (zero time)" in the table."""
    argv = ["sim", "--io", "0ms", "-n", "5", "--sweep", "threads=1,2"]
    code, out, _ = trace_cli(capsys, *argv, "--json")
    assert code == 0
    assert [row["rps"] for row in json.loads(out)] == [None, None]
    code, out, _ = trace_cli(capsys, *argv)
    assert code == 0 and out.count("n/a (zero time)") == 2


def test_zero_time_requests_are_in_flight_at_their_instant(recorded: Any) -> None:
    """5 requests of 0 ms on 4 threads: 4 start, one ends, the fifth starts, all at t=0. In
    event order 4 were in the app at once (the summary said 0: ends sorted before starts)."""
    from tracer.summary import summarize

    result, recording = recorded(threads=4, concurrency=10, requests=5, io="0ms")
    assert summarize(recording)["max_in_flight"] == 4
    assert result.summary["max_in_flight"] == 4


def test_throughput_is_still_a_number_when_time_passes() -> None:
    """The library's summary: None only for requests that took no time; 0.0 when none ended
    (a -z run that no request arrived in); a number otherwise."""
    zero = inline_workload(io=Fixed(0))
    assert simulate(SimConfig(requests=5, workload=zero)).summary["rps"] is None
    timed = inline_workload(io=Fixed(100_000_000))
    # 4 threads, 100 ms each: 20 requests in 0.5 s.
    assert simulate(SimConfig(requests=20, workload=timed)).summary["rps"] == 40.0
    empty = simulate(SimConfig(rate=0.001, requests=None, duration_ns=1_000_000, workload=timed))
    assert empty.summary["completed"] == 0 and empty.summary["rps"] == 0.0


def test_a_recorded_simulation_drains_its_own_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The simulation makes events far faster than the recorder's writer thread takes them:
    it drains the queue itself, so a big recorded run holds a bounded backlog (it held nearly
    every event, ~2.5 KB a request), and the file still has every event."""
    import sim.emit
    from tracer.recorder import Recorder

    monkeypatch.setattr(sim.emit, "_DRAIN_EVERY", 8)
    monkeypatch.setattr(sim.emit, "_DRAIN_BACKLOG", 100)
    path = tmp_path / "s.jsonl"
    recorder = Recorder(path, flush_interval=600)  # the writer thread never gets to drain
    result = simulate(SimConfig(model="threads", requests=2000, seed=1), recorder=recorder)
    backlog = recorder.backlog
    recorder.close()
    assert backlog <= 100 + 8 * 10  # the bound, plus what 8 requests emit
    assert len(load(path).events) == result.events


def test_a_zero_time_recording_has_no_throughput_anywhere(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The recording of a zero-time run read back: tracer.summarize, trace summary's report and
    the replay's summary panel all say there is no rate (they said 0.0)."""
    import tracer
    from tracer.tui.labels import labels
    from tracer.tui.summary_panel import summary_items

    record = tmp_path / "zero.jsonl"
    code, _, err = trace_cli(
        capsys, "sim", "--io", "0ms", "-n", "5", "--headless", "--record", str(record)
    )
    assert code == 0, err
    summary = tracer.summarize(tracer.load(record))
    assert summary["completed"] == 5 and summary["rps"] is None
    code, out, _ = trace_cli(capsys, "summary", str(record))
    assert code == 0
    (row,) = [line for line in out.splitlines() if "throughput" in line]
    assert "n/a (zero time)" in row
    assert "– rps" in [str(item) for item in summary_items(summary, labels("en"))]


@pytest.mark.parametrize("name", ["two\nlines", "tab\there", "bell\u0007"])
def test_a_route_name_with_control_characters_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    """A route name is printed in every message about its route: one with a line break would
    break the one-line rule (and the tables naming routes)."""
    path = tmp_path / "work.toml"
    path.write_text(
        f'[[route]]\nname = {json.dumps(name)}\nphases = [{{io = "1ms"}}]\n', encoding="utf-8"
    )
    assert _refused(capsys, "--workload", str(path), "--no-record") == (
        f"workload \"{path}\", route 1 ({name!r}): name must be a non-empty string without ':' "
        "or control characters."
    )


def test_a_workload_name_with_control_characters_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "work.toml"
    path.write_text(
        'name = "a\\nb"\n[[route]]\nname = "home"\nphases = [{io = "1ms"}]\n', encoding="utf-8"
    )
    assert _refused(capsys, "--workload", str(path), "--no-record") == (
        f'workload "{path}": name must be a non-empty string without control characters, '
        "not 'a\\nb'."
    )


def _phase_workload(tmp_path: Path, phase: str, *extra: str) -> Path:
    """A one-route workload whose only phase is ``phase`` (TOML inline table syntax)."""
    path = tmp_path / "parts.toml"
    lines = ["[[route]]", 'name = "r"', *extra, f"phases = [{phase}]"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("phase", "extra", "says"),
    [
        (
            "{send = {chunks = 1000000001}}",
            (),
            ", phase 1: send chunks must be a whole number from 1 to 1,000,000, not 1000000001.",
        ),
        (
            "{ws = {messages = 99999999999999999999}}",
            ('path = "/ws"',),
            ", phase 1: ws messages must be a whole number from 1 to 1,000,000, "
            "not 99999999999999999999.",
        ),
        (
            "{send = {bytes = 1099511627777}}",
            (),
            ", phase 1: send bytes must be a whole number from 0 to 1,099,511,627,776, "
            "not 1099511627777.",
        ),
        (
            '{io = "1ms"}',
            ("bytes = 1099511627777",),
            ": bytes must be a whole number from 0 to 1,099,511,627,776 (1 TiB), not 1099511627777.",
        ),
        (
            '{io = "1ms"}',
            ("weight = inf",),
            ": weight must be a number above 0 and at most 1,000,000,000,000 (weights are "
            "relative), not inf.",
        ),
        (
            '{io = "1ms"}',
            ("weight = 1e308",),
            ": weight must be a number above 0 and at most 1,000,000,000,000 (weights are "
            "relative), not 1e+308.",
        ),
    ],
)
def test_counts_sizes_and_weights_past_their_bounds_are_refused(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    phase: str,
    extra: tuple[str, ...],
    says: str,
) -> None:
    """A typo'd count could write gigabytes for one request (and never end unrecorded), a size
    past 64 bits cannot be exported, and an infinite weight sent every request elsewhere."""
    path = _phase_workload(tmp_path, phase, *extra)
    message = _refused(capsys, "--model", "loop", "--workload", str(path), "-n", "1", "--no-record")
    assert message == f'workload "{path}", route 1 ("r"){says}'


def test_large_finite_weights_still_share_the_requests(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Two routes at the largest weight each get some of 20 requests (their sum is finite)."""
    path = tmp_path / "heavy.toml"
    route = '[[route]]\nname = "{0}"\npath = "/{0}"\nweight = 1e12\nphases = [{{io = "1ms"}}]\n'
    path.write_text(route.format("a") + route.format("b"), encoding="utf-8")
    record = tmp_path / "heavy.jsonl"
    code, _, err = trace_cli(
        capsys, "sim", "--workload", str(path), "-n", "20", "--record", str(record)
    )
    assert code == 0, err
    paths = [e.data["path"] for e in load(record).events if e.kind == K.REQUEST_QUEUED]
    assert len(paths) == 20 and set(paths) == {"/a", "/b"}


def test_many_chunks_per_request_lower_the_request_bound(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Chunks and messages are bounded per run too: 1,000 chunks a request allow 1,000 recorded
    requests (1,000,000 events) and 100,000 unrecorded; the line says why."""
    path = _phase_workload(tmp_path, '{send = {chunks = 1000, interval = "1ms"}}')
    recorded = _refused(
        capsys, "--workload", str(path), "-n", "1001", "--record", str(tmp_path / "x.jsonl")
    )
    assert recorded == (
        '-n must be at most 1,000, not 1,001 (a request of workload "parts" has 1,000 body '
        "chunks or WebSocket messages on average, and one simulation makes at most 1,000,000 "
        "recorded, each one to three events); give fewer requests."
    )
    assert not (tmp_path / "x.jsonl").exists()
    unrecorded = _refused(capsys, "--workload", str(path), "-n", "100001", "--no-record")
    assert unrecorded.startswith("-n must be at most 100,000, not 100,001 (")
    assert unrecorded.endswith("at most 100,000,000 of them); give fewer requests.")


def test_the_chunk_bound_is_a_weighted_mean_over_the_routes(tmp_path: Path) -> None:
    """A rare long stream counts by its share: 1 request in 10 streams 1,000 chunks, so 100
    a request on average (a route without a send or ws phase counts none)."""
    path = tmp_path / "mix.toml"
    path.write_text(
        '[[route]]\nname = "page"\nweight = 9\nphases = [{io = "1ms"}]\n'
        '[[route]]\nname = "feed"\nweight = 1\nphases = [{send = {chunks = 1000}}]\n',
        encoding="utf-8",
    )
    config = SimConfig(requests=1, workload=sim.workload.load_workload(str(path)))
    assert config.workload.parts_per_request() == 100.0
    assert config.request_limit(recorded=True) == 10_000
    assert config.request_limit(recorded=False) == 1_000_000


def test_a_duration_run_stops_at_the_chunk_bound(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A closed loop under -z stops when its chunks are on course to pass the run's bound
    (made small here: 100 recorded, so 10 requests; about 12 by -z), and says why."""
    monkeypatch.setitem(sim.config.MAX_PARTS_RUN, True, 100)
    path = _phase_workload(tmp_path, '{send = {chunks = 10, interval = "1ms"}}')
    record = tmp_path / "cut.jsonl"
    message = _refused(
        capsys, "--workload", str(path), "-z", "0.05s", "-c", "2", "--record", str(record)
    )
    assert message.startswith("-c 2 -z 0.05s is on course to make about 13 requests (7 by ")
    assert "has 10 body chunks or WebSocket messages on average" in message
    assert len(load(record).requests()) == 7
