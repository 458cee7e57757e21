"""The dashboard's header writes a time as the replay's panel, which it becomes, writes it from
the summary: both from the time rounded to the µs. Written from the raw ns, 50.2504 ms read
``50.3ms`` in the header and, from the summary's 50.25, ``50.2ms`` in the panel."""

from __future__ import annotations

import pytest

from tracer import figures
from tracer.tui.live import _ms


@pytest.mark.parametrize("ns", [50_250_400, 50_249_600, 12_345_678, 999_999, 150_500_400])
def test_the_header_writes_the_summary_s_figure(ns: int) -> None:
    summary_ms = round(ns / 1e6, 3)  # as the digest keeps a time in the summary
    assert _ms(ns) == figures.ms_in_short(summary_ms)
