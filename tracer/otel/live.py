"""Live export: spans built from a running ``Recorder``'s events, off the request path.

``attach_tracer_provider`` subscribes a ``SpanModel`` to the recorder: its background thread
hands over each batch of events, requests are assembled until their ``request.end`` and then
emitted as spans to the provider's processors. Nothing runs on the request path but the
recorder's own ``emit``. ``attach_from_cli`` is what ``trace run --otlp`` calls.
Imports the spine and ``tracer.otel``; never a shim, server model or the UI.
"""

from __future__ import annotations

import atexit
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

from tracer.errors import UsageError
from tracer.events import Event
from tracer.otel.config import shown_endpoint
from tracer.otel.sink import make_sink
from tracer.otel.spans import SpanModel
from tracer.recorder import Recorder

__all__ = [
    "LiveSpans",
    "attach_tracer_provider",
    "attach_from_cli",
    "exporting",
    "CLI_EXPORT_TIMEOUT_S",
]


class LiveSpans:
    """A recorder subscriber that turns finished requests into spans as batches arrive."""

    def __init__(
        self,
        recorder: Recorder,
        tracer_provider: Any,
        *,
        detail: str = "events",
        max_open: int = 10_000,
    ) -> None:
        clock = recorder.header.get("clock") or {}
        self.recorder = recorder
        self.tracer_provider = tracer_provider
        self.detail = detail
        self.model = SpanModel(
            make_sink(tracer_provider),
            base_ns=int(clock.get("unix_ns", 0)),
            detail=detail,
            max_open=max_open,
            clean=False,  # events of this process's shims: see SpanModel
        )
        # The recorder serialises its drains; this lock guards finish() against a late batch.
        self._lock = threading.Lock()
        self._closed = False

    def __call__(self, batch: list[Event]) -> None:
        """Consume one batch (the recorder's subscriber signature)."""
        with self._lock:
            if not self._closed:
                self.model.feed(batch)

    def flush(self) -> None:
        """Take in every event the recorder has queued so far."""
        self.recorder.drain()

    def close(self) -> None:
        """Flush, then emit the requests still open as incomplete; later batches are ignored."""
        self.flush()
        with self._lock:
            if not self._closed:
                self._closed = True
                self.model.finish_all()


_ATTACHED: weakref.WeakKeyDictionary[Recorder, list[LiveSpans]] = weakref.WeakKeyDictionary()
"""Registry: the span exports subscribed to each recorder (weakly: it dies with them)."""


def exporting(recorder: Recorder, tracer_provider: Any) -> LiveSpans | None:
    """The span export of ``recorder`` to ``tracer_provider``, if one is attached."""
    for live in _ATTACHED.get(recorder, ()):
        if live.tracer_provider is tracer_provider:
            return live
    return None


def _attach(
    recorder: Recorder, tracer_provider: Any, detail: str, max_open: int = 10_000
) -> LiveSpans:
    live = LiveSpans(recorder, tracer_provider, detail=detail, max_open=max_open)
    recorder.subscribe(live)
    _ATTACHED.setdefault(recorder, []).append(live)
    # Registered after the provider's own exit hook, so it runs first (atexit is LIFO) and the
    # last batch reaches the processors before they shut down. Weakly: an app that is thrown
    # away (tests, reloads) must not be kept alive by its exit hook.
    atexit.register(_flush_at_exit, weakref.ref(live))
    return live


def _flush_at_exit(ref: weakref.ref[LiveSpans]) -> None:
    live = ref()
    if live is not None:
        live.flush()


def attach_tracer_provider(
    recorder: Recorder, tracer_provider: Any, *, detail: str = "events"
) -> None:
    """Export the requests ``recorder`` sees as spans of ``tracer_provider`` while it runs.

    ``detail="events"`` puts protocol calls on the request span as events; ``"spans"`` makes
    them child spans. Spans are built on the recorder's background thread. Anything but a
    ``TracerProvider`` (an object without ``get_tracer``) is a ``UsageError``.

    A provider gets each request once: attaching the provider ``recorder`` already exports to
    does nothing, and with another ``detail`` (which would send every request twice, once in
    each form) is a ``UsageError`` naming the earlier one, raised before anything changes.
    """
    if not callable(getattr(tracer_provider, "get_tracer", None)):
        raise UsageError(
            f"tracer_provider must be an OpenTelemetry TracerProvider, not "
            f"{type(tracer_provider).__name__} (it has no get_tracer())."
        )
    earlier = exporting(recorder, tracer_provider)
    if earlier is None:
        _attach(recorder, tracer_provider, detail)
    elif earlier.detail != detail:
        raise UsageError(
            f"This recorder already exports its requests to this tracer_provider with "
            f'otel={{"detail": "{earlier.detail}"}}; exporting them again with '
            f'otel={{"detail": "{detail}"}} would send every request twice. Instrument the '
            "app once, with the detail you want."
        )


CLI_EXPORT_TIMEOUT_S = 3.0
"""``trace run --otlp``: how long one export may take, retries included (the SDK's default is
10 s), unless ``OTEL_EXPORTER_OTLP_TIMEOUT`` says otherwise. It also bounds the wait at exit
for a collector that fails: the first export that fails after the run is the last one tried."""

SENDING_NOTE_AFTER_S = 1.0
"""When the exit has waited this long for the last spans to be sent, a line says so (and that
Ctrl-C stops it)."""


def attach_from_cli(
    recorder: Recorder,
    endpoint: str | None = None,
    detail: str = "events",
    *,
    report: Callable[[str], None] | None = None,
) -> Callable[[], None]:
    """``trace run --otlp``: an OTLP exporter from the environment, attached to ``recorder``.

    Returns the function to call when the run is over: it flushes the last events, emits
    unfinished requests and shuts the provider down, which sends what is queued while the
    collector takes it (saying so when that takes more than a moment). While the collector
    takes the spans, none is dropped: the recorder's thread waits for room in the batch queue
    (``PacedBatchProcessor``). The exporter's own retry warnings are kept quiet; when spans
    could not be delivered, that function passes one line to ``report`` (default: stderr)
    naming the collector, why, how many spans were not exported and the command that sends
    the recording's spans again. The first export that fails after the run is the last one
    tried, so a failing collector holds the exit one export's timeout at most; a Ctrl-C
    while the last spans are sent stops sending (within that timeout) and is reported the same
    way. Should the function not be called (the command was interrupted before), the same
    happens at exit without sending: the provider has no exit hook of its own.
    """
    from tracer.otel.config import export_timeout, make_exporter, make_provider
    from tracer.otel.delivery import Delivery, PacedBatchProcessor

    exporter = make_exporter(endpoint, timeout=CLI_EXPORT_TIMEOUT_S)
    where = getattr(exporter, "_endpoint", None) or endpoint or "the default OTLP endpoint"
    delivery = Delivery(exporter, str(where), timeout=export_timeout(CLI_EXPORT_TIMEOUT_S))
    delivery.quiet()
    # Backpressure on the recorder's thread, which hands over a whole drain at once; the load
    # generator pauses while the recorder is behind, so the run slows to the collector's pace
    # instead of dropping spans. The app's requests never wait for it.
    batches = PacedBatchProcessor(delivery)
    provider = make_provider(batches, service_name=recorder.header.get("app"))
    live = _attach(recorder, provider, detail)
    again = resend_command(recorder.path, endpoint)
    say = report or _to_stderr
    done = threading.Event()

    def finish(*, stop: bool) -> None:
        if done.is_set():
            return
        done.set()
        if stop:
            delivery.stop()
        delivery.closing()  # before the last spans are made: no wait for room past a failure
        note = threading.Timer(SENDING_NOTE_AFTER_S, _say_sending, (say, delivery, batches))
        note.daemon = True
        try:
            with _ctrl_c_stops(delivery):
                note.start()
                live.close()
                provider.shutdown()
        finally:
            note.cancel()
            delivery.loud()
        problem = delivery.problem(again)
        if problem:
            say(problem)

    def shutdown() -> None:
        atexit.unregister(finish)
        finish(stop=False)

    # Registered after ``_attach``'s flush, so it runs before it (atexit is LIFO): a command
    # interrupted before ``shutdown`` still says what was not sent, and sends nothing more.
    atexit.register(finish, stop=True)
    return shutdown


def resend_command(path: str | None, endpoint: str | None) -> str | None:
    """The command that sends a recording's spans to the collector again (None without a
    recording); the endpoint is shown without its credentials."""
    if path is None:
        return None
    import shlex

    from tracer.otel.config import shown_endpoint

    command = f"trace export {shlex.quote(path)} --to otlp"
    if endpoint is not None:
        command += f" --otlp-endpoint {shlex.quote(shown_endpoint(endpoint))}"
    return command


def _say_sending(say: Callable[[str], None], delivery: Any, batches: Any) -> None:
    """The exit has waited a moment for the last spans: say how many are on their way."""
    remaining = max(0, batches.handed - delivery.sent - delivery.lost - delivery.answers.rejected)
    if remaining and not delivery.stopped:
        say(
            f"trace: sending the last {remaining} spans to "
            f"{shown_endpoint(delivery.endpoint)} (Ctrl-C stops)"
        )


class _ctrl_c_stops:  # noqa: N801 - used as a context manager, named for what it does
    """While the last spans are sent (on the main thread): the first Ctrl-C stops sending
    (``Delivery.stop``) instead of raising ``KeyboardInterrupt``; a second one raises it."""

    def __init__(self, delivery: Any) -> None:
        self.delivery = delivery
        self.saved: Any = None

    def _pressed(self, signum: int, frame: Any) -> None:
        if self.delivery.stopped:
            raise KeyboardInterrupt
        self.delivery.stop()

    def __enter__(self) -> _ctrl_c_stops:
        import signal

        if threading.current_thread() is threading.main_thread():
            self.saved = signal.signal(signal.SIGINT, self._pressed)
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        if self.saved is not None:
            signal.signal(signal.SIGINT, self.saved)


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)
