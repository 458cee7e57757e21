"""With a network client, a request's two ends reach the digest through different paths: the
client's response at once, the server's end a batch or so later (``trace run --server
uvicorn`` merges the server's rows as they come). The digest packs such a request's record
once both ends are in, or one batch after the first: the same figures as ``summarize``, and
memory still one packed row a request, even for requests one end of which never comes."""

from __future__ import annotations

import tracemalloc

import pytest

from tracer import events as K
from tracer.digest import Digest
from tracer.events import Event
from tracer.recording import Recording
from tracer.summary import summarize

REQUESTS = 10_000
CLIENT, SERVER = 7, 8


def _client(req: int, seq: int, t: int) -> list[Event]:
    """The client's events of one request: sent, queued, answered."""
    return [
        Event(seq, t, K.CLIENT_SEND, req, CLIENT, 1, "client"),
        Event(seq + 1, t, K.REQUEST_QUEUED, req, CLIENT, 1, "client", data={"path": "/"}),
        Event(
            seq + 2,
            t + 900,
            K.CLIENT_RESPONSE,
            req,
            CLIENT,
            1,
            "client",
            dur=0,
            data={"status": 200, "ttfb_ns": 800},
        ),
    ]


def _server(req: int, seq: int, t: int) -> list[Event]:
    """The server's events of one request: started, answered, ended."""
    return [
        Event(
            seq,
            t + 100,
            K.REQUEST_START,
            req,
            SERVER,
            2,
            "main",
            data={"scope_type": "http", "path": "/"},
        ),
        Event(
            seq + 1,
            t + 200,
            K.ASGI_SEND,
            req,
            SERVER,
            2,
            "main",
            dur=5,
            data={"type": "http.response.start", "status": 200},
        ),
        Event(
            seq + 2,
            t + 300,
            K.REQUEST_END,
            req,
            SERVER,
            2,
            "main",
            data={"status": 200, "error": None},
        ),
    ]


def _batches(server_ends: bool) -> list[list[Event]]:
    """Batch k: request k's client events and request k-1's server events (the server's
    rows a batch behind), requests of 10 µs each, 1 ms apart."""
    batches: list[list[Event]] = []
    late: list[Event] = []
    for req in range(1, REQUESTS + 1):
        seq, t = 10 * req, 1_000_000 * req
        batches.append(_client(req, seq, t) + late)
        late = _server(req, seq + 5, t) if server_ends else []
    batches.append(late)
    return batches


# Bytes a request: its packed row (83), its time to first byte (8), its route's code (2), the
# room runs grow into; a request never started keeps its time extent too (as it did before
# pairing: the extent waits for a start). A ``RequestSpan`` left unpacked held over 400 more.
@pytest.mark.parametrize(("server_ends", "most"), [(True, 120), (False, 260)])
def test_ends_a_batch_apart_pack_and_agree_with_summarize(server_ends: bool, most: int) -> None:
    batches = _batches(server_ends)
    digest = Digest()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for batch in batches:
            digest.feed(batch)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    events = [event for batch in batches for event in batch]
    assert digest.summary() == summarize(Recording(header={}, events=events))
    assert digest.summary()["requests"] == REQUESTS
    assert len(digest.requests()) == REQUESTS
    assert held / REQUESTS < most
    whole = Digest()
    whole.feed(events)
    assert digest.details() == whole.details()
    assert digest.for_json(digest.summary()) == whole.for_json(whole.summary())
