"""Test helpers: in-process OTLP receivers and an in-memory tracer provider.

``OtlpHttpReceiver`` is a tiny collector on 127.0.0.1 that accepts ``POST /v1/traces`` (with
any query; OTLP http/protobuf, optionally gzip) and decodes each ``ExportTraceServiceRequest``
(or, given ``status``, decodes it and refuses it with that HTTP status, as a collector that is
overloaded or rejects the data does; or, ``silent``, never answers until it stops, as a hung
one does); ``OtlpGrpcReceiver`` does the same over gRPC. ``memory_provider()`` returns an SDK
provider exporting synchronously to an ``InMemorySpanExporter``. They need
``opentelemetry-proto`` (and ``grpcio`` for gRPC), which the ``test`` extra installs. Imports
nothing else of ours.
"""

from __future__ import annotations

import gzip
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


class QuietHTTPServer(ThreadingHTTPServer):
    """A receiver whose sender left before its answer (a timeout, a stopped exporter, what the
    tests of a slow or silent collector set up) says nothing: ``socketserver`` printed the
    broken pipe's traceback on stderr, into whatever test's output was being read then."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


__all__ = [
    "OtlpHttpReceiver",
    "OtlpGrpcReceiver",
    "QuietHTTPServer",
    "memory_provider",
    "received_spans",
]


def memory_provider() -> tuple[Any, Any]:
    """``(provider, exporter)``: spans end up in ``exporter.get_finished_spans()`` at once."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def received_spans(requests: list[Any]) -> list[tuple[Any, Any]]:
    """Every ``(resource_spans, span)`` pair in decoded export requests, in arrival order."""
    pairs = []
    for request in requests:
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    pairs.append((resource_spans, span))
    return pairs


class _Receiver:
    """What both receivers share: decoded requests and a bounded wait for spans."""

    def __init__(self) -> None:
        self.requests: list[Any] = []
        self.headers: list[dict[str, str]] = []
        self._changed = threading.Condition()
        self._released = threading.Event()  # a silent receiver answers once it is stopping

    def _store(self, request: Any, headers: dict[str, str]) -> None:
        with self._changed:
            self.requests.append(request)
            self.headers.append(headers)
            self._changed.notify_all()

    def spans(self) -> list[Any]:
        """Every span received so far."""
        with self._changed:
            return [span for _, span in received_spans(self.requests)]

    def wait_for(self, predicate: Callable[[list[Any]], bool], timeout: float = 10.0) -> list[Any]:
        """Block until ``predicate(spans)`` holds (or ``timeout`` passes); return the spans."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                spans = [span for _, span in received_spans(self.requests)]
                remaining = deadline - time.monotonic()
                if predicate(spans) or remaining <= 0:
                    return spans
                self._changed.wait(remaining)


class OtlpHttpReceiver(_Receiver):
    """An OTLP/HTTP collector stand-in on ``127.0.0.1:<free port>``; use as a context manager.

    ``status``: the HTTP status every export gets (200 takes the spans; 400 rejects them;
    503 asks the exporter to retry, after ``retry_after`` seconds when that is given).
    ``silent``: each export is read, kept and left unanswered until ``stop()``. Received
    requests are kept whatever the answer: ``requests`` says what reached it, ``targets`` the
    request target of every POST (path and query), a 404's too.
    """

    def __init__(
        self, status: int = 200, *, retry_after: float | None = None, silent: bool = False
    ) -> None:
        super().__init__()
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
            ExportTraceServiceResponse,
        )

        self.targets: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                with receiver._changed:
                    receiver.targets.append(self.path)
                if urlsplit(self.path).path != "/v1/traces":  # a query is the sender's own
                    self.send_response(404)
                    self.end_headers()
                    return
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                receiver._store(request, {k.lower(): v for k, v in self.headers.items()})
                if silent:
                    receiver._released.wait()
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(status)
                if retry_after is not None:
                    self.send_header("Retry-After", f"{retry_after:g}")
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> OtlpHttpReceiver:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> OtlpHttpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class OtlpGrpcReceiver(_Receiver):
    """An OTLP/gRPC collector stand-in on ``127.0.0.1:<free port>`` (needs grpcio).

    ``silent``: each export is kept and left unanswered until ``stop()``.
    """

    def __init__(self, *, silent: bool = False) -> None:
        super().__init__()
        from concurrent import futures

        import grpc
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceResponse,
        )

        receiver = self

        class Servicer(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC's name
                metadata = {k.lower(): v for k, v in context.invocation_metadata()}
                receiver._store(request, metadata)
                if silent:
                    receiver._released.wait()
                return ExportTraceServiceResponse()

        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Servicer(), self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def start(self) -> OtlpGrpcReceiver:
        """Serve on gRPC's own threads."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop at once."""
        self._released.set()
        self._server.stop(None)

    def __enter__(self) -> OtlpGrpcReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
