"""Requests through a reverse proxy: the original client and scheme by the HTTP conventions.

``client.address`` (and ``client.port``) is the original client a proxy passed on
(``Forwarded: for=``, else the first ``X-Forwarded-For`` entry), else the peer;
``network.peer.address`` / ``network.peer.port`` the peer itself; ``url.scheme`` the scheme of
``Forwarded: proto=`` / ``X-Forwarded-Proto`` when there is one. Recordings are checked as a
collector decodes them from the OTLP wire; live spans under the real shims, whose redaction
leaves these headers in (they are not secrets), and drops them when the user redacts them.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from opentelemetry.semconv.attributes import (
    client_attributes,
    network_attributes,
    server_attributes,
    url_attributes,
)
from otel_recordings import LOOP_TID, recorder, start_data

import tracer
from sample_apps.hello import asgi_app, wsgi_app
from tracer import events as K
from tracer.export import ExportOptions
from tracer.export.otlp import export_otlp
from tracer.otel.testing import OtlpHttpReceiver, memory_provider, received_spans
from tracer.recorder import Recorder

CLIENT = client_attributes.CLIENT_ADDRESS
CLIENT_PORT = client_attributes.CLIENT_PORT
PEER = network_attributes.NETWORK_PEER_ADDRESS
PEER_PORT = network_attributes.NETWORK_PEER_PORT
SCHEME = url_attributes.URL_SCHEME
ADDRESS = server_attributes.SERVER_ADDRESS
PORT = server_attributes.SERVER_PORT

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def _http_protobuf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", raising=False)


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def _servers(rec: Recorder) -> dict[int, dict[str, Any]]:
    """The attributes of each SERVER span on the wire of ``--to otlp``, by request id."""
    with OtlpHttpReceiver() as receiver:
        export_otlp(rec.recording(), ExportOptions(otlp_endpoint=receiver.endpoint))
        requests = list(receiver.requests)
    found = {}
    for _, span in received_spans(requests):
        if span.kind == span.SPAN_KIND_SERVER:
            attrs = {kv.key: _value(kv.value) for kv in span.attributes}
            found[attrs["tracer.request_id"]] = attrs
    return found


PEER_ONLY = ("10.0.0.9", 41000)


@pytest.mark.parametrize(
    ("headers", "client", "scheme"),
    [
        ([["host", "shop.example"]], ("10.0.0.9", 41000), "http"),
        (
            [["x-forwarded-for", "203.0.113.7, 10.0.0.2"], ["x-forwarded-proto", "https"]],
            ("203.0.113.7", None),
            "https",
        ),
        ([["x-forwarded-for", "2001:db8::7"]], ("2001:db8::7", None), "http"),
        (
            [
                ["x-forwarded-for", "198.51.100.1"],
                ["x-forwarded-proto", "http"],
                ["forwarded", 'for="[2001:db8:cafe::17]:4711";proto=HTTPS, for=10.0.0.2'],
            ],
            ("2001:db8:cafe::17", 4711),
            "https",
        ),
        (
            [["forwarded", 'for="192.0.2.60:5000";host=shop.example']],
            ("192.0.2.60", 5000),
            "http",
        ),
        ([["forwarded", "for=unknown"]], ("10.0.0.9", 41000), "http"),
        ([["x-forwarded-for", "[redacted]"]], ("10.0.0.9", 41000), "http"),
    ],
    ids=[
        "no-proxy",
        "x-forwarded",
        "x-forwarded-ipv6",
        "forwarded-first",
        "forwarded-port",
        "unknown",
        "redacted",
    ],
)
def test_client_is_the_original_one_and_the_peer_the_proxy(
    headers: list[list[str]], client: tuple[str, int | None], scheme: str
) -> None:
    """The proxy (10.0.0.9:41000, the ASGI ``client``) is always network.peer.*; client.* is
    the client it names (its port only when it gave one: the socket's is the proxy's), the
    first entry being the one nearest the client; Forwarded before the X-Forwarded-* headers
    (as for server.address); a proxy's ``unknown``, or a value the user had redacted, names
    no one."""
    rec = recorder()
    data = start_data(client=list(PEER_ONLY), headers=headers, scheme="http")
    rec.emit(K.REQUEST_START, 1, data, t=0, tid=LOOP_TID)
    rec.emit(K.REQUEST_END, 1, {"status": 200}, t=100, tid=LOOP_TID)
    attrs = _servers(rec)[1]
    assert (attrs[CLIENT], attrs.get(CLIENT_PORT)) == client
    assert (attrs[PEER], attrs[PEER_PORT]) == PEER_ONLY
    assert attrs[SCHEME] == scheme


def test_a_request_that_never_started_has_the_server_the_others_were_sent_to() -> None:
    """Request 2 was only queued (the run was cut before its app saw it); the recording knows
    where the requests went from the one that started before it (Host ``shop.example:8443``):
    server.address and server.port, as url.scheme already was."""
    rec = recorder()
    rec.emit(
        K.REQUEST_START,
        1,
        start_data(headers=[["host", "shop.example:8443"]], scheme="https"),
        t=0,
        tid=LOOP_TID,
    )
    rec.emit(K.REQUEST_END, 1, {"status": 200}, t=100, tid=LOOP_TID)
    rec.emit(K.REQUEST_QUEUED, 2, {"method": "GET", "path": "/wait"}, t=200, tid=LOOP_TID)
    queued = _servers(rec)[2]
    assert (queued[ADDRESS], queued[PORT], queued[SCHEME]) == ("shop.example", 8443, "https")
    assert queued["tracer.incomplete"] is True


def _spans(exporter: Any, count: int) -> list[Any]:
    deadline = time.monotonic() + 10
    while len(exporter.get_finished_spans()) < count:
        assert time.monotonic() < deadline, "spans not exported in time"
        time.sleep(0.01)
    return list(exporter.get_finished_spans())


PROXIED = {
    "x-forwarded-for": "203.0.113.7, 10.0.0.2",
    "x-forwarded-proto": "https",
    "authorization": "Bearer s3cret",
}


def _get_asgi(app: Any) -> None:
    async def main() -> None:
        transport = httpx.ASGITransport(app=app, client=("10.0.0.9", 41000))
        async with httpx.AsyncClient(transport=transport, base_url="http://shop.example") as c:
            await c.get("/", headers=PROXIED)

    asyncio.run(main())


def test_live_asgi_spans_see_the_proxy_headers_through_redaction() -> None:
    """Under the real ASGI shim (secrets redacted by default), the X-Forwarded-* headers reach
    the span: they are no secrets."""
    provider, exporter = memory_provider()
    _get_asgi(tracer.instrument(asgi_app, tracer_provider=provider))
    (span,) = _spans(exporter, 1)
    attrs = span.attributes
    assert (attrs[CLIENT], attrs[PEER], attrs[PEER_PORT]) == ("203.0.113.7", "10.0.0.9", 41000)
    assert CLIENT_PORT not in attrs
    assert attrs[SCHEME] == "https"


def test_live_wsgi_spans_see_the_proxy_headers_through_redaction() -> None:
    """The same under the WSGI shim (the headers come from the environ's ``HTTP_*``)."""
    provider, exporter = memory_provider()
    app = tracer.instrument(wsgi_app, tracer_provider=provider)
    transport = httpx.WSGITransport(app=app, remote_addr="10.0.0.9")
    with httpx.Client(transport=transport, base_url="http://shop.example") as client:
        client.get("/", headers=PROXIED)
    (span,) = _spans(exporter, 1)
    attrs = span.attributes
    assert (attrs[CLIENT], attrs[PEER]) == ("203.0.113.7", "10.0.0.9")
    assert attrs[SCHEME] == "https"


def test_headers_the_user_redacts_name_no_client() -> None:
    """``redact_headers`` naming X-Forwarded-For: its value is never recorded, so the span
    says the peer, not the redaction mark."""
    provider, exporter = memory_provider()
    app = tracer.instrument(
        asgi_app, tracer_provider=provider, redact_headers={"authorization", "x-forwarded-for"}
    )
    _get_asgi(app)
    (span,) = _spans(exporter, 1)
    assert (span.attributes[CLIENT], span.attributes[CLIENT_PORT]) == ("10.0.0.9", 41000)
    assert span.attributes[SCHEME] == "https"
