"""OpenTelemetry export: recorded requests as spans, live or after the fact.

``spans`` holds the span model, which routes events to requests: ``spec`` the span trees it
makes and the sink protocol, ``request`` a request's state and server span, ``parts`` what a
request's events put on a span, ``late`` the work an app did after its request ended,
``ended`` what is kept of emitted requests, ``blocks`` the recent loop blocks. ``sink`` holds
the two ways to hand spans to a provider, ``live``
the recorder subscription used by ``tracer.instrument(app, tracer_provider=tp)`` and
``trace run --otlp``, ``config`` the providers and exporters built from ``OTEL_*`` variables,
``otlp_json`` the OTLP/JSON form of an encoded OTLP message.
Never imported by the shims or server models; imported lazily by the CLI.
"""

from __future__ import annotations

__all__: list[str] = []
