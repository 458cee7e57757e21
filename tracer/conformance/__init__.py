"""Protocol conformance: per-request checkers the shims feed, and the rules they enforce.

The shims create one checker per request (when checking is on) and call its hooks with the
real protocol objects; a checker calls ``report(rule_id, message, severity=..., hint=...,
location=...)`` for each broken rule and the shim records it as a ``violation`` event. A
checker that raises is disabled for that request by the shim; it never breaks the request.
A shim passes its redaction settings (``verdicts=``, ``tracer.redact.header_verdicts``), so
that a finding quotes a header's value as the shim records it.

This package is a thin facade: the rules live in ``rules``, the WSGI checker in ``wsgi``, the
ASGI state machines in ``asgi_http``, ``asgi_websocket`` and ``asgi_lifespan`` (all reached
through ``AsgiChecker(scope, report)``), and shared shape checks in ``schema``. Imports only
the spine.
"""

from __future__ import annotations

from tracer.conformance import asgi_http, asgi_lifespan, asgi_websocket  # noqa: F401 - register
from tracer.conformance.asgi import AsgiChecker
from tracer.conformance.base import Report
from tracer.conformance.rules import ERROR, RULES, WARNING, Rule, rule
from tracer.conformance.wsgi import WsgiChecker

__all__ = ["Report", "WsgiChecker", "AsgiChecker", "Rule", "RULES", "ERROR", "WARNING", "rule"]
