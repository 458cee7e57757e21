"""Ended requests' records packed into rows of bytes, found again by request id.

Its one job is the packing: a row's layout, packing a ``RequestSpan`` into it and unpacking
it, the store of rows by request id (``SpanRows``), and reading records by id whether packed
or not (``SpanView``). A ``RequestSpan`` with its dict slot and the number objects of its
times takes about 450 bytes, its row 83 (its first byte's flags say whether the response was
cut short and why the client left it). A record that would not read back as itself stays a
``RequestSpan`` (``put`` says so). When a request has ended, and what the int kept with its
row means, is ``tracer.digest``'s to say. Imports only ``tracer.summary`` (for
``RequestSpan``).
"""

from __future__ import annotations

import struct
from bisect import bisect_right
from collections.abc import Iterator, Mapping
from operator import attrgetter
from typing import Any

from tracer.summary import RequestSpan

__all__ = ["SpanRows", "SpanView"]

_TIMES = (
    "queued",
    "start",
    "start_seq",
    "end",
    "end_seq",
    "client_end",
    "client_seq",
    "response_end",
)
"""The integer fields of a ``RequestSpan`` (ns, seq), each packed as 8 bytes."""
_VALUES = (
    "status",
    "error",
    "raised",
    "scope_type",
    "client_status",
    "client_error",
    "response_status",
)
"""Its other fields (statuses, error names), each packed as the code of its value."""
_times_of = attrgetter(*_TIMES)
_values_of = attrgetter(*_VALUES)
_ROW = struct.Struct(f"<BI{len(_TIMES)}q{len(_VALUES)}H")
"""A packed request: its flags (``_TAKEN`` and the others: never 0), its order (an int the
caller keeps with it), its times (``_NO_TIME`` for None), its value codes (0 for None)."""
_TAKEN = 1
"""The row holds a request (a free row's flags are 0)."""
_CUT_SHORT = 2
"""``RequestSpan.cut_short``."""
_CLOSED_FLAGS: dict[str | None, int] = {None: 0, "read-for": 4, "read-bytes": 8}
"""``RequestSpan.client_closed`` as flags: the reasons the recording format names (a record
of another keeps its ``RequestSpan``)."""
_CLOSED_MASK = 4 | 8
_CLOSED_OF = {flag: reason for reason, flag in _CLOSED_FLAGS.items()}
_NO_TIME = -(2**63)
_FREE = bytes(_ROW.size)
_PLAIN = frozenset({int, str, type(None)})
_MOST_CODES = 0xFFFF
_GAP = 1024
"""How many rows a run grows by at most for one request before the request starts a run of
its own: requests end out of order by about the concurrency."""
_MOST_RUNS = 4096
"""Past this many runs (request ids scattered, not counted up), records stay unpacked."""


class SpanRows:
    """Ended requests' records, packed by request id into runs of consecutive ids.

    A process counts its request ids up from 1 (a forked worker from pid x 10^6 + 1), so a
    run's row is found from the id alone: no per-request key, 83 bytes a request where a
    ``RequestSpan`` with its dict slot and number objects took about 450. A record that does
    not pack (a time past 64 bits, a status that is not an int or a str) stays unpacked.
    """

    def __init__(self) -> None:
        self._bases: list[int] = []
        """The first request id of each run, ascending."""
        self._runs: list[bytearray] = []
        """Each run's rows, one per id from its base (rows of ids not packed are zeros)."""
        self._codes: dict[int | str, int] = {}
        """The code of each value packed."""
        self._values: list[int | str | None] = [None]
        """The value of each code."""
        self._coded: dict[tuple[Any, ...], tuple[int, ...]] = {}
        """The codes of each tuple of a span's values packed so far (a few kinds a run)."""
        self._last = 0
        """The run the last row went to: the next row mostly goes there too."""
        self.held = 0
        """Rows taken."""

    def _find(self, req: int) -> tuple[bytearray, int] | None:
        """The run and offset of ``req``'s row, if it holds one."""
        i = bisect_right(self._bases, req) - 1
        if i < 0:
            return None
        run = self._runs[i]
        offset = (req - self._bases[i]) * _ROW.size
        if offset >= len(run) or not run[offset]:
            return None
        return run, offset

    def pop(self, req: int) -> tuple[int, RequestSpan] | None:
        """``req``'s order and record, its row freed; None if it has none."""
        found = self._find(req)
        if found is None:
            return None
        run, offset = found
        row = _ROW.unpack_from(run, offset)
        run[offset] = 0
        self.held -= 1
        return row[1], self._span(req, row)

    def get(self, req: int) -> RequestSpan | None:
        """A copy of ``req``'s record, if it has a row."""
        found = self._find(req)
        return None if found is None else self._span(req, _ROW.unpack_from(*found))

    def ids(self) -> Iterator[int]:
        """The request id of every row, ascending."""
        for base, run in zip(self._bases, self._runs, strict=True):
            for index, row in enumerate(_ROW.iter_unpack(run)):
                if row[0]:
                    yield base + index

    def spans(self) -> Iterator[tuple[int, RequestSpan]]:
        """Every row as its order and a ``RequestSpan`` of its own, by request id."""
        for base, run in zip(self._bases, self._runs, strict=True):
            for index, row in enumerate(_ROW.iter_unpack(run)):
                if row[0]:
                    yield row[1], self._span(base + index, row)

    def _span(self, req: int, row: tuple[Any, ...]) -> RequestSpan:
        """The record a row holds, as a ``RequestSpan`` of its own (fields in the order of
        ``_TIMES`` and ``_VALUES``, assigned at once: a ``setattr`` each took 3.5 times as
        long, and the summary reads every row)."""
        span = RequestSpan(req)
        (
            span.queued,
            span.start,
            span.start_seq,
            span.end,
            span.end_seq,
            span.client_end,
            span.client_seq,
            span.response_end,
        ) = [None if value == _NO_TIME else value for value in row[2:10]]
        values = self._values
        (
            span.status,
            span.error,
            span.raised,
            span.scope_type,
            span.client_status,
            span.client_error,
            span.response_status,
        ) = [values[code] for code in row[10:]]
        flags = row[0]
        span.cut_short = bool(flags & _CUT_SHORT)
        span.client_closed = _CLOSED_OF[flags & _CLOSED_MASK]
        return span

    def put(self, req: int, span: RequestSpan, order: int) -> bool:
        """Pack ``span`` as ``req``'s row, ``order`` with it (an int the caller reads back
        with the record); False if it does not pack (the caller keeps it as it is)."""
        times = _times_of(span)
        if _NO_TIME in times:
            return False
        values = _values_of(span)
        # An int or a str is itself once unpacked; True, 200.0 or an IntEnum would come back
        # as 1 or 200 and read differently ("True", "200.0"). Of these exact types, a tuple
        # of values equal to one coded before has its codes.
        if not _PLAIN.issuperset(map(type, values)):
            return False
        closed = span.client_closed
        if closed not in _CLOSED_FLAGS:
            return False
        flags = _TAKEN | (_CUT_SHORT if span.cut_short else 0) | _CLOSED_FLAGS[closed]
        codes = self._coded.get(values) or self._code(values)
        if codes is None:
            return False
        slot = self._slot(req)
        if slot is None:
            return False
        run, offset = slot
        try:
            _ROW.pack_into(
                run, offset, flags, order, *[_NO_TIME if t is None else t for t in times], *codes
            )
        except struct.error:  # past 64 bits: packed up to there, then freed
            run[offset] = 0
            return False
        self.held += 1
        return True

    def _code(self, values: tuple[Any, ...]) -> tuple[int, ...] | None:
        """The codes of a span's values (ints, strs or None; 0 for None), new values given
        one; None when the codes ran out."""
        codes = []
        for value in values:
            if value is None:
                codes.append(0)
                continue
            code = self._codes.get(value)
            if code is None:
                code = len(self._values)
                if code > _MOST_CODES:
                    return None
                self._codes[value] = code
                self._values.append(value)
            codes.append(code)
        if len(self._coded) < _MOST_CODES:
            self._coded[values] = tuple(codes)
        return tuple(codes)

    def _slot(self, req: int) -> tuple[bytearray, int] | None:
        """Where ``req``'s row goes: in a run, grown to it, or a new run."""
        bases, runs, size = self._bases, self._runs, _ROW.size
        i = self._last  # what bisect finds, mostly: rows go to the same run one after another
        if not (bases and bases[i] <= req and (i + 1 == len(bases) or req < bases[i + 1])):
            i = bisect_right(bases, req) - 1
        if i >= 0:
            self._last = i
            run = runs[i]
            index = req - bases[i]
            rows = len(run) // size
            if index < rows:
                return run, index * size
            if index - rows <= _GAP:
                run.extend(_FREE if index == rows else bytes((index + 1 - rows) * size))
                self._join(i)
                return run, index * size
        if len(runs) >= _MOST_RUNS:
            return None
        i += 1
        bases.insert(i, req)
        runs.insert(i, bytearray(size))
        self._join(i)
        self._last = i
        return runs[i], 0

    def _join(self, i: int) -> None:
        """Run ``i`` and the next as one when they meet."""
        bases, runs = self._bases, self._runs
        if i + 1 < len(bases) and bases[i] + len(runs[i]) // _ROW.size == bases[i + 1]:
            runs[i] += runs[i + 1]
            del bases[i + 1], runs[i + 1]


class SpanView(Mapping[int, RequestSpan]):
    """Records by request id: those of a dict as they are (``tracer.digest``'s requests in
    flight), those packed in rows unpacked on reading (each a copy: changing it changes
    nothing)."""

    def __init__(self, spans: dict[int, RequestSpan], rows: SpanRows) -> None:
        self._spans = spans
        self._rows = rows

    def __len__(self) -> int:
        return len(self._spans) + self._rows.held

    def __iter__(self) -> Iterator[int]:
        yield from self._spans
        yield from self._rows.ids()

    def __getitem__(self, req: int) -> RequestSpan:
        span = self._spans.get(req)
        if span is None:
            span = self._rows.get(req)
            if span is None:
                raise KeyError(req)
        return span
