"""gateway-tracer: see what WSGI and ASGI do under concurrency.

The library API is small and stable::

    rec = tracer.Recorder()                         # rec.events, rec.save(path)
    app = tracer.instrument(app, recorder=rec)      # WSGI or ASGI, detected; any server
    app = tracer.instrument(app, tracer_provider=tp)   # OpenTelemetry spans, off the hot path
    recording = tracer.load("run.jsonl")            # .header, .events
    tracer.summarize(recording)                     # the summary dict
"""

from __future__ import annotations

import os
import sys
from typing import Any

from tracer._version import __version__
from tracer.errors import TracerError, UsageError
from tracer.events import Event
from tracer.interface import detect_interface, is_asgi
from tracer.recorder import Recorder
from tracer.recording import Recording, load
from tracer.summary import summarize

__all__ = [
    "__version__",
    "Event",
    "Recorder",
    "Recording",
    "TracerError",
    "instrument",
    "load",
    "summarize",
]


def instrument(
    app: Any,
    *,
    recorder: Recorder | None = None,
    tracer_provider: Any = None,
    interface: str = "auto",
    redact: bool = True,
    redact_headers: frozenset[str] | set[str] | None = None,
    block_threshold_ms: float = 10.0,
    checks: bool = True,
    **options: Any,
) -> Any:
    """Wrap a WSGI or ASGI app so every protocol call and scheduling step is recorded.

    ``recorder`` receives the events (a new in-memory one when omitted and no
    ``tracer_provider`` is given). With ``tracer_provider``, finished requests become
    OpenTelemetry spans, built off the request path. ``interface`` forces ``wsgi``/``asgi``;
    ``redact=False`` keeps secrets in headers; ``redact_headers`` replaces the set of header
    names to redact; ``block_threshold_ms`` is how long one coroutine step may hold the event
    loop before it is recorded as ``loop.blocked``; ``checks`` turns protocol checking on.
    The wrapped app behaves exactly as ``app`` does.

    An app already instrumented with the same recorder and settings is returned as it is. A
    request is recorded once per recorder however often the app is wrapped: a shim passes a
    request that a shim of its recorder further out records straight to its app.
    """
    _check_settings(redact, redact_headers, block_threshold_ms, checks)
    if recorder is None:
        # Only spans are wanted: keep no events in memory, or a long-lived app would grow forever.
        recorder = Recorder(keep=tracer_provider is None)
    if tracer_provider is not None:
        from tracer.otel.live import attach_tracer_provider

        attach_tracer_provider(recorder, tracer_provider, **options.pop("otel", {}))
    kind = detect_interface(app, interface)
    _name_in_header(recorder, app, "asgi" if is_asgi(kind) else "wsgi")
    common: dict[str, Any] = {
        "recorder": recorder,
        "redact": redact,
        "redact_headers": redact_headers,
        "checks": checks,
        **options,
    }
    if is_asgi(kind):
        from tracer.shim.asgi import AsgiShim

        shim: Any = AsgiShim(
            app, asgi_version=kind, block_threshold_ms=block_threshold_ms, **common
        )
    else:
        from tracer.shim.wsgi import WsgiShim

        shim = WsgiShim(app, **common)
    if type(app) is type(shim) and app.recorder is recorder and app.settings() == shim.settings():
        return app
    return shim


def _check_settings(redact: Any, redact_headers: Any, block_threshold_ms: Any, checks: Any) -> None:
    """``UsageError`` for a setting of the wrong kind, before anything is wrapped: a string of
    header names would turn redaction off, ``checks="no"`` would leave checks on, and a NaN
    threshold would fail deep inside with a bare ValueError."""
    from tracer.redact import secret_header_names
    from tracer.shim.settings import block_threshold_ns

    secret_header_names(redact, redact_headers)
    if not isinstance(checks, bool):
        raise UsageError(f"checks must be True or False, not {checks!r}.")
    block_threshold_ns(block_threshold_ms)


def _name_in_header(recorder: Recorder, app: Any, interface: str) -> None:
    """Fill in a recording header's ``app`` and ``interface`` that nobody set (a recorder made
    by hand), so a saved recording says what it traced; what the CLI set is kept."""
    header = recorder.header
    if header.get("interface") is None:
        header["interface"] = interface
    if header.get("app") is None:
        named = _name_where_bound(app, sys._getframe(2).f_globals)
        if named is not None:
            header["app"] = named
            return
        target = app if hasattr(app, "__qualname__") else type(app)
        module = getattr(target, "__module__", None)
        name = getattr(target, "__qualname__", None)
        if isinstance(name, str):
            header["app"] = f"{module}:{name}" if isinstance(module, str) else name


def _name_where_bound(app: Any, namespace: dict[str, Any]) -> str | None:
    """``module:name`` of the global that holds ``app`` in the module calling ``instrument``
    (``myapp:app``, as one would give it to ``trace run``; ``file.py:app`` for a script), or
    None. An app object's class (``flask.app:Flask``) would say which framework, not which app.
    """
    if hasattr(app, "__qualname__"):
        return None  # a function or class names itself
    name = next((key for key, value in namespace.items() if value is app), None)
    if name is None:
        return None
    module = namespace.get("__name__")
    if module == "__main__":
        filename = namespace.get("__file__")
        if not isinstance(filename, str):
            return None
        from tracer.sourcepath import display_path

        return f"{display_path(os.path.abspath(filename))}:{name}"
    return f"{module}:{name}" if isinstance(module, str) else None
