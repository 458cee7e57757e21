"""The time axis: round tick steps, units that follow the zoom."""

from __future__ import annotations

import io

from rich.console import Console

from tracer.tui.axis import MIN_TICK_CELLS, AxisRenderable, format_time, ticks
from tracer.tui.viewport import Viewport


def test_tick_steps_are_round_and_spaced() -> None:
    """Steps are 1, 2 or 5 x 10^k ns, at least MIN_TICK_CELLS cells apart, on multiples."""
    for npc in (10.0, 333.0, 12_345.0, 2.5e6, 7e8):
        step, times = ticks(1234.0, npc, 200)
        mantissa = step / 10 ** (len(str(int(step))) - 1)
        assert mantissa in (1, 2, 5)
        assert step / npc >= MIN_TICK_CELLS
        assert all(t % step == 0 for t in times)


def test_units_follow_the_zoom() -> None:
    """Labels read in ns, µs, ms or s depending on the tick step."""
    assert format_time(500, 100) == "500ns"
    assert format_time(2_500, 500) == "2.5µs"
    assert format_time(12_000_000, 2_000_000) == "12ms"
    assert format_time(1_500_000_000, 500_000_000) == "1.5s"
    assert format_time(0, 1_000_000) == "0ms"


def test_axis_draws_labels_ruler_and_cursor() -> None:
    """Two rows after the label gutter: tick labels, then a ruler with the cursor."""
    vp = Viewport(t_max=100_000_000, width=100)
    vp.fit()
    vp.set_cursor(50_000_000)
    console = Console(file=io.StringIO(), width=120, color_system=None, legacy_windows=False)
    console.print(AxisRenderable(vp, 20, 120))
    first, second = console.file.getvalue().splitlines()[:2]
    assert first.startswith(" " * 20 + "0ms")
    assert second[20 + vp.column(vp.cursor)] == "▼"
    assert "┼" in second


def test_deep_zoom_far_from_zero_uses_the_unit_of_the_time() -> None:
    """Two seconds in at 10 ns per cell: seconds with the decimals the step needs, not
    ten-digit nanoseconds; times shown together (``around``) share one unit."""
    assert format_time(2_067_760_600, 200, around=2_067_761_600) == "2.0677606s"
    assert format_time(2_067_761_072, 20) == "2.06776107s"
    assert format_time(999_999_800, 200, around=1_000_000_400) == "0.9999998s"
    assert format_time(2_400_000_000, 200_000_000) == "2400ms"  # four digits still read well
    vp = Viewport(t_max=3_000_000_000, width=100)
    vp.fit()
    vp.set_cursor(2_067_761_072)
    for _ in range(60):
        vp.zoom(2)
    console = Console(file=io.StringIO(), width=120, color_system=None, legacy_windows=False)
    console.print(AxisRenderable(vp, 20, 120))
    labels_row = console.file.getvalue().splitlines()[0].split()
    assert labels_row and all(label.startswith("2.06776") for label in labels_row), labels_row
    assert all(label.endswith("s") and label[-2].isdigit() for label in labels_row)
