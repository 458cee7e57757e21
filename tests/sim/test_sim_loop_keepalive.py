"""``--model loop --workers N``: a closed-loop client's kept-alive connection stays on the
process that accepted it; an open loop's arrivals are each a new connection.

Which client sent a request is read from the recorded events alone: a client that does not
think sends its next request the instant its last one ends, so the requests that arrive at
an instant pair up, in the order they were made, with those that ended then, in the order
they ended.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import pytest

from tracer import events as K
from tracer.recording import Recording


def _clients(recording: Recording, clients: int) -> list[list[int]]:
    """Each closed-loop client's requests, in the order it sent them (no think time)."""
    queued_at: dict[int, list[int]] = defaultdict(list)
    ended_at: dict[int, list[int]] = defaultdict(list)
    for event in recording.events:  # in time order, ties in the order they happened
        if event.kind == K.REQUEST_QUEUED:
            queued_at[event.t].append(event.req)
        elif event.kind == K.REQUEST_END:
            ended_at[event.t].append(event.req)
    first = sorted(queued_at.pop(0))
    assert len(first) == clients  # every client sends at t=0
    chains = [[req] for req in first]
    chain_of = {chain[0]: chain for chain in chains}
    for t in sorted(queued_at):
        arrived = sorted(queued_at[t])
        assert len(arrived) <= len(ended_at[t])  # each follows an answered request
        for previous, req in zip(ended_at[t], arrived, strict=False):
            chain = chain_of.pop(previous)
            chain.append(req)
            chain_of[req] = chain
    assert sum(len(chain) for chain in chains) == len(recording.requests())
    return chains


def _pids(recording: Recording) -> dict[int, int]:
    """Request id -> the process whose loop ran it."""
    return {e.req: e.pid for e in recording.events if e.kind == K.REQUEST_START}


def test_the_readme_example_keeps_each_client_on_one_process(recorded: Any) -> None:
    """``--workers 4 --blocking-io 50ms -c 8 -n 200``: every client's requests run on the
    process that accepted its connection, and the four processes have two clients each."""
    _, recording = recorded(
        model="loop", workers=4, concurrency=8, requests=200, blocking_io="50ms"
    )
    pid_of = _pids(recording)
    chains = _clients(recording, 8)
    assert [len({pid_of[req] for req in chain}) for chain in chains] == [1] * 8
    served = Counter(pid_of[chain[0]] for chain in chains)
    assert served == {1000: 2, 1001: 2, 1002: 2, 1003: 2}


@pytest.mark.parametrize(
    "work",
    [
        {"blocking_io": "exp:50ms"},
        {"io": "exp:20ms", "blocking_io": "exp:10ms"},
    ],
)
def test_a_kept_alive_client_never_moves_to_another_process(
    recorded: Any, work: dict[str, str]
) -> None:
    """Durations that differ: a loop free sooner than its neighbours still gets no request of
    a client connected to another; every client's requests run on one process."""
    _, recording = recorded(model="loop", workers=4, concurrency=8, requests=300, **work)
    pid_of = _pids(recording)
    chains = _clients(recording, 8)
    assert [len({pid_of[req] for req in chain}) for chain in chains] == [1] * 8
    assert set(pid_of.values()) == {1000, 1001, 1002, 1003}


def test_connections_go_to_the_free_loop_with_the_fewest(recorded: Any) -> None:
    """Awaited I/O leaves every loop free: eight clients connect at t=0 to four processes,
    two each, the first four to one process each (a process is made when every made one has
    a connection), the next four in the same order."""
    _, recording = recorded(model="loop", workers=4, concurrency=8, requests=80, io="exp:10ms")
    pid_of = _pids(recording)
    chains = _clients(recording, 8)
    assert [pid_of[chain[0]] for chain in chains] == [1000, 1001, 1002, 1003] * 2
    assert [len({pid_of[req] for req in chain}) for chain in chains] == [1] * 8


def test_an_open_loop_arrival_is_a_new_connection(recorded: Any) -> None:
    """``--rate``: each arrival connects anew and goes to the free loop with the fewest
    connections open, its requests in flight: with awaited I/O only, no loop has two while
    another has none."""
    _, recording = recorded(model="loop", workers=3, rate=200.0, requests=200, io="exp:20ms")
    open_on: Counter[int] = Counter()
    pid_of = _pids(recording)
    for event in recording.events:
        if event.kind == K.REQUEST_START:
            open_on[event.pid] += 1
            others = [open_on[pid] for pid in (1000, 1001, 1002) if pid != event.pid]
            assert open_on[event.pid] - 1 <= min(others)
        elif event.kind == K.REQUEST_END:
            open_on[pid_of[event.req]] -= 1
    assert set(pid_of.values()) == {1000, 1001, 1002}


def test_help_says_the_simulation_spreads_connections_evenly(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``trace sim --help`` says where a loop's connections go, and that a real run's may
    not be spread as evenly."""
    from tracer.cli import main

    with pytest.raises(SystemExit):
        main(["sim", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert (
        "a -c client's requests all to the loop that accepted its connection; the simulation "
        "spreads connections evenly while the kernel may not, so a real run can be slower"
    ) in text
