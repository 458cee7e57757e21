"""What an html/svg figure needs of a recording file, read in two passes instead of loaded.

A figure draws at most a few dozen request lanes (``--lanes``), yet says things of the whole
run: how many requests there were, where the first arrived, the summary table. The first
pass (``RecordingFile.scan``) streams every event into a ``tracer.digest.Digest`` (one small
record per request, as ``trace summary`` keeps) and chooses the lanes as the figure always
has: the first ``max_lanes`` requests by arrival (or as many spread over the run:
``lanes_chosen``), and those a bookmark points at. The second
keeps only those requests' events and the bookmarks: a ``Recording`` of them, with the
``RunFacts`` of the whole run beside it, draws the figure the whole recording would.

Imports the spine, ``tracer.digest`` and ``tracer.export.stream``.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tracer import events as K
from tracer.digest import Digest
from tracer.events import Event
from tracer.export.stream import RecordingFile
from tracer.recording import Recording
from tracer.summary import RequestSpan, first_request, sample_sizes

__all__ = [
    "RunFacts",
    "drawn_part",
    "drawn_parts",
    "lanes_chosen",
    "shifts",
    "undefined_figures",
    "marked_req",
]

_BATCH = 256
"""Events handed to the digest at a time: a few, since the batch in hand is most of what the
first pass holds besides the requests' records."""


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What a figure says of a whole run, found while its file was read."""

    total: int
    """Requests in the recording (lifespan connections left out), drawn or not."""
    first: int
    """When the first request arrived (``tracer.summary.first_request``)."""
    summary: dict[str, Any]
    """The summary of the run (``tracer.summarize``'s, as ``trace summary`` streams it)."""
    undefined: frozenset[str]
    """The summary figures there is nothing to make of (``undefined_figures``)."""
    samples: dict[str, int]
    """How many values the summary's ``latency_ms`` and ``queue_ms`` are each of
    (``sample_sizes``): a percentile is given only of a sample that measures it."""


def marked_req(event: Event) -> int | None:
    """The request a bookmark points at (its ``data`` ``req``), if any."""
    req = event.data.get("req") if event.kind == K.MARK and isinstance(event.data, dict) else None
    return req if isinstance(req, int) and not isinstance(req, bool) else None


def undefined_figures(
    spans: Mapping[int, RequestSpan], summary: dict[str, Any], has_loop: bool
) -> frozenset[str]:
    """The summary figures that have nothing to be made of, though the summary says 0: the
    latency without a finished request, the queueing without a request that queued, the rate
    and the wall time without any request, the loop's blocking where there is no loop (WSGI
    on threads or processes)."""
    missing = set()
    if not has_loop:
        missing.add("loop_blocked_ms")
    if not any(s.finished is not None and s.arrived is not None for s in spans.values()):
        missing.add("latency_ms")
    if not any(s.queue_wait is not None for s in spans.values()):
        missing.add("queue_ms")
    if not summary.get("requests"):
        missing |= {"rps", "wall_s"}
    return frozenset(missing)


def _loop_model(header: dict[str, Any]) -> bool:
    """The header says the app ran on an event loop (ASGI, or WSGI on ``wsgi-on-loop``)."""
    server = header.get("server")
    model = server.get("model") if isinstance(server, dict) else None
    return header.get("interface") != "wsgi" or model == "wsgi-on-loop"


def lanes_chosen(
    order: Sequence[tuple[int, int]],
    max_lanes: int,
    spread: bool = False,
    marked: Collection[int] = (),
) -> set[int]:
    """The requests drawn as lanes, of ``order`` (``(arrival, request)`` in arrival order),
    besides those a bookmark points at (``marked``, always drawn): the first ``max_lanes``;
    with ``spread``, ``max_lanes`` in all spread evenly over the run, the bookmarked ones
    among them and the first and the last of the others, so the figure's axis covers the whole
    run (a compare's 15 lanes of 100 requests otherwise stop before the queue has grown)."""
    if not spread or len(order) <= max_lanes:
        return {req for _, req in order[: max(0, max_lanes)]}
    others = [req for _, req in order if req not in marked]
    room = max_lanes - (len(order) - len(others))
    if room <= 0 or not others:
        return set()
    if room == 1:
        return {others[0]}
    last = len(others) - 1
    return {others[round(i * last / (room - 1))] for i in range(room)}


def drawn_part(
    source: RecordingFile, max_lanes: int, spread: bool = False
) -> tuple[Recording, RunFacts]:
    """The recording a figure of ``source`` draws (its lanes' events and its bookmarks, in
    time order) and what the figure says of the whole run. ``spread``: lanes spread over the
    run (``lanes_chosen``).

    Memory: one small record per request (the digest's) and the drawn requests' events.
    """
    digest = Digest(source.header)
    batch: list[Event] = []
    marked: set[int] = set()
    loop = [_loop_model(source.header)]
    earliest: list[int] = []

    def observe(event: Event) -> None:
        batch.append(event)
        if len(batch) >= _BATCH:
            digest.feed(batch)
            batch.clear()
        kind = event.kind
        if kind == K.MARK:
            req = marked_req(event)
            if req is not None:
                marked.add(req)
        elif kind in (K.SCHED_STEP, K.LOOP_BLOCKED):
            loop[0] = True
        if not earliest or event.t < earliest[0]:
            earliest[:] = [event.t]

    source.scan(observe)
    digest.feed(batch)
    spans = digest.requests()
    arrivals_of = ((s.arrived if s.arrived is not None else 0, req) for req, s in spans.items())
    order = sorted(arrivals_of) if spread else heapq.nsmallest(max_lanes, arrivals_of)
    keep = lanes_chosen(order, max_lanes, spread, marked) | (marked & spans.keys())
    events = [e for e in source.events() if e.kind == K.MARK or e.req in keep]
    arrivals = [s.arrived for s in spans.values() if s.arrived is not None]
    first = max(0, min(arrivals)) if arrivals else max(0, earliest[0] if earliest else 0)
    summary = digest.summary()
    facts = RunFacts(
        total=len(spans),
        first=first,
        summary=summary,
        undefined=undefined_figures(spans, summary, loop[0]),
        samples=sample_sizes(spans),
    )
    shell = source.shell
    drawn = Recording(
        header=shell.header, events=events, truncated=shell.truncated, path=shell.path
    )
    return drawn, facts


def drawn_parts(
    recordings: Sequence[Recording | RecordingFile], max_lanes: int, spread: bool = False
) -> tuple[list[Recording], list[RunFacts | None]]:
    """Each loaded recording as it is (its facts found from its events when drawn: None),
    each file read into the part its figure draws (``drawn_part``; ``spread`` as there)."""
    loaded: list[Recording] = []
    facts: list[RunFacts | None] = []
    for recording in recordings:
        if isinstance(recording, RecordingFile):
            drawn, found = drawn_part(recording, max_lanes, spread)
            loaded.append(drawn)
            facts.append(found)
        else:
            loaded.append(recording)
            facts.append(None)
    return loaded, facts


def shifts(recordings: Sequence[Recording], facts: Sequence[RunFacts | None]) -> list[int]:
    """Per recording, what to subtract from its times to put its first request where the
    first recording's is (``tracer.summary.alignment``, with the whole run's first request
    for a recording read in part)."""
    firsts = [
        first_request(recording) if found is None else found.first
        for recording, found in zip(recordings, facts, strict=True)
    ]
    return [first - firsts[0] for first in firsts] if firsts else []
