"""Span attributes from recorded events: the stable HTTP semantic conventions, and ours.

Pure functions over ``Event`` data, shared by the span model and anything else that labels a
request. Imports only ``tracer.events``, ``tracer.redact``'s mark and OTLP's integer range
(``tracer.otel.clean``).
Values are taken as recorded: the shims already redacted query strings and secret headers,
and nothing here re-expands them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracer import events as K
from tracer.events import Event
from tracer.otel.clean import INT_MAX, INT_MIN
from tracer.redact import REDACTED

__all__ = [
    "ATTR_PREFIX",
    "MESSAGE_KINDS",
    "header_pairs",
    "header_map",
    "span_name",
    "forwarded_host",
    "forwarded_for",
    "forwarded_proto",
    "request_attributes",
    "end_attributes",
    "declared_length",
    "FILE_SENDS",
    "message_name",
    "message_attributes",
    "step_attributes",
    "thread_attributes",
    "location_attributes",
]

ATTR_PREFIX = "tracer."
"""Prefix of the attributes that have no OpenTelemetry semantic convention."""


MESSAGE_KINDS: frozenset[str] = frozenset(
    {
        K.ASGI_RECEIVE,
        K.ASGI_SEND,
        K.WSGI_INPUT_READ,
        K.WSGI_START_RESPONSE,
        K.WSGI_WRITE,
        K.WSGI_BODY,
        K.WSGI_CLOSE,
    }
)
"""Protocol calls: one span event each (or one child span with ``detail="spans"``)."""


def header_pairs(headers: Any) -> list[tuple[str, str]]:
    """Recorded headers (``[[name, value], ...]`` or a mapping) as lower-cased text pairs."""
    if not headers:
        return []
    items = headers.items() if isinstance(headers, dict) else headers
    try:  # recorded headers are text pairs already (redact_headers made them so)
        return [
            (name.lower(), value if type(value) is str else str(value)) for name, value in items
        ]
    except (AttributeError, TypeError, ValueError):  # not text pairs: convert what fits
        return [
            (str(item[0]).lower(), str(item[1]))
            for item in items
            if isinstance(item, (list, tuple)) and len(item) == 2
        ]


def header_map(headers: Any) -> dict[str, str]:
    """Recorded headers as ``{lower-case name: first value}``."""
    found: dict[str, str] = {}
    for name, value in header_pairs(headers):
        if name not in found:
            found[name] = value
    return found


def _host_port(value: Any) -> tuple[str | None, int | None]:
    """``[host, port]``, ``"host:port"``, ``"[::1]:port"`` or ``"host"`` -> (host, port)."""
    if isinstance(value, (list, tuple)) and value:
        host = str(value[0]) if value[0] is not None else None
        port = value[1] if len(value) > 1 and isinstance(value[1], int) else None
        return host, port
    if not isinstance(value, str) or not value:
        return None, None
    if value.startswith("["):  # an IPv6 literal in a Host header
        host, _, rest = value[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
        return host, int(port_text) if port_text.isdigit() else None
    host, sep, port_text = value.rpartition(":")
    if sep and port_text.isdigit() and ":" not in host:
        return host, int(port_text)
    return value, None


def _put(attrs: dict[str, Any], key: str, value: Any) -> None:
    # OpenTelemetry rejects None; the fast span path does not validate, so never pass one.
    if value is not None and value != "":
        attrs[key] = value


KNOWN_METHODS = frozenset(
    {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY", "TRACE"}
)
"""The methods OpenTelemetry's HTTP conventions name as they are; any other is ``_OTHER``."""


def method_attributes(method: Any) -> dict[str, Any]:
    """``http.request.method`` as the conventions want it: a known method as is, any other
    as ``_OTHER`` with the method sent in ``http.request.method_original`` (methods are
    case-sensitive: ``get`` is another)."""
    if not isinstance(method, str) or not method:
        return {}
    if method in KNOWN_METHODS:
        return {"http.request.method": method}
    return {"http.request.method": "_OTHER", "http.request.method_original": method}


def span_name(data: Mapping[str, Any], route: str | None = None) -> str:
    """``METHOD route`` when the framework exposed the route, else ``METHOD`` alone.

    The HTTP conventions want a name of low cardinality and forbid defaulting to the URI
    path (``/items/123`` would make one name per item): the path is on ``url.path``. A
    websocket session is the HTTP ``GET`` that asked for the upgrade; lifespan is ``lifespan``.
    """
    scope_type = data.get("scope_type")
    if scope_type == "lifespan":
        return "lifespan"
    method = "GET" if scope_type == "websocket" else data.get("method")
    # A method outside the conventions' list is "HTTP" in the name (a name must stay of low
    # cardinality); http.request.method_original keeps it.
    known = isinstance(method, str) and method in KNOWN_METHODS  # a list or dict is no method
    name = method if known else "HTTP"
    return f"{name} {route}" if route else str(name)


def _forwarded(headers: Mapping[str, str], param: str, x_header: str) -> str | None:
    """What a reverse proxy passed on: the ``param`` of ``Forwarded`` (RFC 7239), else the
    ``x_header`` (``X-Forwarded-Host``...), the first proxy's when there are several (the one
    nearest the client); None without one, or when it is ``unknown`` or was redacted."""
    forwarded = headers.get("forwarded")
    if forwarded:
        first = forwarded.split(",", 1)[0]
        for pair in first.split(";"):
            name, sep, value = pair.strip().partition("=")
            if sep and name.strip().lower() == param:
                value = value.strip().strip('"')
                if value and value != "unknown" and value != REDACTED:
                    return value
    forwarded = headers.get(x_header)
    if forwarded:
        value = forwarded.split(",", 1)[0].strip()
        if value and value != "unknown" and value != REDACTED:
            return value
    return None


def forwarded_host(headers: Mapping[str, str]) -> str | None:
    """The original host a reverse proxy passed on (``Forwarded: host=``, else
    ``X-Forwarded-Host``), the first proxy's when there are several; None without one."""
    return _forwarded(headers, "host", "x-forwarded-host")


def forwarded_for(headers: Mapping[str, str]) -> str | None:
    """The original client a reverse proxy passed on (``Forwarded: for=``, else the first
    entry of ``X-Forwarded-For``): ``"203.0.113.7"``, ``"[2001:db8::1]:4711"``; None without
    one."""
    return _forwarded(headers, "for", "x-forwarded-for")


def forwarded_proto(headers: Mapping[str, str]) -> str | None:
    """The scheme the original client used, as a reverse proxy passed it on (``Forwarded:
    proto=``, else ``X-Forwarded-Proto``), in lower case; None without one."""
    proto = _forwarded(headers, "proto", "x-forwarded-proto")
    return proto.lower() if proto is not None else None


def _int64(value: Any) -> bool:
    """An int OTLP can carry as an attribute (an app may send any int as its status)."""
    return type(value) is int and INT_MIN <= value <= INT_MAX


def count(value: Any) -> int:
    """A recorded count or duration (``cpu_ns``...) to add up: 0 unless it is an int (a
    recording read from elsewhere may hold any JSON value there)."""
    return value if type(value) is int else 0


def listed(value: Any) -> list[Any] | tuple[Any, ...]:
    """A recorded list (``delayed``...) to go through: empty unless it is a list."""
    return value if isinstance(value, list | tuple) else ()


def _present(attrs: dict[str, Any]) -> dict[str, Any]:
    # OpenTelemetry rejects None; the fast span path does not validate, so never pass one.
    return {key: value for key, value in attrs.items() if value is not None and value != ""}


def request_attributes(start: Event, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Attributes known when the app is invoked, from a ``request.start`` event.

    ``headers`` is its ``header_map`` when the caller already has it.
    """
    data = start.data
    if headers is None:
        headers = header_map(data.get("headers"))
    agent = headers.get("user-agent")
    # The conventions' order for a server span: the host a proxy passed on, then Host (an
    # ASGI server gives HTTP/2's :authority as host too), then the socket the request came
    # in on. A host without a port leaves server.port unset rather than the socket's.
    server_host, server_port = _host_port(forwarded_host(headers) or headers.get("host"))
    if server_host is None:
        server_host, server_port = _host_port(data.get("server"))
    # client.* is the original client a proxy passed on (with its port only when the proxy
    # gave one: the socket's port is the proxy's), else the peer; network.peer.* is always
    # the peer, the proxy when there is one.
    peer_host, peer_port = _host_port(data.get("client"))
    client_host, client_port = _host_port(forwarded_for(headers))
    if client_host is None:
        client_host, client_port = peer_host, peer_port
    version = data.get("http_version")
    # A websocket session is the GET that asked for the upgrade (the ASGI scope has no method).
    websocket = data.get("scope_type") == "websocket"
    return _present(
        {
            **method_attributes("GET" if websocket else data.get("method")),
            "url.path": data.get("path"),
            "url.query": data.get("query"),
            "url.scheme": forwarded_proto(headers) or data.get("scheme"),
            "network.protocol.version": version.removeprefix("HTTP/")
            if isinstance(version, str)
            else None,
            "server.address": server_host,
            "server.port": server_port,
            "client.address": client_host,
            "client.port": client_port,
            "network.peer.address": peer_host,
            "network.peer.port": peer_port,
            "user_agent.original": agent,
            "http.route": data.get("route"),
            "thread.id": start.tid or None,
            "thread.name": start.thread,
            # The serving process: one resource holds every process's spans, and the workers
            # of a forking server (gunicorn -w 2) share their thread ids.
            "process.pid": start.pid or None,
            ATTR_PREFIX + "request_id": start.req,
            ATTR_PREFIX + "interface": data.get("interface"),
            ATTR_PREFIX + "task": start.task,
        }
    )


FILE_SENDS: frozenset[str] = frozenset({"http.response.pathsend", "http.response.zerocopysend"})
"""ASGI messages with which the server sends a file itself: its bytes never pass the shim."""

_NO_BODY_STATUS = frozenset({204, 304})


def _size(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None


def _content_length(headers: Mapping[str, str] | None) -> int | None:
    text = (headers or {}).get("content-length")
    return int(text) if text is not None and text.strip().isdigit() else None


def declared_length(headers: Any) -> int | None:
    """The ``Content-Length`` among recorded response headers (``wsgi.start_response``); None
    when there is none (or only their count was recorded, as the simulator does)."""
    if not isinstance(headers, list | tuple | dict):
        return None
    return _content_length(header_map(headers))


def end_attributes(
    end: Event | None,
    error_type: str | None,
    status: int | None = None,
    *,
    answer: Mapping[str, Any] | None = None,
    request: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    sent: Mapping[str, Any] | None = None,
    file_sent: bool = False,
    declared: int | None = None,
) -> dict[str, Any]:
    """Attributes known when the request is over, from its ``request.end`` event.

    ``status``: the status the app's response start gave, used when ``end`` records none
    (a request with no end). ``answer``: the data of the request's ``client.response``, when
    the load generator's client sent it (real servers): what the client saw is the span's
    status code (none when it got no response), response body size and error; a different
    status the app sent stays as ``tracer.app_status_code``. ``sent``: the data of its
    ``client.send`` (``bytes``: the request body the client sent). ``request``: the data of
    its ``request.start`` (``headers``: their ``header_map``): without the client's count, the
    request body size is its ``Content-Length``, what was sent whether or not the app read
    it. ``file_sent``: the app had the server send a file itself (``http.response.pathsend``,
    or ``wsgi.file_wrapper`` as ``request.end`` says): its bytes never passed the shim, and
    ``declared`` (the response's own ``Content-Length``) is all that is known of them, but for
    a ``wsgi.file_wrapper`` whose ``request.end`` counts them (``bytes_out``, what the server
    sends: the Content-Length or the file's size, the smaller when both are known).
    ``http.*.body.size`` are the bytes transferred, as the HTTP semantic conventions define
    them; what the app read and produced, when that differs, is ``tracer.bytes_in`` /
    ``tracer.bytes_out``. A request with no end (the recording was cut short, or the run
    stopped first) is marked ``tracer.incomplete``; one whose ``request.end`` says its
    response was cut short (it started and did not all go out: the client left a stream) is
    marked ``tracer.cut_short``, without ``error.type``: a client that leaves is no server
    error, as a 4xx is none on a server span (the span's status stays unset unless an error
    says otherwise). One the client stopped reading on purpose (``answer``'s
    ``client_closed``: ``trace run --read-for`` / ``--read-bytes``) is marked
    ``tracer.client_closed`` with the reason (``read-for``, ``read-bytes``), and the end's
    own ``error`` is then the server's word that its client went (hypercorn's ``cancelled``),
    not an ``error.type``, as the summary judges it (``RequestSpan.outcome_error``); an
    exception the app raised still is one.
    """
    attrs: dict[str, Any] = {}
    data: Mapping[str, Any] = {}
    if end is None:
        attrs[ATTR_PREFIX + "incomplete"] = True
    else:
        data = end.data
    recorded = data.get("status")
    app_status = recorded if _int64(recorded) else status if _int64(status) else None
    shown = app_status
    client_error = None
    if answer is not None:
        got = answer.get("status")
        shown = got if _int64(got) else None
        client_error = answer.get("error") or None
        if app_status is not None and app_status != shown:
            attrs[ATTR_PREFIX + "app_status_code"] = app_status
    if shown is not None:
        attrs["http.response.status_code"] = shown
    request = request or {}
    if headers is None:
        headers = header_map(request.get("headers"))
    bytes_in, bytes_out = _size(data.get("bytes_in")), _size(data.get("bytes_out"))
    websocket = request.get("scope_type") == "websocket"
    request_size = None
    if not websocket:  # a session's "body" is its messages, which only the app counted
        request_size = _size(sent.get("bytes")) if sent is not None else None
        if request_size is None:
            request_size = _content_length(headers)
    if request_size is None:
        request_size = bytes_in  # no Content-Length (chunked): what the app read is all known
    wrapped = bool(data.get("file_wrapper"))
    file_sent = file_sent or wrapped
    if file_sent:
        if wrapped and bytes_out:
            # The shim counted what the server sends of a wsgi.file_wrapper (its
            # Content-Length, no more than the file holds): known better than ``declared``.
            # 0 is no count (a recording from before it counted them, or nothing to go by).
            declared = bytes_out
        bytes_out = None  # what the app produced is the file: no tracer.bytes_out beside it
    response_size: int | None
    if answer is not None:
        response_size = _size(answer.get("bytes")) if shown is not None else None
    elif not websocket and (
        request.get("method") == "HEAD"
        or shown in _NO_BODY_STATUS
        or (shown is not None and shown < 200)
    ):
        response_size = 0  # HTTP sends no body here, whatever the app gave
    elif shown is None:
        response_size = None  # no response came (a timeout): no body was transferred either
    elif file_sent:
        response_size = declared
    else:
        response_size = bytes_out
    _put(attrs, "http.request.body.size", request_size)
    _put(attrs, "http.response.body.size", response_size)
    # Only a count that says something: 0 beside no size at all is the client's own end.
    if bytes_in is not None and bytes_in != request_size and (request_size or bytes_in):
        attrs[ATTR_PREFIX + "bytes_in"] = bytes_in
    if bytes_out is not None and bytes_out != response_size and (response_size or bytes_out):
        attrs[ATTR_PREFIX + "bytes_out"] = bytes_out
    _put(attrs, "http.route", data.get("route"))
    if data.get("cut_short") is True:
        attrs[ATTR_PREFIX + "cut_short"] = True
    closed = answer.get("client_closed") if answer is not None else None
    if closed:
        attrs[ATTR_PREFIX + "client_closed"] = str(closed)
    if error_type is None and not closed and data.get("error"):
        error_type = str(data["error"])
    if error_type is None and client_error:
        error_type = str(client_error)
    if error_type is None and K.is_server_error(shown):
        error_type = str(shown)
    _put(attrs, "error.type", error_type)
    return attrs


def message_name(event: Event) -> str:
    """``asgi.send http.response.start``, ``wsgi.start_response``, ..."""
    message_type = event.data.get("type")
    return f"{event.kind} {message_type}" if message_type else event.kind


_MESSAGE_KEYS = {
    "type": "asgi.event.type",
    "status": "http.response.status_code",
    "bytes": ATTR_PREFIX + "bytes",
    "more_body": ATTR_PREFIX + "more_body",
    "method": ATTR_PREFIX + "read_method",
    "exc_info": ATTR_PREFIX + "exc_info",
}


def message_attributes(event: Event) -> dict[str, Any]:
    """Attributes of one protocol call (sizes and flags only: bodies are never recorded)."""
    attrs: dict[str, Any] = {}
    # One pass over what was recorded: most messages carry two or three fields.
    for key, value in event.data.items():
        name = _MESSAGE_KEYS.get(key)
        if name is None or value is None or value == "":
            continue
        if key == "status" and isinstance(value, str):  # WSGI "200 OK"
            if not value[:3].isdigit():
                continue
            value = int(value[:3])
        elif key == "more_body" or key == "exc_info":
            value = bool(value)
            if key == "exc_info" and not value:
                continue
        elif key == "type" and event.kind not in (K.ASGI_RECEIVE, K.ASGI_SEND):
            continue
        attrs[name] = value
    if event.dur is not None:
        attrs[ATTR_PREFIX + "dur_ns"] = event.dur
    return attrs


def location_attributes(location: Any) -> dict[str, Any]:
    """``"app.py:12"`` -> ``code.file.path`` / ``code.line.number``."""
    attrs: dict[str, Any] = {}
    if not isinstance(location, str) or not location:
        return attrs
    path, sep, line = location.rpartition(":")
    if sep and line.isdigit():
        attrs["code.file.path"] = path
        attrs["code.line.number"] = int(line)
    else:
        attrs["code.file.path"] = location
    return attrs


def step_attributes(event: Event) -> dict[str, Any]:
    """One coroutine step: time on the loop, CPU time, and what it then awaited where."""
    data = event.data
    attrs = _present(
        {
            ATTR_PREFIX + "dur_ns": event.dur,
            ATTR_PREFIX + "cpu_ns": data.get("cpu_ns"),
            ATTR_PREFIX + "awaiting": data.get("awaiting"),
        }
    )
    location = data.get("location")
    if location:
        attrs.update(location_attributes(location))
    return attrs


def thread_attributes(event: Event) -> dict[str, Any]:
    """Where code of the request ran (a worker thread, a thread hop) and how it got there."""
    data = event.data
    return _present(
        {
            "thread.id": event.tid,
            "thread.name": event.thread,
            ATTR_PREFIX + "via": data.get("via"),
            ATTR_PREFIX + "cpu_ns": data.get("cpu_ns"),
            ATTR_PREFIX + "dur_ns": event.dur,
        }
    )
