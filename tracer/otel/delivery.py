"""``Delivery``: a span exporter wrapper for ``trace run --otlp`` that reports a failing collector.

The OTLP exporters log every failed attempt (several multi-line warnings per batch) and retry
with backoff until their timeout, which also holds the process at exit. A command-line run
wants one line instead: ``Delivery`` wraps the exporter, counts the spans the collector did not
take, keeps the exporters' log records to itself (``quiet()``) and ``problem()`` words them as
one line naming the collector and the reason. What the collector answered (an HTTP status and
its ``Retry-After``, a gRPC status and its details, the spans a success says it rejected) is
read by ``tracer.otel.answers``. ``closing()`` bounds the end: every span still queued is sent
while the collector takes them, and once an export fails after the run, the rest is counted
as not exported without being tried (so a failing collector holds the exit one export's
timeout at most). ``stop()`` (Ctrl-C at the exit) gives up at once. ``PacedBatchProcessor``
feeds it: a ``BatchSpanProcessor`` whose feeding thread waits for room
in its queue rather than dropping spans, while the collector takes them.
Imports OpenTelemetry's SDK (imported only for ``--otlp``) and ``tracer.otel.config``; never a
shim or the UI.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any

from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from tracer.otel.answers import watch
from tracer.otel.config import export_batch_size, queue_size, shown_endpoint

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
        self.answers = watch(exporter)
        """What the collector answered (statuses, ``Retry-After``, rejected spans)."""
        self._reason: Reason | None = None
        self._named: Reason | None = None  # what the current export's log records said
        self._last: Reason | None = None  # why the last export failed (None: it succeeded)
        self._exporting = False
        self._in_flight = 0  # spans of the export under way
        self._exporter_thread: int | None = None  # the thread of the export under way
        self._settled = False  # counts final: later refusals and the export under way are in
        self._written_off = False  # the export under way was counted as lost already
        self._failing = False
        self._closing = False
        self._gave_up = False  # an export failed after the run: the rest is not tried
        self._stopped = False
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
        """The run is over: what is still queued is sent while the collector takes it.

        An export may still retry within its timeout (a collector that asked for a short wait,
        or failed once and recovered, gets the last spans); the first export that fails from
        now on is the last one tried, and the spans after it are counted as not exported.
        """
        with self.changed:
            self._closing = True
            # A collector failing now that did not answer (unreachable, silent) gets no further
            # attempt, and an export under way is not waited for; one that answered (a 503
            # asking for a retry) keeps the export under way, or gets one more, within its
            # timeout.
            last = self._named if self._exporting else self._last
            if self._failing and (last is None or last.kind != REJECTED):
                self._gave_up = True
            self.changed.notify_all()

    def stop(self) -> None:
        """Give up now (Ctrl-C while the last spans are sent): no export is tried any more,
        and one under way stops waiting for a retry."""
        with self.changed:
            self._stopped = True
            self.changed.notify_all()
        self.shutdown()

    @property
    def stopped(self) -> bool:
        """Whether ``stop()`` was called."""
        return self._stopped

    def settle(self, queued: int) -> None:
        """Make the counts final now that delivery is given up: ``queued`` spans still in the
        batch queue and those of an export under way count as not exported (they are not
        counted again when the batch worker refuses them or the export ends)."""
        with self.changed:
            self.dropped += queued
            if self._exporting and not self._written_off:
                self.lost += self._in_flight
                self._written_off = True
                if self._reason is None:  # what its failed attempts said so far
                    self._reason = self._named
            self._settled = True

    @property
    def exporting(self) -> bool:
        """Whether an export is under way."""
        return self._exporting

    @property
    def given_up(self) -> bool:
        """Whether no export is tried any more (``stop()``, or a failure after the run)."""
        return self._stopped or self._gave_up

    def _failed_attempt(self, record: logging.LogRecord) -> None:
        if record.thread != self._exporter_thread:
            return  # another exporter's (one given up and still under way, in another run)
        with self.changed:
            self._failing = True  # until an export succeeds: no waiting on a retry's backoff
            if _RETRY_PROMISE.search(record.getMessage()):
                self.retries += 1
            if self._named is None and record.levelno >= logging.WARNING:
                self._named = _reason(record)
            self.changed.notify_all()

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        """Send one batch through the exporter; count it as sent or lost (lost at once, not
        tried, after ``stop()`` or once an export failed after the run)."""
        with self.changed:
            self.taken += len(spans)
            given_up = self._stopped or self._gave_up
            if given_up and not self._settled:
                self.lost += len(spans)
            shut = self._shut  # then a failure is the shutdown's, not the collector's
            self._named = None
            self._exporting = not given_up
            self._exporter_thread = threading.get_ident()
            self._in_flight = len(spans)
            rejected = self.answers.rejected
            self.changed.notify_all()
        if given_up:
            return SpanExportResult.FAILURE
        began = time.monotonic()
        try:
            result = self.exporter.export(spans)
        except Exception as exc:  # an exporter bug must not end the run's export thread
            self._named = self._named or Reason(type(exc).__name__, REJECTED)
            result = SpanExportResult.FAILURE
        took = time.monotonic() - began
        with self.changed:
            self._exporting = False
            self._failing = result != SpanExportResult.SUCCESS
            self._last = None
            if self._written_off:  # counted as lost when it was given up
                self._written_off = False
            elif self._failing:
                self.lost += len(spans)
                reason = self._last = self._why(took, shut)
                if self._reason is None:
                    self._reason = reason
                if self._closing:
                    self._gave_up = True
            else:
                # A partial success: the spans the collector said it rejected were not taken.
                self.sent += len(spans) - min(len(spans), self.answers.rejected - rejected)
            self.changed.notify_all()
        return result

    def _why(self, took: float, shut: bool) -> Reason | None:
        """Why the export that just failed failed: what the collector answered when it
        answered, else what the exporter's records said, else what the time it took says."""
        answer = self.answers.take_last()
        if answer is not None and answer.answered and not shut:
            return Reason(answer.words(self.timeout), REJECTED)
        reason = self._named
        if reason is None:
            return None if shut else _unnamed(took, self.timeout)
        if reason.kind == TIMEOUT and reason.waited is None:
            return replace(reason, waited=took)
        return reason

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
        down, refusing the spans or not answering), or delivery was given up."""
        return self._failing or self._stopped or self._gave_up

    @property
    def pending(self) -> int:
        """Spans handed to ``export()`` and not yet sent or lost (an export under way)."""
        return max(0, self.taken - self.sent - self.lost - self.answers.rejected)

    @property
    def reason(self) -> Reason | None:
        """Why the first failed attempt failed; None until one failed."""
        return self._reason

    def problem(self, again: str | None = None) -> str | None:
        """One line about the spans that did not arrive (those the collector rejected too), or
        the warning a collector gave with spans it took all of; None when all arrived unremarked.

        ``again``: the command that sends the run's spans again (named at the end of the line).
        """
        missing = self.lost + self.dropped
        rejection = self.answers.rejection()
        where = f"trace: the OTLP collector at {shown_endpoint(self.endpoint)}"
        if not missing and rejection is None:
            warning = self.answers.warning  # a partial success that rejected nothing
            return (
                None if warning is None else f"{where} took every span, with a warning: {warning}"
            )
        if missing:
            what = "was not sent the rest: delivery was stopped (Ctrl-C)"
            if not self._stopped or self._reason is not None:
                what = _what(self._reason)
            line = (
                f"{where} {what}; {missing} spans were not exported (the run and its "
                f"recording are complete). {self.sent} spans were sent"
            )
            line += f"; {rejection}." if rejection else "."
        else:
            line = f"{where} took the spans, but {rejection}."
        if again:
            line += f" To send all the run's spans again: {again}"
        return line


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

        self.batch_size = export_batch_size(queue=self.size)
        """The most spans one export sends (``OTEL_BSP_MAX_EXPORT_BATCH_SIZE``, 512 if unset)."""

        self._patience = delivery.timeout + self.WAKE_UP_S
        # Every size is given, none left for the processor to read: it would log a traceback
        # for a value that is no number, and raise for a batch larger than the queue
        # (``export_batch_size`` says so in one line). Its export timeout is unused by the SDK.
        self._batch = BatchSpanProcessor(
            delivery,
            max_queue_size=self.size,
            schedule_delay_millis=self.WAKE_UP_S * 1000,
            max_export_batch_size=self.batch_size,
            export_timeout_millis=delivery.timeout * 1000,
        )
        self._stalled_at = -1  # delivery.taken when a wait last ran out of patience
        self._shut = False

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        """Nothing to do when a span starts."""

    def on_end(self, span: Any) -> None:
        """Queue a finished span, waiting for room while the collector takes what is sent."""
        if not span.context.trace_flags.sampled:
            return
        if self._shut or self.delivery.stopped or not (self._has_room() or self._wait_for_room()):
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
        """Send what is queued (the batch processor's shutdown); count what stays behind.

        Once delivery is given up (``Delivery.given_up``), an export still under way is not
        waited for: its spans count as not exported, and the batch worker (a daemon thread)
        refuses the rest at once.
        """
        self._shut = True
        delivery = self.delivery
        finisher = threading.Thread(
            target=self._batch.shutdown, name="otlp-last-spans", daemon=True
        )
        finisher.start()
        while finisher.is_alive() and not delivery.given_up:
            finisher.join(0.05)
        with delivery.changed:
            queued = max(0, self.handed - delivery.taken)
            if finisher.is_alive():
                delivery.settle(queued)
            else:
                delivery.dropped += queued

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export what is queued now."""
        return bool(self._batch.force_flush(timeout_millis))
