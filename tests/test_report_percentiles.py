"""The report's latency table shows a percentile only of a sample that measures it, its rows
include the client's time to first byte when the recording has it, and its throughput and
requests out at once are worked out from exact figures, not the summary's rounded ``rps``."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from tracer import events as K
from tracer.digest import Digest
from tracer.events import Event
from tracer.recording import Recording
from tracer.report import measures, print_report
from tracer.summary import summarize

MS = 1_000_000
S = 1000 * MS


def _requests(
    count: int,
    *,
    latency: int = 10 * MS,
    gap: int = 0,
    ttfb: int | None = None,
    answered: int | None = None,
) -> list[Event]:
    """``count`` requests of ``latency`` each, sent ``gap`` apart, as the network client and
    a server record them: sent (queued), started 1 ms later, ended, the client's response.
    ``ttfb``: its ``ttfb_ns``, on the first ``answered`` responses (all by default)."""
    events: list[Event] = []
    seq = 0
    for req in range(1, count + 1):
        t = (req - 1) * gap
        data: dict[str, object] = {"status": 200, "total_ns": latency, "bytes": 5}
        if ttfb is not None and (answered is None or req <= answered):
            data["ttfb_ns"] = ttfb + req  # distinct values, in the order sent
        first = t + (ttfb or latency)
        events += [
            Event(seq, t, K.CLIENT_SEND, req, data={"method": "GET", "path": "/", "bytes": 0}),
            Event(seq + 1, t, K.REQUEST_QUEUED, req, data={"method": "GET", "path": "/"}),
            Event(seq + 2, t + MS, K.REQUEST_START, req, pid=5, tid=9, thread="event-loop"),
            Event(seq + 3, t + latency, K.REQUEST_END, req, pid=5, tid=9, data={"status": 200}),
            Event(seq + 4, first, K.CLIENT_RESPONSE, req, dur=t + latency - first, data=data),
        ]
        seq += 5
    return events


def _report(events: list[Event], *, width: int = 120, clients: int | None = None) -> str:
    header = {"app": "app:app", "interface": "asgi", "server": {"model": "uvicorn"}}
    if clients is not None:
        header["load"] = {"concurrency": clients, "requests": len(events) // 5}
    out = io.StringIO()
    print_report(
        Recording(header, events),
        summarize(events),
        console=Console(file=out, width=width, color_system=None),
    )
    return out.getvalue()


def _table(text: str) -> str:
    """The latency table alone (up to the line after it)."""
    table = text[text.index("Latency (ms)") :]
    return table[: re.search(r"\n(A percentile|Workers)", table).start()]  # type: ignore[union-attr]


def _row(table: str, label: str) -> list[str]:
    """The cells of the wide latency table's row ``label``, after its label."""
    [row] = [line for line in table.splitlines() if line.startswith(f"│ {label} ")]
    return [cell.strip() for cell in row.split("│")[2:-1]]


def _columns(table: str) -> list[str]:
    """The latency table's figure names, as its header (wide) or its labels (on its side)
    name them."""
    return re.findall(r"(?<![\w.])(mean|p50|p90|p99\.9|p99|max)(?![\w.])", table)


@pytest.mark.parametrize(
    ("key", "fewest"),
    [("mean", 1), ("max", 1), ("p50", 2), ("p90", 10), ("p99", 100), ("p99.9", 1000)],
)
def test_a_percentile_is_measured_from_a_value_above_it_on(key: str, fewest: int) -> None:
    """pX needs 100 / (100 - X) values (exactly: 999.99... would not do for p99.9)."""
    assert measures(key, fewest) and measures(key, fewest + 1)
    assert not measures(key, fewest - 1)


@pytest.mark.parametrize("width", [120, 40])
def test_four_requests_show_no_tail_percentiles(width: int) -> None:
    """Four streams: mean, p50 and max, wide or on its side; a line says why p90, p99 and
    p99.9 are not there."""
    text = _report(_requests(4, latency=30 * S), width=width)
    assert _columns(_table(text)) == ["mean", "p50", "max"]
    said = " ".join(text.split())
    assert "A percentile needs enough values to be measured: p90 10, p99 100, p99.9 1,000 " in said
    assert "(here 4)." in said


def test_one_request_shows_its_mean_and_max_only() -> None:
    text = _report(_requests(1))
    assert _columns(_table(text)) == ["mean", "max"]
    assert "p50 2, p90 10" in " ".join(text.split())


def test_no_request_finished_no_table() -> None:
    """An empty recording: one line says so, no table of labels without a figure."""
    text = _report([])
    assert "Latency: no request finished." in text
    assert "Latency (ms)" not in text and "A percentile needs" not in text


def test_each_percentile_appears_once_its_sample_measures_it() -> None:
    """12 requests: p90 (10 values) but not p99; 100: p99 too; 1,000: every figure, and no
    line about left-out percentiles."""
    assert _columns(_table(_report(_requests(12, gap=MS)))) == ["mean", "p50", "p90", "max"]
    assert _columns(_table(_report(_requests(100, gap=MS)))) == [
        "mean",
        "p50",
        "p90",
        "p99",
        "max",
    ]
    text = _report(_requests(1000, gap=MS))
    assert _columns(_table(text)) == ["mean", "p50", "p90", "p99", "p99.9", "max"]
    assert "A percentile needs" not in text


def test_a_row_of_fewer_values_has_dashes_where_its_sample_does_not_reach() -> None:
    """12 requests, 5 of whose responses say their time to first byte: the p90 column is
    there for the total and the time queued (12 values), not for the first byte (5)."""
    text = _report(_requests(12, gap=MS, ttfb=2 * MS, answered=5))
    table = _table(text)
    assert _columns(table) == ["mean", "p50", "p90", "max"]
    assert _row(table, "total") == ["10.0", "10.0", "10.0", "10.0"]
    # 2 ms and 3 to 5 ns: 2.0, its trailing zeros left off down to one decimal
    assert _row(table, "first byte") == ["2.0", "2.0", "–", "2.0"]
    assert "(here total 12, queued 12, first byte 5)." in " ".join(text.split())


def test_the_first_byte_row_is_the_clients_ttfb_not_the_streams_latency() -> None:
    """Streams open 30 s whose first byte came after 4 ms: total says 30 s, first byte 4 ms;
    the digest's figures are those of the recorded ``ttfb_ns``."""
    events = _requests(5, latency=30 * S, ttfb=4 * MS)
    digest = Digest()
    digest.feed(events)
    details = digest.details()
    assert details.ttfbs == 5
    assert details.ttfb_ms["max"] == round((4 * MS + 5) / MS, 3)
    assert details.ttfb_ms["p50"] == round((4 * MS + 3) / MS, 3)
    table = _table(_report(events))
    assert _row(table, "total") == ["30,000.0", "30,000.0", "30,000.0"]
    assert _row(table, "first byte") == ["4.0", "4.0", "4.0"]


def test_no_first_byte_row_without_the_clients_ttfb() -> None:
    """A recording with no ``ttfb_ns`` (a simulation, an app traced in process) has no such
    row; a ``ttfb_ns`` that is not an integer (a recording from elsewhere) is not counted."""
    assert "first byte" not in _report(_requests(3))
    odd = [
        e._replace(data={**e.data, "ttfb_ns": 1.5}) if e.kind == K.CLIENT_RESPONSE else e
        for e in _requests(3)
    ]
    digest = Digest()
    digest.feed(odd)
    assert digest.details().ttfbs == 0
    assert "first byte" not in _report(odd)


def test_throughput_and_requests_out_at_once_are_exact() -> None:
    """Five streams open together for 20 s: 0.25 a second, five out at once (the summary's
    rps rounded to 0.2 made it 4.0). A hundred open together for 30 s: 3.33 a second, 100
    out at once (3.33 rounded made 99.9)."""
    text = " ".join(_report(_requests(5, latency=20 * S), clients=5).split())
    assert "throughput 0.25 req/s" in text
    assert "clients 5 (on average 5.0 requests out at once)" in text
    text = " ".join(_report(_requests(100, latency=30 * S), clients=100).split())
    assert "throughput 3.33 req/s" in text
    assert "clients 100 (on average 100.0 requests out at once)" in text


def test_the_digests_throughput_is_the_summarys_unrounded() -> None:
    """The report's rate is the one the summary rounds: over the time to the last end, or
    over what an open loop took to offer its requests."""
    events = _requests(7, latency=30 * MS, gap=3 * MS)
    for header in ({}, {"load": {"rate": 10.0, "duration_s": None}}):
        digest = Digest(header)
        digest.feed(events)
        rps = digest.details().rps
        assert rps is not None and round(rps, 1) == round(digest.summary()["rps"], 1)
    digest = Digest()
    digest.feed(events)
    assert digest.details().rps == 7 / ((6 * 3 * MS + 30 * MS) / S)
    digest = Digest({"load": {"rate": 10.0, "duration_s": None}})
    digest.feed(events)
    assert digest.details().rps == 7 / 0.7  # 7 arrivals at 10 a second take 0.7 s
