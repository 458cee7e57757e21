"""How ``tracer.export.svg`` is put together: it finds each recording's request spans once
(choosing the lanes and drawing them share them), and it exports only what it defines (the
figure's parts are imported from the modules that hold them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from export_recordings import two_requests

import tracer.export.svg as svg
from tracer import summary
from tracer.events import Event
from tracer.recording import load


def test_each_recordings_request_spans_are_found_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two recordings compared: the figure asks ``request_spans`` once for each (the real
    function runs; the test only counts whose events it was given)."""
    first = load(two_requests(tmp_path / "a.jsonl"))
    second = load(two_requests(tmp_path / "b.jsonl"))
    asked: list[int] = []

    def counted(events: list[Event], *args: Any, **kwargs: Any) -> Any:
        asked.append(id(events))
        return summary.request_spans(events, *args, **kwargs)

    monkeypatch.setattr(svg, "request_spans", counted)
    drawn = svg.timeline_svg([first, second])
    assert drawn.count('class="lane"') == 4
    assert sorted(asked) == sorted([id(first.events), id(second.events)])


def test_it_exports_only_its_own_names() -> None:
    """Every name in ``__all__`` is defined in ``tracer.export.svg`` itself: no re-exports of
    the drawing constants, titles, legend or numbers kept for old importers."""
    foreign = [
        name
        for name in svg.__all__
        if getattr(getattr(svg, name), "__module__", None) != svg.__name__
    ]
    assert foreign == []
    assert set(svg.__all__) == {"timeline_svg", "export_svg", "drawn_lanes"}
