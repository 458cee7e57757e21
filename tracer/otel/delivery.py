"""``Delivery``: a span exporter wrapper for ``trace run --otlp`` that reports a failing collector.

The OTLP exporters log every failed attempt (several multi-line warnings per batch) and retry
with backoff until their timeout, which also holds the process at exit. A command-line run
wants one line instead: ``Delivery`` wraps the exporter, counts the spans the collector did not
take, keeps the exporters' log records to itself (``quiet()``) and ``problem()`` words them as
one line naming the collector and the reason. ``closing()`` makes the end prompt: from then on
a failed attempt is not retried (the exporter's retry wait is cut short by shutting it down).
``PacedBatchProcessor`` feeds it: a ``BatchSpanProcessor`` whose feeding thread waits for room
in its queue rather than dropping spans, while the collector takes them.
Imports OpenTelemetry's SDK (imported only for ``--otlp``) and ``tracer.otel.config``; never a
shim or the UI.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any

from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from tracer.otel.config import shown_endpoint

__all__ = [
    "Delivery",
    "PacedBatchProcessor",
    "Reason",
    "EXPORTER_LOGGER",
    "UNREACHABLE",
    "ENCODING",
    "REJECTED",
    "TIMEOUT",
    "TIMED_OUT",
    "queue_size",
]

EXPORTER_LOGGER = "opentelemetry.exporter.otlp"
"""Parent of the HTTP and gRPC exporters' loggers (their retry warnings and failures)."""


UNREACHABLE = "unreachable"
"""A ``Reason`` kind: no connection (refused, no route, no such host...)."""
REJECTED = "rejected"
"""A ``Reason`` kind: the collector answered, refusing the spans (HTTP 503, gRPC ...)."""
TIMEOUT = "timeout"
"""A ``Reason`` kind: no answer before the exporter's timeout."""
ENCODING = "encoding"
"""A ``Reason`` kind: the spans could not be encoded (a value OTLP cannot carry); nothing
was sent, and the collector is not to blame."""
TIMED_OUT = "timed out"
"""The text of a timeout the exporter names no further (HTTP: its log says "timeout")."""


@dataclass(frozen=True, slots=True)
class Reason:
    """Why the first failed attempt failed, in the words of the one line that reports it."""

    text: str
    """``connection refused``, ``HTTP 503 Service Unavailable``, ``gRPC DEADLINE_EXCEEDED``..."""
    kind: str
    """``UNREACHABLE``, ``REJECTED`` or ``TIMEOUT``."""
    waited: float | None = None
    """For a timeout: how long the failed export waited, in seconds (measured)."""

    def within(self) -> str:
        """A timeout in words: ``within 3.0 s``, with the gRPC status when there is one."""
        words = "in time" if self.waited is None else f"within {self.waited:.1f} s"
        return words if self.text == TIMED_OUT else f"{words} ({self.text})"


class _Keep(logging.Handler):
    """Keeps the exporters' records (for the reason) and tells ``Delivery`` an attempt failed."""

    def __init__(self, delivery: Delivery) -> None:
        super().__init__(logging.WARNING)
        self.delivery = delivery

    def emit(self, record: logging.LogRecord) -> None:
        self.delivery._failed_attempt(record)


_PHRASES = {status.phrase: status for status in HTTPStatus}
"""HTTP reason phrase -> status: a retry warning names the collector's answer by its phrase."""

_RETRY_PROMISE = re.compile(r",?\s*retrying in [0-9.]+\s*s\b\.?", re.IGNORECASE)
"""What a retry warning promises: untrue once the process stops waiting for the retry."""


def _http(status: HTTPStatus) -> str:
    return f"HTTP {status.value} {status.phrase}"


def _reason(record: logging.LogRecord) -> Reason | None:
    """A short reason from an exporter's record, or None when it names none.

    The collector's answer is named by its status (``HTTP 503 Service Unavailable``), never by
    the record's own text, which promises a retry that ``closing()`` may cut short. The HTTP
    exporter's "due to timeout, max retries or shutdown" names none: it ends a silent
    collector's only attempt as it ends a refused one whose retry would not fit in the
    timeout (``Delivery.export`` tells them apart by how long the export took).
    """
    for arg in record.args if isinstance(record.args, tuple) else ():
        if isinstance(arg, BaseException):
            if "ConnectTimeout" in type(arg).__name__:
                return Reason("connection timed out", UNREACHABLE)
            if isinstance(arg, TimeoutError) or "Timeout" in type(arg).__name__:
                return Reason(TIMED_OUT, TIMEOUT)
            found = _os_error(arg)
            if found is not None:
                return Reason((found.strerror or type(found).__name__).lower(), UNREACHABLE)
            if type(arg) in (ValueError, TypeError, OverflowError):  # protobuf's, encoding
                return Reason(f"{type(arg).__name__}: {arg}"[:120], ENCODING)
            return Reason(type(arg).__name__, UNREACHABLE)
        name = getattr(arg, "name", None)
        if name == "UNAVAILABLE":  # a gRPC status code: no connection
            return Reason(name, UNREACHABLE)
        if name == "DEADLINE_EXCEEDED":
            return Reason(f"gRPC {name}", TIMEOUT)
        if isinstance(name, str) and type(arg).__name__ == "StatusCode":  # another gRPC one
            return Reason(f"gRPC {name}", REJECTED)
        if isinstance(arg, int) and not isinstance(arg, bool) and 100 <= arg < 600:
            try:  # an HTTP status code
                return Reason(_http(HTTPStatus(arg)), REJECTED)
            except ValueError:
                return Reason(f"HTTP {arg}", REJECTED)
        if isinstance(arg, str) and arg in _PHRASES:  # a retry warning's reason phrase
            return Reason(_http(_PHRASES[arg]), REJECTED)
    text = _RETRY_PROMISE.sub("", record.getMessage().splitlines()[0]).strip()
    if "shutdown" in text.lower():  # "already shutdown", "timeout, max retries or shutdown"
        return None
    return Reason(text[:120], REJECTED)


def _unnamed(took: float, timeout: float) -> Reason:
    """Why an export failed when no record said: one that lasted its whole timeout waited in
    vain for an answer; a quicker one failed at once, and no retry fitted in the timeout."""
    if took >= 0.9 * timeout:
        return Reason(TIMED_OUT, TIMEOUT, waited=took)
    return Reason(
        f"the first attempt failed and a {timeout:g} s timeout left no time to retry", UNREACHABLE
    )


def _os_error(error: BaseException, depth: int = 0) -> OSError | None:
    """The socket error under a requests/urllib3 error (connection refused, no route...)."""
    if depth > 6:
        return None
    if isinstance(error, OSError) and error.strerror:
        return error
    inner = [getattr(error, "reason", None), error.__cause__, error.__context__, *error.args]
    for item in inner:
        if isinstance(item, BaseException):
            found = _os_error(item, depth + 1)
            if found is not None:
                return found
    return None


class Delivery(SpanExporter):
    """An exporter wrapper counting what reached the collector, for one command-line run."""

    def __init__(self, exporter: Any, endpoint: str, *, timeout: float) -> None:
        self.exporter = exporter
        """The OTLP exporter doing the sending."""
        self.endpoint = endpoint
        """Where the spans go (named in ``problem()``, without its credentials)."""
        self.timeout = timeout
        """How long one export may take, retries included (``config.export_timeout``)."""
        self.sent = 0
        """Spans the collector took."""
        self.lost = 0
        """Spans the exporter could not deliver."""
        self.dropped = 0
        """Spans that never reached the exporter (``PacedBatchProcessor`` counts them)."""
        self.taken = 0
        """Spans handed to ``export()`` so far: sent, lost or on their way."""
        self.retries = 0
        """Failed attempts the exporter said it would retry."""
        self.changed = threading.Condition()
        """Notified when an export starts or ends, and at each failed attempt."""
        self._reason: Reason | None = None
        self._failing = False
        self._closing = False
        self._shut = False
        self._handler = _Keep(self)
        self._saved: tuple[bool, int] | None = None

    def quiet(self) -> None:
        """Keep the exporters' log records out of stderr (``problem()`` speaks for them)."""
        logger = logging.getLogger(EXPORTER_LOGGER)
        if self._saved is None:
            self._saved = (logger.propagate, logger.level)
            logger.addHandler(self._handler)
            logger.propagate = False

    def loud(self) -> None:
        """Give the exporters' log records back to the application's logging."""
        logger = logging.getLogger(EXPORTER_LOGGER)
        if self._saved is not None:
            logger.removeHandler(self._handler)
            logger.propagate, _ = self._saved
            self._saved = None

    def closing(self) -> None:
        """The run is over: a failed attempt from now on is final, not retried after a wait.

        When the collector has failed already, the exporter is shut at once: a retry sleeping
        in its backoff gives up, and the last batch is counted as lost, not tried again.
        """
        self._closing = True
        if self._reason is not None:
            self.shutdown()

    def _failed_attempt(self, record: logging.LogRecord) -> None:
        with self.changed:
            self._failing = True  # until an export succeeds: no waiting on a retry's backoff
            if _RETRY_PROMISE.search(record.getMessage()):
                self.retries += 1
            if self._reason is None and record.levelno >= logging.WARNING:
                self._reason = _reason(record)
            self.changed.notify_all()
        if self._closing:
            self.shutdown()  # cuts the exporter's retry wait short

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        """Send one batch through the exporter; count it as sent or lost."""
        with self.changed:
            self.taken += len(spans)
            shut = self._shut  # then a failure is the shutdown's, not the collector's
            self.changed.notify_all()
        began = time.monotonic()
        try:
            result = self.exporter.export(spans)
        except Exception as exc:  # an exporter bug must not end the run's export thread
            self._reason = self._reason or Reason(type(exc).__name__, REJECTED)
            result = SpanExportResult.FAILURE
        took = time.monotonic() - began
        with self.changed:
            self._failing = result != SpanExportResult.SUCCESS
            if self._failing:
                self.lost += len(spans)
                if self._reason is None and not shut:
                    self._reason = _unnamed(took, self.timeout)
                elif self._reason is not None and self._reason.kind == TIMEOUT:
                    if self._reason.waited is None:
                        self._reason = replace(self._reason, waited=took)
            else:
                self.sent += len(spans)
            self.changed.notify_all()
        return result

    def shutdown(self) -> None:
        """Shut the exporter down, once (a retry waiting on it gives up)."""
        with self.changed:
            if self._shut:
                return
            self._shut = True
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """The exporter buffers nothing of its own."""
        return True

    @property
    def failing(self) -> bool:
        """Whether the collector failed an attempt since the last export that succeeded (it is
        down, refusing the spans or not answering)."""
        return self._failing

    @property
    def reason(self) -> Reason | None:
        """Why the first failed attempt failed; None until one failed."""
        return self._reason

    def problem(self) -> str | None:
        """One line about the spans that did not arrive, or None when all did."""
        missing = self.lost + self.dropped
        if not missing:
            return None
        return (
            f"trace: the OTLP collector at {shown_endpoint(self.endpoint)} {_what(self._reason)}; "
            f"{missing} spans were not exported (the run and its recording are complete)."
        )


def _what(reason: Reason | None) -> str:
    """What the collector did, as ``problem()`` says it."""
    if reason is None:  # spans dropped while no export failed: the exporter fell behind
        return "did not take the spans as fast as the run made them"
    if reason.kind == TIMEOUT:
        return f"did not answer {reason.within()}"
    if reason.kind == UNREACHABLE:
        return f"could not be reached ({reason.text})"
    if reason.kind == ENCODING:
        return f"was not sent spans that could not be encoded as OTLP ({reason.text})"
    return f"did not accept the spans ({reason.text})"


def queue_size(environ: Mapping[str, str] | None = None) -> int:
    """The batch queue's size: ``OTEL_BSP_MAX_QUEUE_SIZE`` when it is a positive number, else the
    SDK's default, 2048 spans."""
    env = os.environ if environ is None else environ
    try:
        size = int(env.get("OTEL_BSP_MAX_QUEUE_SIZE", "") or 2048)
    except ValueError:
        return 2048
    return size if size > 0 else 2048


class PacedBatchProcessor(SpanProcessor):
    """A ``BatchSpanProcessor`` into a ``Delivery`` whose feeding thread waits for room.

    A recorder's drain hands over the spans of every request it collected at once: on a busy
    run more than the batch queue holds, and the SDK would drop the overflow with one log line.
    Here the thread that hands the spans over (the recorder's, never a request's) waits until
    the exporter has taken a batch, while the collector takes the spans: each wait at most as
    long as a healthy exporter needs to make room (an export's timeout, ``Delivery.timeout``,
    plus the batch worker's wake-up interval). Once an export has failed, a span that finds the queue full is
    dropped at once and counted (``Delivery.dropped``), so a dead collector does not slow the
    run; so are spans still queued when the processor shuts down. The queue itself stays
    bounded (``queue_size()`` spans).
    """

    WAKE_UP_S = 0.5
    """The batch worker exports what is queued at least this often (the SDK's default is 5 s):
    a wait for room never hangs on a single wake-up signal, and spans arrive soon."""

    def __init__(self, delivery: Delivery, *, max_queue_size: int | None = None) -> None:
        self.delivery = delivery
        """Where the batches go; its counts tell how full the queue is."""
        self.size = max_queue_size or queue_size()
        """How many spans the queue holds."""
        self.handed = 0
        """Spans handed to the batch processor."""
        self._patience = delivery.timeout + self.WAKE_UP_S
        self._batch = BatchSpanProcessor(
            delivery, max_queue_size=self.size, schedule_delay_millis=self.WAKE_UP_S * 1000
        )
        self._stalled_at = -1  # delivery.taken when a wait last ran out of patience
        self._shut = False

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        """Nothing to do when a span starts."""

    def on_end(self, span: Any) -> None:
        """Queue a finished span, waiting for room while the collector takes what is sent."""
        if not span.context.trace_flags.sampled:
            return
        if self._shut or not (self._has_room() or self._wait_for_room()):
            self.delivery.dropped += 1
            return
        self.handed += 1
        self._batch.on_end(span)

    def _has_room(self) -> bool:
        # The batch processor takes spans out of its queue just before it exports them.
        return self.handed - self.delivery.taken < self.size

    def _wait_for_room(self) -> bool:
        delivery = self.delivery
        with delivery.changed:
            if delivery.failing or delivery.taken == self._stalled_at:
                return self._has_room()
            ready = delivery.changed.wait_for(
                lambda: self._has_room() or delivery.failing, timeout=self._patience
            )
            if not ready:  # an export held longer than its timeout: wait again after progress
                self._stalled_at = delivery.taken
            return self._has_room()

    def shutdown(self) -> None:
        """Send what is queued (the batch processor's shutdown); count what stays behind."""
        self._shut = True
        self._batch.shutdown()
        self.delivery.dropped += max(0, self.handed - self.delivery.taken)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export what is queued now."""
        return bool(self._batch.force_flush(timeout_millis))
