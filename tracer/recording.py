"""Recordings on disk: the ``Recording``, its header, the JSON Lines writer and ``load``.

A recording is one header line followed by one event per line (docs/recording-format.md).
``load`` checks the header here and leaves the lines after it to ``tracer.reading`` (the
tolerant event reader), whose public names are importable from this module too.
This module imports only the spine (``tracer.events``, ``tracer.errors``, ``tracer.reading``,
``tracer.gc_pause`` and the version), so the simulator and every reader can use it.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import os
import platform
import re
import stat
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from tracer._version import __version__
from tracer.cores import host_cores, usable_cores
from tracer.errors import RecordingFormatError, RecordingNotFound, UsageError
from tracer.events import KINDS, Event, line_objects
from tracer.gc_pause import paused_gc
from tracer.reading import (
    JSON_TYPES,
    UNREADABLE,
    EventLines,
    is_gzip,
    json_type,
    lines_until_eof,
    lone_surrogate,
    open_text,
    parse_event,
    parse_line,
    read_events,
    time_order,
    unreadable,
)

# tracer.reading's public names stay importable from here, where the code base and its users
# import them; the ``as`` form re-exports the one this module does not use itself.
from tracer.reading import event_problem as event_problem

__all__ = [
    "FORMAT",
    "VERSION",
    "Recording",
    "EventLines",
    "RecordingWriter",
    "RecordingBusy",
    "make_header",
    "header_problem",
    "path_argument",
    "recording_file",
    "usable_cpus",
    "load",
    "parse_event",
    "parse_line",
    "open_text",
    "view_start",
    "LATE_START",
]

FORMAT = "gateway-trace"
VERSION = 1


def usable_cpus() -> int:
    """The cores this process may run on: its CPU affinity where the platform has one (a
    ``taskset`` or a container's cpuset), else every core of the machine, lowered to a
    container's CPU quota rounded up (``docker run --cpus=2`` on a 64-core host: 2;
    ``tracer.cores``)."""
    return usable_cores().count


def make_header(
    *,
    source: str = "traced",
    app: str | None = None,
    interface: str | None = None,
    server: dict[str, Any] | None = None,
    load: dict[str, Any] | None = None,
    monotonic_ns: int | None = None,
    unix_ns: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Build a version-1 header; ``monotonic_ns``/``unix_ns`` anchor t=0 to wall time."""
    header: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "source": source,
        "app": app,
        "interface": interface,
        "server": server or {},
        "load": load or {},
        "clock": {
            "monotonic_ns": time.monotonic_ns() if monotonic_ns is None else monotonic_ns,
            "unix_ns": time.time_ns() if unix_ns is None else unix_ns,
        },
        "host": {
            "python": platform.python_version(),
            "platform": sys.platform,
            **host_cores(),  # cpus, and cpu_quota where a cgroup sets one
        },
        "tool_version": __version__,
    }
    header.update(extra)
    return header


@dataclass(slots=True, repr=False)
class Recording:
    """A header and its events, sorted by ``(t, seq)``."""

    header: dict[str, Any]
    """The first line of the recording (format, version, source, app, server, load, clock...)."""
    events: list[Event] = field(default_factory=list)
    """Every event, in time order."""
    truncated: bool = False
    """True when the last line was cut short (the run was interrupted) and skipped."""
    path: str | None = None
    """Where it was read from, if from a file."""

    @property
    def unfinished(self) -> bool:
        """Whether the recording ends before its run did: its process was killed (or is still
        writing it). A cut-short last line says so (``truncated``: a ``.gz`` stream without
        its trailer too), and so does a plain file whose header still says ``"writer":
        "open"``. A recording saved whole, or written before the header had the field, never."""
        return self.truncated or self.header.get(WRITER) == OPEN

    def __repr__(self) -> str:
        """Short, for a notebook cell, a debugger or a log: the title, how many events, where
        it was read from (a dataclass's own repr listed every event: megabytes for a long
        run)."""
        where = f" from {self.path!r}" if self.path else ""
        cut = ", cut short" if self.truncated else ""
        return f"<Recording {self.title!r}: {len(self.events):,} events{where}{cut}>"

    def sort(self) -> None:
        """Put the events in time order (ties broken by recording order)."""
        self.events.sort(key=time_order)

    def wall_ns(self, t: int) -> int:
        """Convert a recording time (ns since start) to nanoseconds since the Unix epoch."""
        return int((self.header.get("clock") or {}).get("unix_ns", 0)) + t

    def requests(self) -> dict[int, list[Event]]:
        """Events grouped by request id (events without a request are left out, and so are
        kinds this release does not know: the format has readers ignore them)."""
        grouped: dict[int, list[Event]] = {}
        for event in self.events:
            if event.req is not None and event.kind in KINDS:
                grouped.setdefault(event.req, []).append(event)
        return grouped

    def title_in(self, lang: str = "en") -> str:
        """``title`` with "(simulated)" and the colon after a demo's label said in ``lang``
        (``en`` or ``zh``: "（模拟）", "："); the app and the server model stay as typed."""
        title = self.title
        if lang == "en":
            return title
        if self.header.get("source") == "simulated":
            title = title.removesuffix(SIMULATED["en"]) + SIMULATED.get(lang, SIMULATED["en"])
        label = self.header.get("label")
        if lang == "zh" and isinstance(label, str) and label:
            title = f"{label}：{title.removeprefix(f'{label}: ')}"
        return title

    @property
    def title(self) -> str:
        """A short human label: app, server model and interface."""
        server = self.header.get("server") or {}
        # What is not known is left out (a library recording has no server model).
        how = " ".join(
            str(part)
            for part in ((self.header.get("interface") or "").upper(), server.get("model"))
            if part
        )
        source = SIMULATED["en"] if self.header.get("source") == "simulated" else ""
        app = self.header.get("app") or "?"
        label = self.header.get("label")  # a demo names its sides ("WSGI, 4 threads")
        prefix = f"{label}: " if isinstance(label, str) and label else ""
        return f"{prefix}{app}{' · ' + how if how else ''}{source}"


SIMULATED: dict[str, str] = {"en": " (simulated)", "zh": "（模拟）"}
"""How a title says that a recording was simulated, per language."""

LATE_START = 0.05
"""A timeline whose first event comes later than this share of its length begins there."""


def view_start(first_event: int, t_max: int) -> int:
    """Where a timeline of recordings ending at ``t_max`` begins: at 0, or at the first event
    when that comes late (``LATE_START``), as when a real server or worker processes took a
    while to start: the view would otherwise open on a stretch of nothing."""
    return first_event if first_event > LATE_START * t_max else 0


def _default(value: Any) -> str:
    """What a value JSON has no type for is written as: its ``str()``, so a stray bytes or
    enum does not lose the whole line, and a placeholder when even ``str()`` raises."""
    try:
        return str(value)
    except Exception:
        return f"<unprintable {type(value).__name__} object>"


# One encoder for every line: json.dumps with options builds a new encoder per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_default)

# A lone surrogate inside a JSON string, as the stdlib encoder leaves it with ensure_ascii off.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _spelled_out(match: re.Match[str]) -> str:
    # An escaped backslash, then the code point's digits: the line reads back as the text
    # ``\udcff`` that ``tracer.events.encodable`` makes, not as the surrogate itself.
    return f"\\\\u{ord(match.group()):04x}"


def _dumps(obj: dict[str, Any]) -> str:
    """One event or header as a compact JSON line that UTF-8 can always encode."""
    # orjson writes the same compact line as the stdlib encoder, about six times faster; the
    # stdlib takes over for what orjson refuses: an int past 64 bits, or a lone surrogate
    # (which would stop the file at this line, since the writer is strict UTF-8), spelled out.
    try:
        return orjson.dumps(obj, default=_default, option=orjson.OPT_NON_STR_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):
        return _SURROGATE.sub(_spelled_out, _ENCODER.encode(obj))


# Between two lines' objects in a JSON array of them (each begins with its "seq"): the one
# place ``_json_lines`` puts a newline instead.
_BETWEEN = b'},{"seq":'
_NEW_LINE = b'}\n{"seq":'


def _json_lines(objects: list[dict[str, Any]]) -> bytes:
    """The lines of ``objects`` (each a recording line's, its first key ``seq``), each ended
    by a newline, in UTF-8: ``_dumps`` of each, in one orjson call where it can.

    One array of them all, whose separators become newlines, costs two thirds of a call
    per line (a real server's rows: 0.63 µs a line, 0.96 alone, with the option a key that
    is no string needs); the bytes are the same: orjson writes an object alike alone or in
    an array.
    A separator is found only between two objects whose first key is ``seq``, which in an
    array of the lines' objects are the array's own, or an array's inside some line's data:
    when the count is not one fewer than the objects, it is that, and each line is made
    alone. So is every line of a slice holding what the array cannot take (a key that is
    not a string, an int past 64 bits, a lone surrogate: ``_dumps`` deals with them).
    """
    try:
        # No OPT_NON_STR_KEYS, which slows every key: a key that is no string raises here.
        array = orjson.dumps(objects, default=_default)
    except (TypeError, orjson.JSONEncodeError):
        pass
    else:
        if array.count(_BETWEEN) == len(objects) - 1:
            return array[1:-1].replace(_BETWEEN, _NEW_LINE) + b"\n"
    return ("\n".join([_dumps(obj) for obj in objects]) + "\n").encode("utf-8")


class RecordingBusy(OSError):
    """Another live process is writing the recording at this path (its lock is held)."""


def _lock(handle: IO[bytes]) -> bool:
    """Take the advisory write lock of an open recording; False when another process has it.

    A lock, not a check for the file's existence: a server's worker processes that each
    import the app (gunicorn ``-w 2``) would otherwise truncate and interleave one file.
    """
    try:
        import fcntl
    except ImportError:  # no advisory locks here (Windows): the first writer is not protected
        return True
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


WRITER = "writer"
"""The header field in which a plain recording file says whether its writer finished it."""
OPEN, DONE = "open", "done"
"""``WRITER``'s values: written while the file is being written, and overwritten in place
(same length) when the writer closes the file or checkpoints it: ``"open"`` in a file read
later means its process died before finishing it (killed) or is still writing it."""

BLOCK_THRESHOLD = "block_threshold_ns"
"""The header field saying how long a coroutine step must have held the loop, more than, to be
recorded as ``loop.blocked`` (ns), written for an ASGI app (``tracer.instrument``, ``trace run``)
and the simulated loop; absent where no threshold is known (older files, WSGI apps alone). A reader asked for a lower one (``trace
replay --block-threshold-ms``) knows that the blocks between the two were not recorded."""

GZIP_LEVEL = 6
"""The compression level of ``.gz`` recordings: zlib's default (as ``gzip`` uses), three times
as fast as level 9 on recordings for 5% more bytes. At level 9 the writer could not keep up
with a fast run, whose queue then held up to a second of events that a kill loses."""

SLICE = 2048
"""The most lines written between two flushes: a kill in the middle of a large batch keeps
the slices before it, readable (a ``.gz`` stream's compressor is flushed with each)."""


_GZIP_MAGIC = b"\x1f\x8b"
_SYNC_FLUSH_END = b"\x00\x00\xff\xff"  # what a Z_SYNC_FLUSH of a deflate stream ends with


class RecordingWriter:
    """Writes a recording line by line, so a crash loses at most the line being written.

    A regular file is locked while open (``RecordingBusy`` when another live process holds
    it) and truncated only once the lock is taken; anything else (``/dev/null``, a pipe) is
    written as it is. A ``.gz`` file is a gzip stream of one member per ``checkpoint()``.
    A plain regular file's header ends with ``"writer":"open"``, made ``"done"`` in place by
    ``checkpoint()`` and ``close()`` (and ``"open"`` again by a write after a checkpoint), so
    a reader can tell a file whose process was killed from a finished one
    (``Recording.unfinished``); a ``.gz`` stream says it by its end-of-stream trailer, and
    one it left open ends where it flushed it (``left_open``).
    """

    @staticmethod
    def left_open(path: str | os.PathLike[str]) -> bool:
        """Whether ``path`` is a gzip stream this writer left open: its process was killed
        or is still writing it.

        Each write ends with a flush of the compressor (``Z_SYNC_FLUSH``), whose last bytes
        are an empty stored block (``00 00 ff ff``); a finished stream ends with its trailer
        instead. So a stream read as cut short (``Recording.truncated``) is told from a
        whole one whose last line was cut before it was compressed (the stream's last 8
        bytes, its trailer, end so only for a size of ``0xffff0000`` modulo 4 GiB).
        """
        try:
            with open(path, "rb") as file:
                if file.read(2) != _GZIP_MAGIC:
                    return False
                file.seek(-len(_SYNC_FLUSH_END), os.SEEK_END)
                return file.read() == _SYNC_FLUSH_END
        except OSError:  # gone, unreadable, or shorter than that
            return False

    def __init__(self, path: str | os.PathLike[str], header: dict[str, Any]) -> None:
        self.path = str(path)
        parent = Path(self.path).parent
        parent.mkdir(parents=True, exist_ok=True)
        raw = open(self.path, "ab")  # appending: nothing is cut before the lock is ours
        self._raw = raw
        self._gzip = self.path.endswith(".gz")
        self._file: IO[bytes] | None = None
        self.count = 0
        self._mark_at: int | None = None  # where the header's "open"/"done" is, if it has one
        self._marked = OPEN
        try:
            # A device cannot be truncated (EINVAL), and its lock is no file's: two processes
            # writing /dev/null would send the second to a /dev/null.<pid> it cannot create.
            line = _dumps(header) + "\n"
            if stat.S_ISREG(os.fstat(raw.fileno()).st_mode):
                if not _lock(raw):
                    raise RecordingBusy(f"{self.path} is being written by another process")
                raw.truncate(0)
                if not self._gzip:  # only a plain file can be changed in place
                    marked = {k: v for k, v in header.items() if k != WRITER}
                    line = _dumps(marked | {WRITER: OPEN}) + "\n"
                    self._mark_at = len(line.encode()) - len(f'{OPEN}"}}\n')
            file = self._stream()
            file.write(line.encode("utf-8"))
            file.flush()
        except BaseException:
            # No file object left for the garbage collector to close (a ResourceWarning) or
            # to flush into a closed file.
            with contextlib.suppress(Exception):
                self.close()
            raise

    def _stream(self) -> IO[bytes]:
        """The stream lines go to: the file, or for ``.gz`` its gzip member (a new one after
        a checkpoint). Bytes, not text: ``_json_lines`` makes UTF-8 already."""
        file = self._file
        if file is None:
            file = self._raw
            if self._gzip:
                # No time or name in the member's header (``gzip -n``): the same run (a seeded
                # simulation) gives the same bytes, wherever and whenever it is written.
                file = gzip.GzipFile(  # type: ignore[assignment]
                    filename="", mode="wb", fileobj=self._raw, mtime=0, compresslevel=GZIP_LEVEL
                )
            self._file = file
        return file

    def write(self, events: Iterable[Sequence[Any]]) -> None:
        """Append events and flush them to the OS, ``SLICE`` lines at a time.

        ``Event`` objects, or the recorder's rows (plain or packed, ``tracer.recorder.Sink``)
        as they are, with no ``Event`` made: a row's line is its ``Event``'s
        (``tracer.events.line_objects``)."""
        self.write_lines(line_objects(events))

    def write_lines(self, objects: list[dict[str, Any]]) -> None:
        """``write`` of the lines' objects made already (``tracer.events.line_objects``): a
        recorder whose batch is wanted as ``Event`` objects too makes these first and its
        ``Event`` objects from them (``tracer.events.events_of_lines``)."""
        if not objects:
            return
        # Every slice is encoded before any is written: an object that cannot be (a bug of
        # ours) stops the write with nothing of the batch in the file.
        slices = [_json_lines(objects[at : at + SLICE]) for at in range(0, len(objects), SLICE)]
        if self._marked == DONE:
            self._mark(OPEN)  # before the events: a kill while they are written is seen
        try:
            file = self._stream()
            for lines in slices:
                file.write(lines)
                file.flush()  # a gzip stream's compressor too (Z_SYNC_FLUSH): it reads back
        except BaseException:
            self._mark_at = None  # lines are missing: the header keeps saying "open"
            raise
        self.count += len(objects)

    def _mark(self, state: str) -> None:
        """Say ``state`` in the header of a plain file (in place: the same number of bytes).

        Through a descriptor of its own: the writer's appends (``O_APPEND``), where Linux's
        ``pwrite`` ignores the offset. Where there is no ``pwrite`` (Windows), a seek and a
        write on that descriptor, which no one else moves."""
        self._marked = state
        if self._mark_at is None:
            return
        fd = os.open(self.path, os.O_WRONLY | getattr(os, "O_BINARY", 0))
        try:
            if hasattr(os, "pwrite"):
                os.pwrite(fd, state.encode(), self._mark_at)
            else:
                os.lseek(fd, self._mark_at, os.SEEK_SET)
                os.write(fd, state.encode())
        finally:
            os.close(fd)

    def checkpoint(self) -> None:
        """Leave the file complete as it stands, for a process that may end without closing it
        (uvicorn re-raises its stop signal after the lifespan's end, so no atexit runs).

        A ``.gz`` stream's current member gets its trailer; the next write, if any, begins
        another (gzip readers read the members of a file as one stream). Rare by design: a
        member costs ~20 bytes and restarts the compressor's window. A plain file is complete
        after every write already.
        """
        if self._gzip and self._file is not None:
            file, self._file = self._file, None
            file.close()  # the member's trailer; a GzipFile leaves the file it was given open
            self._raw.flush()
        elif self._marked == OPEN:
            self._mark(DONE)

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        try:
            file = self._file
            if file is not None and not file.closed:
                file.flush()
                if self._marked == OPEN:
                    self._mark(DONE)  # once every line is in the file
                if file is not self._raw:
                    file.close()  # the member's trailer
        finally:
            self._raw.close()  # a GzipFile leaves the file it was given open

    def abandon(self) -> None:
        """Never write again, not even buffered bytes: for a forked child, whose copy of the
        writer shares the parent's file. Its descriptor now points at the null device, so the
        copy's buffers, flushed whenever they are collected, go nowhere."""
        self._mark_at = None  # nor its header
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._raw.fileno())
        finally:
            os.close(devnull)


# Header fields the readers use, and the JSON type each must have when present and not null
# (docs/recording-format.md, "What tracer.load checks"). Others are not checked.
_HEADER_FIELDS: tuple[tuple[str, type], ...] = (
    ("app", str),
    ("interface", str),
    ("source", str),
    ("label", str),
    ("server", dict),
    ("load", dict),
    ("clock", dict),
    ("host", dict),
    ("demo", dict),
    (BLOCK_THRESHOLD, int),
)
# Fields inside those objects that are read: (object, field, type); present ones must be it.
_HEADER_SUBFIELDS: tuple[tuple[str, str, type], ...] = (
    ("clock", "unix_ns", int),
    ("clock", "monotonic_ns", int),
    ("demo", "lang", str),
)

log = logging.getLogger(__name__)


def _misfits(header: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    """The header's fields of a type the readers cannot use: ``(field, field inside it or
    None, what is wrong)``, the fields themselves first, in ``_HEADER_FIELDS`` order."""
    found: list[tuple[str, str | None, str]] = []
    for name, kind in _HEADER_FIELDS:
        value = header.get(name)
        if value is not None and type(value) is not kind:
            found.append((name, None, f'"{name}" is {json_type(value)}, not {JSON_TYPES[kind]}'))
    for outer, name, kind in _HEADER_SUBFIELDS:
        holder = header.get(outer)
        if type(holder) is dict and name in holder and type(holder[name]) is not kind:
            said = f'"{outer}.{name}" is {json_type(holder[name])}, not {JSON_TYPES[kind]}'
            found.append((outer, name, said))
    return found


def header_problem(header: dict[str, Any]) -> str | None:
    """What is wrong with the shape of a version-1 header's fields, or None: the rule
    ``Recorder`` applies to the header it is given, so that it never writes a field ``load``
    leaves out (``load`` reads such a file without it, see ``_fitting``). ``format`` and
    ``version`` are checked apart."""
    misfits = _misfits(header)
    return misfits[0][2] if misfits else None


def _fitting(header: dict[str, Any], path: str) -> dict[str, Any]:
    """``header`` without the fields the readers cannot use, with one warning naming them.

    Releases before the reader checked the header let ``Recorder(path, **header)`` write any
    value (``host="web-3"``, ``label=7``) and read such files back; the events are valid, so
    the file is read as one written before those fields existed, rather than refused."""
    misfits = _misfits(header)
    if not misfits:
        return header
    for name, inner, _ in misfits:
        if inner is None:
            del header[name]
        else:  # a field of an object that is one (_misfits looks inside no other)
            del header[name][inner]
    said = "; ".join(problem for _, _, problem in misfits)
    them = "it" if len(misfits) == 1 else "them"
    log.warning('"%s": in its header, %s: read without %s.', path, said, them)
    return header


def _parse_lines(lines: Iterator[str], path: str) -> Recording:
    try:
        first = next(lines)
    except StopIteration:
        raise RecordingFormatError(f'"{path}" is empty: not a gateway-trace recording.') from None
    try:
        header = orjson.loads(first)
    except json.JSONDecodeError as exc:
        surrogate = lone_surrogate(first, exc)
        if surrogate is not None:
            raise RecordingFormatError(
                f'"{path}" is not a valid gateway-trace recording: its header holds {surrogate}.'
            ) from None
        said = "its first line is not JSON"
        if str(path).endswith(".gz") and not is_gzip(path):  # named compressed, it is not
            said = "it is named .gz but is not gzip-compressed, and its first line is not JSON"
        raise RecordingFormatError(f'"{path}" is not a gateway-trace recording ({said}).') from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise RecordingFormatError(
            f'"{path}" is not a gateway-trace recording (no "format": "{FORMAT}" header).'
        )
    version = header.get("version")
    if type(version) is not int or version < 1:
        shape = "no" if version is None else f"{json_type(version)} as its"
        raise RecordingFormatError(
            f'"{path}" is not a valid gateway-trace recording: its header has {shape} '
            '"version" (a positive integer).'
        )
    if version > VERSION:
        raise RecordingFormatError(
            f'"{path}" is a version {version} recording; this gateway-tracer reads up to '
            f"version {VERSION}. Upgrade gateway-tracer to read it."
        )
    header = _fitting(header, path)
    with paused_gc():  # millions of objects that all live on: nothing to collect
        events, truncated, order = read_events(lines, path)
        if order is not None:
            events.sort(key=order)
    return Recording(header=header, events=events, truncated=truncated, path=path)


def load(path: str | os.PathLike[str]) -> Recording:
    """Read a recording (``.jsonl`` or ``.jsonl.gz``), sorted by ``(t, seq)``.

    A truncated last line is skipped (``Recording.truncated``); a foreign, corrupt or newer
    file raises ``RecordingFormatError``; a missing one ``RecordingNotFound``.
    """
    name = recording_file(path, "load")
    try:
        with open_text(name) as handle:
            return _parse_lines(lines_until_eof(handle), name)
    except UNREADABLE as exc:
        if isinstance(exc, FileNotFoundError):
            raise RecordingNotFound(f'Recording "{name}" does not exist.') from None
        raise unreadable(name, exc) from None


def loads(text: str, path: str = "<string>") -> Recording:
    """Parse a recording held in a string (tests, pipes)."""
    if not isinstance(text, str):
        raise UsageError(f"loads takes the recording's text (a str), not {type(text).__name__}.")
    return _parse_lines(iter(text.splitlines()), path)


def recording_file(path: Any, what: str) -> str:
    """``path`` as text (``path_argument``), or ``RecordingNotFound`` when no file is there
    (nothing, or a folder): the checks of every reader before it opens a recording."""
    name = path_argument(path, what)
    if not os.path.exists(name):
        raise RecordingNotFound(f'Recording "{name}" does not exist.')
    if os.path.isdir(name):
        raise RecordingNotFound(f'"{name}" is a folder, not a recording file.')
    return name


def path_argument(path: Any, what: str) -> str:
    """``path`` (a str, bytes or os.PathLike) as text, or ``UsageError`` naming ``what`` took
    it when it is no file name (``load(5)`` failed deep inside with a bare TypeError)."""
    if isinstance(path, str | bytes | os.PathLike):
        name = os.fspath(path)
        if isinstance(name, str):
            return name
        return os.fsdecode(name)
    raise UsageError(
        f"{what} takes the path of a recording file (a str, bytes or os.PathLike), not "
        f"{type(path).__name__} {path!r}."
    )
