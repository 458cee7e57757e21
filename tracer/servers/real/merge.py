"""``Merger``: tails the per-process recordings of a real server into the run's recorder.

Each server process streams ``<dir>/<pid>.events`` (marshal frames of event rows whose ``t``
already counts from the parent's t=0, ``frames.py``). The merger reads whatever complete frames
have appeared since last time and hands the well-formed rows, packed ones as they are, to
``Recorder.add_rows`` (which gives them the parent's ``seq``); the parent's drain makes their
``Event`` objects with ``tracer.events.from_rows``, once. A background thread does it every ``interval`` seconds while the
run lasts, so the live dashboard sees server events; ``stop`` reads what is left.
Imports only the spine.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import IO, Any

from tracer.recorder import Recorder
from tracer.servers.real.frames import FrameReader

__all__ = ["Merger"]

log = logging.getLogger("tracer")


def _well_formed(row: Any) -> bool:
    # The recorder's drain trusts its rows: check the shape of what another process wrote.
    if len(row) < 10 or type(row[2]) is not str or type(row[1]) is not int:
        return False
    keys = row[9]
    if type(keys) is tuple:
        return len(row) == 10 + len(keys)
    return len(row) == 10 and type(keys) is dict


class _Tail:
    """The unread part of one process's stream."""

    __slots__ = ("handle", "frames")

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.frames = FrameReader()


class Merger:
    """Moves events from ``directory/*.jsonl`` into ``recorder``, live or at the end."""

    def __init__(
        self, directory: str | os.PathLike[str], recorder: Recorder, *, interval: float | None = 0.2
    ) -> None:
        """Merge ``directory``'s streams into ``recorder`` (``interval=None``: only on ``poll``)."""
        self.directory = Path(directory)
        self.recorder = recorder
        self.interval = interval
        self.merged = 0
        """Events merged so far."""
        self.pids: set[int] = set()
        """Server processes that wrote a recording."""
        self._tails: dict[str, _Tail] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Merge in the background every ``interval`` seconds (no thread when it is None)."""
        if self.interval is None or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="gateway-tracer-merge", daemon=True)
        self._thread.start()

    def poll(self) -> int:
        """Merge every complete line written since the last poll; returns how many events."""
        with self._lock:
            count = 0
            for path in sorted(self.directory.glob("*.events")):
                tail = self._tails.get(path.name)
                if tail is None:
                    tail = self._tails[path.name] = _Tail(open(path, "rb"))
                    if path.stem.isdigit():
                        self.pids.add(int(path.stem))
                count += self._read(tail)
            self.merged += count
            return count

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
        self.recorder.add_rows(good)
        return len(good)

    def stop(self) -> int:
        """Stop the thread, merge what is left, close the files; returns the total merged."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.poll()
        with self._lock:
            for tail in self._tails.values():
                tail.handle.close()
            self._tails.clear()
        return self.merged

    def _run(self) -> None:
        assert self.interval is not None
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except OSError:
                log.exception("reading a server recording failed")
