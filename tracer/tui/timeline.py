"""The ``Timeline`` widget: lanes of one recording drawn through Textual's Line API.

Only the lanes on screen are rendered (``render_line(y)``), each row is cached as a ``Strip``
keyed by what it shows (view, lane, zoom, left edge, width, selection), and the cursor is laid
over the cached row, so playback redraws nothing but one column per lane. Time and zoom live in
a ``Viewport`` shared with the axis and any other timeline (compare mode).
Imports Textual, Rich and tracer.tui only; never a shim or a server.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.segment import Segment
from textual import events
from textual.binding import BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBarRender
from textual.strip import Strip

from tracer.tui.lane import Lane
from tracer.tui.lane_strip import label_segment, lane_segments
from tracer.tui.model import TimelineModel
from tracer.tui.palette import BLANK_STYLE, CURSOR_GLYPH, CURSOR_STYLE
from tracer.tui.viewport import Viewport

__all__ = ["Timeline", "label_width_for", "WholeCellScrollBar"]


class WholeCellScrollBar(ScrollBarRender):
    """A scrollbar whose thumb fills whole cells: Textual's ends the thumb with the block
    glyphs ``▁ ▂ ▅`` a cell high, which beside the lanes read as on-CPU bars."""

    VERTICAL_BARS: ClassVar[list[str]] = [" "] * len(ScrollBarRender.VERTICAL_BARS)


ZOOM_STEP = 1.5
PAN_CELLS = 8


def label_width_for(width: int) -> int:
    """Cells given to lane labels at a screen width: room for ``#1234 /path`` but no more."""
    return max(10, min(24, width // 6))


class Timeline(ScrollView, can_focus=True, inherit_bindings=False):
    """One lane per row; the left ``label_width`` cells name the lane, the rest is time."""

    # None of ScrollView's bindings: the focused widget's bindings come before the screen's, so
    # once the lanes overflow, down would scroll them instead of moving the selection, left/home
    # would scroll instead of panning and moving the cursor, and page down would scroll away
    # from the selection. The screen moves the selection and this widget keeps it in view.
    BINDINGS: ClassVar[list[BindingType]] = []

    DEFAULT_CSS = """
    Timeline {
        overflow-x: hidden; overflow-y: auto; height: 1fr; scrollbar-size-vertical: 1;
        /* Grays no phase wears, so the thumb cannot be read as a lane's colour. */
        scrollbar-background: #262626; scrollbar-background-hover: #262626;
        scrollbar-background-active: #262626; scrollbar-color: #585858;
        scrollbar-color-hover: #6c6c6c; scrollbar-color-active: #8a8a8a;
    }
    """

    class Picked(Message):
        """A lane was clicked (``at`` is where, or None over the labels)."""

        def __init__(self, timeline: Timeline, index: int, time: int | None) -> None:
            super().__init__()
            self.timeline = timeline
            self.index = index
            self.at = time

    class ViewportChanged(Message):
        """The mouse zoomed or panned the shared viewport."""

    def __init__(
        self,
        model: TimelineModel,
        viewport: Viewport,
        *,
        view: str = "request",
        label_width: int = 16,
        empty_text: str = "",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.model = model
        self.viewport = viewport
        self.view = view
        self.label_width = label_width
        self.selected = 0
        self._selected_in: dict[str, int] = {}
        """The selection each view had when it was left (switching back restores it)."""
        self.empty_text = empty_text
        self._cache: LRUCache[tuple[object, ...], Strip] = LRUCache(1024)
        self._drag_x: int | None = None
        self._dragged = False

    @property
    def lanes(self) -> Sequence[Lane]:
        """The lanes of the current view."""
        return self.model.lanes(self.view)

    @property
    def selected_lane(self) -> Lane | None:
        """The lane under the selection bar, if there are lanes."""
        lanes = self.lanes
        return lanes[self.selected] if 0 <= self.selected < len(lanes) else None

    def on_mount(self) -> None:
        """Size the virtual canvas to the lanes; a scrollbar that draws no phase glyph."""
        # Set on this scrollbar only, as Textual documents (its class keeps the default).
        self.vertical_scrollbar.renderer = WholeCellScrollBar  # type: ignore[misc]
        self._update_virtual_size()

    def on_resize(self, event: events.Resize) -> None:
        """Keep the canvas as wide as the widget and the selected lane on screen.

        The widget changes height when the detail pane opens or closes, and when the terminal
        is resized: without scrolling, the selection would be left above or below the rows.
        """
        self._update_virtual_size()
        self.scroll_to_selected()

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.lanes))

    def set_model(self, model: TimelineModel) -> None:
        """Show another model (the live view swaps in a fresh one as events arrive)."""
        self.model = model
        self._cache.clear()
        self.selected = min(self.selected, max(0, len(self.lanes) - 1))
        self._update_virtual_size()
        self.refresh()

    def set_label_width(self, width: int) -> None:
        """Give lane labels ``width`` cells (the screen was resized)."""
        if width != self.label_width:
            self.label_width = width
            self._cache.clear()

    def set_view(self, view: str) -> None:
        """Switch between ``request`` and ``worker`` lanes, back to the lane the view had
        selected when it was left (the first, the first time)."""
        self._selected_in[self.view] = self.selected
        self.view = view
        self.selected = min(self._selected_in.get(view, 0), max(0, len(self.lanes) - 1))
        self.scroll_to(y=0, animate=False, immediate=True)
        self._update_virtual_size()
        self.scroll_to_selected()
        self.refresh()

    def select(self, index: int) -> None:
        """Move the selection bar to lane ``index`` and scroll it into view."""
        count = len(self.lanes)
        if not count:
            return
        self.selected = max(0, min(count - 1, index))
        self.scroll_to_selected()
        self.refresh()

    def scroll_to_selected(self) -> None:
        """Scroll (as little as possible) so the selected lane is on screen."""
        if self.lanes:
            self.scroll_to_region(Region(0, self.selected, 1, 1), animate=False, immediate=True)

    # -- rendering --------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        """Row ``y`` of the widget: a lane, its label and the cursor."""
        width = self.size.width
        index = int(self.scroll_offset.y) + y
        lanes = self.lanes
        if index >= len(lanes):
            if not lanes and y == 0 and self.empty_text:
                text = Segment(self.empty_text, BLANK_STYLE)
                return Strip([text]).crop_extend(0, width, BLANK_STYLE)
            # Styled, even blank: NO_COLOR's filter fails on a segment with no style (palette).
            return Strip.blank(width, BLANK_STYLE)
        vp = self.viewport
        key = (self.view, index, vp.start, vp.ns_per_cell, width, index == self.selected)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._render_lane(lanes[index], width, index == self.selected)
            self._cache[key] = strip
        column = self.label_width + vp.column(vp.cursor)
        # The cursor goes behind the lane: drawn only where the lane has nothing, so it never
        # hides a cell (a request shorter than a cell, at the cursor, was not there at all).
        if self.label_width <= column < width and not strip.crop(column, column + 1).text.strip():
            strip = Strip.join(
                [
                    strip.crop(0, column),
                    Strip([Segment(CURSOR_GLYPH, CURSOR_STYLE)], 1),
                    strip.crop(column + 1, width),
                ]
            )
        return strip

    def _render_lane(self, lane: Lane, width: int, selected: bool) -> Strip:
        cells = max(0, width - self.label_width)
        vp = self.viewport
        segments = [
            label_segment(lane.label, self.label_width, selected=selected, error=lane.error)
        ]
        segments += lane_segments(
            lane, vp.start, vp.ns_per_cell, cells, worker=lane.kind != "request"
        )
        return Strip(segments).crop_extend(0, width, BLANK_STYLE)

    # -- mouse ------------------------------------------------------------------------------

    def _time_at_x(self, x: int) -> int | None:
        if x < self.label_width:
            return None
        return self.viewport.time_at(x - self.label_width)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        """Start dragging the time axis (a press over the lanes, not the labels)."""
        offset = event.get_content_offset(self)
        if offset is not None and offset.x >= self.label_width:
            self._drag_x = event.screen_x
            self._dragged = False
            self.capture_mouse()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        """Dragging pans: the time under the pointer follows it."""
        if self._drag_x is None:
            return
        delta = event.screen_x - self._drag_x
        if delta:
            self._drag_x = event.screen_x
            self._dragged = True
            self.viewport.pan(-delta)
            self.post_message(self.ViewportChanged())

    def on_mouse_up(self, event: events.MouseUp) -> None:
        """End a drag."""
        if self._drag_x is not None:
            self._drag_x = None
            self.release_mouse()

    def on_click(self, event: events.Click) -> None:
        """Select the clicked lane and move the cursor there (unless it ended a drag)."""
        if self._dragged:
            self._dragged = False
            return
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = int(self.scroll_offset.y) + offset.y
        if 0 <= index < len(self.lanes):
            self.post_message(self.Picked(self, index, self._time_at_x(offset.x)))

    def _zoom_or_pan(self, event: events.MouseEvent, direction: int) -> bool:
        if event.ctrl:
            offset = event.get_content_offset(self)
            around = self._time_at_x(offset.x) if offset is not None else None
            self.viewport.zoom(ZOOM_STEP if direction < 0 else 1 / ZOOM_STEP, around)
        elif event.shift:
            self.viewport.pan(direction * PAN_CELLS)
        else:
            return False
        event.stop()
        self.post_message(self.ViewportChanged())
        return True

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if not self._zoom_or_pan(event, -1):
            super()._on_mouse_scroll_up(event)

    def _on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if not self._zoom_or_pan(event, 1):
            super()._on_mouse_scroll_down(event)

    def _on_mouse_scroll_left(self, event: events.MouseScrollLeft) -> None:
        self.viewport.pan(-PAN_CELLS)
        event.stop()
        self.post_message(self.ViewportChanged())

    def _on_mouse_scroll_right(self, event: events.MouseScrollRight) -> None:
        self.viewport.pan(PAN_CELLS)
        event.stop()
        self.post_message(self.ViewportChanged())
