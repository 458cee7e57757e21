"""Runs that hold gevent's hub for no request: a ``loop.blocked`` with no request.

A greenlet no traced request started (one spawned at import, the server's own), one a request
started that outlived it, or the hub itself running a callback (``loop.run_callback``, a
timer's) holds the hub as a request's step does: no other greenlet runs meanwhile. Such a run
past the threshold, while traced requests are in flight, is recorded as a callback outside any
step is on an asyncio loop (``tracer.shim.blocking``): ``req`` and ``task`` null,
``outside_step: true``, ``location`` the line the watchdog saw most in it, ``delayed`` the
traced requests in flight (``delayed_from: "in_flight"``: gevent keeps which were ready in its
C loop) and ``gc_ns`` when collections ran in it; one row in the recorder of each request in
flight (shims of several recorders). A greenlet's run is exact, from its switch in (or the end
of the request it ran for) to its switch out. The hub's run holds its idle wait in the event
loop too, so only what the watchdog saw of a callback counts: from the first to the last look
that found code other than gevent's own running (a bound from below, as for asyncio's
callbacks), and nothing when it saw none (an idle hub). A greenlet's run the watchdog saw
nothing of is located where it switched out (``location_from: "step"``), and not recorded when
that is in no app or library code but gevent's (a server's greenlet that ended). Imports the
spine and ``tracer.shim.frames``; never the TUI, exporters, server models or CLI.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from tracer import events as K
from tracer.shim.frames import where_called

__all__ = ["GEVENT_PREFIX", "record_outside", "is_hub"]

GEVENT_PREFIX = "gevent/"
"""How gevent's own files read (``tracer.sourcepath.display_path``): a look at an idle hub
finds only them (its ``run``, waiting in the C loop)."""


def is_hub(greenlet: Any) -> bool:
    """Whether ``greenlet`` is a gevent hub (its runs include its idle waits)."""
    hub = sys.modules.get("gevent.hub")
    kind = getattr(hub, "Hub", None) if hub is not None else None
    return kind is not None and isinstance(greenlet, kind)


def record_outside(tracer: Any, origin: Any, now: int) -> None:
    """``origin`` (no traced request's) switches out at ``now`` (``time.monotonic_ns``) after
    running since ``tracer.since``: record its block, if it held the hub past the threshold."""
    from tracer.shim.blocking import most_seen  # only once a run held the hub that long

    location = most_seen(tracer.samples) if tracer.samples else None
    data: dict[str, Any]
    if is_hub(origin):
        seen = tracer.seen
        if location is None or seen is None:
            return  # no callback seen running: the hub waited, idle
        first, last = seen
        dur = last - first
        data = {"location": location}
    else:
        first = tracer.since
        dur = now - first
        if location is not None:
            data = {"location": location}
        else:
            # Where it switched out, when the watchdog saw nothing of it; no block is said
            # when that is nowhere, or gevent's own code (a server's greenlet that ended, or
            # waits in gevent's socket): no line of the app's or a library's to point at.
            where = where_called(getattr(origin, "gr_frame", None))
            if where is None or where.startswith(GEVENT_PREFIX):
                return
            data = {"location": where, "location_from": "step"}
    if dur <= tracer.block_ns:
        return
    data["outside_step"] = True
    collected = tracer.collections.within(first, first + dur)
    by_sink: dict[int, tuple[Any, set[int]]] = {}
    for cycle in list(tracer.cycles.values()):
        sink = cycle.sink
        entry = by_sink.get(id(sink))
        if entry is None:
            entry = by_sink[id(sink)] = (sink, set())
        entry[1].add(cycle.req)
    for sink, reqs in by_sink.values():
        t0 = sink.clock() - sink.start_ns - (now - first)
        row_data = {**data, "delayed": sorted(reqs), "delayed_from": "in_flight"}
        if collected and sink.clock is time.monotonic_ns:
            row_data["gc_ns"] = min(collected, dur)
        row = (
            next(sink.seq),
            t0,
            K.LOOP_BLOCKED,
            None,
            sink.pid,
            tracer.tid,
            tracer.thread,
            None,
            dur,
            row_data,
        )
        try:
            sink.append(row)
        except Exception:  # a recorder closed meanwhile: the block goes unsaid
            continue
