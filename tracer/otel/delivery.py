"""``Delivery``: a span exporter wrapper for ``trace run --otlp`` that reports a failing collector.

The OTLP exporters log every failed attempt (several multi-line warnings per batch) and retry
with backoff until their timeout, which also holds the process at exit. A command-line run
wants one line instead: ``Delivery`` wraps the exporter, counts the spans the collector did not
take, keeps the exporters' log records to itself (``quiet()``) and ``problem()`` words them as
one line naming the collector and the reason. ``closing()`` makes the end prompt: from then on
a failed attempt is not retried (the exporter's retry wait is cut short by shutting it down).
Imports OpenTelemetry's SDK (imported only for ``--otlp``); never a shim or the UI.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

__all__ = ["Delivery", "EXPORTER_LOGGER"]

EXPORTER_LOGGER = "opentelemetry.exporter.otlp"
"""Parent of the HTTP and gRPC exporters' loggers (their retry warnings and failures)."""


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


def _reason(record: logging.LogRecord) -> tuple[str, bool]:
    """A short reason from an exporter's record, and whether it means "not reachable".

    The collector's answer is named by its status (``HTTP 503 Service Unavailable``), never by
    the record's own text, which promises a retry that ``closing()`` may cut short.
    """
    for arg in record.args if isinstance(record.args, tuple) else ():
        if isinstance(arg, BaseException):
            found = _os_error(arg)
            if found is not None:
                return (found.strerror or type(found).__name__).lower(), True
            return type(arg).__name__, True
        name = getattr(arg, "name", None)
        if name in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):  # a gRPC status code
            return name, True
        if isinstance(name, str) and type(arg).__name__ == "StatusCode":  # another gRPC one
            return f"gRPC {name}", False
        if isinstance(arg, int) and not isinstance(arg, bool) and 100 <= arg < 600:
            try:  # an HTTP status code
                return _http(HTTPStatus(arg)), False
            except ValueError:
                return f"HTTP {arg}", False
        if isinstance(arg, str) and arg in _PHRASES:  # a retry warning's reason phrase
            return _http(_PHRASES[arg]), False
    text = _RETRY_PROMISE.sub("", record.getMessage().splitlines()[0]).strip()
    return text[:120], False


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

    def __init__(self, exporter: Any, endpoint: str) -> None:
        self.exporter = exporter
        """The OTLP exporter doing the sending."""
        self.endpoint = endpoint
        """Where the spans go (named in ``problem()``)."""
        self.sent = 0
        """Spans the collector took."""
        self.lost = 0
        """Spans that could not be delivered."""
        self._reason: tuple[str, bool] | None = None
        self._closing = False
        self._shut = False
        self._lock = threading.Lock()
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
        if self._reason is None and record.levelno >= logging.WARNING:
            reason = _reason(record)
            if "shutdown" not in reason[0].lower():
                self._reason = reason
        if self._closing:
            self.shutdown()  # cuts the exporter's retry wait short

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        """Send one batch through the exporter; count it as sent or lost."""
        try:
            result = self.exporter.export(spans)
        except Exception as exc:  # an exporter bug must not end the run's export thread
            self._reason = self._reason or (type(exc).__name__, False)
            result = SpanExportResult.FAILURE
        with self._lock:
            if result == SpanExportResult.SUCCESS:
                self.sent += len(spans)
            else:
                self.lost += len(spans)
        return result

    def shutdown(self) -> None:
        """Shut the exporter down, once (a retry waiting on it gives up)."""
        with self._lock:
            if self._shut:
                return
            self._shut = True
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """The exporter buffers nothing of its own."""
        return True

    @property
    def reason(self) -> tuple[str, bool] | None:
        """Why the first failed attempt failed (``HTTP 503 Service Unavailable``, ``connection
        refused``...) and whether that means the collector was not reached; None until one
        failed."""
        return self._reason

    def problem(self) -> str | None:
        """One line about the spans that did not arrive, or None when all did."""
        if not self.lost:
            return None
        reason, unreachable = self._reason or ("no reason given", True)
        what = "could not be reached" if unreachable else "did not accept the spans"
        return (
            f"trace: the OTLP collector at {self.endpoint} {what} ({reason}); "
            f"{self.lost} spans were not exported (the run and its recording are complete)."
        )
