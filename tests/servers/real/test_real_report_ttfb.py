"""The report's time to first byte, from a real uvicorn serving event streams that the
client's timeout cuts: the streams' latency is how long they stayed open, their first byte
how soon the server answered."""

from __future__ import annotations

import io

import pytest
from real_helpers import HERE, run_real
from rich.console import Console

from tracer import events as K
from tracer.client import ClientConfig
from tracer.digest import Digest
from tracer.figures import ms
from tracer.recording import Recording
from tracer.report import print_report
from tracer.stats import stats_ms

pytestmark = pytest.mark.timeout(90)

KEYS = ("mean", "p50", "p90", "p99", "p99.9", "max")


def _cells(text: str, label: str) -> list[str]:
    """The cells of the wide latency table's row ``label``, after its label."""
    [row] = [line for line in text.splitlines() if line.startswith(f"│ {label} ")]
    return [cell.strip() for cell in row.split("│")[2:-1]]


def test_streams_cut_by_the_timeout_report_their_first_byte() -> None:
    """Three streams cut by a 1 s timeout: each client response says its status, its
    ``ttfb_ns`` and the cut; the report's first-byte row shows those times (mean, p50, max:
    three values measure no p90), the total row the time each stream stayed open."""
    run = run_real(
        "uvicorn",
        "real_open_streams:app",
        # Its first byte at once, its end 2 s later: the timeout cuts every stream.
        ClientConfig(concurrency=3, requests=3, timeout=1.0),
        app_dir=HERE,
    )
    responses = run.kinds(K.CLIENT_RESPONSE)
    assert [(r.data["status"], r.data["error"]) for r in responses] == [(200, "TimeoutError")] * 3
    ttfbs = [r.data["ttfb_ns"] for r in responses]
    # The first byte came before the cut.
    assert all(0 < r.data["ttfb_ns"] < r.data["total_ns"] for r in responses)

    digest = Digest()
    digest.feed(run.events)
    details = digest.details()
    assert details.ttfbs == 3
    assert details.ttfb_ms == stats_ms(ttfbs, KEYS)

    summary = digest.summary()
    out = io.StringIO()
    header = {"app": "real_open_streams:app", "interface": "asgi", "server": {"model": "uvicorn"}}
    print_report(
        Recording(header, run.events),
        summary,
        console=Console(file=out, width=120, color_system=None),
        details=details,
    )
    text = out.getvalue()
    first = details.ttfb_ms
    assert _cells(text, "first byte") == [ms(first[key]) for key in ("mean", "p50", "max")]
    total = _cells(text, "total")
    assert total == [ms(summary["latency_ms"][key]) for key in ("mean", "p50", "max")]
