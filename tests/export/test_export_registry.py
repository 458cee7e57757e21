"""The exporter registry behind ``trace export --to``."""

from __future__ import annotations

import pytest

from tracer.errors import UsageError
from tracer.export import EXPORTERS, default_output, get_exporter
from tracer.recording import Recording


def test_every_registered_exporter_resolves_to_a_callable() -> None:
    """Each ``--to`` choice names an importable function."""
    assert {"otlp", "otlp-json", "console", "perfetto", "html", "svg"} <= set(EXPORTERS)
    for name in EXPORTERS:
        assert callable(get_exporter(name))


def test_an_unknown_target_is_a_usage_error_listing_the_choices() -> None:
    """The message names the bad target and the valid ones."""
    with pytest.raises(UsageError, match=r'"pdf".*console, html, otlp, otlp-json, perfetto, svg'):
        get_exporter("pdf")


def test_default_output_sits_next_to_the_recording() -> None:
    """``runs/a.jsonl.gz`` -> ``runs/a.perfetto.json``; in-memory -> ``out.perfetto.json``."""
    assert default_output(Recording({}, path="runs/a.jsonl.gz"), ".perfetto.json") == (
        "runs/a.perfetto.json"
    )
    assert default_output(Recording({}), ".otlp.json") == "out.otlp.json"
