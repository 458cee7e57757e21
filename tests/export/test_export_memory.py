"""``trace export`` streams: its memory does not grow with the recording's events.

A recording ten times as long (the same requests, ten times as many) must not take ten times
the memory to export to any target: the file is read in passes (``tracer.export.stream``),
never loaded whole, and each exporter keeps only what it has not written yet (Perfetto, OTLP)
or the few lanes it draws (HTML, SVG). Peaks are Python allocations (``tracemalloc``) of the
export alone, imports done before.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from tracer import events as K
from tracer.cli import main
from tracer.recorder import Recorder

SMALL, LARGE = 150, 1500
"""Requests in the two recordings compared."""

GROWTH = 4.0
"""The most the peak may grow from the small recording to the large one (10 times its
events): loading it whole grows it six to ten times; streamed, what grows is a small record
per request (its event count; the figures' summary record), not its events."""


def _run(path: Path, requests: int) -> str:
    """``requests`` requests of the same shape, one after the other on one loop: arrival,
    start, a step, the response's two sends, the end; every tenth ends with an error."""
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
        rec.emit(K.SCHED_STEP, req, {"cpu_ns": 50}, t=t + 100, dur=4_000, tid=7)
        send = {"type": "http.response.start", "status": 200}
        rec.emit(K.ASGI_SEND, req, send, t=t + 200, dur=10, tid=7)
        body = {"type": "http.response.body", "bytes": 20}
        rec.emit(K.ASGI_SEND, req, body, t=t + 300, dur=10, tid=7)
        if req % 10 == 0:
            rec.emit(K.ERROR, req, {"type": "RuntimeError", "message": "down"}, t=t + 400, tid=7)
        rec.emit(K.REQUEST_END, req, {"status": 200}, t=t + 5_000, tid=7)
    return rec.save(path)


def _peak(argv: list[str]) -> int:
    """The peak of Python allocations while ``trace`` runs ``argv`` (bytes)."""
    tracemalloc.start()
    try:
        assert main(argv) == 0
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


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
