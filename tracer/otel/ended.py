"""What the span model keeps of the requests it has emitted: small, and flat over a long run.

Events of a request can come after the ``request.end`` it was emitted at: ``wsgi.close`` or
a send after the end, a late error, the client's answer, the work its app still does after a
timeout (which the app's own, later ``request.end`` closes). ``EndedRequests`` keeps what
they need and nothing else:

- every emitted id, so that a late event is never taken for a new request (``EndedIds``: runs
  of consecutive ids, a few bytes per request still open or never seen, none per request
  ended, since ids are handed out in increasing order);
- for the ``size`` most recently emitted, what work after their end needs of that end (an
  ``EndRecord`` of three fields, in place of the event and the request's state), or the work
  so far (``LateWork``) once some has come.

Imports ``tracer.otel.late`` only.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque

from tracer.otel.late import EndRecord, LateWork

__all__ = ["EndedIds", "EndedRequests"]


class EndedIds:
    """A set of request ids kept as sorted runs of consecutive ids, ``[first, last]`` each.

    The recorder hands ids out in increasing order (each worker process in its own range), so
    the ended ones form a few runs: one per process, and one more per gap left by a request
    still open, which closes when it ends. At most ``size`` runs: past that the lowest are
    forgotten (an id there is no longer known to have ended).
    """

    __slots__ = ("_firsts", "_lasts", "_size")

    def __init__(self, size: int) -> None:
        self._firsts: list[int] = []
        self._lasts: list[int] = []
        self._size = max(1, size)

    def __contains__(self, req: int) -> bool:
        at = bisect_right(self._firsts, req) - 1
        return at >= 0 and req <= self._lasts[at]

    def __len__(self) -> int:
        """How many runs are kept (not how many ids)."""
        return len(self._firsts)

    def add(self, req: int) -> None:
        """Count ``req`` as ended, joining the runs it touches."""
        firsts, lasts = self._firsts, self._lasts
        at = bisect_right(firsts, req) - 1  # the run starting at or before req, if any
        if at >= 0 and req <= lasts[at]:
            return
        joins_before = at >= 0 and lasts[at] == req - 1
        joins_after = at + 1 < len(firsts) and firsts[at + 1] == req + 1
        if joins_before and joins_after:  # it filled the gap between two runs
            lasts[at] = lasts[at + 1]
            del firsts[at + 1], lasts[at + 1]
        elif joins_before:
            lasts[at] = req
        elif joins_after:
            firsts[at + 1] = req
        else:
            firsts.insert(at + 1, req)
            lasts.insert(at + 1, req)
            if len(firsts) > self._size:
                del firsts[0], lasts[0]


class EndedRequests:
    """The requests a span model has emitted: ``req in ended``, and for the ``size`` most
    recent, what work after the end needs (``after``)."""

    __slots__ = ("_ids", "_after", "_order", "_size")

    def __init__(self, size: int) -> None:
        self._ids = EndedIds(size)
        # Each an EndRecord until work after the end comes, then that work (which holds the
        # record); a plain end (no error, no load generator) is its time alone, an int.
        self._after: dict[int, int | EndRecord | LateWork] = {}
        # The ids kept for, in the order they ended: the oldest is let go first. A settled
        # id stays until its turn (a dict alone would make finding the oldest ever slower).
        self._order: deque[int] = deque()
        self._size = max(1, size)

    def __contains__(self, req: int) -> bool:
        return req in self._ids

    def add(self, req: int) -> None:
        """Request ``req`` was emitted, or is to be ignored from now on: nothing that comes
        after it is shown unless ``remember`` keeps its end."""
        self._ids.add(req)
        self._after.pop(req, None)

    def remember(self, req: int, record: EndRecord) -> None:
        """Keep ``req``'s end for work that may follow it (``req`` was just ``add``-ed)."""
        self._keep(req, record.at if record[1:] == (None, None) else record)

    def after(self, req: int) -> EndRecord | LateWork | None:
        """What is kept for work after ``req``'s end: its record, the work so far, or None."""
        kept = self._after.get(req)
        return EndRecord(kept, None, None) if isinstance(kept, int) else kept

    def keep(self, req: int, late: LateWork) -> None:
        """Keep the work after ``req``'s end, in place of its record when it has one."""
        if req in self._after:
            self._after[req] = late
        else:
            self._keep(req, late)

    def _keep(self, req: int, kept: int | EndRecord | LateWork) -> None:
        """Keep ``kept`` for ``req``; the oldest beyond ``size`` is let go (work after its
        end is then not shown)."""
        self._after[req] = kept
        order = self._order
        order.append(req)
        if len(order) > self._size:
            self._after.pop(order.popleft(), None)

    def settle(self, req: int) -> None:
        """Nothing after ``req``'s end is to be shown any more; its id stays ended."""
        self._after.pop(req, None)

    def drop_work(self) -> None:
        """Let go of all work after an end not closed yet, keeping the ends themselves."""
        after = self._after
        for req, kept in list(after.items()):
            if type(kept) is LateWork:
                first = kept.first
                after[req] = first.at if first[1:] == (None, None) else first
