"""``tracer.export.bookmarks``: bookmark labels placed so that none overlaps another."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tracer.export.bookmarks import bookmark_labels, fit, label_rows
from tracer.export.drawing import text_width


def test_labels_that_would_overlap_stack_up_and_the_right_edge_turns_them() -> None:
    """Two labels 10 px apart take two rows; one near the right edge ends at its line (on
    the first row with room); a long one is cut to the room left of the figure's edge."""
    marks = [(100.0, "a" * 10), (110.0, "b" * 10), (990.0, "long label"), (300.0, "x" * 300)]
    placed = label_rows(marks, 1_000)
    assert [(at, row, anchor) for at, _, row, anchor, _ in placed] == [
        (104.0, 0, "start"),
        (114.0, 1, "start"),
        (304.0, 0, "start"),
        (986.0, 1, "end"),
    ]
    shown, whole = placed[2][1], placed[2][4]
    assert whole == "x" * 300 and shown.endswith("…")
    assert text_width(shown, 13) <= 1_000 - 2 - 304 < text_width(shown[:-1] + "x…", 13)


def test_a_label_cut_short_keeps_its_whole_text_as_its_tooltip() -> None:
    """Only the cut label is wrapped in a ``<g>`` whose ``<title>`` holds the whole text."""
    parts = bookmark_labels([(10.0, "ok", 0, "start", "ok"), (50.0, "lo…", 1, "start", "long")], 30)
    whole = ET.fromstring(parts[0])
    cut = ET.fromstring(parts[1])
    assert (whole.tag, whole.text, whole.get("y")) == ("text", "ok", "30.0")
    assert [child.tag for child in cut] == ["title", "text"]
    assert (cut[0].text, cut[1].text, cut[1].get("y")) == ("long", "lo…", "14.0")


def test_fit_leaves_what_fits_and_cuts_what_does_not() -> None:
    assert fit("short", 100, 13) == "short"
    assert fit("排队排队排队", 40, 13) == "排队…"
