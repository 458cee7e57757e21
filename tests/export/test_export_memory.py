"""``trace export`` streams: its memory does not grow with the recording's events.

A recording ten times as long (the same requests, ten times as many) must not take ten times
the memory to export to any target: the file is read in passes (``tracer.export.stream``),
never loaded whole, and each exporter keeps only what it has not written yet (Perfetto, OTLP)
or the few lanes it draws (HTML, SVG). Peaks are Python allocations (``tracemalloc``) of the
export alone, imports done before.

Each request has many events (``STEPS`` steps), so that its events, not what is kept for each
request (its event count, its route, its row of figures, a few hundred bytes), make the
difference: with one step a request, that bookkeeping alone grew an SVG's peak 3.8 times, a
hair under the bound, and another thread's allocations in the same process once pushed it over.
"""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import pytest

from tracer import events as K
from tracer.cli import main
from tracer.recorder import Recorder

SMALL, LARGE = 30, 300
"""Requests in the two recordings compared."""

STEPS = 30
"""Steps of each request: 36 events a request or so, 10,800 in the large recording."""

GROWTH = 3.0
"""The most the peak may grow from the small recording to the large one (10 times its
events): loading it whole grows it seven to ten times; streamed, 1.0 to 1.35 times (what
grows is a small record per request, not its events)."""


def _run(path: Path, requests: int) -> str:
    """``requests`` requests of the same shape, one after the other on one loop: arrival,
    start, ``STEPS`` steps, the response's two sends, the end; every tenth ends with an
    error."""
    rec = Recorder(
        start_ns=0,
        clock=lambda: 0,
        wall_clock=lambda: 1_764_100_000_000_000_000,
        app="shop:app",
        interface="asgi",
        server={"model": "loop"},
    )
    for req in range(1, requests + 1):
        t = req * 10_000
        start = {"method": "GET", "path": f"/items/{req}", "scope_type": "http"}
        rec.emit(K.REQUEST_QUEUED, req, {"method": "GET", "path": f"/items/{req}"}, t=t, tid=7)
        rec.emit(K.REQUEST_START, req, start, t=t + 100, tid=7, thread="MainThread")
        for step in range(STEPS):
            rec.emit(K.SCHED_STEP, req, {"cpu_ns": 50}, t=t + 100 + step * 140, dur=100, tid=7)
        send = {"type": "http.response.start", "status": 200}
        rec.emit(K.ASGI_SEND, req, send, t=t + 4_500, dur=10, tid=7)
        body = {"type": "http.response.body", "bytes": 20}
        rec.emit(K.ASGI_SEND, req, body, t=t + 4_600, dur=10, tid=7)
        if req % 10 == 0:
            rec.emit(K.ERROR, req, {"type": "RuntimeError", "message": "down"}, t=t + 4_700, tid=7)
        rec.emit(K.REQUEST_END, req, {"status": 200}, t=t + 5_000, tid=7)
    return rec.save(path)


def _peak(argv: list[str]) -> int:
    """The peak of Python allocations while ``trace`` runs ``argv`` (bytes), the least of two
    runs: tracemalloc counts every thread of the process, and garbage of earlier tests left
    for the collector, which only ever add to the export's own."""
    peaks = []
    for _ in range(2):
        gc.collect()
        tracemalloc.start()
        try:
            assert main(argv) == 0
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    return min(peaks)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The small and the large recording."""
    folder = tmp_path_factory.mktemp("runs")
    return _run(folder / "small.jsonl", SMALL), _run(folder / "large.jsonl", LARGE)


@pytest.mark.parametrize("target", ["perfetto", "otlp-json", "html", "svg"])
def test_exporting_ten_times_the_events_takes_nowhere_near_ten_times_the_memory(
    target: str,
    runs: tuple[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each streaming target's peak grows by less than ``GROWTH`` for ten times the events
    (the whole recording loaded would grow it about tenfold)."""
    from tracer.export import perfetto

    # Perfetto writes its events in slices of ``_SPILL``, OTLP its spans in batches of
    # OTEL_BSP_MAX_EXPORT_BATCH_SIZE: a few here, so the slice in hand is not what the peak
    # measures.
    monkeypatch.setattr(perfetto, "_SPILL", 200)
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "50")
    small, large = runs
    argv = ["export", "--to", target, "-o"]
    suffix = {"svg": ".svg"}.get(target, ".out")
    main(["export", small, "--to", target, "-o", str(tmp_path / f"warm{suffix}")])  # imports
    peaks = [_peak([*argv, str(tmp_path / f"{n}{suffix}"), path]) for n, path in enumerate(runs)]
    capsys.readouterr()
    assert peaks[1] < GROWTH * peaks[0], f"{target}: {peaks[0]:,} -> {peaks[1]:,} bytes"
