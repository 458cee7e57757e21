"""``tracer.export.axis``: ticks at round times, labelled in the largest unit that fits."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tracer.export.axis import axis, tick_label, tick_step


def test_ticks_are_one_two_or_five_times_a_power_of_ten() -> None:
    assert [tick_step(raw) for raw in (0, 0.5, 1, 3, 7, 15, 12_500_000)] == [
        1,
        1,
        1,
        5,
        10,
        20,
        20_000_000,
    ]


def test_a_tick_is_labelled_in_its_largest_unit() -> None:
    assert [tick_label(ns) for ns in (0, 40_000, 250_000_000, 1_500_000_000)] == [
        "0",
        "40 µs",
        "250 ms",
        "1.5 s",
    ]


def test_the_last_label_ends_at_its_tick_rather_than_be_cut() -> None:
    """0 to 100 ms on a 300 px figure: ticks every 20 ms, the last one's label anchored at
    its end (centred, it would run past the edge)."""
    parts = axis(0, 300, (0, 100_000_000))
    labels = [ET.fromstring(f"<g>{part}</g>").find("text") for part in parts[1:]]
    assert [(t.text, t.get("text-anchor")) for t in labels if t is not None] == [
        ("0", "middle"),
        ("20 ms", "middle"),
        ("40 ms", "middle"),
        ("60 ms", "middle"),
        ("80 ms", "middle"),
        ("100 ms", "end"),
    ]
