"""Attribute mapping details: addresses, names, WSGI statuses, locations."""

from __future__ import annotations

from tracer import events as K
from tracer.events import Event
from tracer.otel import attributes as A


def _start(**data: object) -> Event:
    return Event(seq=0, t=0, kind=K.REQUEST_START, req=4, tid=9, thread="w-1", data=data)


def test_wsgi_style_addresses_and_protocol_are_mapped() -> None:
    """WSGI records ``server`` as ``host:port`` text and ``HTTP/1.1``; both map to semconv."""
    attrs = A.request_attributes(
        _start(
            method="POST",
            path="/f",
            server="example.org:8080",
            client="10.0.0.1",
            http_version="HTTP/1.1",
        )
    )
    assert attrs["server.address"] == "example.org" and attrs["server.port"] == 8080
    assert attrs["client.address"] == "10.0.0.1" and "client.port" not in attrs
    assert attrs["network.protocol.version"] == "1.1"
    assert attrs["thread.id"] == 9 and attrs["thread.name"] == "w-1"


def test_the_serving_process_is_on_the_span() -> None:
    """``process.pid``: a forking server's workers (gunicorn -w 2) share their thread ids, and
    one export holds every process's spans: the pid tells them apart (none when unknown)."""
    worker = _start(path="/")._replace(pid=4242)
    assert A.request_attributes(worker)["process.pid"] == 4242
    assert "process.pid" not in A.request_attributes(_start(path="/")._replace(pid=0))


def test_host_header_is_the_server_address_when_the_scope_has_none() -> None:
    """No ``server`` in the scope: the Host header (IPv6 literal included) names the server."""
    attrs = A.request_attributes(_start(headers=[["Host", "[::1]:9000"]]))
    assert (attrs["server.address"], attrs["server.port"]) == ("::1", 9000)


def test_no_attribute_is_ever_none() -> None:
    """Missing fields are left out rather than set to None (OpenTelemetry rejects None)."""
    attrs = A.request_attributes(_start(method=None, path=None, query="", client=None))
    assert None not in attrs.values()
    assert A.end_attributes(Event(seq=0, t=0, kind=K.REQUEST_END, data={}), None) == {}


def test_span_name_prefers_the_route() -> None:
    """``METHOD route`` when the framework exposed one, else ``METHOD path``."""
    assert A.span_name({"method": "GET", "path": "/items/7"}) == "GET"
    assert A.span_name({"method": "GET", "path": "/items/7"}, "/items/{id}") == "GET /items/{id}"


def test_wsgi_status_line_becomes_a_status_code() -> None:
    """``start_response("404 Not Found", ...)`` -> http.response.status_code 404."""
    event = Event(seq=0, t=0, kind=K.WSGI_START_RESPONSE, data={"status": "404 Not Found"})
    assert A.message_attributes(event) == {"http.response.status_code": 404}


def test_location_without_line_is_kept_as_a_path() -> None:
    """A location that is not ``file:line`` is still reported, as the file path."""
    assert A.location_attributes("<frozen runpy>") == {"code.file.path": "<frozen runpy>"}
    assert A.location_attributes(None) == {}


def test_response_headers_recorded_as_a_count_have_no_declared_length() -> None:
    """The simulator records a response's header count, not its headers: no Content-Length
    is read from it, and nothing fails."""
    assert A.declared_length(2) is None
    assert A.declared_length([["Content-Length", "70000"]]) == 70_000
