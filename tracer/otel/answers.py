"""``Answers``: what an OTLP collector answered, read where the exporters receive it.

The upstream exporters keep the collector's answer to themselves: a log line with a status at
best, never the ``Retry-After`` it asked for, never a gRPC status's details, and never the
body of a success, whose ``partial_success`` says how many spans the collector rejected (the
OTLP specification's "Partial Success"). ``watch(exporter)`` puts a thin observer at the
narrowest point each exporter has: the HTTP exporter's transport (``BaseHTTPTransport``:
every response, success or not) and the gRPC exporter's stub (every ``Export`` call's response
message or ``RpcError``). Nothing is changed on the way: the exporter retries, times out and
reports as it did. What a collector wrote is quoted on one line, its control characters
escaped (``said``). Imports OpenTelemetry's protobuf messages and ``tracer.printable``; never
a shim or the UI.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from tracer.printable import printable

__all__ = ["Answer", "Answers", "watch", "said", "CLOSED_TEXT"]

CLOSED_TEXT = "the connection was closed without an answer"
"""How a collector that took the connection and closed it unanswered is worded."""

_NO_CONNECTION = (
    "failed to connect",
    "connection refused",
    "dns resolution failed",
    "name resolution",
    "no route to host",
    "network is unreachable",
)
"""gRPC UNAVAILABLE details that gRPC itself writes when no collector was reached."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One failed attempt, as the collector answered it (or as the connection ended)."""

    status: int | None = None
    """The HTTP status, when the collector answered over HTTP."""
    retry_after: float | None = None
    """Seconds the collector asked to wait (HTTP ``Retry-After``), when it asked."""
    code: str | None = None
    """The gRPC status code's name (``UNAVAILABLE``, ``RESOURCE_EXHAUSTED``...)."""
    details: str | None = None
    """The gRPC status's details (the collector's own words, or gRPC's when none answered)."""
    closed: bool = False
    """The connection was taken and closed (reset) before an answer came."""

    @property
    def answered(self) -> bool:
        """Whether a collector was there to say this (not "no connection")."""
        if self.status is not None or self.closed:
            return True
        if self.code is None:
            return False
        if self.code == "UNAVAILABLE":
            text = (self.details or "").lower()
            return not any(words in text for words in _NO_CONNECTION)
        return self.code != "DEADLINE_EXCEEDED"

    def words(self, timeout: float) -> str:
        """The answer as a failure line names it: ``HTTP 429 Too Many Requests, asking for a
        retry after 30 s, past the 10 s timeout``, ``gRPC UNAVAILABLE: draining``."""
        if self.closed:
            return CLOSED_TEXT
        if self.status is not None:
            try:
                text = f"HTTP {self.status} {HTTPStatus(self.status).phrase}"
            except ValueError:
                text = f"HTTP {self.status}"
            if self.retry_after is not None:
                text += f", asking for a retry after {self.retry_after:g} s"
                if self.retry_after > timeout:
                    text += f", past the {timeout:g} s timeout"
            return text
        text = f"gRPC {self.code}"
        if self.details:
            text += f": {said(self.details, 120)}"
        return text


class Answers:
    """What the collector answered: the last failed attempt, and the spans it rejected."""

    def __init__(self) -> None:
        self.last: Answer | None = None
        """The last failed attempt's answer (None after one that succeeded)."""
        self.rejected = 0
        """Spans the collector said it rejected in successful answers (``partial_success``)."""
        self.message: str | None = None
        """The first non-empty ``partial_success.error_message`` of an answer that rejected
        spans (``said``: on one line, printable)."""
        self.warning: str | None = None
        """The first non-empty ``partial_success.error_message`` of an answer that rejected
        none: the specification's way for a collector to warn of spans it took."""
        self._lock = threading.Lock()

    def failed(self, answer: Answer) -> None:
        """An attempt failed so."""
        with self._lock:
            self.last = answer

    def took(self, response: Any) -> None:
        """An attempt succeeded with ``response`` (an ``ExportTraceServiceResponse``)."""
        with self._lock:
            self.last = None
            if response is None or not response.HasField("partial_success"):
                return
            partial = response.partial_success
            rejected = max(0, int(partial.rejected_spans))
            self.rejected += rejected
            if not partial.error_message:
                return
            if rejected and self.message is None:
                self.message = said(partial.error_message)
            elif not rejected and self.warning is None:
                self.warning = said(partial.error_message)

    def take_last(self) -> Answer | None:
        """The last failed attempt's answer, forgotten once read (each export reads its own)."""
        with self._lock:
            answer, self.last = self.last, None
            return answer

    def rejection(self) -> str | None:
        """``the collector rejected 7 spans: <its message>``, or None when it rejected none."""
        if not self.rejected:
            return None
        words = f": {self.message}" if self.message else ""
        return f"the collector rejected {self.rejected} spans{words}"


def said(text: object, limit: int = 200) -> str:
    """A collector's words as one line of ours may quote them: on one line (line breaks and
    runs of spaces as one space), control characters as visible escapes (``printable``), at
    most ``limit`` characters (``…`` past them)."""
    line = printable(" ".join(str(text).split()))
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _response(body: bytes) -> Any:
    """An ``ExportTraceServiceResponse`` from an HTTP body (None when it is not one)."""
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceResponse,
    )

    response = ExportTraceServiceResponse()
    try:
        response.ParseFromString(body)
    except DecodeError:  # a collector answering 200 with JSON or text: no count to read
        return None
    return response


def _closed(error: BaseException | None, depth: int = 0) -> bool:
    """Whether ``error`` (a requests/urllib3 one, and what is under it) says the peer closed or
    reset a connection it had taken, rather than refusing it."""
    if error is None or depth > 6:
        return False
    if isinstance(error, ConnectionRefusedError):
        return False
    if isinstance(error, (ConnectionResetError, BrokenPipeError)):
        return True  # http.client's RemoteDisconnected is a ConnectionResetError too
    inner = [getattr(error, "reason", None), error.__cause__, error.__context__, *error.args]
    return any(isinstance(item, BaseException) and _closed(item, depth + 1) for item in inner)


class _Transport:
    """The HTTP exporter's transport, observed: every result is told to ``Answers``."""

    def __init__(self, transport: Any, answers: Answers) -> None:
        self._transport = transport
        self._answers = answers

    def request(self, method: str, url: str, **options: Any) -> Any:
        """Send as the transport does; note what came back."""
        result = self._transport.request(method, url, **options)
        status = result.status_code
        try:
            if status is not None and 200 <= status < 300:
                self._answers.took(_response(result.content()))
            elif status is not None:
                self._answers.failed(Answer(status=status, retry_after=_retry_after(result)))
            else:
                self._answers.failed(Answer(closed=_closed(result.error)))
        except Exception:  # noqa: BLE001 - a body we cannot read must not fail the export
            pass
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _retry_after(result: Any) -> float | None:
    try:
        value = result.headers().get("retry-after")
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError, AttributeError):  # an HTTP-date, or no headers
        return None


class _Stub:
    """The gRPC exporter's stub, observed: every ``Export`` response or error is told."""

    def __init__(self, stub: Any, answers: Answers) -> None:
        self._stub = stub
        self._answers = answers

    def Export(self, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 - gRPC's method name
        """Call the collector as the stub does; note its answer."""
        import grpc

        try:
            response = self._stub.Export(*args, **kwargs)
        except grpc.RpcError as error:
            code = getattr(error, "code", None)
            details = getattr(error, "details", None)
            name = getattr(code(), "name", None) if callable(code) else None
            text = details() if callable(details) else None
            self._answers.failed(Answer(code=name, details=text))
            raise
        self._answers.took(response)
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stub, name)


def watch(exporter: Any) -> Answers:
    """``Answers`` fed by ``exporter`` (an OTLP HTTP or gRPC span exporter) from now on; an
    exporter of another shape is left alone (its answers stay unknown)."""
    answers = Answers()
    client: Any = getattr(exporter, "_client", None)
    transport = getattr(client, "_transport", None)
    if transport is not None and callable(getattr(transport, "request", None)):
        client._transport = _Transport(transport, answers)
        return answers
    make_stub = getattr(exporter, "_stub", None)
    channel = getattr(exporter, "_channel", None)
    if callable(make_stub) and channel is not None and client is not None:
        # The exporter makes a new stub when it reconnects (after an UNAVAILABLE): observe
        # every stub it makes, the current one included.
        exporter._stub = lambda channel: _Stub(make_stub(channel), answers)
        exporter._client = exporter._stub(channel)
    return answers
