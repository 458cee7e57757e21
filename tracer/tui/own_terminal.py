"""What the live dashboard does so that the app's output never lands on it.

``PrintsToFile`` stands in for ``sys.stdout`` and ``sys.stderr``: what the app prints goes to
its log a whole line at a time. ``OwnTerminalDriver`` is Textual's Linux driver drawing on a
duplicate of the terminal while descriptors 1 and 2 themselves go to that log (a ``logging``
handler holding the original stderr, ``os.write(2, ...)``, a subprocess, a C extension), and
gives them back as soon as application mode ends. ``restore_terminal`` puts a driver's terminal
back as it found it when the process ends without Textual's own shutdown.
Imports Textual only; nothing of ours.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import termios
import threading
from typing import Any, TextIO

from textual.app import App
from textual.drivers.linux_driver import LinuxDriver

__all__ = ["PrintsToFile", "OwnTerminalDriver", "restore_terminal"]

# Undoes what Textual's Linux driver turns on: mouse reports, bracketed paste, in-band resize,
# the Kitty keyboard protocol, no line wrap, the alternate screen, the hidden cursor, focus
# events (the sequences its ``stop_application_mode`` and ``_disable_mouse_support`` write).
_LEAVE = (
    "\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?1016l\x1b[?2004l\x1b[?2048l"
    "\x1b[<u\x1b[?7h\x1b[?1049l\x1b[?25h\x1b[?1004l"
)


class PrintsToFile(io.TextIOBase):
    """``sys.stdout`` and ``sys.stderr`` while the dashboard runs: what the app prints (from
    any thread) is appended to ``file`` a whole line at a time, in the order the lines end.
    ``print`` writes its text and its newline apart: each thread's unfinished line waits for
    its end (or a ``flush``), so threads printing at once never cut into each other's lines.
    Each line is flushed as it ends, as a terminal's stderr is, so that lines written to the
    descriptors themselves (a ``logging`` handler's) land in order with these. A write costs a
    lock, no UI work, and never fails in the app: a file that cannot take it (disk full,
    closed after the run) drops it."""

    encoding = "utf-8"
    errors = "backslashreplace"

    def __init__(self, file: TextIO) -> None:
        super().__init__()
        self._file = file
        self._lock = threading.Lock()
        self._unfinished: dict[int, str] = {}
        """Each thread's line so far, until its newline."""

    def writable(self) -> bool:
        """It is written to."""
        return True

    def write(self, text: str) -> int:
        """Append the lines ``text`` ends to the file; keep the rest for the next write."""
        with self._lock:
            thread = threading.get_ident()
            line = self._unfinished.pop(thread, "") + text
            cut = line.rfind("\n") + 1
            if cut < len(line):
                self._unfinished[thread] = line[cut:]
            if cut:
                with contextlib.suppress(OSError, ValueError):
                    self._file.write(line[:cut])
                    self._file.flush()
        return len(text)

    def flush(self) -> None:
        """Push every unfinished line, then what is buffered, to the file."""
        with self._lock, contextlib.suppress(OSError, ValueError):
            for line in self._unfinished.values():
                self._file.write(line)
            self._unfinished.clear()
            self._file.flush()

    def fileno(self) -> int:
        """The file's descriptor: what is written to it directly lands in the file too."""
        return self._file.fileno()


class OwnTerminalDriver(LinuxDriver):
    """Textual's Linux driver drawing on a duplicate of the terminal, while the process's
    descriptors 1 and 2 go to the app's log (the app's ``prints`` file) in application mode.

    Textual writes to ``sys.__stderr__`` (descriptor 2), reads keys from descriptor 0 and
    measures the terminal on descriptor 1 (``shutil.get_terminal_size``). Swapping only
    ``sys.stdout``/``sys.stderr`` leaves descriptors 1 and 2 on the terminal, so what reaches
    them another way (a ``logging`` handler made before the run holds the original stderr,
    ``os.write``, a subprocess, a C extension) was drawn over the dashboard. Here the
    dashboard draws on its own descriptor, a duplicate of 2 made before 1 and 2 are pointed
    at the log, and both are given back as soon as application mode ends (quit, Ctrl-C,
    SIGTERM, a crash, a suspend): Textual prints a crash's traceback after that, and the
    report follows on the terminal.
    """

    def __init__(self, app: App[Any], **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._terminal: TextIO | None = None
        self._saved: tuple[int, int] | None = None
        """Descriptors 1 and 2 as they were, while they go to the log."""

    def start_application_mode(self) -> None:
        """Point descriptors 1 and 2 at the log, draw on a duplicate of the terminal."""
        prints = getattr(self._app, "prints", None)
        if prints is not None and self._saved is None:
            with contextlib.suppress(OSError, ValueError):
                self._redirect(prints)
        super().start_application_mode()

    def _redirect(self, prints: TextIO) -> None:
        err = sys.__stderr__
        if self._terminal is None and err is not None:
            self._terminal = open(  # noqa: SIM115 (closed in ``close``)
                os.dup(err.fileno()),
                "w",
                encoding=err.encoding,
                errors=err.errors or "strict",
            )
            self._file = self._terminal
        for stream in (sys.__stdout__, sys.__stderr__, sys.stdout, sys.stderr):
            if stream is not None:
                with contextlib.suppress(OSError, ValueError):
                    stream.flush()  # what was written before goes where it was meant to
        prints.flush()
        saved = (os.dup(1), os.dup(2))
        os.dup2(prints.fileno(), 1)
        os.dup2(prints.fileno(), 2)
        self._saved = saved

    def give_back_output(self) -> None:
        """Descriptors 1 and 2 as they were before application mode (nothing to do if they
        were never taken). Safe from any thread, and more than once."""
        saved, self._saved = self._saved, None
        if saved is None:
            return
        for stream in (sys.__stdout__, sys.__stderr__):
            if stream is not None:
                with contextlib.suppress(OSError, ValueError):
                    stream.flush()  # the app's last words go to its log
        for fd, old in zip((1, 2), saved, strict=True):
            with contextlib.suppress(OSError):
                os.dup2(old, fd)
            with contextlib.suppress(OSError):
                os.close(old)

    def stop_application_mode(self) -> None:
        """Leave application mode, then give descriptors 1 and 2 back."""
        try:
            super().stop_application_mode()
        finally:
            self.give_back_output()

    def close(self) -> None:
        """Stop the writer (it drains into the duplicate), then close the duplicate."""
        try:
            super().close()
        finally:
            self.give_back_output()
            if self._terminal is not None:
                with contextlib.suppress(OSError, ValueError):
                    self._terminal.close()
                self._terminal = None
                self._file = sys.__stderr__

    def _get_terminal_size(self) -> tuple[int, int]:
        # Measured on the descriptor drawn on: descriptor 1 may be the log now.
        if self._terminal is not None:
            try:
                size = os.get_terminal_size(self._terminal.fileno())
            except (OSError, ValueError):
                pass
            else:
                return size.columns or 80, size.lines or 25
        return super()._get_terminal_size()


def restore_terminal(driver: Any) -> None:
    """Give the terminal ``driver`` draws on back as it found it, written straight to the
    terminal (Textual's writer thread would not run again): descriptors 1 and 2 (an
    ``OwnTerminalDriver``'s), the saved modes (echo, line editing) and the main screen, the
    cursor shown, no mouse reports. Anything a driver does not have is left as it is."""
    if isinstance(driver, OwnTerminalDriver):
        driver.give_back_output()  # the line said next goes to the terminal, not the log
    fileno = getattr(driver, "fileno", None)
    attrs = getattr(driver, "attrs_before", None)
    if isinstance(fileno, int) and attrs is not None:
        with contextlib.suppress(termios.error, OSError):
            termios.tcsetattr(fileno, termios.TCSANOW, attrs)
    out = getattr(driver, "_file", None)
    if out is not None:
        with contextlib.suppress(OSError, ValueError):
            drawn = out.fileno()
            fd = _silenced(drawn)
            try:
                os.write(fd, _LEAVE.encode())
            finally:
                if fd != drawn:
                    os.close(fd)


def _silenced(fd: int) -> int:
    """A descriptor on what ``fd`` writes to, for the last words; ``fd`` itself from now on
    writes nowhere when it is a duplicate of the terminal the driver drew on (an
    ``OwnTerminalDriver``'s). Textual's writer thread may be in the middle of a frame when the
    process ends this way, and would write the rest of it after the main screen is back, on
    top of the shell's. Descriptors 0-2 are the process's own: they are left as they are."""
    if fd <= 2:
        return fd
    own = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
    return own
