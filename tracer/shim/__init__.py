"""The instrumenting shims: WSGI and ASGI middleware that record every protocol call.

Shims import the event/recording modules and ``tracer.conformance``; never the TUI,
the exporters, the server models or the CLI.
"""

__all__: list[str] = []
