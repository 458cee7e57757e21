"""A recording's requests as OpenTelemetry spans, after the fact: OTLP, OTLP JSON, console.

Spans keep their original wall-clock times (the header's clock anchor + t). ``--to otlp``
sends them with the OTLP exporter the environment selects (http/protobuf, or gRPC with
``OTEL_EXPORTER_OTLP_PROTOCOL=grpc``); ``otlp-json`` writes ``ExportTraceServiceRequest``
objects in the OTLP/JSON encoding, one per line (the collector's file format); ``console``
prints them. Each serving process's spans are under a resource of its own, with its
``process.pid``. ``otlp-json`` is reproducible: its trace and span ids and its
``service.instance.id`` are derived from a hash of the recording (``SeededIds``), so the same
file exports the same bytes; spans sent to a collector keep the SDK's random ids, so exporting
a file twice never makes two spans with one id. Imports the recording model and
``tracer.otel``; never a shim or the UI.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from tracer.errors import TracerError
from tracer.export import ExportOptions, default_output, writing
from tracer.otel.sink import ProcessResources, SdkSink
from tracer.otel.spans import SpanModel
from tracer.recording import Recording

__all__ = [
    "recording_spans",
    "export_otlp",
    "export_otlp_json",
    "export_console",
    "to_otlp_json",
    "SeededIds",
    "recording_seed",
]

BATCH = 512


class _Collect:
    """A span processor that keeps every ended span (export then happens in our batches)."""

    def __init__(self) -> None:
        self.spans: list[Any] = []

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        pass

    def _on_ending(self, span: Any) -> None:
        pass

    def on_end(self, span: Any) -> None:
        self.spans.append(span)

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


def recording_seed(recording: Recording) -> bytes:
    """A hash of the recording's header (its clock anchor, app, server, load and seed): the
    same recording always gives it, two different runs almost never do."""
    header = json.dumps(recording.header, sort_keys=True, default=str)
    return hashlib.sha256(header.encode("utf-8")).digest()


_INSTANCE = "service.instance.id"


def _instance_id(seed: bytes) -> str:
    return str(uuid.UUID(bytes=seed[:16], version=4))


def _seeded(seed: bytes | None) -> bool:
    """Whether ``service.instance.id`` is derived from ``seed`` (the environment's wins)."""
    return seed is not None and _INSTANCE not in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "")


def _resource(recording: Recording, seed: bytes | None) -> Any:
    """The spans' resource; with ``seed``, a ``service.instance.id`` derived from it instead
    of the SDK's random one (unless ``OTEL_RESOURCE_ATTRIBUTES`` names one)."""
    from opentelemetry.sdk.resources import Resource

    from tracer.otel.config import make_resource

    resource = make_resource(recording.header.get("app"))
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
    from tracer._version import __version__
    from tracer.otel.config import sdk_provider
    from tracer.otel.sink import SCOPE_NAME

    collect = _Collect()
    resource = _resource(recording, seed)
    provider = sdk_provider(  # exports even under OTEL_SDK_DISABLED=true, which is for apps
        resource=resource,
        shutdown_on_exit=False,
        id_generator=None if seed is None else SeededIds(seed),
    )
    provider.add_span_processor(collect)
    clock = recording.header.get("clock") or {}
    model = SpanModel(
        # The scope the live export names too: name and version (``tracer.otel.sink``).
        SdkSink(provider.get_tracer(SCOPE_NAME, __version__), resources=_resources(resource, seed)),
        base_ns=int(clock.get("unix_ns", 0)),
        detail=detail,
        max_open=max(10_000, len(recording.events)),
    )
    model.feed(recording.events)
    model.finish_all()
    return collect.spans


def _batches(spans: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(spans), BATCH):
        yield spans[start : start + BATCH]


def export_otlp(recording: Recording, options: ExportOptions) -> str:
    """Send the spans to an OTLP collector; raise if it cannot take them.

    The exporter retries what may pass later (no connection, HTTP 429/502/503/504, gRPC
    UNAVAILABLE) with backoff until its timeout (``OTEL_EXPORTER_OTLP_TIMEOUT``, 10 s by
    default); the error then says what the collector answered, or that none was reached.
    """
    from tracer.otel.config import export_timeout, make_exporter, protocol_from_env
    from tracer.otel.delivery import Delivery

    spans = recording_spans(recording, detail=options.otel_detail)
    exporter = make_exporter(options.otlp_endpoint)
    # The URL the HTTP exporter posts to (a bare collector address gets /v1/traces), as the
    # live export of `trace run` names it; gRPC's exporter keeps only host:port, so the
    # address as given says more there.
    posted = getattr(exporter, "_endpoint", None)
    if not (isinstance(posted, str) and posted.startswith(("http://", "https://"))):
        posted = None
    where = posted or options.otlp_endpoint or "the OTLP endpoint"
    # The exporter logs each retry; Delivery keeps those records and the one error below
    # says what they did, once.
    delivery = Delivery(exporter, where, timeout=export_timeout(10.0))  # the exporters' default
    delivery.quiet()
    try:
        _send(delivery, spans, where)
    finally:
        delivery.shutdown()
        delivery.loud()
    return f"sent {len(spans)} spans to {where} ({protocol_from_env()})"


def _send(delivery: Any, spans: Sequence[Any], where: str) -> None:
    from opentelemetry.sdk.trace.export import SpanExportResult

    from tracer.otel.delivery import ENCODING, TIMEOUT, UNREACHABLE

    for batch in _batches(spans):
        began, retries = time.monotonic(), delivery.retries
        if delivery.export(batch) is SpanExportResult.SUCCESS:
            continue
        reason = delivery.reason
        if reason is None:
            raise TracerError(
                f"The spans could not be sent to {where} (the exporter gave no reason); "
                f"{delivery.sent} of {len(spans)} spans were sent."
            )
        if reason.kind == TIMEOUT:  # the collector took the request and stayed silent
            raise TracerError(
                f"The OTLP collector at {where} did not answer {reason.within()}, the "
                f"exporter's timeout (OTEL_EXPORTER_OTLP_TIMEOUT); {delivery.sent} of "
                f"{len(spans)} spans were sent."
            )
        text = reason.text
        if reason.kind == ENCODING:  # nothing left this process: no collector to blame
            raise TracerError(
                f"The spans could not be encoded as OTLP ({text}); {delivery.sent} of "
                f"{len(spans)} spans were sent. The recording holds a value OTLP cannot carry."
            )
        if delivery.retries > retries:  # the exporter's retries with backoff, up to its timeout
            text += f", retried for {time.monotonic() - began:.1f} s"
        if reason.kind == UNREACHABLE:
            raise TracerError(
                f"Could not send spans to {where} ({text}). Is a collector listening "
                "there? Set --otlp-endpoint or OTEL_EXPORTER_OTLP_ENDPOINT."
            )
        raise TracerError(
            f"The OTLP collector at {where} did not accept the spans ({text}); "
            f"{delivery.sent} of {len(spans)} spans were sent."
        )


def to_otlp_json(spans: Sequence[Any]) -> dict[str, Any]:
    """One ``ExportTraceServiceRequest`` in the OTLP/JSON encoding (hex trace and span ids)."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    from tracer.otel.otlp_json import message_dict

    return message_dict(encode_spans(spans))


def export_otlp_json(recording: Recording, options: ExportOptions) -> str:
    """Write the spans as OTLP/JSON lines (each line an ``ExportTraceServiceRequest``); the
    same recording gives the same file (ids from ``recording_seed``)."""
    spans = recording_spans(recording, detail=options.otel_detail, seed=recording_seed(recording))
    path = options.output or default_output(recording, ".otlp.json")
    with writing(path, options.stdout) as out:
        for batch in _batches(spans):
            out.write(json.dumps(to_otlp_json(batch), separators=(",", ":")) + "\n")
    return f"wrote {len(spans)} spans to {'stdout' if path == '-' else path}"


def export_console(recording: Recording, options: ExportOptions) -> str:
    """Print the spans as the SDK's console exporter does (JSON per span)."""
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    spans = recording_spans(recording, detail=options.otel_detail)
    with writing(options.output or "-", options.stdout) as out:
        ConsoleSpanExporter(out=out).export(spans)
    return f"printed {len(spans)} spans"
