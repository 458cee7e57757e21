"""``RequestSpan``: one request's lifecycle instants, gathered from its events.

Its one job is the rules every reader of a recording builds its requests with: when a request
arrived, started, finished, what status it ended with and whether it failed (``RequestSpan``),
which events say so (``SPAN_KINDS``), and a recording's spans by request id
(``request_spans``). The summary (``tracer.summary``), the streaming digest (``tracer.digest``)
and the live header (``tracer.tui.live_stats``) all read requests through it, so they judge each
one alike. Imports only ``tracer.events``; never the recording, the summary or anything above
the spine.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tracer.events import (
    ASGI_SEND,
    CLIENT_RESPONSE,
    ERROR,
    REQUEST_END,
    REQUEST_QUEUED,
    REQUEST_START,
    Event,
    is_server_error,
)

__all__ = ["RequestSpan", "request_spans", "ends_response", "SPAN_KINDS"]

_BODY_TYPES = frozenset({"http.response.body", "http.response.zerocopysend"})

SPAN_KINDS = frozenset(
    {REQUEST_QUEUED, REQUEST_START, REQUEST_END, ASGI_SEND, ERROR, CLIENT_RESPONSE}
)
"""The event kinds ``RequestSpan.take`` reads: a request's other events change none of its
instants, nor whether it finished or failed."""


def ends_response(data: dict[str, Any]) -> bool:
    """Whether an ``asgi.send``'s data is its response's last body message: a body or
    zero-copy send without ``more_body``, or a ``pathsend`` (the whole body at once). A send
    the server refused (``raised``) sent nothing."""
    mtype = data.get("type")
    if mtype == "http.response.pathsend":
        return "raised" not in data
    return mtype in _BODY_TYPES and not data.get("more_body") and "raised" not in data


class RequestSpan:
    """The lifecycle instants of one request, gathered from its events (ns, or None).

    ``end``/``status``/``error`` come from ``request.end``; ``raised`` from the request's
    ``error`` events; ``client_*`` from the network client's ``client.response`` (real
    servers). Where the client saw the request, its view is
    the request's outcome (``finished``, ``outcome_status``): a server can answer without the
    app (uvicorn's 503 past ``--limit-concurrency``, a 500 for an app that raised, a refused
    WebSocket), and the response reaches the client after the app returned. Without a network
    client, an ASGI response is over with its last body message (``response_*``), not when
    the app returns: Starlette's BackgroundTasks run after it, and no client waits for them.
    """

    __slots__ = (
        "req",
        "queued",
        "start",
        "start_seq",
        "end",
        "end_seq",
        "status",
        "error",
        "raised",
        "scope_type",
        "client_end",
        "client_seq",
        "client_status",
        "client_error",
        "response_end",
        "response_status",
        "cut_short",
        "client_closed",
    )

    def __init__(self, req: int) -> None:
        self.req = req
        self.queued: int | None = None
        self.start: int | None = None
        self.start_seq: int | None = None
        self.end: int | None = None
        self.end_seq: int | None = None
        self.status: int | None = None
        self.error: str | None = None
        self.raised: str | None = None
        self.scope_type: str | None = None
        self.client_end: int | None = None
        self.client_seq: int | None = None
        self.client_status: int | None = None
        self.client_error: str | None = None
        self.response_end: int | None = None
        self.response_status: int | None = None
        self.cut_short = False
        """A ``request.end`` said the response was cut short (``cut_short``: it started and
        never had its end handed to the server while the client was there)."""
        self.client_closed: str | None = None
        """Why the network client stopped reading the response on purpose (its
        ``client.response``'s ``client_closed``: ``read-for``, ``read-bytes``), or None."""

    @property
    def arrived(self) -> int | None:
        """When the request came into existence: queued, else started."""
        return self.queued if self.queued is not None else self.start

    @property
    def queue_wait(self) -> int | None:
        """Time queued before the app started it (ns), or None if it was never queued.

        Queueing ends at the start, or earlier if the request was over before that (the
        client gave up while it waited, and then the app may never start it): it never
        exceeds the latency, and the requests that waited longest are not left out. A
        request the server answered without ever starting the app (uvicorn's 503 past
        ``--limit-concurrency``) was turned away, not queued for the app: None.
        """
        queued = self.queued
        if queued is None or (self.start is None and self.outcome_status is not None):
            return None
        ends = [t for t in (self.start, self.finished) if t is not None]
        return min(ends) - queued if ends else None

    @property
    def finished(self) -> int | None:
        """When it was over for whoever sent it: the client had the whole response (or gave
        up), else the app sent its last body message or ``request.end`` came, whichever was
        first (a client that timed out before the body left)."""
        if self.client_end is not None:
            return self.client_end
        if self.response_end is not None and (self.end is None or self.response_end < self.end):
            return self.response_end
        return self.end

    @property
    def outcome_status(self) -> int | None:
        """The status the client got, else the one ``request.end`` recorded (or the response
        sent, while the app still runs after it)."""
        if self.client_end is not None:
            return self.client_status
        if self.end is None:
            return self.response_status
        return self.status

    def take(self, event: Event) -> None:
        """One of the request's events, whatever order they come in: the rules the summary,
        the streaming digest (``tracer.digest``) and the live header (``tracer.tui.live_stats``)
        all build their requests with, so they judge each one alike (``finished``, ``failed``).

        The earliest ``request.queued`` and ``request.start`` count (the start's ``scope_type``
        with it); kinds outside ``SPAN_KINDS`` are ignored."""
        kind = event.kind
        if kind == ASGI_SEND:
            self.take_send(event)
        elif kind == REQUEST_END:
            self.take_end(event.end, event.data, event.seq)
        elif kind == REQUEST_START:
            if self.start is None or event.t < self.start:
                self.start = event.t
                self.start_seq = event.seq
                self.scope_type = event.data.get("scope_type")
        elif kind == REQUEST_QUEUED:
            if self.queued is None or event.t < self.queued:
                self.queued = event.t
        elif kind == ERROR:
            self.take_error(event.data)
        elif kind == CLIENT_RESPONSE:
            self.take_client_response(event.end, event.data, event.seq)

    def take_end(self, end: int, data: dict[str, Any], seq: int | None = None) -> None:
        """A ``request.end`` ending at ``end`` (event ``seq``): the first one counts (a client
        timeout ends the request even if the app finishes, and the shim records its own end,
        later). ``cut_short`` counts from any of them: only the shim's, which may come after
        the client's own end, knows it."""
        if data.get("cut_short") is True:
            self.cut_short = True
        if self.end is None or end < self.end:
            self.end = end
            self.end_seq = seq
            self.status = data.get("status")
            self.error = data.get("error")

    def take_send(self, event: Event) -> None:
        """An ``asgi.send``: the response's status, and its end with the last body message."""
        data = event.data
        mtype = data.get("type")
        if mtype == "http.response.start":
            status = data.get("status")
            if self.response_status is None and isinstance(status, int):
                self.response_status = status
        elif ends_response(data):
            if self.response_end is None or event.end < self.response_end:
                self.response_end = event.end

    def take_error(self, data: dict[str, Any]) -> None:
        """An ``error`` event of this request: the first one's type is ``raised``.

        Wherever it comes among the request's events, it is the request's error: one recorded
        after the request's end still is (the ``loop`` model's "Event loop stopped" on the
        request that stopped the loop, which had its response already).
        """
        if self.raised is None:
            kind = data.get("type")
            self.raised = str(kind) if kind else "error"

    @property
    def outcome_error(self) -> str | None:
        """The app's exception if it raised (as its end names it, else as its ``error``
        event does), else the client's failure (refused, timed out).

        A response the client left on purpose (``client_closed``) is judged by the app's
        ``error`` events and the client alone: the end's own ``error`` is then the server's
        word that its client went (hypercorn cancels an HTTP/2 stream the client reset, and
        its end says ``cancelled``), not a failure. An app that raised still has its
        ``error`` event."""
        if self.client_closed:
            return self.raised or self.client_error
        return self.error or self.raised or self.client_error

    @property
    def failed(self) -> bool:
        """An error: the app raised (an ``error`` event of the request counts, even one
        recorded after its end), the client got no response, or the response was a 5xx.
        The server's word that a client who left on purpose went is none (``outcome_error``).

        A request that ended without any status (the app returned without starting a
        response: the server answers 500 for it, or drops the connection) got no response.
        """
        status = self.outcome_status
        if self.outcome_error:
            return True
        if status is None:
            return self.finished is not None
        return is_server_error(status)

    def take_client_response(self, end: int, data: dict[str, Any], seq: int | None = None) -> None:
        """A ``client.response`` ending at ``end`` (event ``seq``; the first one counts)."""
        if self.client_end is None or end < self.client_end:
            self.client_end = end
            self.client_seq = seq
            status = data.get("status")
            self.client_status = status if isinstance(status, int) else None
            error = data.get("error")
            self.client_error = str(error) if error else None
            closed = data.get("client_closed")
            self.client_closed = str(closed) if closed else None


def request_spans(events: Iterable[Event]) -> dict[int, RequestSpan]:
    """Per-request lifecycle instants (``RequestSpan.take``), lifespan scopes left out."""
    spans: dict[int, RequestSpan] = {}
    for event in events:
        req = event.req
        if req is None or event.kind not in SPAN_KINDS:
            continue
        span = spans.get(req)
        if span is None:
            span = spans[req] = RequestSpan(req)
        span.take(event)
    return {req: span for req, span in spans.items() if span.scope_type != "lifespan"}
