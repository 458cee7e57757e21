"""OpenTelemetry providers and exporters from the standard ``OTEL_*`` environment.

``OTEL_EXPORTER_OTLP_PROTOCOL`` (or ``..._TRACES_PROTOCOL``) picks ``http/protobuf`` (the
default) or ``grpc``; the exporters themselves read ``OTEL_EXPORTER_OTLP_ENDPOINT``,
``..._HEADERS``, ``..._TIMEOUT`` and the rest; ``Resource.create`` reads ``OTEL_SERVICE_NAME``
and ``OTEL_RESOURCE_ATTRIBUTES``. An explicit endpoint (``--otlp-endpoint``) wins over the
environment. The traces URL is built as the OTLP specification says: a per-signal endpoint
(``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, or an ``--otlp-endpoint`` with a path) is used as it is;
a base one (``OTEL_EXPORTER_OTLP_ENDPOINT``, or a bare ``--otlp-endpoint http://host:4318``) gets
``v1/traces`` after its path, never after its query. A message naming an endpoint shows it
without its credentials (``shown_endpoint``). The batch processor's sizes
(``OTEL_BSP_MAX_EXPORT_BATCH_SIZE``, ``OTEL_BSP_MAX_QUEUE_SIZE``) and the span limits
(``OTEL_SPAN_EVENT_COUNT_LIMIT``...) are read here too.
Imports OpenTelemetry lazily, ``tracer.errors`` and ``tracer.redact``; never a shim or the UI.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tracer.errors import UsageError
from tracer.redact import REDACTED, redact_target

__all__ = [
    "PROTOCOLS",
    "TIMEOUT_VARIABLES",
    "check_endpoint",
    "shown_endpoint",
    "traces_url",
    "protocol_from_env",
    "make_exporter",
    "make_resource",
    "make_provider",
    "sdk_provider",
    "span_limits",
    "export_timeout",
    "export_batch_size",
    "queue_size",
    "BATCH_SIZE_VARIABLE",
    "DEFAULT_BATCH_SIZE",
]

DEFAULT_SERVICE_NAME = "gateway-tracer"


TRACES_PATH = "v1/traces"
"""The OTLP/HTTP traces path, relative to a base endpoint."""

BASE_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
"""The base endpoint of every signal: the traces URL is built from it."""
TRACES_VARIABLE = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
"""The traces endpoint: used as it is, and it wins over the base one."""


def shown_endpoint(endpoint: str) -> str:
    """``endpoint`` as a message may show it: a ``user:password@`` replaced by
    ``[redacted]@``, and secret-looking query values redacted as a recorded request's are
    (``tracer.redact``): ``http://u:pw@host:4318/v1/traces?api_key=K`` ->
    ``http://[redacted]@host:4318/v1/traces?api_key=[redacted]``."""
    # The gRPC exporter names its target by the authority alone (``user:pw@host:4317``).
    bare = "//" not in endpoint
    try:
        parts = urlsplit("//" + endpoint if bare else endpoint)
    except ValueError:  # an unclosed IPv6 bracket: no URL parts to take apart
        return redact_target(endpoint)
    netloc = parts.netloc
    if "@" in netloc:  # the userinfo ends at the last "@" of the authority
        netloc = f"{REDACTED}@{netloc.rpartition('@')[2]}"
    target = urlunsplit(("", "", parts.path, parts.query, parts.fragment))
    shown = urlunsplit((parts.scheme, netloc, "", "", "")) + redact_target(target)
    return shown.removeprefix("//") if bare else shown


def traces_url(base: str) -> str:
    """The traces URL of a base endpoint, as the OTLP specification builds it from
    ``OTEL_EXPORTER_OTLP_ENDPOINT``: ``v1/traces`` resolved against the base URL's path made
    to end in ``/`` (``http://host:4318`` -> ``http://host:4318/v1/traces``,
    ``http://host/otlp`` -> ``http://host/otlp/v1/traces``); a query stays the query
    (``http://host/?api_key=K`` -> ``http://host/v1/traces?api_key=K``)."""
    parts = urlsplit(base)
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit(parts._replace(path=path + TRACES_PATH))


def check_endpoint(endpoint: str) -> None:
    """``UsageError`` unless ``endpoint`` is an http(s) URL with a host and a valid port."""
    shown = shown_endpoint(endpoint)
    try:
        parts = urlsplit(endpoint)
    except ValueError:  # an unclosed IPv6 bracket ("http://[::1")
        raise UsageError(
            f'OTLP endpoint "{shown}" is not a valid URL; try "http://localhost:4318".'
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f'OTLP endpoint "{shown}" is not an http(s) URL; try "http://localhost:4318".'
        )
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError:
        raise UsageError(
            f'OTLP endpoint "{shown}" has no valid port (1-65535); try "http://localhost:4318".'
        ) from None


def _env_endpoint() -> str | None:
    """The traces URL the environment names, or None to leave it to the exporter (no
    variable, or a per-signal one, which the exporter uses as it is). The exporter would
    append the path to a base URL's text, after its query; here it goes after its path."""
    if os.environ.get(TRACES_VARIABLE):
        return None
    base = os.environ.get(BASE_VARIABLE)
    if not base:
        return None
    try:
        return traces_url(base)
    except ValueError:  # no URL: the exporter says so when it sends, as it would have
        return None


def _http_exporter(endpoint: str | None, timeout: float | None = None) -> Any:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    if endpoint is None:
        endpoint = _env_endpoint()
    else:
        check_endpoint(endpoint)
        if urlsplit(endpoint).path in ("", "/"):
            # A bare collector address, as OTEL_EXPORTER_OTLP_ENDPOINT is: add the signal path.
            endpoint = traces_url(endpoint)
    return OTLPSpanExporter(endpoint=endpoint, timeout=timeout)


def _grpc_exporter(endpoint: str | None, timeout: float | None = None) -> Any:
    try:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    except ImportError:
        raise UsageError(
            "OTEL_EXPORTER_OTLP_PROTOCOL=grpc needs the gRPC exporter: "
            "pip install 'gateway-tracer[grpc]' (or unset the variable to use http/protobuf)."
        ) from None
    insecure = None
    if endpoint is not None:
        check_endpoint(endpoint)
    if endpoint is not None and endpoint.startswith("http://"):
        insecure = True
    return OTLPSpanExporter(endpoint=endpoint, insecure=insecure, timeout=timeout)


PROTOCOLS: dict[str, Callable[[str | None, float | None], Any]] = {
    "http/protobuf": _http_exporter,
    "grpc": _grpc_exporter,
}
"""``OTEL_EXPORTER_OTLP_PROTOCOL`` value -> exporter factory taking an optional endpoint and
timeout in seconds (None: the exporter's own, from ``OTEL_EXPORTER_OTLP_TIMEOUT`` or 10 s)."""

TIMEOUT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT")
"""The variables that set the exporter's timeout; when one is set, it wins."""


MILLISECONDS_FROM = 1000.0
"""An ``OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT`` of at least this is read in milliseconds."""


def export_timeout(default: float, environ: Mapping[str, str] | None = None) -> float:
    """Seconds one export may take, retries included: ``OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT``
    when set, else ``default`` (what ``make_exporter`` was given).

    The OpenTelemetry specification gives the variable in milliseconds (``10000``); the Python
    exporters read it in seconds (``10``). A value of 1000 or more is read as milliseconds (no
    export is meant to wait 1000 s or more), a smaller one as seconds: ``10000`` and ``10``
    are both 10 s. A value that is no positive number gives 10 s, the default of both.
    """
    env = os.environ if environ is None else environ
    for name in TIMEOUT_VARIABLES:
        value = env.get(name)
        if value:
            try:
                seconds = float(value)
            except ValueError:
                return 10.0
            if not seconds > 0 or seconds == float("inf"):
                return 10.0
            return seconds / 1000 if seconds >= MILLISECONDS_FROM else seconds
    return default


BATCH_SIZE_VARIABLE = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"
"""The SDK's variable for the most spans one export sends."""

DEFAULT_BATCH_SIZE = 512
"""The SDK's default for it."""

QUEUE_SIZE_VARIABLE = "OTEL_BSP_MAX_QUEUE_SIZE"
"""The SDK's variable for the spans a batch processor's queue holds."""


def queue_size(environ: Mapping[str, str] | None = None) -> int:
    """The batch queue's size: ``OTEL_BSP_MAX_QUEUE_SIZE`` when it is a positive number, else the
    SDK's default, 2048 spans."""
    env = os.environ if environ is None else environ
    try:
        size = int(env.get(QUEUE_SIZE_VARIABLE, "") or 2048)
    except ValueError:
        return 2048
    return size if size > 0 else 2048


def export_batch_size(environ: Mapping[str, str] | None = None, *, queue: int | None = None) -> int:
    """The most spans one export sends: ``OTEL_BSP_MAX_EXPORT_BATCH_SIZE`` when set (an empty
    value is unset, as the specification says), else the SDK's default, 512.

    ``UsageError`` for a value that is not a positive whole number, and, given ``queue`` (the
    spans the batch queue holds, which a batch is taken from), for one larger than it. The SDK
    has no one rule to follow there: it logs a traceback and uses 512 for text, and raises
    when its batch processor is made for 0, a negative number or one past the queue.
    """
    env = os.environ if environ is None else environ
    value = env.get(BATCH_SIZE_VARIABLE, "").strip()
    if not value:  # the default fits any queue: a smaller one takes batches of its size
        return DEFAULT_BATCH_SIZE if queue is None else min(DEFAULT_BATCH_SIZE, queue)
    try:
        size = int(value) if value.isdigit() else 0
    except ValueError:  # digits of another script, which int() does not take
        size = 0
    if size <= 0:
        raise UsageError(
            f'{BATCH_SIZE_VARIABLE} is "{value}": give it a positive whole number of spans per '
            f"export ({DEFAULT_BATCH_SIZE} if unset)."
        )
    if queue is not None and size > queue:
        raise UsageError(
            f"{BATCH_SIZE_VARIABLE} is {size}, more than the batch queue holds "
            f"({QUEUE_SIZE_VARIABLE}: {queue} spans), which a batch is taken from: set it to at "
            f"most {queue}, or raise {QUEUE_SIZE_VARIABLE}."
        )
    return size


def protocol_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The OTLP protocol the environment asks for (``http/protobuf`` by default)."""
    env = os.environ if environ is None else environ
    value = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    if value not in PROTOCOLS:
        raise UsageError(
            f'OTLP protocol "{value}" is not supported; set OTEL_EXPORTER_OTLP_PROTOCOL to one '
            f"of: {', '.join(PROTOCOLS)}."
        )
    return value


def make_exporter(
    endpoint: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> Any:
    """An OTLP span exporter for the environment's protocol, sending to ``endpoint`` if given.

    ``timeout`` (seconds) bounds each export, its retries included; it applies only when the
    environment sets no ``OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT``, which the user's choice is.
    That variable is read here (``export_timeout``, milliseconds as the specification says
    them, or seconds) and passed on in seconds: the exporters would read it in seconds only.
    """
    env = os.environ if environ is None else environ
    if any(env.get(name) for name in TIMEOUT_VARIABLES) or timeout is None:
        timeout = export_timeout(10.0 if timeout is None else timeout, env)
    return PROTOCOLS[protocol_from_env(environ)](endpoint, timeout)


def make_resource(service_name: str | None = None) -> Any:
    """The resource: ``OTEL_SERVICE_NAME``/``OTEL_RESOURCE_ATTRIBUTES``, else ``service_name``."""
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource

    resource = Resource.create({})
    current = str(resource.attributes.get(SERVICE_NAME, ""))
    if not current or current.startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: service_name or DEFAULT_SERVICE_NAME}))
    return resource


def span_limits() -> Any:
    """The SDK's ``SpanLimits`` from the environment (``OTEL_SPAN_EVENT_COUNT_LIMIT``, 128 span
    events by default, ``OTEL_SPAN_LINK_COUNT_LIMIT``...); ``UsageError`` naming the variable
    when one is not a whole number (the SDK raises a ``ValueError`` of its own)."""
    from opentelemetry.sdk.trace import SpanLimits

    try:
        return SpanLimits()
    except ValueError as exc:  # "OTEL_SPAN_EVENT_COUNT_LIMIT must be a non-negative integer..."
        raise UsageError(f"{exc}; give it a whole number, or unset it.") from None


def sdk_provider(**options: Any) -> Any:
    """An SDK ``TracerProvider`` (``options`` as it takes them) for a command the user typed:
    ``trace run --otlp``, ``trace export --to otlp|otlp-json|console``. Its span limits are
    the environment's (``span_limits``: a bad one is a ``UsageError``, not a traceback).

    ``OTEL_SDK_DISABLED=true`` turns the SDK of an application into a no-op; it does not turn
    off an export asked for by name (which would otherwise send or write nothing, or fail).
    """
    from opentelemetry.sdk.trace import TracerProvider

    if "span_limits" not in options:
        options["span_limits"] = span_limits()
    provider = TracerProvider(**options)
    provider._disabled = False  # where the SDK keeps OTEL_SDK_DISABLED; get_tracer() reads it
    return provider


def make_provider(span_processor: Any, *, service_name: str | None = None) -> Any:
    """An SDK ``TracerProvider`` handing its spans to ``span_processor`` (a batching one keeps
    the export off the request path), with the resource of ``make_resource``.

    It has no exit hook (``shutdown_on_exit=False``): whoever made it shuts it down, and says
    what was not sent; the SDK's hook would go on sending, unbounded and unreported, after
    the command was interrupted."""
    provider = sdk_provider(resource=make_resource(service_name), shutdown_on_exit=False)
    provider.add_span_processor(span_processor)
    return provider
