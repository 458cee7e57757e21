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
