"""``Delivery``: spans the collector did not take are counted and reported in one line."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from tracer.otel.config import make_exporter, make_provider
from tracer.otel.delivery import (
    EXPORTER_LOGGER,
    TIMEOUT,
    Delivery,
    PacedBatchProcessor,
)
from tracer.otel.testing import OtlpHttpReceiver

pytestmark = pytest.mark.timeout(60)


def _dead_endpoint() -> str:
    """An http URL on 127.0.0.1 where nothing listens (the port was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _delivery(endpoint: str, timeout: float = 2.0, where: str | None = None) -> Delivery:
    """A ``Delivery`` to ``endpoint`` through an exporter whose exports take ``timeout`` s at
    most, retries included; ``where`` names the collector in its line (default: endpoint)."""
    exporter = make_exporter(endpoint, timeout=timeout, environ={})
    return Delivery(exporter, where or endpoint, timeout=timeout)


def _send_two_spans(delivery: Delivery) -> None:
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(delivery))
    tracer = provider.get_tracer("test")
    for name in ("one", "two"):
        with tracer.start_as_current_span(name):
            pass
    provider.shutdown()


@pytest.fixture
def not_found() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 that answers every POST with 404."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server hook name
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_unreachable_collector_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing listening: both spans lost, the SDK's retry warnings kept quiet, and problem()
    says the collector at that URL could not be reached (connection refused)."""
    endpoint = _dead_endpoint()
    delivery = _delivery(endpoint)
    delivery.quiet()
    delivery.closing()  # at the end of a run: a failed attempt is final
    try:
        _send_two_spans(delivery)
    finally:
        delivery.loud()
    assert (delivery.sent, delivery.lost) == (0, 2)
    problem = delivery.problem()
    assert problem is not None and "\n" not in problem
    assert f"collector at {endpoint} could not be reached (connection refused)" in problem
    assert "2 spans were not exported" in problem
    assert "Transient error" not in capsys.readouterr().err
    assert not [r for r in caplog.records if r.name.startswith(EXPORTER_LOGGER)]


def test_a_collector_answering_an_error_did_not_accept_the_spans(not_found: str) -> None:
    """A collector that answers 404 was reached: problem() says it did not accept the spans."""
    delivery = _delivery(not_found)
    delivery.quiet()
    try:
        _send_two_spans(delivery)
    finally:
        delivery.loud()
    assert delivery.lost == 2
    assert f"collector at {not_found} did not accept the spans (HTTP 404 Not Found)" in str(
        delivery.problem()
    )


def test_a_collector_asking_for_a_retry_that_never_comes_is_named_by_its_status() -> None:
    """503 at the end of a run: the exporter's warning promises "retrying in 0.8s", but the
    run is over and no retry follows; problem() names the answer (HTTP 503 Service
    Unavailable) and promises nothing."""
    with OtlpHttpReceiver(503) as receiver:
        delivery = _delivery(receiver.endpoint, where="there")
        delivery.quiet()
        delivery.closing()
        try:
            _send_two_spans(delivery)
        finally:
            delivery.loud()
        assert receiver.requests  # it was listening: it refused
    assert delivery.lost == 2
    problem = str(delivery.problem())
    assert "collector at there did not accept the spans (HTTP 503 Service Unavailable); " in problem
    assert "retrying" not in problem and "Transient" not in problem


def test_a_working_collector_gets_every_span_and_no_problem() -> None:
    """All spans delivered: counted as sent, problem() is None, the logger is given back."""
    logger = logging.getLogger(EXPORTER_LOGGER)
    before = (logger.propagate, list(logger.handlers))
    with OtlpHttpReceiver() as receiver:
        delivery = _delivery(receiver.endpoint, 10.0)
        delivery.quiet()
        _send_two_spans(delivery)
        delivery.loud()
        received = receiver.wait_for(lambda spans: len(spans) >= 2)
    assert {s.name for s in received} == {"one", "two"}
    assert (delivery.sent, delivery.lost, delivery.problem()) == (2, 0, None)
    assert (logger.propagate, list(logger.handlers)) == before


def test_an_explicit_timeout_yields_to_the_environment() -> None:
    """OTEL_EXPORTER_OTLP_TIMEOUT is the user's choice: make_exporter's timeout applies only
    when it is unset."""
    chosen = make_exporter("http://127.0.0.1:4318", timeout=2.0, environ={})
    assert chosen._client._timeout == 2.0
    env = {"OTEL_EXPORTER_OTLP_TIMEOUT": "7"}
    assert make_exporter("http://127.0.0.1:4318", timeout=2.0, environ=env)._client._timeout != 2.0


def _burst(delivery: Delivery, count: int) -> None:
    """``count`` spans ended back to back on this thread, as a recorder drain hands them over,
    into a ``PacedBatchProcessor`` (the SDK's default queue: 2048 spans); then the end of the
    run, as ``trace run`` ends it."""
    provider = make_provider(PacedBatchProcessor(delivery))
    tracer = provider.get_tracer("burst")
    for _ in range(count):
        tracer.start_span("s").end()
    delivery.closing()
    provider.shutdown()


def test_a_burst_larger_than_the_queue_reaches_a_working_collector_whole(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """6000 spans at once, three times the queue: the feeding thread waits for room while the
    collector takes batches, so every span arrives, none is dropped and the SDK says nothing
    about a full queue."""
    with OtlpHttpReceiver() as receiver:
        delivery = _delivery(receiver.endpoint, 10.0)
        _burst(delivery, 6000)
        received = len(receiver.spans())
    assert (received, delivery.sent, delivery.lost, delivery.dropped) == (6000, 6000, 0, 0)
    assert delivery.problem() is None
    assert not [r for r in caplog.records if "Queue full" in r.getMessage()]


def test_without_a_collector_a_full_queue_drops_at_once_and_counts_every_span(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nothing listening: once an attempt failed, spans that find the queue full are dropped
    without waiting (the burst is not held for the exporter's retries) and counted with those
    the exporter lost; the one line says all 6000 were not exported."""
    endpoint = _dead_endpoint()
    delivery = _delivery(endpoint)
    delivery.quiet()
    try:
        _burst(delivery, 6000)
    finally:
        delivery.loud()
    assert delivery.sent == 0 and delivery.dropped > 0
    assert delivery.lost + delivery.dropped == 6000
    assert "could not be reached (connection refused); 6000 spans were not exported" in str(
        delivery.problem()
    )
    assert not [r for r in caplog.records if "Queue full" in r.getMessage()]


def test_a_collector_that_never_answers_timed_out_and_was_reached() -> None:
    """A collector that takes the request and stays silent: one POST, no retry, and the line
    says it did not answer within the exporter's timeout, not that it could not be reached."""
    with OtlpHttpReceiver(silent=True) as receiver:
        delivery = _delivery(receiver.endpoint, 1.0, where="there")
        delivery.quiet()
        delivery.closing()
        try:
            _send_two_spans(delivery)
        finally:
            delivery.loud()
        posts = len(receiver.requests)
    assert (posts, delivery.retries, delivery.lost) == (1, 0, 2)
    assert delivery.reason is not None and delivery.reason.kind == TIMEOUT
    problem = str(delivery.problem())
    assert problem.startswith("trace: the OTLP collector at there did not answer within ")
    assert "s; 2 spans were not exported" in problem and "reached" not in problem
