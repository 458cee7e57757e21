"""The ``Recorder``: where shims, server models and load generators put events.

The hot path (``emit``) appends one tuple to a deque: no I/O, no lock, no formatting. Events
become lines of JSON and ``Event`` objects later, when drained — by a background thread when
streaming to a file or feeding subscribers, or on demand when ``events`` is read. The
background thread's timed drains, when nobody takes ``Event`` objects (no subscriber, no
events kept), make the lines from the rows themselves (the same bytes, for less:
``tracer.events.line_objects``); a drain whose ``Event`` objects are taken makes the lines
from the rows too, and the events from the lines (``tracer.events.events_of_lines``).
The file is ``tracer.recorder_file``'s (opening, header, checkpoints, write failures); the
process-wide part (path claims, closing at exit, the reset in a forked child) is
``tracer.recorder_fork``'s. Request ids are numbered here for every producer: 1, 2, ... by a
recorder, ``first_request_id(pid)`` onwards by a process that numbers its own apart from them
(a recorder whose file went beside the path given, that path being another process's, too).
This module imports only ``tracer.events``, ``tracer.recording``, ``tracer.recorder_args``,
``tracer.recorder_file``, ``tracer.recorder_fork`` and ``tracer.errors``.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from tracer.errors import EventsNotKept
from tracer.events import Event, events_of_lines, from_rows, line_objects, unpack_row
from tracer.recorder_args import check_arguments, check_header, file_path
from tracer.recorder_file import RecordingFile, is_file_or_absent
from tracer.recorder_fork import CLAIMS, LIVE, finish_files_on_sigterm
from tracer.recording import Recording, RecordingBusy, RecordingWriter, make_header

__all__ = ["EventsNotKept", "ID_SPACE", "Recorder", "Sink", "Subscriber", "first_request_id"]

log = logging.getLogger("tracer")

_popleft = deque.popleft

Subscriber = Callable[[list[Event]], None]
"""Called off the hot path with each batch of new events, in the order they were queued
(``seq`` order within one thread; see ``Recorder.events``)."""

ID_SPACE = 10**6
"""The size of a process's own range of request ids: ``pid x ID_SPACE + n``.

A recorder numbers requests 1, 2, ... (a run's client does too); a process that numbers
requests apart from them (a child forked from the recorder's process, a real server's
process, a server model's lifespan, a server's worker whose recorder writes
``run.<pid>.jsonl`` because another worker has the path) starts at ``first_request_id(pid)``,
so that ids from the processes of one run never meet."""


def _ignore_failure(exc: OSError) -> None:
    """A write failure nobody is left to hear of (the process is ending by a signal)."""


def first_request_id(pid: int) -> int:
    """The first request id of process ``pid``'s own range (``pid x ID_SPACE + 1``)."""
    return pid * ID_SPACE + 1


class Sink(NamedTuple):
    """What a hot-path producer needs to record event rows itself, without a call to ``emit``.

    A row is a tuple in ``tracer.events.FIELDS`` order: ``(next(seq), t, kind, req, pid, tid,
    thread, task, dur, data)`` with ``t = clock() - start_ns``, or the same packed as
    ``(..., dur, keys, *values)`` (see ``tracer.events.unpack_row``: a row of plain values
    costs the garbage collector far less while it waits in the queue); ``append(row)``
    records it. The shims use this for the events of every request and step (a keyword call
    to ``emit`` costs about as much again as the append itself).
    """

    append: Callable[[tuple[Any, ...]], None]
    seq: Iterator[int]
    pid: int
    clock: Callable[[], int]
    start_ns: int


class Recorder:
    """Collects events in memory and/or streams them to a ``.jsonl`` / ``.jsonl.gz`` file.

    ``Recorder()`` keeps events in memory (``rec.events``). ``Recorder("run.jsonl")`` streams them
    to disk as they come and, by default, keeps none in memory, so a run of a million requests
    stays small (its ``events`` are then empty: the file is the recording). A relative path is
    taken from the working directory at construction. ``header`` fields (app, interface,
    server, load, source) may be updated until the first event is written.

    - ``keep``: keep the events in memory too (default: only without a path).
    - ``clock``: the monotonic clock, integer nanoseconds (``time.monotonic_ns``); every event's
      ``t`` is its reading minus ``start_ns``.
    - ``wall_clock``: integer nanoseconds since the Unix epoch (``time.time_ns``), read once for
      the header's ``clock.unix_ns``, the wall time of t=0.
    - ``start_ns``: the ``clock`` reading that is t=0 (default: now). Processes of one run pass
      the same one, so their events share one timeline (CLOCK_MONOTONIC is system-wide).
    - ``flush_interval``: seconds between the background thread's drains to the file and the
      subscribers (0.2; a positive number): what a process killed outright loses at most.
    - ``**header``: header fields (``app``, ``interface``, ``source``, ``label``, ``server``,
      ``load``, ``demo``, or fields of one's own); those the readers use must have the type
      ``tracer.load`` requires (docs/recording-format.md). ``format``, ``version`` and the
      ``clock`` fields are the recorder's own.

    A mistake in any argument is a ``UsageError``, raised before anything is recorded or a
    file claimed.

    The file is finished when the process exits, and also when SIGTERM ends it without an
    exit (waitress; uvicorn, which re-raises it) if the recorder was made on the main thread
    while SIGTERM had its default action (``tracer.recorder_fork.finish_files_on_sigterm``).
    """

    drains_packed_rows: bool = False
    """A subclass overriding ``drain`` sets this when its drain takes packed rows as they
    are (see ``Sink``); otherwise its ``sink()`` unpacks each row as it is appended."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        keep: bool | None = None,
        clock: Callable[[], int] = time.monotonic_ns,
        wall_clock: Callable[[], int] = time.time_ns,
        flush_interval: float = 0.2,
        start_ns: int | None = None,
        **header: Any,
    ) -> None:
        # Every argument is checked before anything changes: a refused recorder claims no
        # path and leaves no file (and a bad header would make its own recording unreadable).
        file = None if path is None else file_path(path, "Recorder")
        check_arguments(keep, clock, wall_clock, flush_interval, start_ns, header)
        self._clock = clock
        # t=0 of the recording; every process of one run can share it (CLOCK_MONOTONIC is
        # system-wide), which is how events from several processes merge into one timeline.
        self.start_ns: int = clock() if start_ns is None else start_ns
        self.header: dict[str, Any] = make_header(
            monotonic_ns=self.start_ns, unix_ns=wall_clock(), **header
        )
        check_header(self.header)
        # Absolute now: the file is opened at the first write, maybe after a chdir (a server's,
        # a test's), and must be the one claimed below.
        self._output = RecordingFile(None if file is None else os.path.abspath(file))
        self.keep = (file is None) if keep is None else keep
        self._queue: deque[tuple[Any, ...]] = deque()
        self._seq = itertools.count()
        # Made at the first request id (``_number_requests``): where they start depends on
        # whose the file is.
        self._req_ids: Iterator[int] | None = None
        self._ids_lock = threading.Lock()
        self._kept: list[Event] = []
        self._subscribers: list[Subscriber] = []
        self._drain_lock = threading.Lock()
        # The thread inside a drain (holding the drain lock), if any: a subscriber it calls
        # that asks for another drain or the first request id must not wait for that lock,
        # nor must a SIGTERM that interrupted it (``_finish_before_signal``).
        self._drain_owner: int | None = None
        self._closed = False
        # The file is closed: what is recorded now can never reach it. emit, add and the sink
        # then say so once (a thread or task of the app still at work after the run) and
        # queue the event only for memory and subscribers, if there are any.
        self._late = False
        self._pid = os.getpid()
        self._flush_interval = flush_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sink: Sink | None = None
        LIVE.add(self)
        if self.path is not None:
            self.path = CLAIMS.claim(self.path, self)
            self._start_thread()
            finish_files_on_sigterm()

    @property
    def path(self) -> str | None:
        """The file the events go to (absolute), or None: ``run.<n>.jsonl`` beside the path
        given when another recorder or process writes that one. Set it to None before
        ``close()`` to leave no file behind."""
        return self._output.path

    @path.setter
    def path(self, path: str | None) -> None:
        self._output.path = path

    @property
    def write_error(self) -> OSError | None:
        """The failure that stopped the file (disk full, a path that cannot be written), if
        any: the events still reach memory and subscribers, and ``close()`` raises it."""
        return self._output.error

    @property
    def on_write_error(self) -> Callable[[OSError], None] | None:
        """Called once, on the draining thread, when writing the file fails (stop the load)."""
        return self._output.on_error

    @on_write_error.setter
    def on_write_error(self, callback: Callable[[OSError], None] | None) -> None:
        self._output.on_error = callback

    # -- hot path ---------------------------------------------------------------------------

    def now(self) -> int:
        """Nanoseconds since the recording started."""
        return self._clock() - self.start_ns

    def start_now(self) -> bool:
        """Make now the recording's t=0 (the header's ``clock`` follows), if nothing was recorded.

        For a producer that set the recorder up well before its first event (``trace run``:
        the app's import, the dashboard's start-up), so that the timeline does not open on a
        stretch of nothing. Call it before ``start_ns`` is handed to another process. Returns
        False, changing nothing, once events were recorded (their times keep their origin).
        """
        if self._queue or self._kept or self._output.started():
            return False
        now = self._clock()
        clock = self.header.get("clock")
        if isinstance(clock, dict) and isinstance(clock.get("unix_ns"), int):
            clock["unix_ns"] += now - self.start_ns
            clock["monotonic_ns"] = now
        self.start_ns = now
        self._sink = None  # a sink carries start_ns: the next one is made afresh
        with self._draining():  # a file opened early (open_file) gets the header as it is now
            self._output.refresh_header(self.header)
        return True

    def open_file(self) -> None:
        """Open the file and write the header now, not with the first events.

        For a process that may die without running any Python code (a segmentation fault in
        an app run in process): its file is then a loadable recording, of the header and
        whatever was drained, not an empty file. Until the first event is written, the
        header may still change (``header`` fields, ``start_now``): it is written again then.
        Nothing happens without a path, after ``close()``, once the file is open, or for a
        path that is not a regular file (a pipe would get the header twice).
        """
        if self.path is None or self._closed or not is_file_or_absent(self.path):
            return
        if self._drain_owner == threading.get_ident():
            # Called back from inside a drain (a subscriber asking for its first request id):
            # the lock is this thread's already, and the file is between two writes.
            self._output.open(self.header)
            return
        with self._draining():
            self._output.open(self.header)

    def new_request_id(self) -> int:
        """A fresh request id (thread-safe: ``itertools.count`` is atomic under the GIL).

        1, 2, ... unless the file is another process's (``_number_requests``)."""
        ids = self._req_ids
        if ids is None:
            ids = self._number_requests()
        return next(ids)

    def _number_requests(self) -> Iterator[int]:
        """The request ids, made at the first one: 1, 2, ... or, when the path given is
        another process's recording (a server's worker importing the app while another
        writes it, or after another wrote it) and this one writes ``run.<pid>.jsonl`` beside
        it, this process's own range (``first_request_id``), so ids never meet across the
        files of one run. The file is opened (its lock taken) before the first id, so of two
        workers starting at once one has the path and the other knows it does not.

        The file is opened before the ids lock is taken, never under it: a subscriber asking
        for its first id holds the drain lock while it waits for the ids lock, so a thread
        holding the ids lock must not then wait for the drain lock."""
        if self._req_ids is None:
            # Only before the first id (open_file stats the path: not once per request).
            # Idempotent: of two threads here at once, the second finds it open.
            self.open_file()
        with self._ids_lock:
            ids = self._req_ids
            if ids is None:
                elsewhere = self._output.elsewhere
                ids = itertools.count(first_request_id(self._pid) if elsewhere else 1)
                self._req_ids = ids
            return ids

    def emit(
        self,
        kind: str,
        req: int | None = None,
        data: dict[str, Any] | None = None,
        *,
        t: int | None = None,
        dur: int | None = None,
        task: str | None = None,
        tid: int | None = None,
        thread: str | None = None,
        pid: int | None = None,
    ) -> None:
        """Record one event now (or at ``t``); the caller's thread is the event's thread.

        ``pid`` (default: this process) lets a simulator give its virtual processes their ids.
        """
        if self._late and self._after_close():
            return
        if tid is None:
            current = threading.current_thread()
            tid = current.ident or 0
            if thread is None:
                thread = current.name
        self._queue.append(
            (
                next(self._seq),
                self._clock() - self.start_ns if t is None else t,
                kind,
                req,
                self._pid if pid is None else pid,
                tid,
                thread or "",
                task,
                dur,
                {} if data is None else data,
            )
        )

    def sink(self) -> Sink:
        """The row sink of this recorder (see ``Sink``); producers fetch it once and keep it.

        When a subclass overrides ``emit``, ``append`` hands each row to that ``emit``, so
        whatever the subclass does with events still happens.
        """
        sink = self._sink
        if sink is None:
            cls = type(self)
            append: Callable[[tuple[Any, ...]], None]
            if cls.emit is not Recorder.emit:
                append = self._emit_row
            elif cls.drain is not Recorder.drain and not cls.drains_packed_rows:
                # it reads the queue itself and did not say it understands packed rows
                append = self._append_unpacked
            else:
                append = self._queue.append
            if self._late:
                append = self._late_append(append)
            sink = self._sink = Sink(append, self._seq, self._pid, self._clock, self.start_ns)
        return sink

    def _emit_row(self, row: tuple[Any, ...]) -> None:
        _seq, t, kind, req, pid, tid, thread, task, dur, data = unpack_row(row)
        self.emit(kind, req, data, t=t, dur=dur, task=task, tid=tid, thread=thread, pid=pid)

    def _append_unpacked(self, row: tuple[Any, ...]) -> None:
        self._queue.append(unpack_row(row))

    def _after_close(self) -> bool:
        """An event comes after ``close()`` closed the file: say so once; True when nothing
        will read it (no memory kept, no subscriber), so it is dropped, not queued."""
        self._output.warn_late()
        return not self.keep and not self._subscribers

    def _late_append(self, append: Callable[[tuple[Any, ...]], None]) -> Callable[..., None]:
        """The sink's ``append`` once the file is closed: ``append`` behind ``_after_close``."""

        def late(row: tuple[Any, ...]) -> None:
            if not self._after_close():
                append(row)

        return late

    # -- off the hot path -------------------------------------------------------------------

    def add(self, event: Event) -> None:
        """Add a ready-made event (from another process or a simulator), giving it a new seq."""
        if self._late and self._after_close():
            return
        self._queue.append((next(self._seq), *event.as_row()[1:]))

    def add_rows(self, rows: Iterable[Sequence[Any]]) -> None:
        """Add hot-path rows made elsewhere (plain or packed, ``Sink``), each with a new seq.

        Rows read back from another process stay packed until the drain makes their
        ``Event`` objects (``from_rows``), so no intermediate event or dict is built.
        """
        append = self.sink().append
        seq = self._seq
        for row in rows:
            append((next(seq), *row[1:]))

    def extend(self, events: Iterable[Event]) -> None:
        """``add`` each event."""
        for event in events:
            self.add(event)

    def subscribe(self, subscriber: Subscriber) -> None:
        """Call ``subscriber(batch)`` with every later batch of events, off the hot path.

        A subscriber that raises is dropped and logged once; it never breaks the recording.
        It may use the recorder it is called from (a request id, ``events``: a drain asked
        for inside the one calling it moves nothing), though not ``close()`` it.
        """
        self._subscribers.append(subscriber)
        self._start_thread()

    def drain(self) -> list[Event]:
        """Move queued events to the file, memory and subscribers; return the batch moved.

        Called from inside a drain (a subscriber reading ``events``), it moves nothing and
        returns an empty batch: the drain that called the subscriber is moving them.
        """
        return self._drain(True)

    def drain_unread(self) -> None:
        """``drain`` for a caller that does not read the batch (a flush before the process
        ends, a simulation keeping its queue short, ``close``): without a subscriber or
        events kept, the file's lines are made from the rows themselves, with no ``Event``
        made. A subclass's own ``drain`` is called as it is."""
        if type(self).drain is not Recorder.drain:
            self.drain()
        else:
            self._drain(False)

    def _drain(self, batch_wanted: bool) -> list[Event]:
        me = threading.get_ident()
        if self._drain_owner == me:
            return []  # waiting for the lock this thread holds would never end
        with self._drain_lock:
            self._drain_owner = me
            try:
                return self._drain_queue(batch_wanted)
            finally:
                self._drain_owner = None

    def _drain_queue(self, batch_wanted: bool) -> list[Event]:
        """``drain``'s work, under the drain lock (the batch is made only when someone takes
        it: ``batch_wanted``, events kept, a subscriber)."""
        queue = self._queue
        # len() first: emitters append concurrently, and what they add after it waits
        # for the next drain (popping a counted number never races with them).
        popped = map(_popleft, itertools.repeat(queue, len(queue)))
        subscribers = self._subscribers
        written: list[Any]
        output = self._output
        lines = False
        if batch_wanted or self.keep or subscribers:
            # The rows are popped by C, one by one as they are converted: no list of them is
            # made beside. With a file, the lines' objects are made from the rows and the
            # events from them (sharing their data): cheaper than the lines from the events.
            if output.takes_events():
                written = line_objects(popped)
                batch = events_of_lines(written)
                lines = True
            else:
                batch = written = from_rows(popped)
        else:
            batch, written = [], list(popped)  # lines from the rows: no Event for nobody
        if output.takes_events():
            # Only the background thread's timed drains leave out the checkpoint.
            output.write(
                written, self.header, threading.current_thread() is not self._thread, lines=lines
            )
        elif written and self._late:
            # Rows a producer appended after close() through a sink it fetched before
            # (a request that ends after the run): the file never gets them either.
            output.warn_late()
        if not batch:
            return batch
        if self.keep:
            self._kept.extend(batch)
        for subscriber in list(subscribers):
            try:
                subscriber(batch)
            except Exception:  # an observer must never break the recording
                log.exception("event subscriber %r failed and was removed", subscriber)
                self._subscribers.remove(subscriber)
        return batch

    flush = drain

    @contextlib.contextmanager
    def _draining(self) -> Iterator[None]:
        """Hold the drain lock, as this thread's (``_drain_owner``)."""
        with self._drain_lock:
            self._drain_owner = threading.get_ident()
            try:
                yield
            finally:
                self._drain_owner = None

    @property
    def backlog(self) -> int:
        """Events recorded and not drained yet (a load generator paces itself on it)."""
        return len(self._queue)

    @property
    def lag_ns(self) -> int:
        """How long the oldest event not drained yet has waited (0: none): what a process
        killed now would lose, on top of the batch being written."""
        try:
            oldest = self._queue[0][1]
        except IndexError:
            return 0
        return max(0, self.now() - oldest)

    @property
    def events(self) -> list[Event]:
        """Every event kept so far (drains the queue first); none unless the recorder keeps
        events (``keep``: the default without a path).

        In the order they were queued: one thread's in ``seq`` order, but events recorded on
        several threads at once may come a little out of ``seq`` and ``t`` order (each takes
        its ``seq`` and time just before it is queued). ``recording()`` sorts them by time.
        """
        self.drain()
        return list(self._kept)

    def recording(self) -> Recording:
        """The kept events as a ``Recording``, sorted by time."""
        recording = Recording(header=dict(self.header), events=self.events, path=self.path)
        recording.sort()
        return recording

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write the header and every kept event to ``path`` (``.gz`` compresses); returns it.

        ``UsageError`` when ``path`` names no file (empty, a folder, not a path at all).

        ``RecordingBusy`` when a live recorder of this process streams to ``path`` (this one
        included): saving there would truncate what it writes. ``EventsNotKept`` when this
        recorder keeps no events in memory (a streaming one, by default): the copy would hold
        the header alone while the events are in its file.
        """
        name = file_path(path, "save")
        holder = CLAIMS.holder(name)
        if holder is not None:
            who = "this recorder" if holder is self else "another recorder in this process"
            raise RecordingBusy(f"{name} is being written by {who}; save to another path")
        if not self.keep:
            where = f"streams them to {self.path}, " if self.path is not None else ""
            raise EventsNotKept(
                f"this recorder keeps no events in memory (keep=False): it {where}so a copy "
                "saved from it would hold none; "
                + ("copy that file after close(), or " if self.path is not None else "")
                + "make the recorder with keep=True"
            )
        events = sorted(self.events, key=lambda e: (e.t, e.seq))
        writer = RecordingWriter(name, self.header)
        try:
            writer.write(events)
        finally:
            writer.close()
        return name

    def close(self) -> None:
        """Stop the background thread, drain what is left and close the file (idempotent).

        The path is free again then: a recorder made for it later writes it afresh.
        """
        if self._closed:
            return
        self._closed = True
        try:
            self._close_file()
        finally:
            CLAIMS.release(self)
        if self.write_error is not None:
            raise self.write_error

    def _close_file(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            try:
                thread.join()
            except RuntimeError:
                # Never started: its start was interrupted (a Ctrl-C inside Thread.start).
                # If it runs after all, it sees the stop at once, and the drain lock keeps
                # it off the file being closed.
                pass
        self.drain_unread()
        # Under the drain lock: a drain on another thread (reading ``events``) must neither
        # write to the file being closed nor open it afresh once the writer is gone.
        with self._draining():
            self._output.close(self.header)
            self._late = self._output.done
        self._sink = None  # the next producer gets a sink that knows the file is closed

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _forked(self) -> None:
        """In a child forked from the process that made this recorder (a server's worker
        started with ``--preload``): the parent's thread is gone and its queued rows and file
        are the parent's to write; this process starts afresh with its own pid, request ids
        and file: ``run.<pid>.jsonl`` beside the parent's, whether or not the parent has
        opened the path yet. Sharing the path loses one side's events either way: the
        parent's first write truncates what a child wrote there, and a child writing after
        the parent closed the path truncates the parent's."""
        self._pid = os.getpid()
        self._sink = None  # it carries the parent's pid
        self._queue.clear()
        self._drain_lock = threading.Lock()  # the parent's drain may have held it at the fork
        self._drain_owner = None
        self._stop = threading.Event()
        self._req_ids = itertools.count(first_request_id(self._pid))
        self._ids_lock = threading.Lock()
        running, self._thread = self._thread is not None, None
        writer = self._output.forked(self._pid, lambda path: CLAIMS.claim(path, self))
        if running and not self._closed:
            self._start_thread()
        if writer is not None:
            writer.abandon()

    def _at_exit(self) -> None:
        """The process is exiting (``tracer.recorder_fork``): close the recorder nobody closed
        (a server stopped by Ctrl-C, a script that ended), so its last events are written and
        a ``.gz`` stream is complete."""
        if self._late and self._queue:
            # Rows queued after close() through a sink fetched before it (an app's thread
            # that ended its request after the run) and never drained: not in the file.
            self._output.warn_late()
        if self._thread is None or self._closed:
            return
        try:
            self.close()
        except Exception as exc:  # at exit there is no one left to raise to
            log.warning("closing the recording %s at exit failed: %s", self.path, exc)

    def _finish_before_signal(self, deadline: float) -> None:
        """SIGTERM is about to end the process (``tracer.recorder_fork``): write what is
        queued and close the file, so that it is complete and reads as finished.

        This runs in a signal handler, on the main thread, wherever the signal interrupted
        it, so it calls nothing that could wait for the interrupted code: no subscriber and
        no ``on_write_error`` (code of anyone's, which may want a lock that code holds), no
        join of the writer thread (it may be in such a subscriber) and no path claims (their
        lock). A drain this thread was in the middle of is left as it is (its batch maybe
        half written: the file keeps what was flushed, and reads as unfinished); one on
        another thread is waited for until ``deadline`` (``time.monotonic``). A ``close()``
        the signal came in is finished here, unless it was in its drain.
        """
        if self.path is None or self._output.done or self._drain_owner == threading.get_ident():
            return
        self._stop.set()  # the writer thread drains no more
        if not self._drain_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            return
        try:
            self._closed = True
            output = self._output
            output.on_error = _ignore_failure  # the process ends next: nobody to tell
            queue = self._queue
            rows = list(map(_popleft, itertools.repeat(queue, len(queue))))
            if output.takes_events():
                output.write(rows, self.header, False)  # close() finishes it
            output.close(self.header)
            self._late = output.done
        finally:
            self._drain_lock.release()

    def _start_thread(self) -> None:
        if self._thread is not None or self._closed:
            return
        self._thread = threading.Thread(target=self._run, name="gateway-tracer-writer", daemon=True)
        self._thread.start()

    def _next_flush_interval(self) -> float:
        """Seconds from this timed drain's due time to the next one's: ``flush_interval``
        (a subclass may stretch it after a large batch, ``ProcessRecorder``)."""
        return self._flush_interval

    def _run(self) -> None:
        said = False
        # At a fixed rate, not a fixed pause after each drain: a drain that took long (a
        # fast run's batch) is followed at once, so no event waits much over the interval.
        due = time.monotonic() + self._flush_interval
        while not self._stop.wait(max(0.0, due - time.monotonic())):
            now = time.monotonic()
            try:
                self.drain_unread()
            except Exception:  # a bug of ours (file errors are write_error): say so once
                # and go on draining: a writer thread that stopped would leave the queue to
                # grow until the run's backlog limit pauses its clients for good.
                if not said:
                    log.exception("draining the recording failed")
                    said = True
            due = max(due + self._next_flush_interval(), now)
