"""How the slide exports write a figure: the HTML summary table and the SVG lanes' tooltips.

One rule for both, and for every other place a person reads a figure (``tracer.figures``,
where it is defined), so a latency reads the same in a tooltip, the table, the report and the
replay's panel.
"""

from __future__ import annotations

from tracer.figures import number

__all__ = ["number"]
