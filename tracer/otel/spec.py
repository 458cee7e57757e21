"""What the span model hands a sink: span trees to be made, and the sink's protocol.

``SpanSpec`` is a span with everything but its ids; a ``SpanSink`` (``tracer.otel.sink``)
assigns those and makes the spans; ``Key`` is what a sink knows a span tree by. The model
(``tracer.otel.spans``), the renderers (``parts``, ``late``) and the sinks all share these.
Imports nothing of the project.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Protocol

__all__ = ["Key", "SpanSpec", "SpanSink", "by_time"]

Key = Hashable
"""What the sink knows a span tree by: the request id (unique in a recording, across processes:
the load generator and the server share it), or ``("lifespan", req, phase)``."""

by_time = itemgetter(1)
"""The sort key of a span event ``(name, wall ns, attributes)``: its time."""


@dataclass(slots=True)
class SpanSpec:
    """A span to be made: everything but its ids, which the sink assigns."""

    name: str
    """Span name (``GET /items``, ``asgi.send http.response.body``, ``queued``...)."""
    start: int
    """Wall-clock start, ns since the Unix epoch."""
    end: int
    """Wall-clock end, ns since the Unix epoch."""
    server: bool = False
    """SERVER kind (the request) rather than INTERNAL (its parts)."""
    attributes: dict[str, Any] = field(default_factory=dict)
    """OpenTelemetry attributes (never None values)."""
    events: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    """Span events: (name, wall ns, attributes)."""
    dropped_events: int = 0
    """Span events already left out (recorded events past the span model's bound that would
    have been span events); a sink adds those past the provider's event limit, and the span's
    dropped events count says both."""
    children: list[SpanSpec] = field(default_factory=list)
    """Child spans, INTERNAL."""
    links: list[tuple[Key, dict[str, Any]]] = field(default_factory=list)
    """Links to the server spans of other requests (by key), with link attributes."""
    error: str | None = None
    """Status description when the span failed (status ERROR), else None; ``""`` is ERROR
    with no description (a 5xx: its status code says why)."""
    carrier: dict[str, str] | None = None
    """Request headers that carry an incoming trace context (``traceparent``), if any."""
    pid: int | None = None
    """The process that served it: the sink puts the span and its children under a resource
    with ``process.pid`` (None: no server process is known, as for a request a real server
    answered without its app)."""
    parent: Key | None = None
    """The key of an emitted span this one is a child of (a request's abandoned work), or
    None for a root of its own."""


class SpanSink(Protocol):
    """Where finished span trees go: assigns ids, samples, hands spans to the SDK."""

    def begin(self, key: Key, spec: SpanSpec) -> None:
        """A request started: fix its server span's identity (so others can link to it)."""

    def finish(self, key: Key, spec: SpanSpec) -> None:
        """The request is over: emit ``spec`` and its children (``begin`` may be skipped)."""
