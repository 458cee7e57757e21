"""The test collector says nothing when its sender left before the answer: a silent receiver
answering at its stop wrote a BrokenPipeError traceback on stderr, into the output another
test in the same process was reading (a ``trace check`` error line there got it in front)."""

from __future__ import annotations

import gzip
import socket
import time

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tracer.otel.testing import OtlpHttpReceiver

pytestmark = pytest.mark.timeout(30)


def test_a_sender_gone_before_the_answer_leaves_no_traceback(
    capfd: pytest.CaptureFixture[str],
) -> None:
    receiver = OtlpHttpReceiver(silent=True).start()
    body = gzip.compress(ExportTraceServiceRequest().SerializeToString())
    head = (
        f"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n"
        f"Content-Encoding: gzip\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", receiver.port)) as sender:
        sender.sendall(head + body)
        deadline = time.monotonic() + 10
        while not receiver.targets and time.monotonic() < deadline:
            time.sleep(0.01)
        # Gone at once, unread bytes left: the receiver's answer meets a reset connection.
        sender.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    receiver.stop()
    time.sleep(0.2)  # the handler thread writes its answer after the stop released it
    assert receiver.targets == ["/v1/traces"]
    assert capfd.readouterr().err == ""
