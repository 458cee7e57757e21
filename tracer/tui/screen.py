"""The ``ReplayScreen``: one recording, or two stacked on one time axis with one cursor.

It owns the shared ``Viewport`` and every key of the replay (see ``tracer.tui.help.KEYS``);
widgets only draw. The live dashboard switches to this screen when its run ends.
Imports Textual and tracer.tui only; never a shim or a server.
"""

from __future__ import annotations

import bisect
import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Static

from tracer.events import Event
from tracer.printable import printable
from tracer.recording import view_start
from tracer.tui.axis import Axis, format_cursor, format_time
from tracer.tui.caption import Caption
from tracer.tui.detail import DetailPane, detail_text
from tracer.tui.help import HelpScreen, bindings
from tracer.tui.labels import headed
from tracer.tui.lane_strip import prepare as prepare_lane
from tracer.tui.legend import Legend
from tracer.tui.model import RequestLanes, TimelineModel
from tracer.tui.summary_panel import SummaryPanel
from tracer.tui.svg_cells import offline_svg
from tracer.tui.timeline import Timeline, label_width_for
from tracer.tui.viewport import Viewport

__all__ = ["ReplayScreen", "Bookmark", "as_bookmark", "FRAME_S", "FIGURES_ON_A_THREAD"]

FRAME_S = 1 / 30
"""Playback tick (30 frames a second)."""

FIGURES_ON_A_THREAD = 100_000
"""From how many events a recording's summary panel is filled after the first frame, its
figures computed on a thread (10,000 requests take about half a second); a smaller one's are
in the first frame."""

ZOOM_STEP = 1.5


@dataclass(frozen=True, slots=True)
class Bookmark:
    """A moment to jump to with ``m``: where, its name, the caption to show there, and the
    request it points at, if any (``m`` selects that request's lane, so enter opens it)."""

    t: int
    label: str
    caption: str = ""
    req: int | None = None
    """The request the caption speaks of (a ``mark`` event's ``data.req``)."""
    side: int | None = None
    """The recording ``req`` is in, top first (a compare's two may both have that number);
    None: the active one if it has the request, else the first that has."""


def as_bookmark(item: Bookmark | Event | tuple[Any, ...], side: int | None = None) -> Bookmark:
    """A ``Bookmark`` from a bookmark, a ``mark`` event (data: label, caption, req) or a
    ``(t, label[, caption])`` tuple; ``side``: the recording on screen a mark event is from."""
    if isinstance(item, Bookmark):
        return item
    if isinstance(item, Event):
        data = item.data if isinstance(item.data, dict) else {}
        req = data.get("req")
        return Bookmark(
            item.t,
            str(data.get("label", "")),
            str(data.get("caption", "")),
            # A number only (a bool is an int to Python, not a request).
            req if isinstance(req, int) and not isinstance(req, bool) else None,
            side,
        )
    label, caption = (str(part) for part in (*item[1:3], "")[:2])
    return Bookmark(int(item[0]), label, caption)


class ReplayScreen(Screen[None]):
    """Status line, summaries, axis, timelines, detail pane, caption and legend."""

    BINDINGS = bindings()
    # The screen itself never scrolls: its scrollbar would take two columns from every row
    # (the detail pane cuts its rows to the full width), and the lanes scroll on their own.
    DEFAULT_CSS = """
    ReplayScreen { overflow-y: hidden; }
    """

    def __init__(
        self,
        models: Sequence[TimelineModel],
        labels: Mapping[str, str],
        *,
        view: str = "request",
        caption: str | None = None,
        bookmarks: Sequence[Bookmark | Event | tuple[Any, ...]] | None = None,
        cursor: int | None = None,
        detail: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.models = list(models)
        self.labels = labels
        self.view = view
        self.caption = caption or ""
        t_max = max((m.t_end for m in self.models), default=0)
        first = max(0, min((m.t_start for m in self.models), default=0))
        self.viewport = Viewport(t_max=t_max, t_min=view_start(first, t_max))
        self.viewport.cursor = self.viewport.t_min
        self._initial_cursor = cursor
        self._initial_detail = detail
        self._clock = clock
        self._last_tick = 0.0
        if bookmarks is None:
            # Each mark keeps the recording it is from: its request is that recording's.
            found = [as_bookmark(e, side) for side, m in enumerate(self.models) for e in m.marks]
        else:
            found = [as_bookmark(b) for b in bookmarks]
        self.bookmarks = sorted(found, key=lambda b: b.t)
        self._times: list[int] | None = None
        """Every event time of the recordings on screen, sorted (``_event_times``)."""
        self._times_lock = threading.Lock()
        # By time, then recording; a block with no request (req null) sorts with its time's
        # others without comparing None to an int.
        self._blocked = sorted(
            ((e.t, i, e.req) for i, model in enumerate(self.models) for e in model.blocked),
            key=lambda block: (block[0], block[1], block[2] is not None, block[2] or 0),
        )
        self._active = 0
        self._unsummed: list[tuple[SummaryPanel, TimelineModel]] = []
        """The summary panels composed without their figures, and their models."""

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Build the widgets; timelines share ``self.viewport``."""
        width = self.app.size.width
        offset = label_width_for(width)
        yield Static(id="status")
        with Horizontal(id="summaries"):
            for model in self.models:
                # A big recording's figures take seconds: the first frame does not wait for
                # them (``_sum_up``); a small one's are there at once, in the first frame.
                later = len(model.recording.events) >= FIGURES_ON_A_THREAD
                summary, samples = (None, None) if later else model.figures()
                panel = SummaryPanel(
                    model.recording.title_in(self.labels["lang"]),
                    summary,
                    self.labels,
                    truncated=model.recording.truncated,
                    samples=samples,
                    has_loop=model.has_loop,
                )
                if later:
                    self._unsummed.append((panel, model))
                yield panel
        yield Axis(self.viewport, offset, id="axis")
        compare = len(self.models) > 1
        for index, model in enumerate(self.models):
            if compare:
                # Its colours come from the stylesheet: the active recording's are reversed.
                yield Static(
                    Text(printable(model.recording.title_in(self.labels["lang"])), no_wrap=True),
                    classes="lane-title",
                )
            yield Timeline(
                model,
                self.viewport,
                view=self.view,
                label_width=offset,
                empty_text=self.labels["no_requests"],
                id=f"timeline-{index}",
            )
        detail = DetailPane(id="detail")
        detail.border_title = self.labels["detail_keys"]
        yield detail
        yield Caption(self.caption, self.labels["caption_more"], id="caption")
        # Its entries for a request that never ended, and for abandoned work, only when a lane
        # has them; the blocked loop's only when a recording had a loop.
        incomplete = any(model.unended for model in self.models)
        abandoned = any(model.abandoned for model in self.models)
        has_loop = any(model.has_loop for model in self.models)
        yield Legend(
            self.labels, incomplete=incomplete, abandoned=abandoned, has_loop=has_loop, id="legend"
        )

    @property
    def active(self) -> int:
        """The index of the timeline keys act on; in compare mode its title is highlighted."""
        return self._active

    @active.setter
    def active(self, index: int) -> None:
        self._active = index
        for which, title in enumerate(self.query(".lane-title")):
            title.set_class(which == index, "active")

    @property
    def timelines(self) -> list[Timeline]:
        """The timelines, top to bottom."""
        return list(self.query(Timeline))

    @property
    def timeline(self) -> Timeline:
        """The active timeline (the one keys select lanes in)."""
        return self.timelines[self.active]

    def on_mount(self) -> None:
        """Fit the recording to the screen and start the playback clock."""
        self._fit_summaries()
        self._sync_width()
        self.viewport.fit()
        self.active = self._active  # highlights its title
        if self._initial_cursor is not None:
            self.viewport.set_cursor(self._initial_cursor)
        self.timeline.focus()
        self.set_interval(FRAME_S, self._tick)
        if self._initial_detail is not None:
            self.timeline.select(self._initial_detail)
            self._show_detail()
        self._refresh_all()
        self.call_after_refresh(self._prepare_ahead)
        if self._unsummed:
            self.call_after_refresh(self._sum_up)

    def _sum_up(self) -> None:
        # The figures of the summary panels the first frame went without, computed on a
        # thread once it is up and posted to their panels (``post_message`` is thread-safe;
        # a closing app drops the message, a closed loop refuses it).
        pending, self._unsummed = self._unsummed, []

        def sum_up() -> None:
            for panel, model in pending:
                try:
                    figures = SummaryPanel.Figures(*model.figures())
                except Exception as exc:  # raised again on the UI's thread, as before
                    figures = SummaryPanel.Figures(None, None, exc)
                with contextlib.suppress(RuntimeError):
                    panel.post_message(figures)

        threading.Thread(target=sum_up, name="replay-summary", daemon=True).start()

    @property
    def summed_up(self) -> bool:
        """Whether every summary panel shows its figures (a big recording's come after the
        first frame, computed on a thread of their own)."""
        return all(panel.filled for panel in self.query(SummaryPanel))

    def _prepare_ahead(self) -> None:
        # What a first key would otherwise build on the UI thread, built on a thread once the
        # first frame is up: the event times , and . step through, and the by-worker lanes
        # (every scheduling event, then each long lane's overview). Each takes seconds of a big
        # recording; the first , . or v finds it ready (or waits for it, never builds it
        # twice). The request lanes need no such help: they are built a row at a time, as they
        # come on screen.
        models = list(self.models)
        workers = self.view == "request"

        def build() -> None:
            try:
                self._build_event_times()
                if workers:
                    for model in models:
                        for lane in model.by_worker:
                            prepare_lane(lane)
            except Exception:  # the key meets the same error, and says it
                return

        threading.Thread(target=build, name="replay-prepare", daemon=True).start()

    def on_resize(self, event: events.Resize) -> None:
        """Keep the labels and time axis in proportion to the new width.

        A view at fit is fitted again (a terminal shrunk to a few cells and grown back must not
        stay zoomed out); one zoomed in at the start keeps the stretch of time it showed.
        """
        vp = self.viewport
        at_fit, old_width = vp.at_fit, vp.width
        keep_span = vp.fitted and vp.width > 1
        old_span = vp.end - vp.start
        self._fit_summaries()
        self._sync_width()
        if at_fit and vp.width != old_width:
            vp.fit()
        elif keep_span:
            vp.ns_per_cell = max(1.0, old_span / max(1, vp.width))
        self._refresh_all()
        if self.query_one(DetailPane).is_open:
            self._show_detail(home=False)  # its rows are cut to the width

    def _fit_summaries(self) -> None:
        # A short terminal (two recordings: one under 32 rows): keep the lanes, cut the
        # summaries to their most telling rows (the items are ordered for this).
        # Under 16 rows (one recording) two rows of figures, so the legend still fits.
        height = self.size.height or self.app.size.height
        compare = len(self.models) > 1
        rows = 3 if height < (32 if compare else 24) else None
        if height < 16 and not compare:
            rows = 2
        for panel in self.query(SummaryPanel):
            panel.styles.max_height = rows

    def _sync_width(self) -> None:
        width = self.size.width or self.app.size.width
        offset = label_width_for(width)
        self.query_one(Axis).label_offset = offset
        for timeline in self.timelines:
            timeline.set_label_width(offset)
        # One column goes to the timeline's vertical scrollbar.
        self.viewport.resize(max(1, width - offset - 1))

    # -- drawing ----------------------------------------------------------------------------

    def _refresh_all(self) -> None:
        vp = self.viewport
        lab = self.labels
        # "‖", not "⏸" (U+23F8): common monospace fonts have no glyph for that (an empty box).
        state = f"▶ {lab['playing']}" if vp.playing else f"‖ {lab['paused']}"
        view = lab["by_worker"] if self.view == "worker" else lab["by_request"]
        status = Text(no_wrap=True, overflow="ellipsis")
        status.append(f"{state} {vp.speed:g}×  ", "bold")
        status.append(f"{lab['cursor']} {format_cursor(vp.cursor, vp)}  ")
        status.append(f"{headed(lab, 'view')}{view}  ", "bold #00afd7")
        status.append(f"{format_time(vp.ns_per_cell)} {lab['per_cell']}  ")
        status.append(lab["help_hint"], "#8a8a8a")
        self.query_one("#status", Static).update(status)
        self.query_one(Axis).refresh()
        for timeline in self.timelines:
            timeline.refresh()
        detail = self.query_one(DetailPane)
        if detail.is_open and self.view == "worker":
            # What holds the worker at the cursor; the reader's place in the pane stays.
            self._show_detail(home=False)

    def _show_detail(self, *, home: bool = True) -> None:
        timeline = self.timeline
        lane = timeline.selected_lane
        if lane is None:
            return
        detail = self.query_one(DetailPane)
        width = detail.text_width(self.size.width or self.app.size.width)
        text = detail_text(timeline.model, lane, self.labels, self.viewport.cursor, width=width)
        if len(self.models) > 1:
            # Two recordings: the same request number may be in both; say whose this is.
            text = self._source_line(timeline.model) + text
        detail.show(text, home=home)

    def _source_line(self, model: TimelineModel) -> Text:
        recording = model.recording
        source = Text(headed(self.labels, "recording"), "#8a8a8a")
        source.append(printable(model.recording.title_in(self.labels["lang"])), "bold")
        if recording.path is not None:
            source.append(f"  ({printable(PurePath(recording.path).name)})", "#8a8a8a")
        source.append("\n")
        return source

    def _follow_selection(self) -> None:
        # The detail pane, when open, always shows the selected lane.
        if self.query_one(DetailPane).is_open:
            self._show_detail()

    def set_caption(self, text: str) -> None:
        """Show ``text`` in the caption pane (hide it when empty)."""
        self.query_one(Caption).show(text)

    # -- playback ---------------------------------------------------------------------------

    def _tick(self) -> None:
        now = self._clock()
        elapsed = now - self._last_tick if self._last_tick else FRAME_S
        self._last_tick = now
        if self.viewport.playing:
            self.viewport.advance(min(elapsed, 0.25))
            self._refresh_all()

    def action_toggle_play(self) -> None:
        """Play or pause; playing from the end starts again at the beginning."""
        vp = self.viewport
        if not vp.playing and self._at_end:
            vp.set_cursor(vp.t_min)
        vp.playing = not vp.playing
        self._last_tick = 0.0
        self._refresh_all()

    @property
    def _at_end(self) -> bool:
        # Within the last cell, or past the last event: playing on would show nothing more
        # (the cursor on the last event via "." or a click at the right edge is "the end").
        vp = self.viewport
        last = max((model.t_last for model in self.models), default=vp.t_max)
        return vp.cursor >= min(last, vp.t_max - vp.ns_per_cell)

    def action_slower(self) -> None:
        """Halve (roughly) the playback speed."""
        self.viewport.slower()
        self._refresh_all()

    def action_faster(self) -> None:
        """Double (roughly) the playback speed."""
        self.viewport.faster()
        self._refresh_all()

    # -- cursor -----------------------------------------------------------------------------

    def _move_cursor(self, t: float) -> None:
        self.viewport.set_cursor(t)
        self._refresh_all()

    @property
    def event_times_ready(self) -> bool:
        """Whether the times ``,`` and ``.`` step through are built (ahead, on a thread of
        their own, once the first frame is up): then a step is a bisection."""
        return self._times is not None

    @property
    def _event_times(self) -> list[int]:
        times = self._times
        return times if times is not None else self._build_event_times()

    def _build_event_times(self) -> list[int]:
        """Every event time of the recordings on screen, sorted, built once: whoever comes
        second (the thread ahead, or a key pressed before it is done) waits for the first."""
        with self._times_lock:
            if self._times is None:
                # Each model's are sorted: their runs merge in one pass. A time in both is
                # there twice, which bisecting past or before the cursor does not mind.
                runs = [model.event_times for model in self.models]
                self._times = runs[0] if len(runs) == 1 else sorted(t for run in runs for t in run)
            return self._times

    def action_prev_event(self) -> None:
        """Cursor to the previous event of any recording on screen."""
        index = bisect.bisect_left(self._event_times, self.viewport.cursor) - 1
        if index >= 0:
            self._move_cursor(self._event_times[index])

    def action_next_event(self) -> None:
        """Cursor to the next event."""
        index = bisect.bisect_right(self._event_times, self.viewport.cursor)
        if index < len(self._event_times):
            self._move_cursor(self._event_times[index])

    def action_next_blocked(self) -> None:
        """Cursor to the next ``loop.blocked``; select the request that blocked the loop."""
        index = bisect.bisect_right(self._blocked, (self.viewport.cursor, len(self.models), 0))
        if index >= len(self._blocked):
            self.notify(self.labels["no_further_blocked"], timeout=2)
            return
        t, which, req = self._blocked[index]
        self._select_request(which, req)
        self._move_cursor(t)
        self._follow_selection()

    def _select_request(self, which: int, req: int | None) -> None:
        """Make recording ``which`` the active one and select request ``req``'s lane in it,
        scrolled into view (by-request lanes; a lane of none, or another view: only the
        recording is made active)."""
        self.active = which
        timeline = self.timeline
        timeline.focus()
        lanes = timeline.lanes
        if isinstance(lanes, RequestLanes) and req is not None:
            found = lanes.index_of(req)
            if found is not None:
                timeline.select(found)

    def _side_of(self, mark: Bookmark) -> int | None:
        """The recording whose request ``mark`` points at: its own, else the active one when
        it has that request, else the first that has (None: no recording shown has it)."""
        if mark.req is None:
            return None
        if mark.side is not None:
            return mark.side if 0 <= mark.side < len(self.models) else None
        order = [self.active, *(i for i in range(len(self.models)) if i != self.active)]
        held = (i for i in order if self.models[i].by_request.index_of(mark.req) is not None)
        return next(held, None)

    def action_next_mark(self) -> None:
        """Cursor to the next bookmark; its caption goes in the caption pane, and the request
        it points at, if any, is selected (its recording made active): enter opens it."""
        mark = next((b for b in self.bookmarks if b.t > self.viewport.cursor), None)
        if mark is None:
            # As b does: say why nothing moved.
            self.notify(self.labels["no_further_mark"], timeout=2)
            return
        if mark.caption or mark.label:
            colon = self.labels["colon"]  # Chinese takes a full-width one
            self.set_caption(f"{mark.label}{colon}{mark.caption}" if mark.caption else mark.label)
        side = self._side_of(mark)
        if side is not None:
            self._select_request(side, mark.req)
        self._move_cursor(mark.t)
        if side is not None:
            self._follow_selection()

    def action_toggle_caption(self) -> None:
        """Show the whole caption, or only its first lines again (a long one is cut at five)."""
        self.query_one(Caption).toggle_whole()

    def action_cursor_home(self) -> None:
        """Cursor to the start of the recording (of its activity, when it starts late)."""
        self._move_cursor(self.viewport.t_min)

    def action_cursor_end(self) -> None:
        """Cursor to the end of the recording."""
        self._move_cursor(self.viewport.t_max)

    # -- zoom and pan -----------------------------------------------------------------------

    def action_zoom_in(self) -> None:
        """Zoom in around the cursor; a cursor off the screen is first brought to its middle
        (the help says "around the cursor": the stretch zoomed into is the one in view)."""
        vp = self.viewport
        if not vp.start <= vp.cursor < vp.end:
            vp.set_cursor((vp.start + vp.end) / 2, follow=False)
        vp.zoom(ZOOM_STEP)
        self._refresh_all()

    def action_zoom_out(self) -> None:
        """Zoom out around the cursor."""
        self.viewport.zoom(1 / ZOOM_STEP)
        self._refresh_all()

    def action_fit(self) -> None:
        """Show the whole recording."""
        self.viewport.fit()
        self._refresh_all()

    def action_pan(self, direction: int) -> None:
        """Move the window an eighth of a screen left (-1) or right (1)."""
        self.viewport.pan(direction * max(4, self.viewport.width // 8))
        self._refresh_all()

    def on_timeline_viewport_changed(self, message: Timeline.ViewportChanged) -> None:
        """The mouse zoomed or panned: redraw everything that shares the viewport."""
        self._refresh_all()

    # -- lanes ------------------------------------------------------------------------------

    def action_toggle_view(self) -> None:
        """Switch every timeline between by-request and by-worker lanes (each view keeps its
        own selection, so switching back finds the same lane)."""
        self.view = "worker" if self.view == "request" else "request"
        for timeline in self.timelines:
            timeline.set_view(self.view)
        self.query_one(DetailPane).close()
        self._refresh_all()

    def action_select(self, delta: int) -> None:
        """Move the selection bar up or down; an open detail pane follows it."""
        timeline = self.timeline
        timeline.select(timeline.selected + delta)
        self._follow_selection()

    def action_select_page(self, direction: int) -> None:
        """Page up (-1) or down (1): the lanes scroll by a screenful and the selection moves
        with them, staying on the same row (at the first or last lane at either end)."""
        timeline = self.timeline
        page = max(1, timeline.scrollable_content_region.height)
        timeline.scroll_to(y=timeline.scroll_y + direction * page, animate=False, immediate=True)
        timeline.select(timeline.selected + direction * page)
        self._follow_selection()

    def action_next_timeline(self) -> None:
        """Compare mode: keys act on the other recording's lanes from now on."""
        self.active = (self.active + 1) % len(self.models)
        self.timeline.focus()
        self._follow_selection()

    def action_toggle_detail(self) -> None:
        """Open the detail pane on the selected lane, or close it."""
        detail = self.query_one(DetailPane)
        if detail.is_open:
            detail.close()
        else:
            self._show_detail()

    def action_close_detail(self) -> None:
        """Close the detail pane."""
        self.query_one(DetailPane).close()

    def action_scroll_detail(self, lines: int) -> None:
        """Scroll the open detail pane by ``lines`` rows (the lanes keep the arrows)."""
        detail = self.query_one(DetailPane)
        if detail.is_open:
            detail.scroll_lines(lines)

    def action_scroll_detail_page(self, pages: int) -> None:
        """Scroll the open detail pane by ``pages`` of its height."""
        detail = self.query_one(DetailPane)
        if detail.is_open:
            detail.scroll_pages(pages)

    def on_timeline_picked(self, message: Timeline.Picked) -> None:
        """A click: select that lane, move the cursor there, show its detail."""
        self.active = self.timelines.index(message.timeline)
        message.timeline.select(message.index)
        if message.at is not None:
            self.viewport.set_cursor(message.at, follow=False)
        self._show_detail()
        self._refresh_all()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Keys act on the timeline that has focus (compare mode: tab switches)."""
        if isinstance(event.widget, Timeline):
            self.active = self.timelines.index(event.widget)

    # -- the rest ---------------------------------------------------------------------------

    def action_help(self) -> None:
        """Show the key bindings."""
        self.app.push_screen(HelpScreen(self.labels))

    def action_screenshot(self) -> None:
        """Save an SVG of the screen as it is now."""
        directory = getattr(self.app, "screenshot_dir", ".")
        try:
            path = self.app.save_screenshot(path=directory)
            # Textual wrote Rich's SVG, which sizes text runs by characters (CJK text would be
            # squeezed to half its cells) and fetches its font from the web: mend the file.
            shot = Path(path)
            shot.write_text(offline_svg(shot.read_text(encoding="utf-8")), encoding="utf-8")
        except OSError as error:
            # The folder went away or is read-only: say so, and the replay goes on.
            where = printable(str(error.filename or directory))  # the file it meant to write
            why = printable(error.strerror or str(error))
            text = self.labels["not_saved"].format(where=where, why=why)
            self.notify(text, severity="error", timeout=6, markup=False)
            return
        # A file name, shown as text: a "[" in it is not markup.
        self.notify(f"{self.labels['saved']} {printable(path)}", timeout=3, markup=False)

    async def action_quit(self) -> None:
        """Leave the app (the live dashboard stops its run first)."""
        await self.app.action_quit()
