"""``ReplayApp`` (the replay and compare UI) and ``render_svg`` (the same UI, no terminal).

Imports Textual and tracer.tui (plus the spine's ``Recording``); never a shim or a server.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from textual.app import App
from textual.screen import Screen

from tracer.errors import UsageError
from tracer.events import Event
from tracer.gc_pause import paused_gc
from tracer.printable import printable
from tracer.recording import Recording, load
from tracer.tui.held import hold_until_exit
from tracer.tui.labels import LANGUAGES, labels
from tracer.tui.model import build_model
from tracer.tui.screen import Bookmark, ReplayScreen
from tracer.tui.svg_cells import offline_svg

__all__ = ["ReplayApp", "render_svg", "open_recordings", "Bookmark"]


def open_recordings(
    paths: Sequence[str | os.PathLike[str]],
    *,
    notice: Callable[[str], None] | None = None,
) -> list[Recording]:
    """Read recordings for the replay (``RecordingError`` on a missing or foreign file).

    Before each file is read, ``notice`` is told so (``loading run.jsonl (85 MB)…``): a big
    recording takes seconds to read and lay out, with nothing on the screen meanwhile. By
    default the line goes to stderr when it is a terminal (a person is waiting), else nowhere.

    The garbage collector is paused while the events are built — a bulk load of objects that
    live as long as the UI, during which collections cost time and free nothing — and what was
    loaded is then frozen out of later collections, so none of them stalls a frame.
    """
    tell = notice if notice is not None else _terminal_notice
    # Collect first (cheap before the load) so no garbage of the caller's is frozen with it.
    gc.collect()
    with paused_gc():
        try:
            recordings = []
            for path in paths:
                if os.path.isfile(path):  # else load says what is wrong with it
                    size = _file_size(os.path.getsize(path))
                    tell(f"loading {printable(os.fspath(path))} ({size})…")
                recordings.append(load(path))
            return recordings
        finally:
            gc.freeze()  # before the collector is back


def _terminal_notice(text: str) -> None:
    """``text`` as a line on stderr, when stderr is a terminal."""
    stream = sys.stderr
    if stream is not None and stream.isatty():
        print(f"trace: {text}", file=stream, flush=True)


def _file_size(size: int) -> str:
    """``85 MB``, ``1.3 MB``, ``12 KB``, ``300 bytes``: a file's size as people say it."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size >= scale:
            amount = size / scale
            return f"{amount:.1f} {unit}" if amount < 10 else f"{amount:.0f} {unit}"
    return f"{size} bytes"


class ReplayApp(App[None]):
    """Replay one recording, or compare two on one time axis.

    ``caption``: text for the caption pane; ``bookmarks``: moments ``m`` jumps to, as
    ``Bookmark``s, ``mark`` events or ``(t, label, caption)`` tuples (default: the recordings'
    ``mark`` events); ``lang``: ``en`` or ``zh``; ``view``: ``request`` or
    ``worker``; ``cursor``: where the cursor starts (ns); ``detail``: open the detail pane on
    this lane index; ``screenshot_dir``: where ``s`` saves SVGs.
    """

    CSS_PATH = "styles.tcss"
    TITLE = "gateway-tracer"
    ENABLE_COMMAND_PALETTE = False

    def __init__(
        self,
        recordings: Sequence[Recording],
        *,
        view: str = "request",
        lang: str = "en",
        caption: str | None = None,
        bookmarks: Sequence[Bookmark | Event | tuple[Any, ...]] | None = None,
        cursor: int | None = None,
        detail: int | None = None,
        threshold_ns: int | None = None,
        screenshot_dir: str = ".",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        if not 1 <= len(recordings) <= 2:
            raise UsageError("replay shows one recording, or two to compare.")
        if lang not in LANGUAGES:
            raise UsageError(f'Unknown language "{lang}". Choose one of: {", ".join(LANGUAGES)}.')
        if view not in ("request", "worker"):
            raise UsageError(f'Unknown view "{view}". Choose "request" or "worker".')
        self.recordings = _aligned(list(recordings))
        self.labels = labels(lang)
        self.models = [
            build_model(r, threshold_ns=threshold_ns, loop_word=self.labels["loop_lane"])
            for r in self.recordings
        ]
        self.screenshot_dir = screenshot_dir
        self._options: dict[str, Any] = {
            "view": view,
            "caption": caption,
            "bookmarks": bookmarks,
            "cursor": cursor,
            "clock": clock,
            "detail": detail,
        }

    def get_default_screen(self) -> Screen[Any]:
        """The replay screen is the app."""
        return ReplayScreen(self.models, self.labels, **self._options)

    def hold_until_exit(self) -> None:
        """Keep this app's recordings and models for the rest of the process, never freed: for
        a process that ends with the replay (``trace replay``), to be called once it is closed.

        Freeing a big recording's millions of objects one by one takes seconds (about as long
        per request as reading it), spent after ``q`` for memory the process gives back as it
        ends anyway (``tracer.tui.held.hold_until_exit``).
        """
        hold_until_exit(self.recordings, self.models)

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Run the replay until ``q``; SIGTERM (``timeout``, a terminal closing under a
        supervisor) closes it as ``q`` does, so the terminal is given back (the alternate
        screen left, mouse reports off) instead of the process dying inside it."""
        with _sigterm_exits(self):
            return super().run(*args, **kwargs)


@contextlib.contextmanager
def _sigterm_exits(app: App[Any]) -> Iterator[None]:
    """While inside, on the main thread: SIGTERM asks ``app`` to exit, queued on its running
    loop (the handler may have cut into any step of it); the handler before is put back."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminated(signum: int, frame: Any) -> None:
        with contextlib.suppress(RuntimeError):  # no loop yet, or already gone: nothing to close
            asyncio.get_running_loop().call_soon_threadsafe(app.exit)

    before = signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


async def _render(
    recordings: Sequence[Recording],
    size: tuple[int, int],
    keys: Sequence[str],
    options: dict[str, Any],
) -> str:
    return await _screenshot(ReplayApp(recordings, **options), size, keys)


async def _screenshot(app: ReplayApp, size: tuple[int, int], keys: Sequence[str]) -> str:
    """The SVG of ``app`` at ``size`` once its figures are in, ``keys`` pressed."""
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        screen = app.screen
        while isinstance(screen, ReplayScreen) and not screen.summed_up:
            await pilot.pause(0.05)  # a big recording's figures, computed on a thread
        for key in keys:
            await pilot.press(key)
        await pilot.pause()
        # The title is the app's name as recorded: a control character in it would make the
        # SVG ill-formed XML (Rich escapes only markup characters).
        title = printable(app.models[0].recording.title_in(app.labels["lang"]))
        # Rich sizes text runs by characters (CJK text would be squeezed to half its cells) and
        # names web fonts (a projector offline would wait for them): see svg_cells.
        return offline_svg(app.export_screenshot(title=title))


def _aligned(recordings: list[Recording]) -> list[Recording]:
    """Compared recordings with each one's first request where the first recording's is, as
    the exported figures draw them (``tracer.summary.alignment``): a real server's start-up
    (importing the app, lifespan, spawning workers) would put one side half a second late."""
    if len(recordings) < 2:
        return recordings
    from tracer.summary import alignment

    aligned = []
    for recording, shift in zip(recordings, alignment(recordings), strict=True):
        if shift:
            events = [event._replace(t=event.t - shift) for event in recording.events]
            recording = Recording(
                header=recording.header,
                events=events,
                truncated=recording.truncated,
                path=recording.path,
            )
        aligned.append(recording)
    return aligned


def render_svg(
    recordings: Sequence[Recording],
    *,
    size: tuple[int, int] = (120, 40),
    keys: Sequence[str] = (),
    **options: Any,
) -> str:
    """Render the replay of ``recordings`` at ``size`` (columns, rows) without a terminal and
    return the SVG. ``keys`` are pressed first (e.g. ``["v"]`` for the by-worker view); other
    options go to ``ReplayApp``."""
    job = _render(recordings, size, keys, options)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(job)
    # Called from inside an event loop (a notebook, another app): render on a thread of its own.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, job).result()
