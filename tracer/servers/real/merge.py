"""``Merger``: tails the per-process recordings of a real server into the run's recorder.

Each server process streams ``<dir>/<pid>.events`` (marshal frames of event rows whose ``t``
already counts from the parent's t=0, ``frames.py``). The merger reads whatever complete frames
have appeared since last time and hands the well-formed rows, packed ones as they are, to
``Recorder.add_rows`` (which gives them the parent's ``seq``); the parent's drain makes their
``Event`` objects with ``tracer.events.from_rows``, once, when a subscriber or memory takes
them, and their lines straight from the rows when only the file does. A background thread
does it every ``interval`` seconds while the run lasts, so the live dashboard sees server
events; ``stop`` reads what is left. It notes the
starts and ends of the client's requests still in flight (``in_flight.py``) on the way, and
counts the client's requests each process started.
Imports only the spine and ``tracer.servers.real``'s own modules.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import IO, Any

from tracer import events as K
from tracer.recorder import ID_SPACE, Recorder
from tracer.servers.real.frames import BUSY_ROWS, FrameReader
from tracer.servers.real.in_flight import InFlight
from tracer.servers.waits import sleep

__all__ = ["Merger"]

log = logging.getLogger("tracer")

_LAST_TRIES = 20
"""Polls ``stop`` tries (0.05 s apart) for what is left when polls are failing."""


def _well_formed(row: Any) -> bool:
    # The recorder's drain trusts its rows: check the shape of what another process wrote.
    if len(row) < 10 or type(row[2]) is not str or type(row[1]) is not int:
        return False
    keys = row[9]
    if type(keys) is tuple:
        return len(row) == 10 + len(keys)
    return len(row) == 10 and type(keys) is dict


def _client_starts(rows: list[Any]) -> int:
    """How many of ``rows`` start a request the client sent: a process's own requests (its
    lifespan) have ids of its own range, from ``ID_SPACE`` on."""
    return sum(
        1 for row in rows if row[2] == K.REQUEST_START and type(row[3]) is int and row[3] < ID_SPACE
    )


class _Tail:
    """The unread part of one process's stream."""

    __slots__ = ("handle", "frames", "pid")

    def __init__(self, handle: IO[bytes], pid: int | None) -> None:
        self.handle = handle
        self.frames = FrameReader()
        self.pid = pid


class Merger:
    """Moves events from ``directory/*.events`` into ``recorder``, live or at the end."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        recorder: Recorder,
        *,
        interval: float | None = 0.2,
        in_flight: InFlight | None = None,
    ) -> None:
        """Merge ``directory``'s streams into ``recorder`` (``interval=None``: only on ``poll``),
        noting in ``in_flight`` what the server did with the client's requests."""
        self.directory = Path(directory)
        self.recorder = recorder
        self.interval = interval
        self.in_flight = in_flight
        self.merged = 0
        """Events merged so far."""
        self.pids: set[int] = set()
        """Server processes that wrote a recording."""
        self.served: dict[int, int] = {}
        """Requests of the client's each server process started the app on, by pid: what
        tells a worker recycled after ``--max-requests`` from one that died."""
        self.failed_polls = 0
        """Polls that could not open the folder or a new stream (the first one is logged)."""
        self._tails: dict[str, _Tail] = {}
        self._closed = False  # stopped: a poll then would open the streams again
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Merge in the background every ``interval`` seconds (no thread when it is None)."""
        if self.interval is None or self._thread is not None:
            return
        thread = threading.Thread(target=self._run, name="gateway-tracer-merge", daemon=True)
        thread.start()  # kept only once started: stop must not join one that never ran
        self._thread = thread

    def poll(self) -> int:
        """Merge every complete frame written since the last poll; returns how many events.

        A poll that cannot list the folder or open a new stream (too many open files: a run
        with more connections than the process may have descriptors) merges what it could;
        the next poll reads the rest, so nothing is lost. Only the first failure is logged,
        in one line: the others are counted (``failed_polls``). Any thread may poll (the
        client's, to count what the app read of a request it gives up); once ``stop`` has
        closed the streams a poll merges nothing.
        """
        with self._lock:
            count = 0
            if self._closed:
                return count
            try:
                for path in sorted(self.directory.glob("*.events")):
                    tail = self._tails.get(path.name)
                    if tail is None:
                        pid = int(path.stem) if path.stem.isdigit() else None
                        tail = self._tails[path.name] = _Tail(open(path, "rb"), pid)
                        if pid is not None:
                            self.pids.add(pid)
                    count += self._read(tail)
            except OSError as exc:
                self.failed_polls += 1
                if self.failed_polls == 1:
                    log.warning(
                        "reading the server's event streams failed (%s); trying again at each poll",
                        exc,
                    )
            self.merged += count
            return count

    @property
    def busy(self) -> bool:
        """Whether the last frame read of some process's stream was a busy one
        (``frames.BUSY_ROWS`` rows or more): that process's next write may then come
        ``frames.BUSY_FLUSH_INTERVAL`` after it, not ``FLUSH_INTERVAL``."""
        with self._lock:
            return any(tail.frames.last_rows >= BUSY_ROWS for tail in self._tails.values())

    def _read(self, tail: _Tail) -> int:
        chunk = tail.handle.read()
        if not chunk:
            return 0
        try:
            rows = tail.frames.feed(chunk)
        except (ValueError, EOFError, TypeError):
            log.warning("skipped a malformed frame in a server's event stream")
            tail.frames = FrameReader()
            return 0
        good = [row for row in rows if _well_formed(row)]
        if self.in_flight is not None:
            self.in_flight.note(good)
        if tail.pid is not None:
            started = _client_starts(good)
            if started:
                self.served[tail.pid] = self.served.get(tail.pid, 0) + started
        self.recorder.add_rows(good)
        return len(good)

    def stop(self) -> int:
        """Stop the thread, merge what is left, close the files; returns the total merged."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        for _ in range(_LAST_TRIES):
            failed = self.failed_polls
            self.poll()
            if self.failed_polls == failed:
                break
            # Descriptors short at the end too: the run's connections are closing, so they
            # come back (without a poll that succeeds, what is left is lost).
            sleep(0.05)
        else:
            log.warning("the last of the server's events could not be read: they are missing")
        with self._lock:
            for tail in self._tails.values():
                tail.handle.close()
            self._tails.clear()
            self._closed = True
        return self.merged

    def _run(self) -> None:
        assert self.interval is not None
        while not self._stop.wait(self.interval):
            self.poll()
