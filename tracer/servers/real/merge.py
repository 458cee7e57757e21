"""``Merger``: tails the per-process recordings of a real server into the run's recorder.

Each server process streams ``<dir>/<pid>.jsonl`` (a header line, then events whose ``t``
already counts from the parent's t=0). The merger reads whatever complete lines have appeared
since last time, skips each file's header and hands the events to ``Recorder.add`` (which gives
them the parent's ``seq``). A background thread does it every ``interval`` seconds while the
run lasts, so the live dashboard sees server events; ``stop`` reads what is left.
Imports only the spine.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import IO

from tracer.events import Event
from tracer.recorder import Recorder

__all__ = ["Merger"]

log = logging.getLogger("tracer")


class _Tail:
    """The unread part of one process's file."""

    __slots__ = ("handle", "rest", "header_seen")

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.rest = b""
        self.header_seen = False


class Merger:
    """Moves events from ``directory/*.jsonl`` into ``recorder``, live or at the end."""

    def __init__(
        self, directory: str | os.PathLike[str], recorder: Recorder, *, interval: float | None = 0.2
    ) -> None:
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
            for path in sorted(self.directory.glob("*.jsonl")):
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
        data = tail.rest + chunk
        end = data.rfind(b"\n")
        if end < 0:
            tail.rest = data
            return 0
        tail.rest = data[end + 1 :]
        lines = data[:end].split(b"\n")
        if not tail.header_seen:
            tail.header_seen = True
            lines = lines[1:]
        add = self.recorder.add
        count = 0
        for line in lines:
            if not line:
                continue
            try:
                add(Event.from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                log.warning("skipped a malformed line in a server recording")
                continue
            count += 1
        return count

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
