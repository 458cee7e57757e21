"""For every rule: an app that breaks it and a passing counterpart, plus a hook-level runner.

``WSGI_CASES`` / ``ASGI_CASES`` map a rule id to ``Case(bad, good, options)``. The runners
here play the server and call the checker hooks exactly as the shims do, so the checkers are
tested on their own; test_through_shim.py runs the same cases through ``tracer.instrument``.
"""

from __future__ import annotations

import asyncio
import io
import sys
from dataclasses import dataclass, field
from typing import Any

import tracer
from tracer import events as K
from tracer.conformance import AsgiChecker, WsgiChecker

Options = dict[str, Any]


@dataclass(frozen=True)
class Case:
    """One rule's pair of apps and how to drive them."""

    bad: Any
    good: Any
    options: Options = field(default_factory=dict)
    """``scope``/``environ`` overrides, ``close`` (WSGI server calls close), ``body``."""


# -- WSGI apps ----------------------------------------------------------------------------------

TEXT = [("Content-Type", "text/plain")]


def wsgi_app(
    status: Any = "200 OK", headers: Any = None, body: Any = (b"ok",), *, typed: bool = True
) -> Any:
    """A WSGI app answering with these status, headers (plus Content-Type) and body items."""
    if headers is None:
        headers = []
    if typed and type(headers) is list:
        headers = [*headers, *TEXT]

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response(status, headers)
        return list(body) if isinstance(body, tuple) else body

    return app


def _no_start(environ: dict[str, Any], start_response: Any) -> Any:
    return [b"forgot"]


def _start_twice(environ: dict[str, Any], start_response: Any) -> Any:
    start_response("200 OK", TEXT)
    start_response("500 Internal Server Error", TEXT)
    return [b"x"]


def _start_again_with_exc_info(environ: dict[str, Any], start_response: Any) -> Any:
    start_response("200 OK", TEXT)
    try:
        raise ValueError("while building the body")
    except ValueError:
        start_response("500 Internal Server Error", TEXT, sys.exc_info())
    return [b"error page"]


def _generator_body(environ: dict[str, Any], start_response: Any) -> Any:
    start_response("200 OK", TEXT)
    yield b"ok"


def _yield_before_start(environ: dict[str, Any], start_response: Any) -> Any:
    yield b"too early"
    start_response("200 OK", TEXT)


def _lazy_start(environ: dict[str, Any], start_response: Any) -> Any:
    start_response("200 OK", TEXT)
    yield b"fine"


def _write_after_iteration(environ: dict[str, Any], start_response: Any) -> Any:
    write = start_response("200 OK", TEXT)
    yield b"first"
    write(b"second")


def _write_then_return(environ: dict[str, Any], start_response: Any) -> Any:
    write = start_response("200 OK", TEXT)
    write(b"first")
    return [b"second"]


def _write_str(environ: dict[str, Any], start_response: Any) -> Any:
    write = start_response("200 OK", TEXT)
    write("text")
    return []


def _read_all(environ: dict[str, Any], start_response: Any) -> Any:
    data = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Length", str(len(data))), *TEXT])
    return [data]


def _read_content_length(environ: dict[str, Any], start_response: Any) -> Any:
    data = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Length", str(len(data))), *TEXT])
    return [data]


def _bad_exc_info(environ: dict[str, Any], start_response: Any) -> Any:
    start_response("500 Internal Server Error", TEXT, "oops")
    return [b"x"]


def _good_exc_info(environ: dict[str, Any], start_response: Any) -> Any:
    try:
        raise ValueError("x")
    except ValueError:
        start_response("500 Internal Server Error", TEXT, sys.exc_info())
    return [b"x"]


WSGI_CASES: dict[str, Case] = {
    "WSGI-001": Case(_no_start, wsgi_app()),
    "WSGI-002": Case(_start_twice, _start_again_with_exc_info),
    "WSGI-003": Case(_yield_before_start, _lazy_start),
    "WSGI-004": Case(wsgi_app(status=200), wsgi_app()),
    "WSGI-005": Case(wsgi_app(status="200"), wsgi_app(status="404 Not Found")),
    "WSGI-006": Case(wsgi_app(status="100 Continue"), wsgi_app(status="201 Created")),
    "WSGI-007": Case(wsgi_app(headers=(("Content-Type", "text/plain"),)), wsgi_app()),
    "WSGI-008": Case(wsgi_app(headers=[["Content-Type", "text/plain"]]), wsgi_app()),
    "WSGI-009": Case(wsgi_app(headers=[(b"Content-Type", b"text/plain")]), wsgi_app()),
    "WSGI-010": Case(
        wsgi_app(headers=[("X-Name", "名前")]), wsgi_app(headers=[("X-Name", "café")])
    ),
    "WSGI-011": Case(wsgi_app(headers=[("X Name", "v")]), wsgi_app(headers=[("X-Name", "v")])),
    "WSGI-012": Case(
        wsgi_app(headers=[("X-A", "a\r\nSet-Cookie: admin=1")]), wsgi_app(headers=[("X-A", "a b")])
    ),
    "WSGI-013": Case(wsgi_app(headers=[("Connection", "close")]), wsgi_app(headers=TEXT)),
    "WSGI-014": Case(wsgi_app(body=("text",)), wsgi_app(body=(b"text",))),
    "WSGI-015": Case(wsgi_app(body=b"hello"), wsgi_app(body=(b"hello",))),
    "WSGI-016": Case(wsgi_app(typed=False), wsgi_app()),
    "WSGI-017": Case(_write_after_iteration, _write_then_return),
    "WSGI-018": Case(_write_str, _write_then_return),
    "WSGI-019": Case(
        wsgi_app(headers=[("Content-Length", "2")], body=(b"hello",)),
        wsgi_app(headers=[("Content-Length", "5")], body=(b"hel", b"lo")),
    ),
    "WSGI-020": Case(
        wsgi_app(headers=[("Content-Length", "10")], body=(b"hello",)),
        wsgi_app(headers=[("Content-Length", "0")], body=()),
    ),
    "WSGI-021": Case(
        wsgi_app(headers=[("Content-Length", "2"), ("Content-Length", "3")], body=(b"ok",)),
        wsgi_app(headers=[("Content-Length", "2")], body=(b"ok",)),
    ),
    # PEP 3333 asks for close() only when the iterable has one: a generator has, a list has not.
    "WSGI-022": Case(_generator_body, _generator_body, {"bad": {"close": False}}),
    "WSGI-023": Case(_read_all, _read_content_length, {"body": b"payload"}),
    "WSGI-024": Case(_bad_exc_info, _good_exc_info),
    "WSGI-025": Case(
        wsgi_app(status="204 No Content", body=(b"x",)), wsgi_app(status="204 No Content", body=())
    ),
}


# -- ASGI apps ----------------------------------------------------------------------------------

START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain")],
}
BODY = {"type": "http.response.body", "body": b"ok"}
TRAILERS = {"type": "http.response.trailers", "headers": [(b"x-checksum", b"1")]}
ACCEPT = {"type": "websocket.accept"}
SEND_TEXT = {"type": "websocket.send", "text": "hi"}
CLOSE = {"type": "websocket.close", "code": 1000}
STARTUP_OK = {"type": "lifespan.startup.complete"}
SHUTDOWN_OK = {"type": "lifespan.shutdown.complete"}
RECEIVE = "receive"  # a script step: await receive()
RAISE = "raise"  # a script step: raise RuntimeError


def script(*steps: Any) -> Any:
    """An ASGI app that performs ``steps`` in order: a dict is sent, RECEIVE receives."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        for step in steps:
            if step == RECEIVE:
                await receive()
            elif step == RAISE:
                raise RuntimeError("boom")
            else:
                await send(step)

    return app


def start(**fields: Any) -> dict[str, Any]:
    """``http.response.start`` with some fields replaced."""
    return {**START, **fields}


def body(**fields: Any) -> dict[str, Any]:
    """``http.response.body`` with some fields replaced."""
    return {**BODY, **fields}


def headers(*pairs: Any) -> dict[str, Any]:
    """``http.response.start`` with these headers."""
    return start(headers=list(pairs))


TRAILERS_EXT = {"scope": {"extensions": {"http.response.trailers": {}}}}
PATHSEND = {"type": "http.response.pathsend", "path": "/etc/hostname"}

HTTP_CASES: dict[str, Case] = {
    "ASGI-001": Case(script(["http.response.start"]), script(START, BODY)),
    "ASGI-002": Case(script({"status": 200}), script(START, BODY)),
    "HTTP-001": Case(script(BODY), script(START, BODY)),
    "HTTP-002": Case(script(START, START, BODY), script(START, BODY)),
    "HTTP-003": Case(script(START, BODY, BODY), script(START, body(more_body=True), BODY)),
    "HTTP-004": Case(script(), script(START, BODY)),
    "HTTP-005": Case(
        script(START, body(more_body=True)), script(START, body(more_body=True), BODY)
    ),
    "HTTP-006": Case(script(start(status="200"), BODY), script(START, BODY)),
    "HTTP-007": Case(script(start(status=600), BODY), script(start(status=599), BODY)),
    "HTTP-008": Case(script(start(status=103), BODY), script(start(status=200), BODY)),
    "HTTP-009": Case(script(start(headers="content-type: text/plain"), BODY), script(START, BODY)),
    "HTTP-010": Case(script(headers(("content-type", "text/plain")), BODY), script(START, BODY)),
    "HTTP-011": Case(script(headers((b"Content-Type", b"text/plain")), BODY), script(START, BODY)),
    "HTTP-012": Case(
        script(headers((b"x-a", b"a\r\nset-cookie: admin=1")), BODY),
        script(headers((b"x-a", b"a b")), BODY),
    ),
    "HTTP-013": Case(
        script(headers((b"transfer-encoding", b"chunked")), BODY), script(START, BODY)
    ),
    "HTTP-014": Case(script(START, body(body="ok")), script(START, BODY)),
    "HTTP-015": Case(script(START, body(more_body=0)), script(START, body(more_body=False))),
    "HTTP-016": Case(
        script(headers((b"content-length", b"1")), BODY),
        script(headers((b"content-length", b"2")), BODY),
    ),
    "HTTP-017": Case(
        script(headers((b"content-length", b"5")), BODY),
        script(
            headers((b"content-length", b"5")), body(body=b"he", more_body=True), body(body=b"llo")
        ),
    ),
    "HTTP-018": Case(
        script(headers((b"content-length", b"two")), BODY),
        script(headers((b"content-length", b"2")), BODY),
    ),
    "HTTP-019": Case(
        script(START, {"type": "http.response.bodyy", "body": b"ok"}), script(START, BODY)
    ),
    "HTTP-020": Case(
        script(START, BODY, RECEIVE, RECEIVE, RECEIVE), script(START, BODY, RECEIVE, RECEIVE)
    ),
    "HTTP-021": Case(
        script(START, BODY, TRAILERS), script(start(trailers=True), BODY, TRAILERS), TRAILERS_EXT
    ),
    "HTTP-022": Case(
        script(start(trailers=True), TRAILERS, BODY),
        script(start(trailers=True), BODY, TRAILERS),
        TRAILERS_EXT,
    ),
    "HTTP-023": Case(
        script(start(trailers=True), BODY),
        script(start(trailers=True), BODY, TRAILERS),
        TRAILERS_EXT,
    ),
    "HTTP-024": Case(
        script(start(trailers=True), BODY, TRAILERS),
        script(start(trailers=True), BODY, TRAILERS),
        {"good": TRAILERS_EXT},
    ),
    "HTTP-025": Case(
        script(start(status=204, headers=[]), BODY),
        script(start(status=204, headers=[]), body(body=b"")),
    ),
    "HTTP-026": Case(
        script(START, PATHSEND),
        script(START, PATHSEND),
        {"good": {"scope": {"extensions": {"http.response.pathsend": {}}}}},
    ),
}

DENY_EXT = {"scope": {"extensions": {"websocket.http.response": {}}}}
DENY_START = {"type": "websocket.http.response.start", "status": 403, "headers": []}
DENY_BODY = {"type": "websocket.http.response.body", "body": b"no"}

WEBSOCKET_CASES: dict[str, Case] = {
    "WS-001": Case(script(RECEIVE, SEND_TEXT), script(RECEIVE, ACCEPT, SEND_TEXT, CLOSE)),
    "WS-002": Case(script(RECEIVE, ACCEPT, ACCEPT), script(RECEIVE, ACCEPT, CLOSE)),
    "WS-003": Case(
        script(RECEIVE, ACCEPT, CLOSE, SEND_TEXT), script(RECEIVE, ACCEPT, SEND_TEXT, CLOSE)
    ),
    "WS-004": Case(
        script(RECEIVE, ACCEPT, {**CLOSE, "code": 1006}),
        script(RECEIVE, ACCEPT, {**CLOSE, "code": 4001}),
    ),
    "WS-005": Case(
        script(RECEIVE, ACCEPT, {**SEND_TEXT, "bytes": b"hi"}, CLOSE),
        script(RECEIVE, ACCEPT, {"type": "websocket.send", "bytes": b"hi"}, CLOSE),
    ),
    "WS-006": Case(
        script(RECEIVE, ACCEPT, {**SEND_TEXT, "text": b"hi"}, CLOSE),
        script(RECEIVE, ACCEPT, SEND_TEXT, CLOSE),
    ),
    "WS-007": Case(
        script(RECEIVE, {**ACCEPT, "subprotocol": "chat"}, CLOSE),
        script(RECEIVE, {**ACCEPT, "subprotocol": "chat"}, CLOSE),
        {"good": {"scope": {"subprotocols": ["chat"]}}},
    ),
    "WS-008": Case(
        script(RECEIVE, {**ACCEPT, "headers": [("x-a", "b")]}, CLOSE),
        script(RECEIVE, {**ACCEPT, "headers": [(b"x-a", b"b")]}, CLOSE),
    ),
    "WS-009": Case(
        script(RECEIVE, ACCEPT, {**CLOSE, "reason": "x" * 200}),
        script(RECEIVE, ACCEPT, {**CLOSE, "reason": "bye"}),
    ),
    "WS-010": Case(script(RECEIVE, ACCEPT, START, CLOSE), script(RECEIVE, ACCEPT, CLOSE)),
    "WS-011": Case(
        script(RECEIVE, ACCEPT, RECEIVE, RECEIVE, RECEIVE),
        script(RECEIVE, ACCEPT, RECEIVE, RECEIVE),
    ),
    "WS-012": Case(
        script(RECEIVE, DENY_START, DENY_BODY),
        script(RECEIVE, DENY_START, DENY_BODY),
        {"good": DENY_EXT},
    ),
    "WS-013": Case(script(RECEIVE), script(RECEIVE, CLOSE)),
    "WS-014": Case(script(RECEIVE, DENY_BODY), script(RECEIVE, DENY_START, DENY_BODY), DENY_EXT),
}

LIFESPAN_CASES: dict[str, Case] = {
    "LS-001": Case(
        script(RECEIVE, {"type": "lifespan.startup.failed"}),
        script(RECEIVE, {"type": "lifespan.startup.failed", "message": "no database"}),
    ),
    "LS-002": Case(
        script(STARTUP_OK, RECEIVE, RECEIVE, SHUTDOWN_OK),
        script(RECEIVE, STARTUP_OK, RECEIVE, SHUTDOWN_OK),
    ),
    "LS-003": Case(
        script(RECEIVE, STARTUP_OK, STARTUP_OK, RECEIVE, SHUTDOWN_OK),
        script(RECEIVE, STARTUP_OK, RECEIVE, SHUTDOWN_OK),
    ),
    "LS-004": Case(
        script(RECEIVE, {"type": "lifespan.startup.done"}),
        script(RECEIVE, STARTUP_OK, RECEIVE, SHUTDOWN_OK),
    ),
    "LS-005": Case(script(RECEIVE), script(RECEIVE, STARTUP_OK, RECEIVE, SHUTDOWN_OK)),
    "LS-006": Case(
        script(RECEIVE, STARTUP_OK, RECEIVE), script(RECEIVE, STARTUP_OK, RECEIVE, SHUTDOWN_OK)
    ),
    "LS-007": Case(
        script(RECEIVE, STARTUP_OK, RECEIVE, {"type": "lifespan.shutdown.failed", "message": ""}),
        script(
            RECEIVE, STARTUP_OK, RECEIVE, {"type": "lifespan.shutdown.failed", "message": "disk"}
        ),
    ),
    "LS-008": Case(
        script(RECEIVE, STARTUP_OK, RECEIVE, RAISE),
        script(RECEIVE, STARTUP_OK, RECEIVE, SHUTDOWN_OK),
    ),
}

ASGI_CASES: dict[str, tuple[str, Case]] = {
    **{rule_id: ("http", case) for rule_id, case in HTTP_CASES.items()},
    **{rule_id: ("websocket", case) for rule_id, case in WEBSOCKET_CASES.items()},
    **{rule_id: ("lifespan", case) for rule_id, case in LIFESPAN_CASES.items()},
}


def options_for(case: Case, which: str) -> Options:
    """The options of ``case`` for its ``bad`` or ``good`` app."""
    shared = {k: v for k, v in case.options.items() if k not in ("bad", "good")}
    return {**shared, **case.options.get(which, {})}


# -- hook-level runners (the checker without a shim) ---------------------------------------------


def make_environ(body: bytes = b"", extra: bytes = b"", **overrides: Any) -> dict[str, Any]:
    """A PEP 3333 environ; ``wsgi.input`` holds ``body`` then ``extra`` (the next request)."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST" if body else "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body + extra),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    environ.update(overrides)
    return environ


class _NoChecker:
    """Stands in for the checker when the shim does the checking."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def run_wsgi_hooks(app: Any, options: Options, *, shim: bool = False) -> list[str]:
    """Play the server for one WSGI request, feeding a ``WsgiChecker``; return the rule ids.

    With ``shim`` the app is wrapped by ``tracer.instrument`` instead, and the rule ids are
    read back from the recording's ``violation`` events.
    """
    found: list[str] = []
    environ = make_environ(options.get("body", b""), extra=b"GET /next HTTP/1.1\r\n\r\n")
    checker: Any
    if shim:
        recorder = tracer.Recorder()
        app = tracer.instrument(app, recorder=recorder, interface="wsgi")
        checker = _NoChecker()
    else:
        checker = WsgiChecker(environ, lambda rule_id, message, **data: found.append(rule_id))
    raw_input = environ["wsgi.input"]

    class Input:
        total = 0

        def read(self, size: int = -1) -> bytes:
            data = raw_input.read(size)
            Input.total += len(data)
            checker.input_read(Input.total)
            return data

    environ["wsgi.input"] = Input()

    def write(data: Any) -> None:
        checker.write(data)

    def start_response(status: Any, headers: Any, exc_info: Any = None) -> Any:
        checker.start_response(status, headers, exc_info)
        return write

    error = None
    result: Any = None
    try:
        result = app(environ, start_response)
        for item in result:
            checker.body_item(item)
    except Exception as exc:
        error = exc
    close = options.get("close", True)
    closable = hasattr(result, "close")
    if close and closable:
        result.close()
    result = None  # a server that drops the response without close(): the shim sees it go
    checker.finish(close_called=close, error=error, closable=closable)
    if shim:
        found = _rules(recorder)
    return found


def _rules(recorder: tracer.Recorder) -> list[str]:
    return [e.data["rule"] for e in recorder.events if e.kind == K.VIOLATION]


def asgi_scope(scope_type: str, **overrides: Any) -> dict[str, Any]:
    """A minimal scope of ``scope_type`` (http, websocket, lifespan)."""
    scope: dict[str, Any] = {"type": scope_type, "asgi": {"version": "3.0"}}
    if scope_type != "lifespan":
        scope.update(path="/", raw_path=b"/", query_string=b"", headers=[], root_path="")
        scope["scheme"] = "http" if scope_type == "http" else "ws"
    if scope_type == "http":
        scope.update(method="GET", http_version="1.1")
    if scope_type == "websocket":
        scope["subprotocols"] = []
    scope.update(overrides)
    return scope


_INCOMING = {
    "http": [{"type": "http.request", "body": b"", "more_body": False}],
    "websocket": [{"type": "websocket.connect"}, {"type": "websocket.receive", "text": "hi"}],
    "lifespan": [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}],
}
_LAST = {"http": "http.disconnect", "websocket": "websocket.disconnect"}


def run_asgi_hooks(app: Any, scope_type: str, options: Options, *, shim: bool = False) -> list[str]:
    """Play the server for one ASGI connection, feeding an ``AsgiChecker``; return rule ids.

    With ``shim`` the app is wrapped by ``tracer.instrument`` instead (see ``run_wsgi_hooks``).
    """
    found: list[str] = []
    scope = asgi_scope(scope_type, **options.get("scope", {}))
    checker: Any
    if shim:
        recorder = tracer.Recorder()
        app = tracer.instrument(app, recorder=recorder, interface="asgi")
        checker = _NoChecker()
    else:
        checker = AsgiChecker(scope, lambda rule_id, message, **data: found.append(rule_id))
    incoming = list(_INCOMING[scope_type])

    async def receive() -> dict[str, Any]:
        if incoming:
            message = incoming.pop(0)
        elif scope_type in _LAST:
            message = {"type": _LAST[scope_type], "code": 1000}
        else:
            await asyncio.sleep(3600)  # a lifespan app waiting for more: the test times out
            message = {}
        checker.receive(message)
        return message

    async def send(message: Any) -> None:
        checker.send(message)

    async def main() -> None:
        error = None
        try:
            await app(scope, receive, send)
        except Exception as exc:
            error = exc
        checker.finish(error=error)

    asyncio.run(main())
    return _rules(recorder) if shim else found
