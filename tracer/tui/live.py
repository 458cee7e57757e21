"""The live dashboard of ``trace run`` on a TTY, which becomes the replay when the run ends.

``run_live(recorder, work, title=...)`` runs ``work(stop)`` on a thread, takes the recorder's
batches through a thread-safe inbox (the subscriber runs on the recorder's writer thread; the UI
drains the inbox on a timer), shows progress, rps, in flight and queued, p50/p95/p99 (each once
enough requests are over to measure it: ``tracer.report.measures``), errors, a latency
histogram, the rps of each 100 ms gone by as bars from zero and the timeline of the most
recent requests (those in the app now kept on screen above the newest arrivals), the loop's
blocked time so far, and on a line of its own, only when there is something to say, the
lifespan's own blocking (left out of the loop's) and its failures, on a clock that follows the
run's wall time; when ``work`` returns it
loads the whole recording and builds its replay on a thread of its own (a big run's takes
seconds: meanwhile the dashboard shows its final figures, says the replay is coming, and ``q``
closes it without the replay), then switches to it. ``q`` sets ``stop``, waits for ``work`` to
flush and return, then exits, so the recording is always complete.

Given ``prints`` (a file), what the app writes in this process while the dashboard runs is
appended to it, never drawn over the dashboard nor dropped (Textual's own capture of ``print``
would drop it): ``sys.stdout`` and ``sys.stderr`` (``PrintsToFile``), and descriptors 1 and 2
themselves (a ``logging`` handler holding the original stderr, ``os.write(2, ...)``, a
subprocess, a C extension), while Textual draws on a duplicate of the terminal
(``OwnTerminalDriver``). Both are ``tracer.tui.own_terminal``'s, importable from here too.
Imports Textual, the spine, tracer.figures (how a figure is written) and tracer.tui only; never
a shim, a server or the load generator.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import sys
import termios
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, TextIO

from rich.text import Text
from textual.app import App, ComposeResult, ScreenStackError
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from tracer import figures
from tracer.errors import TracerError
from tracer.events import Event
from tracer.gc_pause import paused_gc
from tracer.printable import printable
from tracer.recorder import Recorder
from tracer.recording import Recording, load
from tracer.report import measures
from tracer.summary import load_of
from tracer.tui.axis import format_time
from tracer.tui.bar_chart import BarChart
from tracer.tui.held import hold_until_exit
from tracer.tui.labels import labels as get_labels
from tracer.tui.lane import BLOCKED
from tracer.tui.legend import Legend
from tracer.tui.live_stats import LiveSnapshot, LiveStats
from tracer.tui.model import build_model, header_has_loop, model_from_events
from tracer.tui.own_terminal import OwnTerminalDriver, PrintsToFile, restore_terminal
from tracer.tui.palette import COLOURS, IN_FLIGHT_GLYPH, IN_FLIGHT_STYLE
from tracer.tui.screen import ReplayScreen
from tracer.tui.summary_panel import NONE, lifespan_blocked_words, lifespan_failure_items
from tracer.tui.timeline import Timeline, label_width_for
from tracer.tui.viewport import Viewport

__all__ = [
    "run_live",
    "leave_terminal",
    "drop_typed_ahead",
    "stop_from_signal",
    "LiveApp",
    "LiveScreen",
    "ReplayBuilt",
    "PrintsToFile",
    "OwnTerminalDriver",
    "Work",
    "POLL_S",
]

Work = Callable[[threading.Event], None]
"""The run: it must return soon after its ``stop`` event is set, with the recording flushed."""

POLL_S = 0.25
"""How often the dashboard drains the inbox and redraws."""

# The dashboards on screen now (one, in practice), for ``leave_terminal``.
_ON_SCREEN: list[App[Any]] = []


class LiveScreen(Screen[None]):
    """Header, latency histogram and rps bars, the most recent requests, the legend."""

    BINDINGS = [Binding("q,ctrl+c", "stop_run", "quit", priority=True)]

    # On a terminal too small for it all, the bottom is cut rather than scrolled: a scrollbar
    # would draw its partial blocks beside the legend, where they read as on-CPU bars.
    DEFAULT_CSS = """
    LiveScreen { overflow: hidden hidden; }
    """

    def __init__(self, title: str, stats: LiveStats, labels: Any) -> None:
        super().__init__()
        self.run_title = title
        self.stats = stats
        self.labels = labels
        self.viewport = Viewport(t_max=1)
        self.message = ""
        self._widgets_mounted = False

    def compose(self) -> ComposeResult:
        """The dashboard widgets."""
        yield Static(id="live-header")
        with Horizontal(id="live-charts"):
            yield Static(id="histogram")
            with Vertical(id="rps-box"):
                yield Static(Text(self.labels["sparkline"], style="#8a8a8a"), id="rps-title")
                yield BarChart(id="rps")
        # The in-flight look is the live view's alone, so its key is here, not in the legend.
        title = Text.assemble(
            (self.labels["recent"], "bold"),
            "  ",
            (IN_FLIGHT_GLYPH * 2, IN_FLIGHT_STYLE),
            f" {self.labels['in_flight']}",
        )
        yield Static(title, id="live-recent-title")
        empty = Recording(header={"server": {}, "interface": None}, events=[])
        offset = label_width_for(self.app.size.width)
        yield Timeline(model_from_events(empty), self.viewport, label_width=offset, id="recent")
        yield Legend(self.labels, id="legend")

    def on_mount(self) -> None:
        """Draw the empty dashboard (with any message set before the widgets were there)."""
        self._widgets_mounted = True
        self.redraw()

    @property
    def drawable(self) -> bool:
        """Whether the dashboard's widgets are all there to be drawn.

        Not before ``on_mount``: the app handles keys and runs its poll timer while the screen
        is still mounting its widgets (``q`` pressed at once, a slow start). Not once the screen
        is closing: its message loop stops before its widgets are removed.
        """
        return self._widgets_mounted and self.is_running

    def redraw(self) -> None:
        """Refresh every widget from ``stats``; nothing to do while the screen is not drawable."""
        if not self.drawable:
            return
        try:
            self._redraw()
        except NoMatches:
            # The app is exiting (a second q while the screen still mounted): its widgets
            # are being removed under it, and there is nothing left to draw.
            return

    def _redraw(self) -> None:
        app = self.app
        live = app if isinstance(app, LiveApp) else None
        now = live.now() if live is not None else None
        ended = live is not None and live.done.is_set()
        if ended and live is not None and self.stats.load is None:
            # The load the header says (written as the server model opened, after this app
            # was made): the last frame's throughput is then the report's, an open loop's
            # over at least the time its arrivals were offered in.
            self.stats.load = load_of(live.recorder.header)
        # Once the run is over, its final figures: in flight and queued at its end.
        snap = self.stats.snapshot(None if ended else now)
        header = self.query_one("#live-header", Static)
        text = self._header(snap, header.content_size.width)
        # Two rows, or three when the figures' row would not fit the terminal (80 columns).
        rows = len(text.plain.splitlines())
        if header.styles.height is None or header.styles.height.value != rows:
            header.styles.height = rows
        header.update(text)
        self.query_one("#histogram", Static).update(self._histogram())
        chart = self.query_one("#rps", BarChart)
        # A column per bucket, as many as there is room for; the newest only once it is over.
        chart.data = self.stats.rps_series(max(60, chart.size.width), ended=ended, now=now)
        self._update_recent(snap.elapsed_ns)
        if live is not None:  # a WSGI app on threads or processes has no loop to block
            self.query_one("#legend", Legend).show_loop(header_has_loop(live.recorder.header))

    def _header(self, snap: LiveSnapshot, width: int = 0) -> Text:
        """Two rows (three on a narrow terminal), cut at the terminal's edge, so what matters
        most comes first: the clock, the key (or what is going on) and the loop's blocked time
        before the title; the counts, errors first, before the percentiles and the rate. Where
        the counts and the rates do not fit one row of ``width`` cells (0: any width), the
        rates get a row of their own (they need about 90 cells, in English as in Chinese).
        Then the lifespan's row (``_lifespan``), when there is one."""
        lab = self.labels
        header = Text(no_wrap=True, overflow="ellipsis")
        header.append(f"● {lab['live']}  ", "bold #ff5f5f")
        header.append(f"{format_time(snap.elapsed_ns, 1_000_000)}  ", "#8a8a8a")
        if self.message:
            header.append(f"{self.message}  ", "bold #ffd700")
        else:  # the one key it takes (the replay's keys come with the replay)
            header.append(f"{lab['live_keys']}  ", "#8a8a8a")
        if snap.blocked_ns:
            longest = lab["longest"]
            header.append(
                f"{lab['loop_blocked']} {_ms(snap.blocked_ns)} ({longest} "
                f"{_ms(snap.longest_block_ns)})  ",
                f"bold {COLOURS[BLOCKED]}",
            )
        header.append(printable(self.run_title), "bold #00afd7")
        header.append("\n")
        counts = Text()
        total = f"/{figures.count(snap.total)}" if snap.total else ""
        counts.append(f"{lab['progress']} {figures.count(snap.completed)}{total}  ")
        # Errors early: a narrow terminal cuts the line's end, and they matter more than p99.
        counts.append(
            f"{lab['errors']} {figures.count(snap.errors)}", "bold #ff5f5f" if snap.errors else ""
        )
        counts.append(
            f"  {lab['in_flight']} {figures.count(snap.in_flight)}"
            f"  {lab['queued']} {figures.count(snap.queued)}"
        )
        # A percentile of too few requests (p99 of the first ten) would read as a tail they
        # do not have: "–" until the sample measures it, as the replay's panel and the report.
        percentiles = (("p50", snap.p50_ms), ("p95", snap.p95_ms), ("p99", snap.p99_ms))
        rates = Text(
            "  ".join(
                f"{name} {_ms(ms * 1e6) if measures(name, snap.latencies) else NONE}"
                for name, ms in percentiles
            )
            # No time passed (a zero-time simulation): no rate, as the report's "n/a".
            + f"  {lab['rps']} {NONE if snap.rps is None else figures.rate(snap.rps)}"
        )
        header.append_text(counts)
        if width and counts.cell_len + 2 + rates.cell_len > width:
            header.append("\n")
        else:
            header.append("  ")
        header.append_text(rates)
        lifespan = self._lifespan(snap)
        if lifespan is not None:
            header.append("\n")
            header.append_text(lifespan)
        return header

    def _lifespan(self, snap: LiveSnapshot) -> Text | None:
        """What the report's lifespan line says, only when it says something: how long the
        lifespan connections held the loop (left out of the loop's blocked time: not the
        load's), and each failed startup or shutdown; None otherwise."""
        lab = self.labels
        before, during, after = snap.lifespan_blocked_ns
        blocked = {"before": before / 1e6, "during": during / 1e6, "after": after / 1e6}
        said = lifespan_blocked_words(blocked, lab, lambda ms: _ms(ms * 1e6))
        failures = lifespan_failure_items(list(snap.lifespan_failed), lab)
        if said is None and not failures:
            return None
        row = Text()
        if said is not None:
            row.append(f"{lab['lifespan']} ", "#8a8a8a")
            row.append(said)
        for failure in failures:
            if row.cell_len:
                row.append("  ")
            row.append_text(failure)
        return row

    def _histogram(self) -> Text:
        width = self.query_one("#histogram").content_size.width
        text = Text(no_wrap=True, overflow="ellipsis")
        title = Text(self.labels["histogram"], "#8a8a8a")
        title.truncate(max(1, width), overflow="ellipsis")
        text.append_text(title)
        bins = self.stats.latency_histogram()
        top = max((count for _, _, count in bins), default=0) or 1
        digits = len(str(top))
        # Label (19 cells) + bar + count must fit the widget, or rows would wrap.
        room = width - 19 - digits - 1
        for low, high, count in bins:
            row = Text()
            if room >= 4:
                # The unit follows the number; the padding goes after it, so the bars line up.
                row.append(f"{low:7.1f}–{f'{high:.1f}ms':<9} ", "#8a8a8a")
                row.append("█" * round(min(40, room) * count / top), "#00af5f")
                row.append(f" {count}")
            else:
                # Narrow: the upper edge and the count, then what room is left for the bar.
                row.append(f"<{f'{high:.1f}ms':<8} ", "#8a8a8a")
                row.append(f"{count:>{digits}} ")
                bar = max(0, width - 10 - digits - 1)
                row.append("█" * round(bar * count / top), "#00af5f")
            # Cut, never wrapped: a wrapped row's count would read as the next row's label.
            row.truncate(max(1, width))
            text.append("\n")
            text.append_text(row)
        return text

    def _update_recent(self, now: int) -> None:
        timeline = self.query_one("#recent", Timeline)
        # As many requests as there are rows, those in the app kept among them: no more lanes
        # than fit, so no scrollbar either.
        reqs = self.stats.shown_requests(timeline.size.height)
        events = self.stats.recent_events(reqs)
        recording = Recording(header={"server": {}, "interface": None}, events=events)
        # Its newest requests are still going, not cut short: in flight until now, no
        # unfinished marks.
        model = model_from_events(recording, in_flight_until=now)
        vp = self.viewport
        vp.width = max(1, timeline.size.width - timeline.label_width - 1)
        # The window spans the requests on screen, so they fill the width.
        lanes = model.by_request
        first = min((lane.start for lane in lanes), default=0)
        # The right edge is now, not the latest event: a pause in the events (slow responses,
        # a blocked loop) shows as time going by, not as a frozen screen.
        vp.t_max = max(1, now)
        vp.ns_per_cell = max(1.0, (vp.t_max - first) / max(1, vp.width - 1))
        vp.start = float(first)
        vp.cursor = vp.t_max
        timeline.set_model(model)
        # Follow the newest requests, as a log does.
        timeline.scroll_end(animate=False)

    def action_stop_run(self) -> None:
        """Ask the run to stop; the app exits once it has flushed."""
        app = self.app
        if isinstance(app, LiveApp):
            app.request_stop()


class ReplayBuilt(Message):
    """The whole run's replay model, built on a thread of its own, for the dashboard's UI
    thread to switch to; ``warnings``: why the recording could not be loaded, if it could not."""

    def __init__(self, model: Any, warnings: list[str]) -> None:
        super().__init__()
        self.model = model
        self.warnings = warnings


class LiveApp(App[None]):
    """The dashboard app: live screen while ``work`` runs, then the replay of the whole run."""

    CSS_PATH = "styles.tcss"
    TITLE = "gateway-tracer"
    ENABLE_COMMAND_PALETTE = False

    def __init__(
        self,
        recorder: Recorder,
        work: Work,
        *,
        title: str,
        total_requests: int | None = None,
        lang: str = "en",
        loader: Callable[[str], Recording] = load,
        prints: TextIO | None = None,
        exited: Callable[[], tuple[str, int] | None] | None = None,
        held: bool = False,
    ) -> None:
        super().__init__()
        self.held = held
        """The replay's model is to be kept for the rest of the process once the app is
        closed (``hold_until_exit``): what was frozen for the replay stays frozen. Otherwise
        it is given back to the collector as the app closes, the app itself included."""
        self._frozen = False
        self._closed = False
        self._freeze_lock = threading.Lock()
        self.recorder = recorder
        self.work = work
        self.run_title = title
        self.labels = get_labels(lang)
        self.stats = LiveStats(total=total_requests)
        self.stop = threading.Event()
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.inbox: deque[list[Event]] = deque()
        self.quitting = False
        self.replaying = False
        self.preparing = False
        """The run is over and its replay is being built (on a thread of its own)."""
        self._loader = loader
        self.prints = prints
        """Where what the app prints goes while the dashboard runs (None: Textual's capture)."""
        self._sink: PrintsToFile | None = None
        self.exited = exited
        """Who exited by itself and its exit code, when that is why the run ended (a server
        or one of its workers), else None; asked once the run is over."""
        self._thread = threading.Thread(
            target=self._run_work, name="gateway-tracer-run", daemon=True
        )
        self.replay_model: Any = None
        """The whole run's replay model once it is on screen (see ``hold_until_exit``)."""

    def get_driver_class(self) -> type[Driver]:
        """Textual's own driver, but on Linux and macOS one drawing on a terminal of its own,
        so that the app's output can go to ``prints`` (``OwnTerminalDriver``)."""
        driver = super().get_driver_class()
        return OwnTerminalDriver if driver is LinuxDriver else driver

    def now(self) -> int:
        """The recording's clock now (wall time since the run's start), while the run goes
        on; then the time of its last event."""
        if self.done.is_set():
            return self.stats.latest
        return max(self.stats.latest, self.recorder.now())

    def get_default_screen(self) -> Screen[Any]:
        """Start on the live dashboard."""
        return LiveScreen(self.run_title, self.stats, self.labels)

    def on_mount(self) -> None:
        """Subscribe to the recorder, start the run and the redraw timer."""
        if self.prints is not None:
            # Textual has replaced both streams with its capture of print by now, and puts
            # back what it replaced when it exits.
            self._sink = PrintsToFile(self.prints)
            sys.stdout = sys.stderr = self._sink
        self.recorder.subscribe(self.inbox.append)
        self._thread.start()
        self.set_interval(POLL_S, self.poll)

    def _run_work(self) -> None:
        try:
            self.work(self.stop)
        except BaseException as exc:  # handed back to the caller by run_live
            self.error = exc
        finally:
            self.done.set()

    def poll(self) -> None:
        """Drain the inbox into the stats, redraw, and react to the run ending."""
        if self.replaying:
            return
        now = self.now()
        while self.inbox:
            self.stats.feed(self.inbox.popleft(), now=now)
        screen = self.screen
        if isinstance(screen, LiveScreen):
            screen.redraw()
        if not self.done.is_set():
            return
        if self.quitting or self.error is not None:
            self.exit()
            return
        if self.preparing:
            return
        # Loading a big recording and building its model takes seconds: not on this thread,
        # which must go on drawing (the final figures) and taking keys (q: no replay).
        self.preparing = True
        if isinstance(screen, LiveScreen):
            screen.message = self.labels["preparing_replay"]
            screen.redraw()
        threading.Thread(
            target=self._prepare_replay, name="gateway-tracer-replay", daemon=True
        ).start()

    def _prepare_replay(self) -> None:
        """On a thread of its own: the whole recording's model, then the replay on the UI's."""
        warnings: list[str] = []
        # As ``trace replay`` opens a recording (``tracer.tui.app.open_recordings``): the
        # collector paused while the millions of objects of a big run's events and lanes are
        # made (its collections would walk them all, over and over, and free none), and they
        # are then frozen out of later collections, so none of them stalls a frame of the
        # replay. Collected first, so that no garbage of the run's is frozen with them.
        gc.collect()
        with paused_gc():
            try:
                recording = self._final_recording(warnings)
                model = build_model(recording, loop_word=self.labels["loop_lane"])
            finally:
                self._freeze()  # before the collector is back
        # The app may have closed meanwhile (q): then nobody wants the replay. Posted, never
        # waited for: ``call_from_thread`` would wait on a loop that may never run again, and
        # leave its coroutine unawaited on a closed one. A closing app drops the message; a
        # closed loop refuses it (RuntimeError), before anything was made to run on it.
        with contextlib.suppress(RuntimeError):
            self.post_message(ReplayBuilt(model, warnings))

    def _freeze(self) -> None:
        # ``gc.freeze`` freezes every object alive, this app and its widgets too: given back
        # as the app closes (``on_unmount``) unless the process is to end with it (``held``);
        # not done at all once it is closed (q while the replay was being built).
        with self._freeze_lock:
            if not self._closed:
                gc.freeze()
                self._frozen = True

    def on_unmount(self) -> None:
        """The app is closing: what the replay froze goes back to the collector (a process
        that goes on, a test suite, would otherwise never free this app nor its run), unless
        the app is ``held``."""
        with self._freeze_lock:
            self._closed = True
            if self._frozen and not self.held:
                gc.unfreeze()
                self._frozen = False

    def on_replay_built(self, message: ReplayBuilt) -> None:
        """The replay is built: switch to it (unless the app is closing meanwhile)."""
        self._show_replay(message.model, message.warnings)

    def _show_replay(self, model: Any, warnings: list[str]) -> None:
        if self.quitting or not self.is_running:
            return
        for warning in warnings:
            # The message quotes the file's name: shown escaped, and as text, not markup.
            self.notify(warning, severity="warning", timeout=6, markup=False)
        self.replaying = True
        # Named by the app, not only by its screen: Textual drops its screens as it exits,
        # and the model would be freed there, object by object, before the app returns.
        self.replay_model = model
        self.push_screen(ReplayScreen([model], self.labels))
        exited = self.exited() if self.exited is not None else None
        if exited is None:
            self.notify(self.labels["run_done"], timeout=4)
        else:
            # Why the run ended: said here, not only on stderr once the replay is closed.
            who, code = exited
            text = self.labels["server_exited"].format(who=printable(who), code=code)
            self.notify(text, severity="warning", timeout=10, markup=False)

    def _final_recording(self, warnings: list[str]) -> Recording:
        """The whole run's recording; why it could not be loaded is added to ``warnings``."""
        if self.recorder.path is None:
            return self.recorder.recording()
        # The caller closes the recorder after run_live returns: push what is queued to the file.
        self.recorder.drain()
        try:
            return self._loader(self.recorder.path)
        except TracerError as exc:  # e.g. a run that recorded nothing left no file yet
            warnings.append(printable(str(exc)))
            return Recording(header=dict(self.recorder.header), events=[], path=self.recorder.path)

    def hold_until_exit(self) -> None:
        """Keep the replay's model (and the recording it holds) for the rest of the process,
        never freed, as ``trace replay`` keeps its own (``tracer.tui.held``): for a process
        that ends with the dashboard (``trace run``), to be called once it is closed. Nothing
        to keep when the replay never showed."""
        if self.replay_model is not None:
            hold_until_exit(self.replay_model)

    def request_stop(self) -> None:
        """``q`` on the dashboard: stop the run, exit once it returned (a second ``q`` exits now);
        once the run is over and its replay is being built, exit without it."""
        if self.quitting or self.preparing:
            self.quitting = True
            self.exit()
            return
        self.quitting = True
        self.stop.set()
        screen = self.screen
        if isinstance(screen, LiveScreen):
            screen.message = self.labels["stopping"]
            screen.redraw()


def run_live(
    recorder: Recorder,
    work: Work,
    *,
    title: str,
    total_requests: int | None = None,
    lang: str = "en",
    prints: TextIO | None = None,
    exited: Callable[[], tuple[str, int] | None] | None = None,
) -> None:
    """Run ``work(stop)`` under the live dashboard, then replay the whole run until ``q``.

    Returns once ``work`` has returned; an exception raised by ``work`` is raised here. What
    is written in this process meanwhile goes to ``prints`` (the caller opens and closes it).
    ``exited``: who exited by itself during the run and with what code, if anyone did (the
    replay opens saying so). The process ends soon after (``trace run``): the replay's model
    is kept until it does rather than freed object by object after ``q``
    (``LiveApp.hold_until_exit``).
    """
    app = LiveApp(
        recorder,
        work,
        title=title,
        total_requests=total_requests,
        lang=lang,
        prints=prints,
        exited=exited,
        held=True,  # the process ends soon after: its replay is kept, not freed
    )
    _ON_SCREEN.append(app)
    try:
        app.run()
    finally:
        _ON_SCREEN.remove(app)
        if app._sink is not None:
            app._sink.flush()  # a line the app left unfinished
        # A key typed as the dashboard closed (a second q) would be echoed before the report.
        drop_typed_ahead(sys.__stdin__)
        app.hold_until_exit()
    # The UI may have gone (a second q, a crash of the terminal): the run still has to finish
    # so the recording is complete. Said, or the screen would stay blank meanwhile (a
    # request in a thread that cannot be cut short ends when the app returns).
    app.stop.set()
    if app._thread.is_alive() and not app.done.wait(0.2):
        with contextlib.suppress(OSError, ValueError):
            print("stopping: finishing the recording…", file=sys.__stderr__, flush=True)
    while app._thread.is_alive():
        app._thread.join(0.1)
    if app.error is not None:
        raise app.error


def drop_typed_ahead(stream: TextIO | None) -> None:
    """Discard what was typed on the terminal ``stream`` and not read yet; nothing to do when
    it is no terminal (or closed)."""
    with contextlib.suppress(AttributeError, OSError, ValueError, termios.error):
        fd = stream.fileno()  # type: ignore[union-attr]
        if os.isatty(fd):
            termios.tcflush(fd, termios.TCIFLUSH)


def _ms(ns: float) -> str:
    """A duration as the replay's panel writes it (``figures.ms_in_short``: ``2.35ms``,
    ``12.3ms``, ``1,106ms``): the header becomes that panel when the run ends. Rounded to the
    µs first, as the summary the panel reads is: 50.2504 ms read 50.3ms here and, from the
    summary's 50.25, 50.2ms there."""
    return figures.ms_in_short(round(ns / 1e6, 3))


def leave_terminal() -> None:
    """Give the terminal back now, as the dashboard found it, when this process is about to end
    under the dashboard without Textual's own shutdown (an in-process app calling ``os._exit``):
    its saved modes (echo, line editing) and the main screen, the cursor shown, no mouse
    reports. Written straight to the terminal: Textual's writer thread would not run again.
    Does nothing when no dashboard is on screen."""
    for app in list(_ON_SCREEN):
        restore_terminal(getattr(app, "_driver", None))


def stop_from_signal() -> None:
    """From a signal handler (SIGTERM): ask the dashboard on screen to do what its first Ctrl-C
    or ``q`` does: stop the run (it closes once the recording is finished), or leave the replay
    the run became. A stop already asked for is left to finish (never forced).

    Signal handlers run on the main thread, which runs the dashboard's event loop: the handler
    may have cut into any step of it, so the request is queued on that loop instead of made
    here (``call_soon_threadsafe`` also wakes it). Nothing to do when no loop is running: the
    dashboard has not started yet, or it has closed and its run is being stopped."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    for app in list(_ON_SCREEN):
        loop.call_soon_threadsafe(_stop_or_leave, app)


def _stop_or_leave(app: Any) -> None:
    """On the dashboard's loop: stop the run, or leave the replay it became."""
    if app.replaying:
        app.exit()
    elif not app.quitting:
        # Only the "stopping" line needs the screen, which may not be there yet.
        with contextlib.suppress(ScreenStackError):
            app.request_stop()
