"""What the network load client is asked to do (``ClientConfig``) and what it saw (``ClientStats``).

Plain data, shared by the transports (HTTP/1.1, HTTP/2, WebSocket) and the driver.
Imports nothing of ours.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["ClientConfig", "ClientStats", "REQUEST_ID_HEADER", "OWN_HEADERS"]

REQUEST_ID_HEADER = "x-gateway-tracer-req"
"""Carries the client's request id to the server, so client and server events share ``req``."""

OWN_HEADERS = frozenset({"host", "content-length", "connection", "keep-alive", "transfer-encoding"})
"""Headers the client writes itself (from the server's address, the body, keep-alive); given
ones are dropped, so a request never carries two (the server would reject it)."""


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """The load to put on a server over real sockets."""

    concurrency: int = 10
    """Closed loop: requests in flight at once (one connection each for HTTP/1.1 and WebSocket,
    one stream each on shared connections for HTTP/2). With ``rate``: the most in flight."""
    requests: int | None = 200
    """How many requests to send in all (None: until ``duration`` runs out)."""
    duration: float | None = None
    """Seconds to keep sending new requests (None: until ``requests`` are sent)."""
    rate: float | None = None
    """Open loop: start requests at this many per second (None: closed loop)."""
    method: str = "GET"
    """HTTP method of every request."""
    paths: tuple[str, ...] = ("/",)
    """Request paths, used in turn."""
    headers: tuple[tuple[str, str], ...] = ()
    """Extra request headers (any of ``OWN_HEADERS`` among them are left out)."""
    body: bytes = b""
    """Request body (sent with a content-length)."""
    keepalive: bool = True
    """HTTP/1.1: reuse each connection; False opens a new connection per request."""
    http2: bool = False
    """Speak HTTP/2 (prior knowledge, cleartext) instead of HTTP/1.1."""
    ws_messages: int | None = None
    """WebSocket: each session sends this many messages and waits for each reply."""
    streams_per_connection: int = 100
    """HTTP/2: concurrent streams carried by one connection (hypercorn's default limit)."""
    timeout: float = 30.0
    """Seconds one request (or WebSocket session) may take before it counts as an error."""
    read_for: float | None = None
    """HTTP: read each response for this many seconds after its first byte, then close the
    connection (HTTP/2: cancel the stream) and record what came, ``client_closed:
    "read-for"`` (None: read every response to its end)."""
    read_bytes: int | None = None
    """HTTP: once this many body bytes of a response came (at least: a read can bring more),
    close as ``read_for`` does, ``client_closed: "read-bytes"`` (None: no such limit)."""
    read_rate: float | None = None
    """HTTP/1.1: read responses at about this many bytes a second (the socket is not read
    again until the bytes read so far are due), so the server meets a slow reader: its writes
    wait for the client (None: read as fast as they come)."""
    redact: bool = True
    """Record each request target with its secret-looking query values redacted
    (``tracer.redact.redact_target``), as the shims record the query; False keeps the target
    as sent. Only the recording changes: the request goes out as given."""


@dataclass(slots=True)
class ClientStats:
    """What the client measured, independent of the recording (benchmarks read this)."""

    sent: int = 0
    """Requests (or sessions) started."""
    completed: int = 0
    """Responses received in full (a WebSocket upgrade answered as a plain request is an error
    instead)."""
    closed: int = 0
    """Responses the client stopped reading on purpose (``read_for``, ``read_bytes``): counted
    in ``completed`` too, not in ``errors``."""
    errors: int = 0
    """Requests that failed: connection refused or reset, timeout, malformed response, a
    response cut short (its status is not counted in ``status``), a WebSocket upgrade answered
    as a plain request (its status is)."""
    status: Counter[int] = field(default_factory=Counter)
    """Count per HTTP status (101 for WebSocket sessions)."""
    latencies_ns: list[int] = field(default_factory=list)
    """Send to last byte, per completed request."""
    ttfb_ns: list[int] = field(default_factory=list)
    """Send to first byte, per completed request."""
    error_types: Counter[str] = field(default_factory=Counter)
    """Count per error type name."""
    wall_ns: int = 0
    """From the first send to the last response."""
    connections: int = 0
    """Connections opened."""

    @property
    def rps(self) -> float:
        """Completed requests per second of wall time."""
        return self.completed / (self.wall_ns / 1e9) if self.wall_ns > 0 else 0.0
