"""The ``Viewport``: which stretch of time is on screen, at what zoom, and where the cursor is.

One viewport is shared by every timeline on the screen (compare mode stacks two recordings on
one time axis with one cursor). Pure arithmetic: no Textual, nothing of ours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Viewport", "MIN_NS_PER_CELL", "SPEEDS"]

MIN_NS_PER_CELL = 10.0
"""The deepest zoom: 10 ns per cell (finer than any clock the recordings use)."""

SPEEDS: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
"""Playback speeds; 1× moves the cursor across the visible window in ``SWEEP_S`` seconds."""

SWEEP_S = 10.0


@dataclass(slots=True)
class Viewport:
    """The visible time window ``[start, start + ns_per_cell * width)`` and the cursor."""

    t_max: int = 0
    """The end of the longest recording on screen."""
    t_min: int = 0
    """Where the recordings' activity begins (``tracer.recording.view_start``): fitting starts
    there, so a run whose server took a while to start does not open on a stretch of nothing."""
    width: int = 80
    """Cells available to the time axis (the screen minus the lane labels)."""
    start: float = 0.0
    """Time at the left edge, in ns."""
    ns_per_cell: float = 1.0
    """Zoom: nanoseconds per terminal cell."""
    cursor: int = 0
    """The time cursor, in ns."""
    speed: float = 1.0
    """Playback speed, one of ``SPEEDS``."""
    playing: bool = False
    """Whether the cursor is moving on its own."""

    @property
    def end(self) -> float:
        """Time at the right edge."""
        return self.start + self.ns_per_cell * self.width

    def fit(self, width: int | None = None) -> None:
        """Show the whole recording (with a cell of margin) in ``width`` cells."""
        if width is not None:
            self.width = max(1, width)
        self.start = float(self.t_min)
        self.ns_per_cell = self._fit_ns_per_cell()

    def _fit_ns_per_cell(self) -> float:
        return max(MIN_NS_PER_CELL, self.length / max(1, self.width - 1))

    @property
    def at_fit(self) -> bool:
        """Whether the window is exactly what ``fit`` shows at this width (nothing zoomed or
        panned since), so a resize should fit again rather than keep the zoom."""
        # Close, not equal: a zoom recomputed from the span (a resize that kept the width)
        # differs from fit's in the last bit.
        return self.fitted and math.isclose(self.ns_per_cell, self._fit_ns_per_cell(), rel_tol=1e-9)

    @property
    def length(self) -> int:
        """The stretch of time from ``t_min`` to ``t_max`` (at least 1 ns)."""
        return max(1, self.t_max - self.t_min)

    @property
    def fitted(self) -> bool:
        """Whether the window starts where ``fit`` puts it (``t_min``)."""
        return self.start == self.t_min

    def resize(self, width: int) -> None:
        """Keep the left edge and zoom when the screen changes size (fit if never fitted)."""
        self.width = max(1, width)

    def column(self, t: float) -> int:
        """The cell column of time ``t`` (may be off screen: negative or ``>= width``)."""
        return int((t - self.start) // self.ns_per_cell)

    def time_at(self, column: int) -> int:
        """The time at the left edge of ``column``."""
        return int(self.start + column * self.ns_per_cell)

    def zoom(self, factor: float, around: float | None = None) -> None:
        """Multiply the zoom by ``factor`` (>1 zooms in, down to ``MIN_NS_PER_CELL``; <1 out,
        up to fit), keeping ``around`` (default: the cursor if visible, else the middle) at
        the same column as far as the window may go (it stays on the recording)."""
        if around is None:
            around = (
                self.cursor if self.start <= self.cursor < self.end else (self.start + self.end) / 2
            )
        column = (around - self.start) / self.ns_per_cell
        # Zooming out stops at fit: past it, the screen would show time outside the recording.
        max_npc = self._fit_ns_per_cell()
        self.ns_per_cell = min(max_npc, max(MIN_NS_PER_CELL, self.ns_per_cell / factor))
        self.start = around - column * self.ns_per_cell
        self._clamp()

    def pan(self, cells: float) -> None:
        """Move the window by ``cells`` columns (negative: towards the start), no further
        than either end of the recording."""
        self.start += cells * self.ns_per_cell
        self._clamp()

    def _clamp(self) -> None:
        """Keep the window on the recording: its left edge never before ``t_min``, its right
        edge never more than fit's one cell past ``t_max`` (the cell the cursor takes at the
        end); a window longer than the recording starts at ``t_min``, as fit puts it."""
        span = self.ns_per_cell * self.width
        low = float(self.t_min)
        high = max(low, self.t_max + self.ns_per_cell - span)
        self.start = min(max(self.start, low), high)

    def set_cursor(self, t: float, *, follow: bool = True) -> None:
        """Move the cursor to ``t`` (clamped to the recording); scroll to keep it in view."""
        self.cursor = int(min(max(self.t_min, t), self.t_max))
        if follow and not (self.start <= self.cursor < self.end):
            self.start = self.cursor - self.ns_per_cell * self.width / 4
            self._clamp()

    def faster(self) -> None:
        """Next playback speed up (at most 10×)."""
        self.speed = next((s for s in SPEEDS if s > self.speed), SPEEDS[-1])

    def slower(self) -> None:
        """Next playback speed down (at least 0.1×)."""
        self.speed = next((s for s in reversed(SPEEDS) if s < self.speed), SPEEDS[0])

    def advance(self, seconds: float) -> bool:
        """Move a playing cursor by ``seconds`` of real time; False once it hits the end."""
        if not self.playing:
            return False
        window = self.ns_per_cell * self.width
        step = window * self.speed * seconds / SWEEP_S
        if self.cursor + step >= self.t_max:
            self.set_cursor(self.t_max)
            self.playing = False
            return False
        self.set_cursor(self.cursor + max(1.0, step))
        if self.cursor > self.start + window * 0.9 and self.end < self.t_max:
            # Page forward so the cursor never runs off the right edge while playing (not when
            # the end is already on screen: a fitted view stays fitted).
            self.start = self.cursor - window * 0.1
            self._clamp()
        return True
