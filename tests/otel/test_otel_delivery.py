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

from tracer.otel.config import make_exporter
from tracer.otel.delivery import EXPORTER_LOGGER, Delivery
from tracer.otel.testing import OtlpHttpReceiver

pytestmark = pytest.mark.timeout(60)


def _dead_endpoint() -> str:
    """An http URL on 127.0.0.1 where nothing listens (the port was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


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
    delivery = Delivery(make_exporter(endpoint, timeout=2.0, environ={}), endpoint)
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
    delivery = Delivery(make_exporter(not_found, timeout=2.0, environ={}), not_found)
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
        delivery = Delivery(make_exporter(receiver.endpoint, timeout=2.0, environ={}), "there")
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
        delivery = Delivery(make_exporter(receiver.endpoint, environ={}), receiver.endpoint)
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
