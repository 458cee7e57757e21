"""The report's Workers table orders a simulation's threads as people count them."""

from __future__ import annotations

from typing import Any

from tracer.digest import Digest


def test_equally_busy_threads_are_listed_in_natural_order(recorded: Any) -> None:
    """12 threads each busy 100 ms: waitress-2 comes before waitress-10 (they sorted as
    strings: waitress-0, waitress-1, waitress-10, waitress-11, waitress-2...)."""
    _, recording = recorded(threads=12, concurrency=12, requests=12, io="100ms")
    digest = Digest()
    digest.feed(recording.events)
    workers = digest.details().workers
    assert len({w.busy_ms for w in workers}) == 1  # a tie: only the names order them
    assert [w.name for w in workers] == [f"waitress-{i}" for i in range(12)]


def test_process_ids_in_the_names_count_as_numbers_too() -> None:
    """Several processes: names carry the pid ("99/MainThread"), and pid 99 comes before 100."""
    from tracer import events as K
    from tracer.events import Event

    def request(req: int, pid: int) -> list[Event]:
        where = {"pid": pid, "tid": 1, "thread": "MainThread"}
        return [
            Event(2 * req, 0, K.REQUEST_START, req, **where, data={"scope_type": "http"}),
            Event(2 * req + 1, 0, K.SCHED_THREAD, req, **where, dur=10, data={"cpu_ns": 0}),
        ]

    digest = Digest()
    digest.feed([*request(1, 100), *request(2, 99), *request(3, 1000)])
    names = [w.name for w in digest.details().workers]
    assert names == ["99/MainThread", "100/MainThread", "1000/MainThread"]
