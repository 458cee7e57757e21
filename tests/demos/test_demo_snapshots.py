"""Snapshot tests of each scenario's first screen (--sim, stable) in English and Chinese.

Regenerate after a deliberate visual change with
``pytest tests/demos/test_demo_snapshots.py --snapshot-update`` and review the SVG diff.
"""

from __future__ import annotations

from typing import Any

import pytest
from demo_cache import simulated

from tracer.demos import LANGS, SCENARIOS
from tracer.tui.app import ReplayApp

pytestmark = pytest.mark.timeout(180)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_first_screen(snap_compare: Any, name: str, lang: str) -> None:
    """Both recordings, the caption and the labels in ``lang``; CJK text keeps lanes aligned."""
    demo = simulated(name, lang)
    app = ReplayApp(demo.recordings, caption=demo.caption, lang=lang)
    assert snap_compare(app, terminal_size=(120, 40))
