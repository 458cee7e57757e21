"""Which thread of a Perfetto trace recorded an event, and that thread's number in the trace.

A thread is its pid, its id and its name (``tracer.digest.thread_key``): Python gives an ended
thread's id to a later thread, and a server that makes a thread per request (Django's ASGI
handler, a one-thread executor per request) reuses a few ids for as many threads. Each such
thread gets a track of its own, named after itself. Imports the event model, the digest's
thread key and ``tracer.export.trace_ids``.
"""

from __future__ import annotations

from tracer.digest import ThreadKey
from tracer.events import Event
from tracer.export.trace_ids import TraceIds

__all__ = ["TraceThreads"]


class TraceThreads:
    """The threads of a trace, met event by event in time order (``of``), and their numbers.

    An event that names no thread (a hand-made recording's, a recorder given only an id) is
    the thread's seen last at its id, or, before any named one, the first that comes there
    later: its events and that thread's are one track, as they were before names told
    threads apart.
    """

    def __init__(self, ids: TraceIds) -> None:
        self.ids = ids
        self._at: dict[tuple[int, int], ThreadKey] = {}  # the thread last seen at each id
        self._nameless: set[tuple[int, int]] = set()  # ids whose thread is not named yet
        self._named: dict[ThreadKey, ThreadKey] = {}  # a named thread -> its key here
        self._numbers: dict[ThreadKey, int] = {}
        self._later = 0  # threads given an id an earlier thread had

    def of(self, pid: int, event: Event) -> ThreadKey:
        """The thread that recorded ``event`` (of process ``pid``, the trace's stand-in for
        none), numbered in the order threads first record something."""
        at = (pid, event.tid)
        current = self._at.get(at)
        if not event.thread:
            if current is None:
                current = self._at[at] = (pid, event.tid, str(event.tid))
                self._nameless.add(at)
                self.tid(current)
            return current
        named = (pid, event.tid, event.thread)
        key = self._named.get(named)
        if key is None:
            # The first name at an id whose events so far named no thread: those were its.
            key = self._named[named] = (
                current if current is not None and at in self._nameless else named
            )
            self._nameless.discard(at)
            self.tid(key)
        self._at[at] = key
        return key

    def tid(self, thread: ThreadKey) -> int:
        """The trace's number for ``thread`` (``of``'s)."""
        number = self._numbers.get(thread)
        if number is None:
            pid, tid, _ = thread
            if (pid, tid) in self.ids.tids:
                # A later thread at an id: numbered as a thread of its own, under a stand-in
                # ident no recorded thread has (idents are not negative).
                self._later += 1
                tid = -self._later
            number = self._numbers[thread] = self.ids.tid(pid, tid)
        return number

    def ids_of(self, thread: ThreadKey) -> tuple[int, int]:
        """The trace's ``(pid, tid)`` for ``thread``."""
        return self.ids.pid(thread[0]), self.tid(thread)
