"""UI labels: every language has every label the UI uses."""

from __future__ import annotations

from tracer.tui.help import KEYS
from tracer.tui.labels import LABELS, labels
from tracer.tui.lane import PHASE_NAMES


def test_languages_share_their_keys() -> None:
    """English and Chinese define the same label keys, none empty."""
    assert set(LABELS["en"]) == set(LABELS["zh"])
    assert all(value.strip() for lang in LABELS.values() for value in lang.values())


def test_keys_and_phases_have_labels() -> None:
    """Every key binding and phase has a label in each language; unknown languages fall back."""
    for lang in LABELS:
        for key in KEYS:
            assert key.label in LABELS[lang]
        for name in PHASE_NAMES:
            assert name in LABELS[lang]
    assert labels("xx") is LABELS["en"]


def test_the_chinese_mouse_note_wraps_between_clauses() -> None:
    """The help's mouse line has no spaces in Chinese but between its clauses, so at any
    width it wraps there, never inside "ctrl" or "shift"."""
    import io

    from rich.console import Console

    from tracer.tui.help import ClauseFlow

    for width in range(30, 90):
        console = Console(file=io.StringIO(), width=width, color_system=None)
        console.print(ClauseFlow(labels("zh")["mouse"]))
        lines = console.file.getvalue().splitlines()
        assert all("ctrl+" in line or "ctrl" not in line for line in lines), (width, lines)
        assert all("shift+" in line or "shift" not in line for line in lines), (width, lines)
        assert all(not line.rstrip().endswith(("c", "ct", "ctr", "s", "sh")) for line in lines)
