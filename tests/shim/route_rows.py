"""The report's latency by route of a recording, as ``{route: requests}``, and the routes the
requests of a recorder ended with: what the route tests of each framework assert."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from tracer import events as K
from tracer.digest import Digest
from tracer.recorder import Recorder
from tracer.report import print_report
from tracer.summary import summarize


def ends(rec: Recorder) -> list[tuple[int, str | None]]:
    """``(status, route)`` of every ``request.end`` recorded, in order."""
    data: list[dict[str, Any]] = [e.data for e in rec.events if e.kind == K.REQUEST_END]
    return [(end["status"], end.get("route")) for end in data]


def rows_by_route(rec: Recorder) -> dict[str, int]:
    """The rows of the report's "Latency by route" table: each route's request count."""
    recording = rec.recording()
    digest = Digest()
    digest.feed(recording.events)
    out = io.StringIO()
    console = Console(file=out, width=160, color_system=None)
    print_report(recording, summarize(recording), console=console, details=digest.details())
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Latency by route"))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("└"))
    rows = [line.split("│")[1:3] for line in lines[start:end] if line.startswith("│")]
    return {route.strip(): int(count) for route, count in rows}
