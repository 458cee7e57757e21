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

from tracer._version import __version__
from tracer.errors import TracerError, UsageError

# typing is for the type checker only: importing it took a few milliseconds more of the start
# of every ``trace`` command (see ``_LAZY``). Type checkers read the block below as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from tracer.events import Event
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

# The rest of the public API, imported on first use (PEP 562): ``import tracer`` is what every
# ``trace`` command does first, and importing the recorder, the recording, asyncio and inspect
# there took most of a command's start-up, a stretch where a Ctrl-C could only be a traceback.
_LAZY = {
    "Event": "tracer.events",
    "Recorder": "tracer.recorder",
    "Recording": "tracer.recording",
    "load": "tracer.recording",
    "summarize": "tracer.summary",
}
"""Public name -> the module that defines it."""


def __getattr__(name: str) -> Any:
    """``tracer.Recorder`` and the other names of ``_LAZY``, imported when first asked for
    (then kept here, so later look-ups are plain attribute reads)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the ones not imported yet included."""
    return sorted(set(globals()) | set(_LAZY))


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
    The wrapped app behaves exactly as ``app`` does. ``otel`` (with ``tracer_provider`` only)
    passes options to the span export, like ``otel={"detail": "spans"}``.

    A mistake in any argument (an unknown keyword, a file name as ``recorder``, a setting of
    the wrong kind) is a ``UsageError`` (an ``InterfaceError`` for an ``app`` that is neither
    WSGI nor ASGI), raised before the recorder is changed in any way.

    An app already instrumented with the same recorder and settings is returned as it is. A
    request is recorded once per recorder however often the app is wrapped: a shim passes a
    request that a shim of its recorder further out records straight to its app.

    A tracer provider gets each request once. ``instrument(app, tracer_provider=tp)`` of an
    app that ``instrument`` already returned with ``tp`` uses that app's recorder: with the
    same settings the app is returned as it is, and nothing more is exported. It is a
    ``UsageError``, naming the earlier instrumentation, when that would export every request
    twice: another ``recorder``, another ``otel`` detail, or ``app`` wrapping (through
    ``.app`` attributes, as middleware keeps the app it wraps) an app instrumented with ``tp``.
    """
    # Every argument is checked before anything changes: a refused call must not leave a span
    # exporter subscribed (each request would then be exported once more per failed attempt).
    from tracer.interface import detect_interface, is_asgi
    from tracer.recorder import Recorder

    otel = _check_options(options, tracer_provider)
    _check_recorder(recorder)
    _check_settings(redact, redact_headers, block_threshold_ms, checks)
    kind = detect_interface(app, interface, choice=_INTERFACE_CHOICE, factory=_FACTORY_CHOICE)
    if tracer_provider is not None:
        # Instrumented with this provider already: the same recording, so each request is
        # recorded and exported once (a second recorder would export every request again).
        recorder = _recorder_exporting(app, tracer_provider, recorder)
    if recorder is None:
        # Only spans are wanted: keep no events in memory, or a long-lived app would grow forever.
        recorder = Recorder(keep=tracer_provider is None)
    common: dict[str, Any] = {
        "recorder": recorder,
        "redact": redact,
        "redact_headers": redact_headers,
        "checks": checks,
    }
    if is_asgi(kind):
        from tracer.shim.asgi import AsgiShim

        shim: Any = AsgiShim(
            app, asgi_version=kind, block_threshold_ms=block_threshold_ms, **common
        )
    else:
        from tracer.shim.wsgi import WsgiShim

        shim = WsgiShim(app, **common)
    if tracer_provider is not None:
        from tracer.otel.live import attach_tracer_provider

        # Last of what may fail: it checks the provider and otel's values before subscribing.
        attach_tracer_provider(recorder, tracer_provider, **otel)
    _name_in_header(recorder, app, "asgi" if is_asgi(kind) else "wsgi")
    _redaction_in_header(recorder, redact, redact_headers)
    if is_asgi(kind):
        _threshold_in_header(recorder, shim.block_ns)
    if type(app) is type(shim) and app.recorder is recorder and app.settings() == shim.settings():
        return app
    return shim


_OPTIONS = (
    "recorder",
    "tracer_provider",
    "interface",
    "redact",
    "redact_headers",
    "block_threshold_ms",
    "checks",
    "otel",
)
"""Every keyword ``instrument`` takes (``otel`` arrives in ``**options``)."""

_INTERFACE_CHOICE = 'Pass interface="wsgi" or interface="asgi" to instrument().'
"""How a library caller chooses the interface (the CLI's message says ``--interface``)."""

_FACTORY_CHOICE = "If it returns the app, instrument what it returns."
"""How a library caller serves what a factory makes (the CLI's message says ``--factory``)."""


def _with_suggestions(names: list[str], known: list[str] | tuple[str, ...]) -> str:
    """``names``, sorted, each followed by the known name it is close to (a likely typo)."""
    import difflib

    named = []
    for name in sorted(names):
        close = difflib.get_close_matches(name, known, n=1)
        named.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return ", ".join(named)


def _check_options(options: dict[str, Any], tracer_provider: Any) -> dict[str, Any]:
    """The ``otel`` options (``{}`` when none), or ``UsageError`` for a keyword ``instrument``
    does not take, for ``otel`` without the ``tracer_provider`` it configures (alone it would
    do nothing) and for an ``otel`` option ``attach_tracer_provider`` does not take."""
    unknown = [name for name in options if name != "otel"]
    if unknown:
        raise UsageError(
            f"instrument() does not know the option(s) {_with_suggestions(unknown, _OPTIONS)}; "
            "remove them."
        )
    otel = options.get("otel")
    if otel is None:
        return {}
    if tracer_provider is None:
        raise UsageError(
            "otel= sets up the spans of tracer_provider=; pass tracer_provider too, or drop otel."
        )
    if not isinstance(otel, dict):
        raise UsageError(f'otel must be a dict, like {{"detail": "spans"}}, not {otel!r}.')
    # Imported to read the options it takes; without OpenTelemetry the call fails here, before
    # anything changed.
    import inspect

    from tracer.otel.live import attach_tracer_provider

    parameters = inspect.signature(attach_tracer_provider).parameters.values()
    known = [p.name for p in parameters if p.kind is p.KEYWORD_ONLY]
    unknown = [str(name) for name in otel if name not in known]
    if unknown:
        raise UsageError(
            f"otel= does not know the option(s) {_with_suggestions(unknown, known)}; "
            f"it takes {', '.join(known)}."
        )
    return otel


def _recorder_exporting(app: Any, tracer_provider: Any, recorder: Recorder | None) -> Any:
    """The recorder to use for ``app`` and ``tracer_provider``: that of ``app`` when it is an
    instrumented app whose recorder already exports to the provider, else ``recorder``.

    ``UsageError`` when the provider would get every request twice: ``recorder`` is another
    one, or the instrumented app is inside ``app`` (middleware around it).
    """
    from tracer.otel.live import exporting
    from tracer.shim.asgi import AsgiShim
    from tracer.shim.wsgi import WsgiShim

    seen: set[int] = set()
    node, where = app, "app"
    while node is not None and id(node) not in seen and len(seen) < 32:
        seen.add(id(node))
        if isinstance(node, (AsgiShim, WsgiShim)):
            earlier = exporting(node.recorder, tracer_provider)
            if earlier is not None:
                if node is app and recorder in (None, node.recorder):
                    return node.recorder
                raise UsageError(
                    f"{where} is already instrumented with this tracer_provider (by "
                    f'tracer.instrument, with otel={{"detail": "{earlier.detail}"}}); '
                    "instrumenting it again would export every request twice. Use the "
                    "instrumented app as it is, or instrument the original app once."
                )
        try:
            node = getattr(node, "app", None)
        except Exception:  # a property of someone's app object: nothing more to follow
            break
        where += ".app"
    return recorder


def _check_recorder(recorder: Any) -> None:
    """``UsageError`` unless ``recorder`` is None or a ``Recorder``: a file name given in its
    place (as ``trace run --record`` takes one) failed later with a bare AttributeError."""
    from tracer.recorder import Recorder

    if recorder is None or isinstance(recorder, Recorder):
        return
    if isinstance(recorder, (str, os.PathLike)):
        path = os.fspath(recorder)
        raise UsageError(
            f"recorder must be a tracer.Recorder, not the file name {path!r}; to record to "
            f"that file, pass recorder=tracer.Recorder({path!r})."
        )
    raise UsageError(
        f"recorder must be a tracer.Recorder, not {type(recorder).__name__}; make one with "
        "tracer.Recorder() (in memory) or tracer.Recorder(path) (to a file)."
    )


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


def _redaction_in_header(recorder: Recorder, redact: bool, redact_headers: Any) -> None:
    """Write how the shim redacts headers in the recording's header (``redact``): ``True``
    for the default rule, ``False`` for none, the sorted lower-case names that replaced the
    default ones; ``"mixed"`` once apps sharing the recorder redact differently. Whoever is
    handed the file can then tell whether a secret header could be in it in clear."""
    from tracer.redact import secret_header_names

    said: Any = True
    if not redact:
        said = False
    elif redact_headers is not None:
        said = sorted(secret_header_names(redact, redact_headers))
    header = recorder.header
    known = header.get("redact")
    header["redact"] = said if known is None or known == said else "mixed"


def _threshold_in_header(recorder: Recorder, block_ns: int) -> None:
    """Write the ASGI shim's block threshold (ns) in the recording's header, so a reader asked
    for a lower one knows the shorter blocks are missing. Apps sharing a recorder with
    different thresholds leave the highest: blocks shorter than it may be missing."""
    from tracer.recording import BLOCK_THRESHOLD

    header = recorder.header
    known = header.get(BLOCK_THRESHOLD)
    if type(known) is not int or known < block_ns:
        header[BLOCK_THRESHOLD] = block_ns


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
