"""Event kinds and the ``Event`` record: the vocabulary every part of gateway-tracer shares.

This is the only module that spells an event kind as a string, and it says what a status in
an event's data means (``is_server_error``). It imports nothing of ours, so the shims, the
simulator, the UI and the exporters can all depend on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from typing import Any, NamedTuple

__all__ = [
    "Event",
    "FIELDS",
    "encodable",
    "events_of_lines",
    "from_rows",
    "line_objects",
    "unpack_row",
    "KINDS",
    "REQUEST_QUEUED",
    "REQUEST_START",
    "REQUEST_END",
    "WSGI_INPUT_READ",
    "WSGI_START_RESPONSE",
    "WSGI_WRITE",
    "WSGI_BODY",
    "WSGI_CLOSE",
    "ASGI_RECEIVE",
    "ASGI_SEND",
    "SCHED_STEP",
    "SCHED_THREAD",
    "LOOP_BLOCKED",
    "ERROR",
    "VIOLATION",
    "CLIENT_SEND",
    "CLIENT_RESPONSE",
    "MARK",
    "is_server_error",
]

REQUEST_QUEUED = "request.queued"
REQUEST_START = "request.start"
REQUEST_END = "request.end"
WSGI_INPUT_READ = "wsgi.input.read"
WSGI_START_RESPONSE = "wsgi.start_response"
WSGI_WRITE = "wsgi.write"
WSGI_BODY = "wsgi.body"
WSGI_CLOSE = "wsgi.close"
ASGI_RECEIVE = "asgi.receive"
ASGI_SEND = "asgi.send"
SCHED_STEP = "sched.step"
SCHED_THREAD = "sched.thread"
LOOP_BLOCKED = "loop.blocked"
ERROR = "error"
VIOLATION = "violation"
CLIENT_SEND = "client.send"
CLIENT_RESPONSE = "client.response"
# A named moment in a recording (a demo bookmark, a run phase); data: label, caption.
MARK = "mark"

KINDS: frozenset[str] = frozenset(
    {
        REQUEST_QUEUED,
        REQUEST_START,
        REQUEST_END,
        WSGI_INPUT_READ,
        WSGI_START_RESPONSE,
        WSGI_WRITE,
        WSGI_BODY,
        WSGI_CLOSE,
        ASGI_RECEIVE,
        ASGI_SEND,
        SCHED_STEP,
        SCHED_THREAD,
        LOOP_BLOCKED,
        ERROR,
        VIOLATION,
        CLIENT_SEND,
        CLIENT_RESPONSE,
        MARK,
    }
)


def is_server_error(status: object) -> bool:
    """Whether a response status (a ``request.end``'s, a ``client.response``'s, an
    ``asgi.send``'s) says the request failed: a 5xx, as an int. None is no status at all,
    which the caller judges (the summary and the replay count a request that ended with none
    as failed)."""
    return isinstance(status, int) and status >= 500


# Field order of an event, shared by the hot-path tuple form and the JSON form.
FIELDS: tuple[str, ...] = ("seq", "t", "kind", "req", "pid", "tid", "thread", "task", "dur", "data")


class _EventFields(NamedTuple):
    seq: int
    """Unique within a recording, in the order events were recorded."""
    t: int
    """Nanoseconds since the recording started (monotonic clock)."""
    kind: str
    """One of ``KINDS``; readers ignore kinds they do not know."""
    req: int | None = None
    """The request this event belongs to, or None (loop-wide, process-wide events)."""
    pid: int = 0
    """Process id of the producer."""
    tid: int = 0
    """Thread ident of the producer (``threading.get_ident()``)."""
    thread: str = ""
    """Thread name of the producer."""
    task: str | None = None
    """asyncio task name, when produced inside a task."""
    dur: int | None = None
    """Nanoseconds, for events that span time (they end at ``t + dur``)."""
    data: dict[str, Any] = {}  # noqa: RUF012 - never shared: Event.__new__ makes a fresh one
    """Kind-specific fields; see docs/recording-format.md."""


class Event(_EventFields):
    """One line of a recording after the header: an immutable record of ``FIELDS``.

    A tuple underneath (a named tuple): the recorder's drain makes one per event with a single
    C call from the hot path's row, where a frozen dataclass took ten attribute stores, and
    the drain competes with the traced app for the GIL. ``Event(seq, t, kind, ...)`` with
    keywords and defaults as the fields say; ``data`` defaults to a new empty dict.
    """

    __slots__ = ()

    def __new__(
        cls,
        seq: int,
        t: int,
        kind: str,
        req: int | None = None,
        pid: int = 0,
        tid: int = 0,
        thread: str = "",
        task: str | None = None,
        dur: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> Event:
        return _new(
            cls, (seq, t, kind, req, pid, tid, thread, task, dur, {} if data is None else data)
        )

    @property
    def end(self) -> int:
        """When the event ends: ``t + dur`` (or ``t`` for instants)."""
        return self.t + (self.dur or 0)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this event, as written to a recording line."""
        return {
            "seq": self.seq,
            "t": self.t,
            "kind": self.kind,
            "req": self.req,
            "pid": self.pid,
            "tid": self.tid,
            "thread": self.thread,
            "task": self.task,
            "dur": self.dur,
            "data": self.data,
        }

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> Event:
        """Build an event from a parsed recording line (missing optional fields get defaults)."""
        return cls(
            seq=int(obj["seq"]),
            t=int(obj["t"]),
            kind=str(obj["kind"]),
            req=obj.get("req"),
            pid=obj.get("pid") or 0,
            tid=obj.get("tid") or 0,
            thread=obj.get("thread") or "",
            task=obj.get("task"),
            dur=obj.get("dur"),
            data=obj.get("data") or {},
        )

    def as_row(self) -> tuple[Any, ...]:
        """This event as a plain hot-path tuple (fields in ``FIELDS`` order, data a dict)."""
        return tuple(self)

    @classmethod
    def from_tuple(cls, row: tuple[Any, ...]) -> Event:
        """Build an event from the recorder's hot-path tuple (fields in ``FIELDS`` order)."""
        if cls is not Event:
            return cls(*unpack_row(row))
        return from_rows((row,))[0]


_new = tuple.__new__

# id(keys) -> (keys, the functions making a packed row's data, its Event and its line's
# object). The keys are a handful of constants of the producers; bounded anyway, in case one
# makes them afresh.
_Decoders = tuple[
    Callable[[tuple[Any, ...]], dict[str, Any]],
    Callable[[tuple[Any, ...]], Event],
    Callable[[tuple[Any, ...]], dict[str, Any]],
]
_DECODERS: dict[int, tuple[tuple[str, ...], _Decoders]] = {}
_DECODERS_BY_KEYS: dict[tuple[str, ...], _Decoders] = {}
# id(keys) -> the function making a packed row's Event (``from_rows``), its line's object
# (``line_objects``). No identity check is needed on a hit: ``_DECODERS`` keeps each keys
# tuple alive, so no other object has its id.
_MAKERS: dict[int, Callable[[Any], Event]] = {}
_LINES: dict[int, Callable[[Any], dict[str, Any]]] = {}
_MAX_DECODERS = 256
# Which of a ``_Decoders`` makes the Event, and which the line's object.
_EVENT, _LINE = 1, 2


def encodable(value: Any) -> Any:
    """``value``, or, for a string UTF-8 cannot encode (a lone surrogate such as ``"\\udcff"``,
    which ``os.fsdecode`` and ``errors="surrogateescape"`` make), the same string with each
    surrogate spelled ``\\udcff`` in plain characters. An app's strings (a message, a status, a
    header) end up in files, terminals and protobufs, and every one of them refuses a surrogate.
    """
    if type(value) is not str or value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def _pairs(flat: Any) -> list[list[Any]] | None:
    """``[[n1, v1], [n2, v2], ...]`` of a flat ``(n1, v1, n2, v2, ...)`` (None stays None).
    The names and values are an app's own (WSGI headers): each is made ``encodable``."""
    if flat is None:
        return None
    # A plain loop: for the few headers of a request, cheaper than any comprehension here.
    pairs: list[list[Any]] = []
    add = pairs.append
    items = iter(flat)
    for name in items:
        value = next(items, None)
        if type(name) is not str or not name.isascii():
            name = encodable(name)
        if type(value) is not str or not value.isascii():
            value = encodable(value)
        add([name, value])
    return pairs


def _list(values: Any) -> list[Any] | None:
    """A list of ``values`` (None stays None)."""
    return None if values is None else list(values)


# How a typed key (``name:type``) of a packed row turns its value into the data's value.
_CONVERTERS: dict[str, Callable[[Any], Any]] = {"pairs": _pairs, "list": _list, "text": encodable}


def _decoders(keys: tuple[str, ...]) -> _Decoders:
    """The functions making the data, the ``Event`` and the line's object (``line_objects``)
    of packed rows with ``keys``.

    Compiled once per keys (cached by identity), as ``collections.namedtuple`` does: a dict
    display of the row's items is three times faster than ``dict(zip(keys, row[10:]))``, and
    the drain that runs it competes with the traced app for the GIL. A key spelled
    ``name:pairs`` carries a flat tuple of names and values (``(n1, v1, n2, v2)`` ->
    ``[[n1, v1], [n2, v2]]``), one spelled ``name:list`` a tuple (-> a list), one spelled
    ``name:text`` an app's string (made ``encodable``, off the hot path): the hot path
    keeps containers out of its rows, since a row holding a list or a dict stays tracked by
    the garbage collector until it is drained.
    """
    entry = _DECODERS.get(id(keys))
    if entry is not None and entry[0] is keys:
        return entry[1]
    # Equal keys in another tuple: rows read back from another process (a real server's
    # stream) carry copies of the producers' constants; they share the compiled functions.
    known = _DECODERS_BY_KEYS.get(keys)
    if known is not None:
        return known
    items = []
    for i, key in enumerate(keys, 10):
        name, _, kind = str(key).partition(":")
        if kind in _CONVERTERS:
            items.append(f"{name!r}: _{kind}(row[{i}])")
        else:
            items.append(f"{str(key)!r}: row[{i}]")
    data = "{" + ", ".join(items) + "}"
    fields = ", ".join(f"row[{i}]" for i in range(9))
    line = ", ".join(f"{name!r}: row[{i}]" for i, name in enumerate(FIELDS[:9]))
    namespace: dict[str, Any] = {f"_{kind}": convert for kind, convert in _CONVERTERS.items()}
    namespace.update(_new=_new, Event=Event)
    source = (
        f"def data(row):\n    return {data}\n"
        f"def event(row):\n    return _new(Event, ({fields}, {data}))\n"
        f"def line(row):\n    return {{{line}, 'data': {data}}}\n"
    )
    exec(source, namespace)  # noqa: S102 - repr()'d names
    made: _Decoders = (namespace["data"], namespace["event"], namespace["line"])
    if len(_DECODERS) < _MAX_DECODERS:
        _DECODERS[id(keys)] = (keys, made)
        _DECODERS_BY_KEYS[keys] = made
        _MAKERS[id(keys)] = made[1]
        _LINES[id(keys)] = made[2]
    return made


def unpack_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A hot-path tuple in ``FIELDS`` order, its data a dict (a packed row is unpacked).

    A packed row is ``(seq, t, kind, req, pid, tid, thread, task, dur, keys, *values)`` with
    ``keys`` a tuple of names: data is ``dict(zip(keys, values))`` (a typed key, ``name:pairs``
    or ``name:list``, converts its value: see ``_decoders``). Made of numbers, strings
    and None only, it holds no container, so the garbage collector stops tracking it at its
    first pass instead of carrying it through its older generations until the recorder
    drains it (with a dict inside, a row stays tracked for as long as it lives); the drain
    makes the dict, off the hot path. See bench/overhead.py.
    """
    keys = row[9]
    if type(keys) is not tuple:
        return row
    return (*row[:9], _decoders(keys)[0](row))


def from_rows(rows: Iterable[Sequence[Any]]) -> list[Event]:
    """``Event`` objects of hot-path rows (fields in ``FIELDS`` order, or packed), in order."""
    return _convert(rows, _MAKERS, _EVENT, _plain_event)


def line_objects(rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """The JSON object of each row's recording line, in order: what ``Event.to_dict`` gives of
    the row's ``Event`` (plain rows, packed ones and ``Event`` objects alike), without making
    the ``Event``. A recorder whose events nobody reads but its file writes them so."""
    return _convert(rows, _LINES, _LINE, _plain_line)


def events_of_lines(objects: Iterable[dict[str, Any]]) -> list[Event]:
    """The ``Event`` of each line's object (``line_objects``), sharing its ``data`` dict.

    A drain that wants both the file's lines and ``Event`` objects makes the lines from the
    rows (one compiled dict display per row) and the events from them: about 0.85 of the
    CPU of making the events from the rows and the lines from the events (the rows of a
    ``trace run --server uvicorn``; docs/decisions.md, "Where a traced uvicorn's extra CPU
    goes"). The objects must be ``line_objects``' own: their keys in ``FIELDS`` order.
    """
    return list(map(_new, repeat(Event), map(dict.values, objects)))


def _convert(
    rows: Iterable[Sequence[Any]],
    compiled: dict[int, Callable[[Any], Any]],
    which: int,
    plain: Callable[[Sequence[Any]], Any],
) -> list[Any]:
    """``rows`` each made by the function of its keys (``compiled``, by id), ``plain`` for a
    plain row. A drain runs this for every event and competes with the traced app for the
    GIL: one comprehension, one dict lookup per row (bench/overhead.py counts it)."""
    # A copy for this call, to which equal keys in other tuples are added as they are met:
    # rows read back from another process (a real server's stream) carry copies of the
    # producers' constants, one per frame, that would otherwise each be looked up by value
    # for every row. ``held`` keeps those tuples alive until the end of the call, so no other
    # object takes the id of one.
    local = compiled.copy()
    held: list[tuple[str, ...]] = []

    def other(row: Sequence[Any]) -> Any:
        keys = row[9]
        if type(keys) is tuple:  # packed: the data is made here, off the hot path
            made: Callable[[Any], Any] = _decoders(keys)[which]
            local[id(keys)] = made
            held.append(keys)
            return made(row)
        if len(row) == 10:
            return plain(row)
        raise ValueError(f"an event row has {len(FIELDS)} fields, not {len(row)}")

    found = local.get
    return [found(id(row[9]), other)(row) for row in rows]


def _plain_event(row: Sequence[Any]) -> Event:
    """The ``Event`` of a plain row (its data a dict)."""
    return _new(Event, row)  # type: ignore[no-any-return]


def _plain_line(row: Sequence[Any]) -> dict[str, Any]:
    """The line's object of a plain row, or of an ``Event`` (``Event.to_dict``)."""
    seq, t, kind, req, pid, tid, thread, task, dur, data = row
    return {
        "seq": seq,
        "t": t,
        "kind": kind,
        "req": req,
        "pid": pid,
        "tid": tid,
        "thread": thread,
        "task": task,
        "dur": dur,
        "data": data,
    }
