"""The rps bars (tracer.tui.bar_chart.bar_rows): heights from zero, a column per value."""

from __future__ import annotations

from tracer.tui.bar_chart import bar_rows


def test_zero_is_no_bar_however_few_values() -> None:
    """No traffic is an empty chart: one zero, several, or none at all."""
    for values in ([0.0], [0.0, 0.0, 0.0], []):
        assert bar_rows(values, 6, 3) == ["      "] * 3


def test_bars_are_measured_from_zero_not_from_the_least_value() -> None:
    """Half the highest rate is half the height (min-to-max scaling drew it as nothing), and
    equal rates are all full; a small rate still shows."""
    assert bar_rows([10.0, 20.0], 4, 1) == ["▄█  "]
    assert bar_rows([10.0, 20.0], 2, 2) == [" █", "██"]
    assert bar_rows([5.0, 5.0], 3, 1) == ["██ "]
    assert bar_rows([0.1, 100.0], 2, 1) == ["▁█"]


def test_the_newest_values_fill_the_width() -> None:
    """More values than columns: the last ``width`` are drawn, oldest on the left."""
    assert bar_rows([8.0, 0.0, 0.0, 4.0, 8.0], 3, 1) == [" ▄█"]
