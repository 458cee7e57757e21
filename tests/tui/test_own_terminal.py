"""The dashboard's own terminal (tracer.tui.own_terminal): what it gives back, and where."""

from __future__ import annotations

import io
import os
import threading

import tracer.tui.live as live
from tracer.tui import own_terminal
from tracer.tui.own_terminal import OwnTerminalDriver, PrintsToFile, restore_terminal


def test_the_live_module_still_offers_the_same_objects() -> None:
    """``PrintsToFile`` and ``OwnTerminalDriver`` moved out of tracer.tui.live, which still
    exports them: the same classes, not copies."""
    assert live.PrintsToFile is PrintsToFile
    assert live.OwnTerminalDriver is OwnTerminalDriver
    assert {"PrintsToFile", "OwnTerminalDriver"} <= set(live.__all__)
    assert own_terminal.__all__ == ["PrintsToFile", "OwnTerminalDriver", "restore_terminal"]


class _Drawn:
    """What a driver holds that ``restore_terminal`` reads: the stream it draws on, here a
    pipe's write end, and no terminal modes saved (not a terminal)."""

    def __init__(self, out: object) -> None:
        self._file = out


def test_restore_terminal_writes_the_modes_off_to_what_the_driver_draws_on() -> None:
    """The sequences that undo Textual's modes (mouse reports off, the main screen, the
    cursor shown) go straight to the driver's stream, byte for byte; no driver, nothing."""
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "w") as out:
        restore_terminal(_Drawn(out))
        restore_terminal(None)
    with os.fdopen(read_end, "rb") as got:
        written = got.read()
    assert written == (
        b"\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?1016l\x1b[?2004l\x1b[?2048l"
        b"\x1b[<u\x1b[?7h\x1b[?1049l\x1b[?25h\x1b[?1004l"
    )


def test_a_frame_written_after_the_restore_never_reaches_the_terminal() -> None:
    """Textual's writer thread may finish a frame after the process's last words gave the
    main screen back: what it writes from then on to the duplicate it drew on goes nowhere,
    so the screen the shell gets ends with the modes undone, not with half a dashboard."""
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "w") as out:
        restore_terminal(_Drawn(out))
        out.write("the rest of a frame")  # the writer thread, a moment late
        out.flush()
    with os.fdopen(read_end, "rb") as got:
        written = got.read()
    assert written.endswith(b"\x1b[?1004l") and b"frame" not in written


def test_prints_to_file_keeps_each_threads_line_whole() -> None:
    """Two threads writing a word, then (once both have) its newline: each line lands whole."""
    file = io.StringIO()
    sink = PrintsToFile(file)
    ready = threading.Barrier(2)

    def say(word: str) -> None:
        sink.write(word)
        ready.wait()
        ready.wait()
        sink.write("\n")

    threads = [threading.Thread(target=say, args=(word,)) for word in ("alpha", "beta")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(file.getvalue().splitlines()) == ["alpha", "beta"]
