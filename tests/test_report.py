"""The digest and the report: the same numbers as summarize, culprits, workers, the table."""

from __future__ import annotations

import io
import re

from rich.console import Console

from tracer import events as K
from tracer.digest import Digest, digest_file
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.report import print_report
from tracer.run import RunConfig, run
from tracer.summary import summarize

MS = 1_000_000


def _events() -> list[Event]:
    """Two requests on a loop: the first blocks it at app.py:7 for 30 ms, the second waits."""
    e = Event
    return [
        e(0, 0, K.REQUEST_QUEUED, 1, data={"method": "GET", "path": "/"}),
        e(1, 0, K.REQUEST_QUEUED, 2, data={"method": "GET", "path": "/"}),
        e(
            2,
            1 * MS,
            K.REQUEST_START,
            1,
            pid=5,
            tid=9,
            thread="event-loop",
            data={"scope_type": "http"},
        ),
        e(
            3,
            1 * MS,
            K.SCHED_STEP,
            1,
            pid=5,
            tid=9,
            thread="event-loop",
            dur=30 * MS,
            data={"cpu_ns": 1 * MS},
        ),
        e(
            4,
            1 * MS,
            K.LOOP_BLOCKED,
            1,
            pid=5,
            tid=9,
            dur=30 * MS,
            data={"location": "app.py:7", "delayed": [2]},
        ),
        e(5, 31 * MS, K.REQUEST_END, 1, pid=5, tid=9, data={"status": 200, "error": None}),
        e(
            6,
            31 * MS,
            K.REQUEST_START,
            2,
            pid=5,
            tid=9,
            thread="event-loop",
            data={"scope_type": "http"},
        ),
        e(7, 31 * MS, K.VIOLATION, 2, data={"rule": "ASGI-001", "message": "x"}),
        e(8, 32 * MS, K.ERROR, 2, data={"type": "ValueError"}),
        e(9, 33 * MS, K.REQUEST_END, 2, data={"status": 500, "error": "ValueError"}),
        e(10, 40 * MS, K.REQUEST_END, 2, data={"status": 200, "error": None}),  # later: ignored
    ]


def test_digest_summary_equals_summarize() -> None:
    """Fed in any order and in batches, the digest gives summarize's dict for the events."""
    events = _events()
    digest = Digest()
    digest.feed(reversed(events[5:]))
    digest.feed(events[:5])
    assert digest.summary() == summarize(events)


def test_details_culprits_workers_problems() -> None:
    """The culprit's file:line, the loop's busy time and requests, errors and violations."""
    digest = Digest()
    digest.feed(_events())
    details = digest.details()
    assert [(c.location, c.count, c.total_ms) for c in details.culprits] == [("app.py:7", 1, 30.0)]
    [worker] = details.workers
    assert (worker.name, worker.requests, worker.busy_ms, worker.cpu_ms) == (
        "event-loop",
        2,
        30.0,
        1.0,
    )
    assert worker.utilisation == 0.75  # 30 ms of 40 ms
    assert details.errors == {"ValueError": 1} and details.violations == {"ASGI-001": 1}


def test_an_offload_thread_counts_the_requests_that_handed_it_work() -> None:
    """A def endpoint's thread hop: the worker thread's row counts it (it said 0 requests
    while it was busy running them)."""
    hop = Event(
        11,
        2 * MS,
        K.SCHED_THREAD,
        1,
        pid=5,
        tid=12,
        thread="AnyIO worker thread",
        dur=5 * MS,
        data={"cpu_ns": 1 * MS, "via": "anyio.to_thread"},
    )
    digest = Digest()
    digest.feed([*_events(), hop])
    workers = {w.name: w.requests for w in digest.details().workers}
    assert workers == {"event-loop": 2, "AnyIO worker thread": 1}


def test_report_table() -> None:
    """The printed report names the app, the latency percentiles, the culprit and the worker."""
    events = _events()
    recording = Recording(
        {"app": "app:app", "interface": "asgi", "server": {"model": "loop"}}, events
    )
    out = io.StringIO()
    print_report(
        recording, summarize(events), console=Console(file=out, width=100, color_system=None)
    )
    text = out.getvalue()
    for expected in (
        "app:app · ASGI loop",
        "p99.9",
        "app.py:7",
        "event-loop",
        "ASGI-001",
        "ValueError",
        "200: 1",
    ):
        assert expected in text, expected


def _report_of(load: dict[str, object], events: list[Event] | None = None) -> str:
    """The report of ``events`` (the two requests of ``_events``) run with ``load``."""
    events = _events() if events is None else events
    header = {"app": "app:app", "server": {"model": "loop"}, "load": load}
    out = io.StringIO()
    print_report(
        Recording(header, events),
        summarize(events),
        console=Console(file=out, width=200, color_system=None),
    )
    return out.getvalue()


def test_a_recording_with_fewer_requests_than_asked_says_so() -> None:
    """Killed between two lines, a recording has no cut-short line: the report compares the
    requests it holds with the count the run asked for (and says nothing when they agree)."""
    assert "It holds 2 of the 1,000 requests the run asked for" in _report_of({"requests": 1000})
    assert "requests the run asked for" not in _report_of({"requests": 2})


def test_a_duration_run_cut_short_says_so() -> None:
    """A ``-z`` run killed between two lines: its requests span less than the duration asked
    for. An open loop's last arrival may come one interval before the end: no note then."""

    report = _report_of
    span = summarize(_events())["wall_s"]
    assert "of the 3 s the run asked for" in report({"requests": None, "duration_s": 3.0})
    assert "the run asked for" not in report({"requests": None, "duration_s": span})
    # Poisson arrivals at 3/s: the last may come a second or more before the end of a 3 s run.
    assert "the run asked for" not in report({"requests": None, "duration_s": 3.0, "rate": 3.0})
    assert "the run asked for" in report({"requests": None, "duration_s": 3.0, "rate": 1000.0})


def test_digest_file_streams_a_recording(tmp_path: object) -> None:
    """A recording written by a run reads back (streamed) to the summary of its events."""
    path = f"{tmp_path}/run.jsonl"
    recorder = Recorder(path)
    run(RunConfig(requests=30, concurrency=5), recorder)
    recorder.close()
    recording, digest = digest_file(path)
    from tracer.recording import load

    assert recording.header["server"]["model"] == "loop"
    assert digest.summary() == summarize(load(path))


def test_queue_percentiles_in_the_details() -> None:
    """The report's queued row has every percentile; p50 and max agree with the summary."""
    digest = Digest()
    digest.feed(_events())
    queue = digest.details().queue_ms
    summary = digest.summary()["queue_ms"]
    assert set(queue) == {"mean", "p50", "p90", "p99", "p99.9", "max"}
    assert (queue["p50"], queue["max"]) == (summary["p50"], summary["max"])


def test_requests_sent_twice_are_counted() -> None:
    """A request the network client sent again on a new connection (``resent``) is counted in
    the details and the report: the server may have seen it twice."""
    events = [
        *_events(),
        Event(90, 40 * MS, K.CLIENT_RESPONSE, 1, data={"status": 200, "resent": True}),
        Event(91, 41 * MS, K.CLIENT_RESPONSE, 2, data={"status": 200}),
    ]
    digest = Digest()
    digest.feed(events)
    assert digest.details().resent == 1
    assert "1 (connection closed as they went out, or refused by the server's HTTP/2 GOAWAY)" in (
        " ".join(_report_of({}, events).split())
    )
    digest = Digest()
    digest.feed(_events())
    assert digest.details().resent == 0


def test_a_block_starved_of_the_gil_is_told_apart_from_one_that_ran() -> None:
    """A ``loop.blocked`` marked starved (its thread waited on other threads: their GIL or a
    lock) is its own culprit row, and the run's "loop blocked" line says how much."""
    starved = Event(
        11,
        35 * MS,
        K.LOOP_BLOCKED,
        2,
        pid=5,
        tid=9,
        dur=12 * MS,
        data={"location": "app.py:9", "delayed": [], "others_busy": 0.9, "starved": True},
    )
    events = [*_events(), starved]
    digest = Digest()
    digest.feed(events)
    details = digest.details()
    assert [(c.location, c.count) for c in details.culprits] == [
        ("app.py:7", 1),
        ("app.py:9 (waiting on other threads: the GIL or a lock)", 1),
    ]
    assert details.starved_ms == 12.0
    assert "42.0 ms (12.0 ms waiting on other threads)" in _report_of({}, events)
    assert "waiting on other threads" not in _report_of({})


def test_throughput_says_how_much_of_it_ended_without_an_error() -> None:
    """Completed counts requests that failed or timed out too: the throughput row then adds
    the rate of those that ended well (none at all when every client gave up)."""
    text = _report_of({})  # two requests, one of them an error
    assert "req/s (" in text and " req/s without an error)" in text
    failed = [
        e._replace(data={**e.data, "status": None, "error": "timeout"})
        if e.kind == K.REQUEST_END
        else e
        for e in _events()
    ]
    assert "(0.0 req/s without an error)" in _report_of({}, failed)
    ok = [e for e in _events() if e.req == 1 or e.kind == K.REQUEST_QUEUED and e.req == 1]
    assert "without an error" not in _report_of({}, ok)


def test_a_simulation_says_its_cores_and_a_real_run_does_not() -> None:
    """``trace sim --cpus 2``'s recording: the report's "simulated cores" row says 2; without
    --cpus, unlimited; a real run's report has no such row (``host`` tells its machine)."""

    def report(header: dict[str, object]) -> str:
        out = io.StringIO()
        events = _events()
        console = Console(file=out, width=120, color_system=None)
        print_report(Recording(header, events), summarize(events), console=console)
        return out.getvalue()

    simulated = {"source": "simulated", "server": {"model": "processes", "cpus": 2}}
    assert re.search(r"simulated cores\s+2 \(--cpus\)", report(simulated))
    unlimited = {"source": "simulated", "server": {"model": "processes"}}
    assert re.search(r"simulated cores\s+unlimited", report(unlimited))
    assert "simulated cores" not in report({"source": "traced", "server": {"model": "loop"}})


def test_a_closed_loop_says_how_many_requests_its_clients_kept_out() -> None:
    """-c 50 against a hello world in process kept ~17 requests out at once, not 50, with
    nothing saying so: the report gives the clients beside Little's law's average (throughput
    x mean latency); an open loop, which has no clients, gets no such line."""
    summary = summarize(_events())
    out_at_once = summary["rps"] * summary["latency_ms"]["mean"] / 1000
    report = _report_of({"concurrency": 50, "requests": 2})
    (line,) = [line for line in report.splitlines() if line.strip().startswith("clients")]
    assert line.split()[1:] == [
        "50",
        "(on",
        "average",
        f"{out_at_once:.1f}",
        "requests",
        "out",
        "at",
        "once)",
    ]
    assert "clients" not in _report_of({"rate": 10.0, "requests": 2})


def test_a_block_the_busy_machine_caused_is_told_apart_from_waiting_on_threads() -> None:
    """A starved ``loop.blocked`` whose step waited mostly on a run queue (``descheduled_ns``
    over half of it) is the machine's, not the app's nor its threads': its own culprit row,
    and its own part of the "loop blocked" line."""

    def block(seq: int, location: str, descheduled_ms: int) -> Event:
        data = {"location": location, "delayed": [], "others_busy": 0.1, "starved": True}
        return Event(
            seq, 35 * MS, K.LOOP_BLOCKED, 2, pid=5, tid=9, dur=20 * MS,
            data={**data, "descheduled_ns": descheduled_ms * MS},
        )  # fmt: skip

    events = [*_events(), block(11, "app.py:9", 15), block(12, "app.py:10", 4)]
    digest = Digest()
    digest.feed(events)
    details = digest.details()
    assert sorted(c.location for c in details.culprits if c.location != "app.py:7") == [
        "app.py:10 (waiting on other threads: the GIL or a lock)",
        "app.py:9 (waiting for a CPU: the machine was busy)",
    ]
    assert (details.starved_ms, details.busy_machine_ms) == (40.0, 20.0)
    assert (
        "70.0 ms (20.0 ms waiting for a CPU: the machine was busy, 20.0 ms waiting on other "
        "threads)" in _report_of({}, events)
    )
