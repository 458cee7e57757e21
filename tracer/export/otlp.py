"""A recording's requests as OpenTelemetry spans, after the fact: OTLP, OTLP JSON, console.

Spans keep their original wall-clock times (the header's clock anchor + t). ``--to otlp``
sends them with the OTLP exporter the environment selects (http/protobuf, or gRPC with
``OTEL_EXPORTER_OTLP_PROTOCOL=grpc``); ``otlp-json`` writes ``ExportTraceServiceRequest``
objects in the OTLP/JSON encoding, one per line (the collector's file format); ``console``
prints them. Each serving process's spans are under a resource of its own, with its
``process.pid``. ``otlp-json`` is reproducible: its trace and span ids and its
``service.instance.id`` are derived from a hash of the header fields that identify the run
(``recording_seed``, ``SeededIds``), so the same run exports the same bytes; spans sent to a
collector keep the SDK's random ids, so exporting a file twice never makes two spans with one
id. Imports the recording model and ``tracer.otel``; never a shim or the UI.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any

from tracer.errors import TracerError
from tracer.events import Event
from tracer.export import ExportOptions, default_output, writing
from tracer.export.stream import RecordingFile, last_of, shell_of
from tracer.otel.sink import ProcessResources, SdkSink
from tracer.otel.spans import SpanModel
from tracer.recording import Recording

__all__ = [
    "recording_spans",
    "span_batches",
    "source_batches",
    "export_otlp",
    "export_otlp_json",
    "export_console",
    "to_otlp_json",
    "SeededIds",
    "recording_seed",
    "RUN_FIELDS",
    "DEMO_FIELDS",
]


class _Collect:
    """A span processor that keeps ended spans until ``full`` hands them out in batches of
    ``size`` spans."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.spans: list[Any] = []

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        pass

    def _on_ending(self, span: Any) -> None:
        pass

    def on_end(self, span: Any) -> None:
        self.spans.append(span)

    def full(self) -> Iterator[list[Any]]:
        """Hand out the spans kept so far in batches of ``size``; the rest stay."""
        size = self.size
        while len(self.spans) >= size:
            batch, self.spans = self.spans[:size], self.spans[size:]
            yield batch

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class SeededIds:
    """An OpenTelemetry id generator drawing from SHA-256 of ``seed`` and a counter: the same
    seed and the same order of requests give the same trace and span ids (never 0, which
    OpenTelemetry reads as "no id")."""

    def __init__(self, seed: bytes) -> None:
        self._seed = seed
        self._count = 0

    def _next(self, size: int) -> int:
        self._count += 1
        digest = hashlib.sha256(self._seed + self._count.to_bytes(8, "big")).digest()
        return int.from_bytes(digest[:size], "big") or 1

    def generate_span_id(self) -> int:
        """A 64-bit span id."""
        return self._next(8)

    def generate_trace_id(self) -> int:
        """A 128-bit trace id."""
        return self._next(16)


RUN_FIELDS = ("source", "app", "interface", "server", "load", "clock")
"""The header fields that say which run a recording is of, and so seed its ids: what ran
(source, app, interface), on what server model, under which load (its seed included), and
when (the clock anchor: two real runs of one command start at different instants)."""

DEMO_FIELDS = ("name", "side")
"""The fields of a demo side's ``demo`` that say which run it is (the scenario, which side);
its language, caption and title only say it in some language, and do not count."""


def recording_seed(recording: Recording | RecordingFile) -> bytes:
    """A hash of the fields of the recording's header that identify its run (``RUN_FIELDS``,
    and a demo side's ``DEMO_FIELDS``): the same run always gives it, two different runs
    almost never do. Fields about who wrote the file (``host``, ``tool_version``, ``process``,
    ``writer``) and the language its texts are in (``label``, ``demo.lang``) are left out, so
    a simulation exports the same ids on every machine and in every language."""
    header = recording.header
    run = {name: header.get(name) for name in RUN_FIELDS}
    demo = header.get("demo")
    if isinstance(demo, dict):
        run["demo"] = {name: demo.get(name) for name in DEMO_FIELDS}
    text = json.dumps(run, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).digest()


_INSTANCE = "service.instance.id"


def _instance_id(seed: bytes) -> str:
    return str(uuid.UUID(bytes=seed[:16], version=4))


def _seeded(seed: bytes | None) -> bool:
    """Whether ``service.instance.id`` is derived from ``seed`` (the environment's wins)."""
    return seed is not None and _INSTANCE not in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "")


def _resource(header: dict[str, Any], seed: bytes | None) -> Any:
    """The spans' resource; with ``seed``, a ``service.instance.id`` derived from it instead
    of the SDK's random one (unless ``OTEL_RESOURCE_ATTRIBUTES`` names one)."""
    from opentelemetry.sdk.resources import Resource

    from tracer.otel.config import make_resource

    resource = make_resource(header.get("app"))
    if seed is None or not _seeded(seed):
        return resource
    return resource.merge(Resource({_INSTANCE: _instance_id(seed)}))


def _resources(base: Any, seed: bytes | None) -> ProcessResources:
    """Each serving process's resource (``process.pid``); with ``seed``, each process is an
    instance of the service of its own, with a ``service.instance.id`` derived from the seed
    and its pid (one id for two processes would say they are one instance)."""
    if seed is None or not _seeded(seed):
        return ProcessResources(base)
    return ProcessResources(
        base,
        lambda pid: {_INSTANCE: _instance_id(hashlib.sha256(seed + b"%d" % pid).digest())},
    )


def recording_spans(
    recording: Recording, *, detail: str = "events", seed: bytes | None = None
) -> list[Any]:
    """Every span of ``recording`` (SDK ``ReadableSpan`` objects), children before parents.

    ``seed``: ids (and ``service.instance.id``) derived from it (``SeededIds``); else random.
    """
    batches = span_batches(recording.header, recording.events, detail=detail, seed=seed)
    return [span for batch in batches for span in batch]


def span_batches(
    header: dict[str, Any],
    events: Iterable[Event],
    *,
    detail: str = "events",
    seed: bytes | None = None,
    count: int | None = None,
    counts: dict[int, int] | None = None,
) -> Iterator[list[Any]]:
    """The spans of a recording's ``events`` (in time order, as ``load`` sorts them) in
    batches of ``OTEL_BSP_MAX_EXPORT_BATCH_SIZE`` spans (512 if unset; ``UsageError`` for a
    value that is no positive whole number), each handed out as soon as it is full: a
    request's spans are made at its end (``SpanModel``), so a file streamed through here is
    never held whole. Each span keeps at most ``OTEL_SPAN_EVENT_COUNT_LIMIT`` events (128 if
    unset), its dropped events count saying how many it lost (``SdkSink``).

    ``count``: how many events there are (``len(events)`` for a list), which bounds the
    requests held open at once; the batches are those of the whole list of spans cut every
    batch size. ``counts``: the events of each request (``Scan.counts``, used up here; found
    from a list): at its last, what the model keeps of an ended request is let go.
    """
    from tracer._version import __version__
    from tracer.otel.config import export_batch_size, sdk_provider
    from tracer.otel.sink import SCOPE_NAME

    size = export_batch_size()
    if count is None:
        count = len(events) if isinstance(events, Sized) else 0
    if counts is None and isinstance(events, list):
        counts = {}
        for event in events:
            if event.req is not None:
                counts[event.req] = counts.get(event.req, 0) + 1
    collect = _Collect(size)
    resource = _resource(header, seed)
    provider = sdk_provider(  # exports even under OTEL_SDK_DISABLED=true, which is for apps
        resource=resource,
        shutdown_on_exit=False,
        id_generator=None if seed is None else SeededIds(seed),
    )
    provider.add_span_processor(collect)
    clock = header.get("clock") or {}
    model = SpanModel(
        # The scope the live export names too: name and version (``tracer.otel.sink``).
        SdkSink(provider.get_tracer(SCOPE_NAME, __version__), resources=_resources(resource, seed)),
        base_ns=int(clock.get("unix_ns", 0)),
        detail=detail,
        max_open=max(10_000, count),
    )
    chunk: list[Event] = []
    done: list[int] = []  # requests whose last event is in the chunk
    for event in events:
        chunk.append(event)
        if counts is not None and event.req is not None and last_of(counts, event.req):
            done.append(event.req)
        if len(chunk) >= _FEED:
            model.feed(chunk)
            _forget(model, done)
            chunk, done = [], []
            yield from collect.full()
    model.feed(chunk)
    _forget(model, done)
    model.finish_all()
    yield from collect.full()
    if collect.spans:
        yield collect.spans


_FEED = 512
"""Events fed to the span model at a time between looks for full batches."""


def _forget(model: SpanModel, done: list[int]) -> None:
    """Let go of what ``model`` keeps of requests that will have no more events
    (``SpanModel.forget``): the export keeps every ended request's end otherwise (its
    ``max_open`` is past the number of events, so that none is dropped early)."""
    for req in done:
        model.forget(req)


def source_batches(
    recording: Recording | RecordingFile, *, detail: str, seed: bytes | None = None
) -> Iterator[list[Any]]:
    """``span_batches`` of a loaded recording, or of a file read in two passes (the first
    now, so a broken file is refused before anything is written or sent)."""
    if isinstance(recording, RecordingFile):
        scan = recording.scan()
        events: Iterable[Event] = recording.events()
        return span_batches(
            recording.header,
            events,
            detail=detail,
            seed=seed,
            count=scan.events,
            counts=dict(scan.counts),
        )
    return span_batches(recording.header, recording.events, detail=detail, seed=seed)


def export_otlp(recording: Recording | RecordingFile, options: ExportOptions) -> str:
    """Send the spans to an OTLP collector; raise if it cannot take them.

    The exporter retries what may pass later (no connection, HTTP 429/502/503/504, gRPC
    UNAVAILABLE) with backoff until its timeout (``OTEL_EXPORTER_OTLP_TIMEOUT``, 10 s by
    default); the error then says what the collector answered, or that none was reached.
    """
    from tracer.otel.config import (
        export_timeout,
        make_exporter,
        protocol_from_env,
        shown_endpoint,
    )
    from tracer.otel.delivery import Delivery

    batches = source_batches(recording, detail=options.otel_detail)
    exporter = make_exporter(options.otlp_endpoint)
    # The URL the HTTP exporter posts to (a bare collector address gets /v1/traces), as the
    # live export of `trace run` names it; gRPC's exporter keeps only host:port, so the
    # address as given says more there.
    posted = getattr(exporter, "_endpoint", None)
    if not (isinstance(posted, str) and posted.startswith(("http://", "https://"))):
        posted = None
    given = posted or options.otlp_endpoint
    # Named in every line about the export: never with the credentials it may carry.
    where = shown_endpoint(given) if given else "the OTLP endpoint"
    # The exporter logs each retry; Delivery keeps those records and the one error below
    # says what they did, once.
    delivery = Delivery(exporter, where, timeout=export_timeout(10.0))  # the exporters' default
    delivery.quiet()
    try:
        made = _send(delivery, batches, where)
    finally:
        delivery.shutdown()
        delivery.loud()
    return f"sent {made} spans to {where} ({protocol_from_env()})" + _answered(delivery)


def _answered(delivery: Any) -> str:
    """What the collector said of spans it took (OTLP's partial success), as the end of the
    line ``export_otlp`` returns: ``; the collector took 55 and rejected 7: <its message>``,
    ``; the collector took them with a warning: <its message>``, or nothing."""
    answers = delivery.answers
    if answers.rejected:
        said = f": {answers.message}" if answers.message else ""
        return f"; the collector took {delivery.sent} and rejected {answers.rejected}{said}"
    if answers.warning:
        return f"; the collector took them with a warning: {answers.warning}"
    return ""


def _send(delivery: Any, batches: Iterator[list[Any]], where: str) -> int:
    """Export the batches as they come; how many spans there were. A batch the collector
    does not take is a ``TracerError`` saying how many of all the spans were sent (the rest
    are made, not sent, to count them)."""
    from opentelemetry.sdk.trace.export import SpanExportResult

    from tracer.otel.delivery import ENCODING, TIMEOUT, UNREACHABLE

    made = 0
    for batch in batches:
        made += len(batch)
        began, retries = time.monotonic(), delivery.retries
        if delivery.export(batch) is SpanExportResult.SUCCESS:
            continue
        total = made + sum(len(rest) for rest in batches)  # the rest are made to be counted
        counted = f"{delivery.sent} of {total} spans were sent{_rejected(delivery)}"
        reason = delivery.reason
        if reason is None:
            raise TracerError(
                f"The spans could not be sent to {where} (the exporter gave no reason); {counted}."
            )
        if reason.kind == TIMEOUT:  # the collector took the request and stayed silent
            raise TracerError(
                f"The OTLP collector at {where} did not answer {reason.within()}, the "
                f"exporter's timeout (OTEL_EXPORTER_OTLP_TIMEOUT); {counted}."
            )
        text = reason.text
        if reason.kind == ENCODING:  # nothing left this process: no collector to blame
            raise TracerError(
                f"The spans could not be encoded as OTLP ({text}); {counted}. The recording "
                "holds a value OTLP cannot carry."
            )
        if delivery.retries > retries:  # the exporter's retries with backoff, up to its timeout
            text += f", retried for {time.monotonic() - began:.1f} s"
        if reason.kind == UNREACHABLE:
            raise TracerError(
                f"Could not send spans to {where} ({text}). Is a collector listening "
                "there? Set --otlp-endpoint or OTEL_EXPORTER_OTLP_ENDPOINT."
            )
        raise TracerError(
            f"The OTLP collector at {where} did not accept the spans ({text}); {counted}."
        )
    return made


def _rejected(delivery: Any) -> str:
    """`` (the collector rejected 7 more: <its message>)`` when a batch sent before was taken
    with spans rejected (OTLP's partial success); else nothing."""
    answers = delivery.answers
    if not answers.rejected:
        return ""
    said = f": {answers.message}" if answers.message else ""
    return f" (the collector rejected {answers.rejected} more{said})"


def to_otlp_json(spans: Sequence[Any]) -> dict[str, Any]:
    """One ``ExportTraceServiceRequest`` in the OTLP/JSON encoding (hex trace and span ids)."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    from tracer.otel.otlp_json import message_dict

    return message_dict(encode_spans(spans))


def export_otlp_json(recording: Recording | RecordingFile, options: ExportOptions) -> str:
    """Write the spans as OTLP/JSON lines (each line an ``ExportTraceServiceRequest``), each
    batch as soon as its requests have ended; the same recording gives the same file (ids
    from ``recording_seed``)."""
    seed = recording_seed(recording)
    batches = source_batches(recording, detail=options.otel_detail, seed=seed)
    path = options.output or default_output(shell_of(recording), ".otlp.json")
    written = 0
    with writing(path, options.stdout) as out:
        for batch in batches:
            out.write(json.dumps(to_otlp_json(batch), separators=(",", ":")) + "\n")
            written += len(batch)
    return f"wrote {written} spans to {'stdout' if path == '-' else path}"


def export_console(recording: Recording | RecordingFile, options: ExportOptions) -> str:
    """Print the spans as the SDK's console exporter does (JSON per span), a batch at a
    time as their requests end: to stdout, or to the file ``-o`` names."""
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    batches = source_batches(recording, detail=options.otel_detail)
    printed = 0
    path = options.output or "-"
    with writing(path, options.stdout) as out:
        console = ConsoleSpanExporter(out=out)
        for batch in batches:
            console.export(batch)
            printed += len(batch)
    return f"printed {printed} spans" if path == "-" else f"wrote {printed} spans to {path}"
