"""Words the replay spells itself are in its language: the by-worker view's loop lanes."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tracer.recording import Recording
from tracer.tui.app import render_svg

pytestmark = pytest.mark.timeout(60)


def _svg_text(svg: str) -> str:
    # The cells' spaces are written as no-break spaces.
    return "".join(ET.fromstring(svg).itertext()).replace("\xa0", " ")


def test_loop_lanes_are_named_in_the_replays_language(sim_loop: Recording) -> None:
    """By worker, an event loop's lane is "loop <thread>" in English and "事件循环 <thread>" in
    Chinese (no English word left on a Chinese screen; the word the rest of the UI uses).
    120 columns: the label column is wide enough for both whole."""
    thread = next(e.thread for e in sim_loop.events if e.kind == "sched.step")
    english = _svg_text(render_svg([sim_loop], size=(120, 24), view="worker"))
    chinese = _svg_text(render_svg([sim_loop], size=(120, 24), view="worker", lang="zh"))
    assert f"loop {thread}" in english
    assert f"事件循环 {thread}" in chinese and f"loop {thread}" not in chinese
