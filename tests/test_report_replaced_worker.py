"""Requests that waited for a worker the server started in place of one that ended: sent
before the process that started them recorded anything, while another server process
recorded its last event. The digest counts them and the longest wait, in whatever order
its events come, and ``trace summary`` (which reads the digest, not the events) prints one
line saying so."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from tracer import events as K
from tracer.cli import main
from tracer.digest import Digest
from tracer.events import Event
from tracer.recording import Recording, RecordingWriter, make_header
from tracer.report import print_report

MS = 1_000_000
CLIENT, OLD, OTHER, NEW = 100, 201, 202, 203
"""The pids: the network client's, the worker that ends, the one that goes on, and the one
the server starts in place of the first."""

LINE = "2 requests waited up to 5.98 s for a worker the server started in place of one that ended."


class _Events:
    """Events of a hand-built real-server run, their seqs in the order they are added."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, t_ms: float, kind: str, req: int | None, pid: int, **data: object) -> None:
        self.events.append(Event(len(self.events), int(t_ms * MS), kind, req, pid=pid, data=data))

    def lifespan(self, t_ms: float, pid: int) -> None:
        """The worker's lifespan startup: its first event."""
        self.add(t_ms, K.REQUEST_START, pid * 10**6 + 1, pid, scope_type="lifespan")

    def request(self, req: int, sent_ms: float, start_ms: float, pid: int) -> None:
        """A request the client sent at ``sent_ms`` and ``pid`` started at ``start_ms``, ended
        a millisecond later and answered a millisecond after that."""
        self.add(sent_ms, K.CLIENT_SEND, req, CLIENT, method="GET", path="/", bytes=0)
        self.add(sent_ms, K.REQUEST_QUEUED, req, CLIENT, method="GET", path="/")
        self.add(start_ms, K.REQUEST_START, req, pid, scope_type="http")
        self.add(start_ms + 1, K.REQUEST_END, req, pid, status=200, error=None)
        self.add(start_ms + 2, K.CLIENT_RESPONSE, req, CLIENT, status=200, ttfb_ns=MS, bytes=2)


def _replaced_run() -> list[Event]:
    """Two workers; the first serves its last request at 30 ms and ends; requests 4 and 5,
    sent at 35 and 36 ms, wait for the worker started in its place (first event at 6,000 ms),
    request 6 goes to the other worker meanwhile, and request 7 finds the new one running."""
    run = _Events()
    run.lifespan(0, OLD)
    run.lifespan(0, OTHER)
    run.request(1, 10, 11, OLD)
    run.request(2, 20, 21, OTHER)
    run.request(3, 28, 29, OLD)  # the old worker's last event: its end at 30 ms
    run.request(4, 35, 6010, NEW)
    run.request(5, 36, 6016, NEW)
    run.request(6, 37, 38, OTHER)
    run.lifespan(6000, NEW)
    run.request(7, 6030, 6031, NEW)
    # Request 8 started on the old worker, and again on the new one (the server saw it twice,
    # as a request sent again may be): its earliest start counts, and it waited for none.
    run.request(8, 25, 26, OLD)
    run.add(6020, K.REQUEST_START, 8, NEW, scope_type="http")
    run.add(6021, K.REQUEST_END, 8, NEW, status=200, error=None)
    return sorted(run.events, key=lambda e: (e.t, e.seq))


def _late_second_worker() -> list[Event]:
    """A second worker that starts after the first request was sent, no worker having ended:
    the request waited for a worker, not for one started in place of another."""
    run = _Events()
    run.lifespan(0, OLD)
    run.request(1, 10, 500, NEW)
    run.request(2, 20, 21, OLD)
    run.request(3, 600, 601, OLD)
    return sorted(run.events, key=lambda e: (e.t, e.seq))


def _starts_before_sends(events: list[Event]) -> list[Event]:
    """``events`` with each request's ``request.start`` (both of request 8) moved just before
    its send."""
    sent = {e.req for e in events if e.kind == K.CLIENT_SEND}
    starts: dict[int | None, list[Event]] = {}
    for event in events:
        if event.kind == K.REQUEST_START and event.req in sent:
            starts.setdefault(event.req, []).append(event)
    moved: list[Event] = []
    for event in events:
        if event.kind == K.CLIENT_SEND:
            moved.extend(starts[event.req])
        if event.kind != K.REQUEST_START or event.req not in sent:
            moved.append(event)
    return moved


def _digested(events: list[Event], batch: int) -> Digest:
    digest = Digest()
    for i in range(0, len(events), batch):
        digest.feed(events[i : i + batch])
    return digest


def _report(events: list[Event]) -> str:
    digest = _digested(events, 4096)
    out = io.StringIO()
    recording = Recording(header=make_header(source="real"), events=[])
    console = Console(file=out, width=200, color_system=None)
    print_report(recording, digest.summary(), console=console, details=digest.details())
    return out.getvalue()


@pytest.mark.parametrize("batch", [1, 3, 4096])
@pytest.mark.parametrize("order", ["recorded", "backwards", "client first", "starts first"])
def test_the_digest_counts_the_requests_that_waited_for_a_replaced_worker(
    batch: int, order: str
) -> None:
    """Requests 4 and 5 waited, 5,975 and 5,980 ms: 2, the longest 5,980 ms, whatever the
    order of the events and the batches they come in: backwards, the server's events after
    all the client's (as a run merges them late), or each request's start before its send."""
    events = _replaced_run()
    if order == "backwards":
        events.reverse()
    elif order == "client first":
        events.sort(key=lambda e: (e.pid != CLIENT, e.t, e.seq))
    elif order == "starts first":
        events = _starts_before_sends(events)
    details = _digested(events, batch).details()
    assert (details.replaced_waits, details.replaced_wait_ms) == (2, 5980.0)


def test_a_worker_that_started_late_beside_one_still_running_is_no_replacement() -> None:
    """The request waited for the second worker, but none had ended: not counted, no line."""
    events = _late_second_worker()
    details = _digested(events, 4096).details()
    assert (details.replaced_waits, details.replaced_wait_ms) == (0, 0.0)
    assert "in place of one that ended" not in _report(events)


def test_without_a_network_client_nothing_is_counted() -> None:
    """The same events without the client's sends (an in-process run's queued events are
    the server model's own): nothing is said of a worker the server replaced."""
    events = [e for e in _replaced_run() if e.kind != K.CLIENT_SEND]
    assert _digested(events, 4096).details().replaced_waits == 0


def test_the_report_says_so_in_one_line() -> None:
    text = _report(_replaced_run())
    assert [line for line in text.splitlines() if "in place of" in line] == [LINE]


def test_trace_summary_prints_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``trace summary`` reads the file through the digest (no events kept): the line is
    there, once."""
    path = tmp_path / "run.jsonl"
    writer = RecordingWriter(path, make_header(source="real", interface="asgi"))
    writer.write(_replaced_run())
    writer.close()
    assert main(["summary", str(path)]) == 0
    words = " ".join(capsys.readouterr().out.split())
    assert words.count("in place of") == 1 and LINE in words
