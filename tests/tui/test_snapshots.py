"""Snapshot tests of the replay at fixed sizes, from simulated (stable) recordings.

Regenerate the baselines after a deliberate visual change with
``pytest tests/tui/test_snapshots.py --snapshot-update`` and review the SVG diff.
"""

from __future__ import annotations

from typing import Any

import pytest

from tracer.recording import Recording
from tracer.tui.app import ReplayApp

pytestmark = pytest.mark.timeout(120)


def test_by_request_80x24(snap_compare: Any, sim_loop: Recording) -> None:
    """By request, at the smallest supported size: lanes, axis, legend fit in 80x24."""
    assert snap_compare(ReplayApp([sim_loop]), terminal_size=(80, 24))


def test_by_request_120x40(snap_compare: Any, sim_threads: Recording) -> None:
    """By request for a threads run: queueing for a worker, CPU-share bars."""
    assert snap_compare(ReplayApp([sim_threads]), terminal_size=(120, 40))


def test_by_worker_loop_120x40(snap_compare: Any, sim_loop: Recording) -> None:
    """By worker for a loop run: interleaved steps of many requests on one loop lane."""
    assert snap_compare(ReplayApp([sim_loop], view="worker"), terminal_size=(120, 40))


def test_by_worker_threads_80x24(snap_compare: Any, sim_threads: Recording) -> None:
    """By worker for a threads run: one request per thread at a time."""
    assert snap_compare(ReplayApp([sim_threads], view="worker"), terminal_size=(80, 24))


def test_compare_120x40(snap_compare: Any, sim_threads: Recording, sim_loop: Recording) -> None:
    """Compare mode: WSGI threads over ASGI loop on one time axis, summaries side by side."""
    assert snap_compare(ReplayApp([sim_threads, sim_loop]), terminal_size=(120, 40))


def test_detail_pane_120x40(snap_compare: Any, loop_rec: Recording) -> None:
    """The detail pane of a request the blocking call delayed (hand-built recording)."""
    assert snap_compare(ReplayApp([loop_rec], detail=4), terminal_size=(120, 40))


def test_chinese_80x24(snap_compare: Any, threads_rec: Recording) -> None:
    """Chinese labels: legend and lane gutter stay aligned with CJK text."""
    assert snap_compare(ReplayApp([threads_rec], lang="zh"), terminal_size=(80, 24))


def test_abandoned_work_120x24(snap_compare: Any, timed_out_rec: Recording) -> None:
    """Two requests whose client gave up while their app went on: ``╌`` from the ✖ to the
    app's end, the legend's entry for it, the detail pane's line (hand-built recording)."""
    assert snap_compare(ReplayApp([timed_out_rec], detail=0), terminal_size=(120, 24))


def test_detail_pane_80x24(snap_compare: Any, loop_rec: Recording) -> None:
    """The same pane on the smallest terminal: its times in their largest unit keep the event
    rows' columns, the data cut to the width."""
    assert snap_compare(ReplayApp([loop_rec], detail=4), terminal_size=(80, 24))


def test_detail_pane_worker_80x24(snap_compare: Any, loop_rec: Recording) -> None:
    """A loop's pane on the smallest terminal: its share, busy time and spans' columns."""
    app = ReplayApp([loop_rec], view="worker", detail=0, lang="zh")
    assert snap_compare(app, terminal_size=(80, 24))
