"""Span sinks: where the span model's finished trees become OpenTelemetry spans.

``SdkSink`` serves the OpenTelemetry SDK's own ``Tracer``: it samples with the provider's
sampler, takes ids from its id generator and hands ``ReadableSpan`` objects straight to the
provider's span processors (``BatchSpanProcessor``...), skipping the per-call locking and
validation of the public span API — the spans are already finished, with explicit times.
``ApiSink`` does the same through the public API (``start_span``/``end``) for any other
``TracerProvider``. ``make_sink`` picks one. ``SdkSink`` puts each request's spans under the
resource of the process that served it (``ProcessResources``: the provider's own, with that
``process.pid``); a provider driven through the API keeps its resource, and each span says
``process.pid`` itself. Imports only OpenTelemetry and ``tracer.otel``.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode

from tracer._version import __version__
from tracer.otel.spec import Key, SpanSpec

__all__ = ["SdkSink", "ApiSink", "ProcessResources", "make_sink", "SCOPE_NAME"]

SCOPE_NAME = "gateway-tracer"
"""Instrumentation scope of every span this project makes."""

_UNSET = Status(StatusCode.UNSET)
_SAMPLED = trace.TraceFlags(trace.TraceFlags.SAMPLED)
_EMPTY = Context()


def _parent(spec: SpanSpec) -> Context:
    """The incoming trace context (W3C ``traceparent``...) of a request, or an empty one."""
    if not spec.carrier:
        return _EMPTY
    return propagate.extract(spec.carrier, context=_EMPTY)


class _Contexts:
    """Server span contexts of recent requests, so later spans can link to them (bounded)."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._items: OrderedDict[Key, SpanContext] = OrderedDict()

    def put(self, key: Key, context: SpanContext) -> None:
        self._items[key] = context
        if len(self._items) > self._size:
            self._items.popitem(last=False)

    def get(self, key: Key) -> SpanContext | None:
        return self._items.get(key)


class ProcessResources:
    """The resource of each serving process: ``base`` with its ``process.pid`` (OpenTelemetry's
    resource convention), so an export groups the spans of a multi-process server by process.

    ``extra(pid)`` adds attributes of that process's own (``service.instance.id``); made once
    per process and reused, so spans of one process share one resource object.
    """

    def __init__(self, base: Any, extra: Callable[[int], dict[str, Any]] | None = None) -> None:
        self.base = base
        self._extra = extra
        self._made: dict[int, Any] = {}

    def __call__(self, pid: int | None) -> Any:
        """The resource of process ``pid`` (``base`` when no process is known)."""
        if pid is None:
            return self.base
        resource = self._made.get(pid)
        if resource is None:
            from opentelemetry.sdk.resources import Resource

            attributes: dict[str, Any] = {"process.pid": pid}
            if self._extra is not None:
                attributes.update(self._extra(pid))
            resource = self._made[pid] = self.base.merge(Resource(attributes))
            if len(self._made) > 4096:  # pids are reused; a long-lived server forks many
                self._made.pop(next(iter(self._made)))
        return resource


def _batch_queue(processor: Any) -> deque[Any] | None:
    """The bounded queue of an SDK ``BatchSpanProcessor`` (None for any other processor).

    The SDK keeps it private (``_batch_processor._queue`` in recent versions, ``queue`` in older
    ones): a layout this does not know gives None, and the sink then hands spans over without
    waiting, as it did before it waited at all.
    """
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if not isinstance(processor, BatchSpanProcessor):
        return None
    inner = getattr(processor, "_batch_processor", processor)
    queue = getattr(inner, "_queue", None)
    if queue is None:
        queue = getattr(inner, "queue", None)
    return queue if isinstance(queue, deque) and queue.maxlen else None


class _BatchRoom:
    """Waits, on the sink's thread, for room in the provider's ``BatchSpanProcessor`` queues.

    A live instrumentation ends its spans one by one while the processor's worker exports them;
    the recorder's drain hands over those of a whole batch of requests at once, and the SDK
    drops what does not fit its queue (2048 spans by default). So before each span, when a
    queue is full, the sink waits for the worker to take a batch out — for at most ``share``
    of any second: a slow or dead exporter then drops spans as it would a live
    instrumentation's, and the recorder's own queue, which grows while its thread waits, stays
    bounded. The processors are the user's: nothing of theirs is changed.
    """

    def __init__(
        self,
        *,
        share: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._share = share
        self._clock = clock
        self._sleep = sleep
        self._window = clock()
        self._waited = 0.0

    def wait(self, queues: list[deque[Any]]) -> None:
        """Return once every queue has room for one more span, or the waiting share is spent."""
        for queue in queues:
            while len(queue) >= (queue.maxlen or 0):
                now = self._clock()
                if now - self._window >= 1.0:
                    self._window, self._waited = now, 0.0
                if self._waited >= self._share:
                    return
                self._sleep(0.001)  # the worker pops a whole batch at once: no signal to wait on
                self._waited += self._clock() - now


def _bounded(items: list[Any], limit: int | None, dropped: int = 0) -> Sequence[Any]:
    """``items`` within a span limit: the first ``limit`` of them (None: all), as the span
    model keeps a request's first events, and the count of those left out (the SDK's
    ``BoundedList``, whose ``dropped`` a span's dropped events or links count is read from)
    with ``dropped`` more already left out before."""
    if (limit is None or len(items) <= limit) and not dropped:
        return items
    from opentelemetry.sdk.util import BoundedList

    kept: BoundedList = BoundedList(limit)
    kept.extend(items if limit is None else items[:limit])
    kept.dropped = dropped + (0 if limit is None else max(0, len(items) - limit))
    return kept


class SdkSink:
    """Builds ``ReadableSpan`` objects and passes them to an SDK tracer's span processors.

    ``wait_share``: the share of each second the sink may spend waiting for room in the
    provider's batch queues (``_BatchRoom``). ``resources``: the resource of each serving
    process (default: ``ProcessResources`` over the tracer's own resource).
    """

    def __init__(
        self,
        tracer: Any,
        *,
        wait_share: float = 0.5,
        resources: Callable[[int | None], Any] | None = None,
    ) -> None:
        from opentelemetry.sdk.trace import Event as SdkEvent
        from opentelemetry.sdk.trace import ReadableSpan

        self._readable = ReadableSpan
        self._event = SdkEvent
        self._tracer = tracer
        self._sampler = tracer.sampler
        self._ids = tracer.id_generator
        self._processor = tracer.span_processor
        self._room = _BatchRoom(share=wait_share)
        self._seen: tuple[Any, ...] | None = None  # the provider's processors, when last looked
        self._queues: list[deque[Any]] = []
        self._scope = getattr(tracer, "_instrumentation_scope", None)
        # The provider's span limits (``OTEL_SPAN_EVENT_COUNT_LIMIT``, 128 events by default;
        # links alike), which the SDK applies as a span records and a ReadableSpan made here
        # would not: None is no limit.
        limits = getattr(tracer, "_span_limits", None)
        self._max_events: int | None = getattr(limits, "max_events", None)
        self._max_links: int | None = getattr(limits, "max_links", None)
        self._resources = resources or ProcessResources(tracer.resource)
        self._open: dict[Key, tuple[SpanContext, SpanContext | None, dict[str, Any]] | None] = {}
        self._contexts = _Contexts()
        # The SDK's default sampler samples every root span and adds nothing to it; asking it
        # costs two context look-ups per request, so that one answer is known in advance.
        from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased

        default = ParentBased(ALWAYS_ON).get_description()
        self._roots_always_sampled = self._sampler.get_description() == default

    def begin(self, key: Key, spec: SpanSpec) -> None:
        """Sample the request and fix its trace id and server span id."""
        parent: SpanContext | None = None
        parent_context = _EMPTY
        if spec.parent is not None:
            # A later child of an emitted span: in its trace, sampled as it was (a span not
            # sampled, or long gone, takes its late child with it).
            parent = self._contexts.get(spec.parent)
            if parent is None:
                self._open[key] = None
                return
            context = self._child_of(parent)
            self._open[key] = (context, parent, {})
            return
        if spec.carrier:
            parent_context = _parent(spec)
            parent = trace.get_current_span(parent_context).get_span_context()
            if parent is not None and not parent.is_valid:
                parent = None
        if parent is None and self._roots_always_sampled:
            trace_id = self._ids.generate_trace_id()
            trace_state = None
            extra: dict[str, Any] = {}
        else:
            trace_id = parent.trace_id if parent is not None else self._ids.generate_trace_id()
            kind = SpanKind.SERVER if spec.server else SpanKind.INTERNAL
            result = self._sampler.should_sample(
                parent_context, trace_id, spec.name, kind, spec.attributes, ()
            )
            if not result.decision.is_sampled():
                self._open[key] = None
                return
            trace_state = result.trace_state
            extra = dict(result.attributes or {})
        context = SpanContext(
            trace_id,
            self._ids.generate_span_id(),
            is_remote=False,
            trace_flags=_SAMPLED,
            trace_state=trace_state,
        )
        self._open[key] = (context, parent, extra)
        self._contexts.put(key, context)

    def finish(self, key: Key, spec: SpanSpec) -> None:
        """Emit the span tree of ``key`` (children first, as a live tracer would end them)."""
        if key not in self._open:
            self.begin(key, spec)
        entry = self._open.pop(key)
        if entry is None:
            return
        context, parent, extra = entry
        if extra:
            spec.attributes.update(extra)
        links = []
        for target, attrs in spec.links:
            linked = self._contexts.get(target)
            if linked is not None:
                links.append(Link(linked, attrs))
        self._emit(spec, context, parent, links, self._resources(spec.pid))

    def _emit(
        self,
        spec: SpanSpec,
        context: SpanContext,
        parent: SpanContext | None,
        links: list[Link],
        resource: Any,
    ) -> None:
        for child in spec.children:
            self._emit(child, self._child_of(context), context, [], resource)
        event = self._event
        span = self._readable(
            name=spec.name,
            context=context,
            parent=parent,
            resource=resource,
            attributes=spec.attributes,
            events=_bounded(
                [event(name, attrs, at) for name, at, attrs in spec.events],
                self._max_events,
                spec.dropped_events,
            ),
            links=_bounded(links, self._max_links),
            kind=SpanKind.SERVER if spec.server else SpanKind.INTERNAL,
            status=_UNSET if spec.error is None else Status(StatusCode.ERROR, spec.error or None),
            start_time=spec.start,
            end_time=max(spec.start, spec.end),
            instrumentation_scope=self._scope,
        )
        queues = self.batch_queues()
        if queues:
            self._room.wait(queues)
        self._processor.on_end(span)

    def _child_of(self, parent: SpanContext) -> SpanContext:
        """A new span's context in ``parent``'s trace, sampled as it is."""
        return SpanContext(
            parent.trace_id,
            self._ids.generate_span_id(),
            is_remote=False,
            trace_flags=parent.trace_flags,
            trace_state=parent.trace_state,
        )

    def batch_queues(self) -> list[deque[Any]]:
        """The queues of the provider's ``BatchSpanProcessor`` objects, those added since the
        sink was made included (the provider's processors are private to the SDK, like the
        queues: none are found in a layout this does not know)."""
        processors = getattr(self._processor, "_span_processors", ())
        if processors is not self._seen:
            self._seen = processors
            self._queues = [q for q in map(_batch_queue, processors) if q is not None]
        return self._queues


class ApiSink:
    """Makes spans through the public OpenTelemetry API, for any ``TracerProvider``."""

    def __init__(self, tracer: Any) -> None:
        self._tracer = tracer
        self._open: dict[Key, Any] = {}
        self._contexts = _Contexts()

    def begin(self, key: Key, spec: SpanSpec) -> None:
        """Start the server span at the request's arrival time."""
        context = _parent(spec)
        if spec.parent is not None:  # a later child of an emitted span
            parent = self._contexts.get(spec.parent)
            if parent is None:
                self._open[key] = trace.INVALID_SPAN
                return
            context = trace.set_span_in_context(trace.NonRecordingSpan(parent), _EMPTY)
        span = self._tracer.start_span(
            spec.name,
            context=context,
            kind=SpanKind.SERVER if spec.server else SpanKind.INTERNAL,
            attributes=spec.attributes,
            start_time=spec.start,
        )
        self._open[key] = span
        self._contexts.put(key, span.get_span_context())

    def finish(self, key: Key, spec: SpanSpec) -> None:
        """Complete the span: attributes, events, links, children, status; then end it."""
        if key not in self._open:
            self.begin(key, spec)
        span = self._open.pop(key)
        if span is trace.INVALID_SPAN:  # its parent is gone: nothing to hang it on
            return
        span.update_name(spec.name)
        span.set_attributes(spec.attributes)
        for target, attrs in spec.links:
            linked = self._contexts.get(target)
            if linked is not None and hasattr(span, "add_link"):
                span.add_link(linked, attrs)
        self._complete(span, spec)

    def _complete(self, span: Any, spec: SpanSpec) -> None:
        for name, at, attrs in spec.events:
            span.add_event(name, attrs, timestamp=at)
        parent = trace.set_span_in_context(span, _EMPTY)
        for child in spec.children:
            # The provider's resource is its own: each span says its process instead.
            attributes = child.attributes
            if spec.pid is not None:
                attributes = {**attributes, "process.pid": spec.pid}
                child.pid = spec.pid
            child_span = self._tracer.start_span(
                child.name, context=parent, attributes=attributes, start_time=child.start
            )
            self._complete(child_span, child)
        if spec.error is not None:
            span.set_status(Status(StatusCode.ERROR, spec.error or None))
        span.end(end_time=max(spec.start, spec.end))


def make_sink(tracer_provider: Any) -> SdkSink | ApiSink:
    """The fast ``SdkSink`` for an SDK provider whose tracer is enabled, else ``ApiSink``."""
    tracer = tracer_provider.get_tracer(SCOPE_NAME, __version__)
    try:
        from opentelemetry.sdk.trace import Tracer as SdkTracer
    except ImportError:  # the API alone is installed
        return ApiSink(tracer)
    enabled = getattr(tracer, "_is_enabled", lambda: True)
    if type(tracer) is SdkTracer and enabled() and hasattr(tracer, "span_processor"):
        return SdkSink(tracer)
    return ApiSink(tracer)
