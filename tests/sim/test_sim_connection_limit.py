"""The threads model (waitress) accepts at most ``connection_limit`` - 2 clients at once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sim import SimConfig, simulate
from sim.config import WAITRESS_CONNECTION_LIMIT
from sim.dist import parse_dist
from sim.workload import inline_workload
from tracer import events as K
from tracer.errors import UsageError
from tracer.recorder import Recorder

MS = 1_000_000


def _times(recording: Any, kind: str) -> dict[int, int]:
    return {e.req: e.t for e in recording.events if e.kind == kind}


def test_clients_past_the_limit_wait_for_one_to_hang_up(recorded: Any) -> None:
    """connection_limit 5 leaves 3 client slots (waitress counts its listening socket and wake-up
    pipe): clients 3 and 4 (requests 4, 5) are accepted only when clients 0-2 send no more."""
    result, recording = recorded(
        model="threads", connection_limit=5, concurrency=5, requests=8, io="10ms"
    )
    starts = sorted(_times(recording, K.REQUEST_START).items(), key=lambda kv: (kv[1], kv[0]))
    assert [(req, t // MS) for req, t in starts] == [
        (1, 0),
        (2, 0),
        (3, 0),
        (6, 10),
        (7, 10),
        (8, 10),
        (4, 20),
        (5, 20),
    ]
    queued = _times(recording, K.REQUEST_QUEUED)
    assert queued[4] == queued[5] == 0  # sent at t=0, waiting unaccepted since
    assert result.summary["max_in_flight"] == 3


def test_waitress_limit_of_100() -> None:
    """-c 150 on waitress's limit (100): the 52 clients past the 98 slots start only after every
    request of the first 98 has ended (real waitress: those 52 time out, 52 = 150 - 98)."""
    config = SimConfig(
        model="threads",
        connection_limit=WAITRESS_CONNECTION_LIMIT,
        concurrency=150,
        requests=600,
        workload=inline_workload(io=parse_dist("10ms")),
    )
    assert WAITRESS_CONNECTION_LIMIT == 100
    recorder = Recorder()
    simulate(config, recorder=recorder)
    recording = recorder.recording()
    starts = _times(recording, K.REQUEST_START)
    ends = _times(recording, K.REQUEST_END)
    late = range(99, 151)  # the first requests of clients 98..149
    first = [req for req in ends if req not in late]
    assert len(first) == 600 - 52
    assert min(starts[req] for req in late) >= max(ends[req] for req in first)


def test_no_limit_accepts_every_client(recorded: Any) -> None:
    """connection_limit None (the default): all 6 clients are served by the 4 threads."""
    result, recording = recorded(model="threads", concurrency=6, requests=6, io="10ms")
    starts = _times(recording, K.REQUEST_START)
    assert sorted(t // MS for t in starts.values()) == [0, 0, 0, 0, 10, 10]


def test_open_loop_requests_are_clients_of_their_own(recorded: Any) -> None:
    """--rate: each request is a connection of its own; with 1 slot they run one at a time."""
    result, recording = recorded(
        model="threads", connection_limit=3, rate=1000.0, requests=30, io="10ms"
    )
    assert result.summary["max_in_flight"] == 1
    assert result.summary["completed"] == 30


def test_other_models_have_no_connection_limit(recorded: Any) -> None:
    """gunicorn's processes model: 8 threads serve 8 of 8 clients at once whatever the limit."""
    result, _ = recorded(
        model="processes", threads=8, connection_limit=3, concurrency=8, requests=8, io="10ms"
    )
    assert result.summary["max_in_flight"] == 8


@pytest.mark.parametrize("bad", [2, 0, -1, True, 3.5])
def test_bad_limit_is_refused(bad: Any) -> None:
    with pytest.raises(UsageError, match="connection-limit must be a whole number of 3 or more"):
        SimConfig(connection_limit=bad).check()


def _cli_json(capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    from tracer.cli import main

    argv = ["sim", "--model", "threads", "--io", "10ms", "-c", "150", "-n", "600"]
    assert main([*argv, "--json", "--no-record", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_trace_sim_keeps_waitress_connection_limit_unless_told_none(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``trace sim --model threads`` stands for waitress, limit included (its default, 100):
    150 clients of 10 ms on 4 threads, the last 52 start only after the first 98 are done;
    ``--connection-limit none`` takes the limit away; the throughput is the threads' either way."""
    limited, unlimited = _cli_json(capsys), _cli_json(capsys, "--connection-limit", "none")
    assert limited["rps"] == unlimited["rps"] == 400.0
    assert unlimited["latency_ms"]["p99"] == 380.0  # 150 clients round-robin over 4 threads
    assert limited["latency_ms"]["p99"] > 3 * unlimited["latency_ms"]["p99"]


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--model", "loop", "--connection-limit", "5"], "--connection-limit does not apply"),
        (["--connection-limit", "2"], "2 is out of range: give 3 to 4194304"),
        (["--connection-limit", "many"], "'many' is not a whole number"),
    ],
)
def test_a_connection_limit_it_cannot_use_is_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    from tracer.cli import main

    try:
        code = main(["sim", "-n", "3", "--no-record", *argv])
    except SystemExit as exit_info:  # argparse's own refusal
        code = exit_info.code
    err = capsys.readouterr().err
    assert code == 2 and said in err and err.count("\n") == 1


def test_the_header_says_whether_a_limit_applied(tmp_path) -> None:
    """A recording made with waitress's limit is told from one made without it."""
    from tracer.cli import main
    from tracer.recording import load

    argv = ["sim", "--model", "threads", "-n", "4", "-c", "2", "--io", "10ms", "--headless"]
    assert main([*argv, "--record", str(tmp_path / "a.jsonl")]) == 0
    assert main([*argv, "--connection-limit", "none", "--record", str(tmp_path / "b.jsonl")]) == 0
    assert load(tmp_path / "a.jsonl").header["server"]["connection_limit"] == 100
    assert "connection_limit" not in load(tmp_path / "b.jsonl").header["server"]
