"""The WSGI shim: exact events for one request, real Flask and raw apps, transparency, failures."""

from __future__ import annotations

import io
import logging
import threading
import time
import wsgiref.util
from collections.abc import Iterator
from typing import Any

import flask
import httpx
import pytest

import tracer
from sample_apps.hello import application as hello
from tracer import events as K
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.redact import REDACTED
from tracer.shim.wsgi import REQ_KEY, WsgiShim

pytestmark = pytest.mark.timeout(60)


def serve(app: Any, method: str = "GET", url: str = "/", **kwargs: Any) -> httpx.Response:
    """One request through httpx's WSGITransport (which closes the response, as servers do)."""
    transport = httpx.WSGITransport(app=app)
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        return client.request(method, url, **kwargs)


def traced(app: Any, **options: Any) -> tuple[WsgiShim, Recorder]:
    rec = Recorder()
    return WsgiShim(app, recorder=rec, **options), rec


def kinds(events: list[Event]) -> list[str]:
    return [event.kind for event in events]


def only(events: list[Event], kind: str) -> list[Event]:
    return [event for event in events if event.kind == kind]


def environ(**extra: Any) -> dict[str, Any]:
    """A minimal PEP 3333 environ for driving an app by hand, as a server would."""
    base: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    base.update(extra)
    return base


def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return lambda data: None


# -- the seed example, event by event ------------------------------------------------------------


def test_hello_world_exact_events() -> None:
    """sample_apps/hello.py:application records exactly start, start_response, one 13-byte
    chunk, close, the thread segment and the end, all on one thread, in time order."""
    app, rec = traced(hello)
    response = serve(app, url="/greet?name=x", headers={"User-Agent": "t"})
    assert response.status_code == 200 and response.text == "Hello, World!"
    events = rec.events
    assert kinds(events) == [
        K.REQUEST_START,
        K.WSGI_START_RESPONSE,
        K.WSGI_BODY,
        K.WSGI_CLOSE,
        K.SCHED_THREAD,
        K.REQUEST_END,
    ]
    start, started, body, close, thread, end = events
    assert {event.req for event in events} == {1}
    assert start.data == {
        "method": "GET",
        "path": "/greet",
        "query": "name=x",
        "http_version": "1.1",
        "scheme": "http",
        "client": "127.0.0.1",
        "server": "testserver:80",
        "interface": "wsgi",
        "scope_type": "http",
        "headers": [
            ["host", "testserver"],
            ["accept", "*/*"],
            ["accept-encoding", "gzip, deflate"],
            ["connection", "keep-alive"],
            ["user-agent", "t"],
        ],
    }
    assert started.data == {
        "status": "200 OK",
        "headers": [["Content-Type", "text/plain"]],
        "exc_info": None,
    }
    assert body.data == {"bytes": 13} and body.dur is not None and body.dur >= 0
    assert close.data == {} and close.dur is not None
    assert thread.data["via"] == "wsgi" and 0 <= thread.data["cpu_ns"] <= thread.dur
    assert thread.t == start.t and thread.end == end.t
    assert end.data == {
        "status": 200,
        "bytes_in": 0,
        "bytes_out": 13,
        "error": None,
        "close_called": True,
    }
    assert start.t <= started.t <= body.t <= close.t <= end.t
    assert {event.tid for event in events} == {threading.get_ident()}


def test_request_id_comes_from_the_server_model_when_given() -> None:
    """An id a server model put in the environ is the one every event carries."""
    app, rec = traced(hello)
    body = app(environ(**{REQ_KEY: 41}), start_response)
    assert list(body) == [b"Hello, World!"]
    body.close()
    assert {event.req for event in rec.events} == {41}


def test_each_request_gets_a_fresh_id() -> None:
    """Without a server-given id the recorder's counter numbers the requests."""
    app, rec = traced(hello)
    serve(app)
    serve(app)
    assert sorted({event.req for event in rec.events}) == [1, 2]


def _latin1(text: str) -> str:
    """``text`` as PEP 3333 carries it: its UTF-8 bytes in a str, one character per byte."""
    return text.encode("utf-8").decode("latin-1")


@pytest.mark.parametrize(
    ("script_name", "path_info", "recorded"),
    [
        ("", "/plain", "/plain"),
        (_latin1("/ü"), _latin1("/café/é"), "/ü/café/é"),
        # Bytes that are not UTF-8: U+FFFD each, as uvicorn's ``unquote`` makes the ASGI path.
        ("", "/x\xff\xfe", "/x\ufffd\ufffd"),
        ("", _latin1("/é") + "\xff", "/é\ufffd"),
        # Not bytes in a str (a character past U+00FF): a server that gave text, kept as given.
        ("", "/snow\u2603", "/snow\u2603"),
    ],
)
def test_the_path_is_recorded_as_text_as_an_asgi_server_gives_it(
    script_name: str, path_info: str, recorded: str
) -> None:
    """``SCRIPT_NAME`` and ``PATH_INFO`` are UTF-8 bytes held one per character (latin-1):
    recorded as they are, ``/café`` read ``/cafÃ©``. The recording says ``/café``, as the ASGI
    shim's does for the same request; the app still gets the environ as the server made it."""
    seen: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["SCRIPT_NAME"] + environ["PATH_INFO"])
        start_response("200 OK", [])
        return []

    shim, rec = traced(app)
    query = _latin1("q=é")
    shim(environ(SCRIPT_NAME=script_name, PATH_INFO=path_info, QUERY_STRING=query), start_response)
    (start,) = only(rec.events, K.REQUEST_START)
    assert start.data["path"] == recorded
    assert seen == [script_name + path_info]
    # The query is kept as the server gave it, as the ASGI shim keeps ``query_string`` (its
    # bytes as latin-1).
    assert start.data["query"] == query


# -- bodies, input, write --------------------------------------------------------------------------


def chunked(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"one,"
    time.sleep(0.02)
    yield b"two,"
    yield b""
    yield b"three"


def test_chunked_body_one_event_per_chunk() -> None:
    """A generator's chunks are recorded one by one, sizes exact, empty chunk included; the
    chunk produced after a 20 ms sleep carries that time as its dur."""
    app, rec = traced(chunked)
    assert serve(app).content == b"one,two,three"
    bodies = only(rec.events, K.WSGI_BODY)
    assert [event.data["bytes"] for event in bodies] == [4, 4, 0, 5]
    assert bodies[1].dur is not None and bodies[1].dur >= 20_000_000
    assert [event.t for event in bodies] == sorted(event.t for event in bodies)
    assert only(rec.events, K.REQUEST_END)[0].data["bytes_out"] == 13


def reader(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    stream = environ["wsgi.input"]
    first = stream.read(6)
    line = stream.readline()
    rest_lines = stream.readlines(4)
    tail = list(stream)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"|".join([first, line, *rest_lines, *tail])]


def test_input_reads_every_method_recorded() -> None:
    """read, readline, readlines and iteration are each recorded with the bytes they returned;
    the app sees exactly the bytes it would see unwrapped."""
    payload = b"header\nline two\nthree\nfour\nfive\n"
    app, rec = traced(reader)
    wrapped = serve(app, "POST", content=payload)
    assert wrapped.content == serve(reader, "POST", content=payload).content
    reads = only(rec.events, K.WSGI_INPUT_READ)
    assert [(e.data["method"], e.data["bytes"]) for e in reads] == [
        ("read", 6),
        ("readline", 1),
        ("readlines", 9),
        ("iter", 6),
        ("iter", 5),
        ("iter", 5),
    ]
    assert all(event.dur is not None and event.dur >= 0 for event in reads)
    assert only(rec.events, K.REQUEST_END)[0].data["bytes_in"] == len(payload)


def test_input_wrapper_passes_other_attributes_through() -> None:
    """Attributes the shim does not record (seek, tell, getvalue) are the real stream's."""
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        stream = environ["wsgi.input"]
        stream.read()
        stream.seek(0)
        seen["again"] = stream.read(3)
        seen["value"] = stream.getvalue()
        start_response("204 No Content", [])
        return []

    shim, rec = traced(app)
    body = shim(environ(**{"wsgi.input": io.BytesIO(b"abcdef")}), start_response)
    list(body)
    body.close()
    assert seen == {"again": b"abc", "value": b"abcdef"}
    assert [e.data["bytes"] for e in only(rec.events, K.WSGI_INPUT_READ)] == [6, 3]


def writer(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"legacy ")
    return [b"and iterable"]


def test_write_callable_recorded_and_forwarded() -> None:
    """The legacy write() reaches the server and is recorded before the iterable's chunks."""
    written: list[bytes] = []

    def server_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        return written.append

    app, rec = traced(writer)
    body = app(environ(), server_start_response)
    assert list(body) == [b"and iterable"]
    body.close()
    assert written == [b"legacy "]
    assert kinds(rec.events)[:4] == [
        K.REQUEST_START,
        K.WSGI_START_RESPONSE,
        K.WSGI_WRITE,
        K.WSGI_BODY,
    ]
    assert only(rec.events, K.WSGI_WRITE)[0].data == {"bytes": 7}
    assert only(rec.events, K.REQUEST_END)[0].data["bytes_out"] == 19


# -- the response iterable keeps its shape --------------------------------------------------------


class Closing:
    """An app iterable with close(), counting calls."""

    def __init__(self) -> None:
        self.closed = 0

    def __iter__(self) -> Iterator[bytes]:
        yield b"x"

    def close(self) -> None:
        self.closed += 1


def test_close_reaches_the_app_once_and_len_is_kept() -> None:
    """The app's close() runs once per server close(); len() exists exactly when the app's
    iterable had it."""
    result = Closing()
    app, rec = traced(lambda environ, start_response: (start_response("200 OK", []), result)[1])
    body = app(environ(), start_response)
    assert not hasattr(body, "__len__")
    assert list(body) == [b"x"]
    body.close()
    assert result.closed == 1
    assert only(rec.events, K.REQUEST_END)[0].data["close_called"] is True

    listed, _ = traced(hello)
    assert len(listed(environ(), start_response)) == 1


def test_server_that_never_closes_still_ends_the_request() -> None:
    """Dropping the response without close() ends the request with close_called false; the
    app's iterable is a plain list, which has no close() to miss, so no rule is broken."""
    app, rec = traced(hello)
    body = app(environ(), start_response)
    list(body)
    del body
    end = only(rec.events, K.REQUEST_END)
    assert len(end) == 1 and end[0].data["close_called"] is False
    assert K.WSGI_CLOSE not in kinds(rec.events)
    assert only(rec.events, K.VIOLATION) == []


def returning(result: Any) -> Any:
    """A WSGI app that starts a text/plain 200 and returns ``result`` as its iterable."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return result

    return app


@pytest.mark.parametrize("make", [Closing, lambda: (b"x" for _ in range(1))], ids=["class", "gen"])
def test_dropping_an_iterable_that_has_close_breaks_wsgi_022(make: Any) -> None:
    """PEP 3333: the server must call close() when the app's iterable has one. Dropping such
    an iterable (behind the shim's wrapper) unclosed is reported, and the fact recorded."""
    result = make()
    app, rec = traced(returning(result))
    body = app(environ(), start_response)
    list(body)
    del body
    end = only(rec.events, K.REQUEST_END)
    assert len(end) == 1 and end[0].data["close_called"] is False
    assert [e.data["rule"] for e in only(rec.events, K.VIOLATION)] == ["WSGI-022"]


@pytest.mark.parametrize("result", [[b"x"], (b"x",), iter([b"x"])], ids=["list", "tuple", "iter"])
def test_dropping_an_iterable_without_close_is_no_violation(result: Any) -> None:
    """A list (tuple, plain iterator) has no close(): a server need not call one, so the
    shim's wrapper dropped unclosed breaks no rule; request.end still says close was not called."""
    app, rec = traced(returning(result))
    body = app(environ(), start_response)
    assert list(body) == [b"x"]
    del body
    (end,) = only(rec.events, K.REQUEST_END)
    assert end.data["close_called"] is False and end.data["status"] == 200
    assert only(rec.events, K.VIOLATION) == []


def test_file_wrapper_is_handed_back_untouched() -> None:
    """A response of the server's own wsgi.file_wrapper type goes back as is (so the server
    can send the file its own way): the request ends when the server closes it, marked as
    such, counting the declared length as sent."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "9")])
        return environ["wsgi.file_wrapper"](io.BytesIO(b"file body"))

    shim, rec = traced(app)
    body = shim(environ(**{"wsgi.file_wrapper": wsgiref.util.FileWrapper}), start_response)
    assert type(body) is wsgiref.util.FileWrapper
    assert b"".join(body) == b"file body"
    assert only(rec.events, K.REQUEST_END) == []
    body.close()
    assert kinds(rec.events)[-3:] == [K.WSGI_CLOSE, K.SCHED_THREAD, K.REQUEST_END]
    end = only(rec.events, K.REQUEST_END)[0]
    assert end.data["file_wrapper"] is True and end.data["close_called"] is True
    assert end.data["bytes_out"] == 9


def test_iteration_on_another_thread_gives_one_segment_per_thread() -> None:
    """Called on one thread, iterated and closed on another: two sched.thread events, each on
    its own thread, one after the other."""
    app, rec = traced(chunked)
    body = app(environ(), start_response)
    other = threading.Thread(target=lambda: (list(body), body.close()), name="iterator")
    other.start()
    other.join(10)
    segments = only(rec.events, K.SCHED_THREAD)
    assert [s.thread for s in segments] == [threading.current_thread().name, "iterator"]
    assert segments[0].end <= segments[1].t
    assert all(isinstance(s.data["cpu_ns"], int) for s in segments)
    assert only(rec.events, K.WSGI_BODY)[0].thread == "iterator"


# -- errors ----------------------------------------------------------------------------------------


class Boom(Exception):
    pass


def raises_in_call(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    raise Boom("in the call")


def raises_mid_body(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"partial"
    raise Boom("mid-iteration")


class RaisesInClose(Closing):
    def close(self) -> None:
        raise Boom("in close")


@pytest.mark.parametrize(
    "app,message",
    [
        (raises_in_call, "in the call"),
        (raises_mid_body, "mid-iteration"),
        (lambda e, s: (s("200 OK", []), RaisesInClose())[1], "in close"),
    ],
    ids=["call", "iteration", "close"],
)
def test_app_exception_recorded_and_reraised_unchanged(app: Any, message: str) -> None:
    """The very exception object propagates; an error event names it and where it was raised,
    and request.end carries its type."""
    wrapped, rec = traced(app)
    with pytest.raises(Boom) as wrapped_info:
        serve(wrapped)
    with pytest.raises(Boom) as plain_info:
        serve(app)
    assert str(wrapped_info.value) == str(plain_info.value) == message
    error = only(rec.events, K.ERROR)
    assert len(error) == 1
    assert error[0].data["type"] == "Boom" and error[0].data["message"] == message
    assert error[0].data["where"].startswith("tests/shim/test_wsgi.py:")
    end = only(rec.events, K.REQUEST_END)
    assert len(end) == 1 and end[0].data["error"] == "Boom"


def returns_a_number(environ: dict[str, Any], start_response: Any) -> Any:  # RETURNS_NUMBER
    """A WSGI app whose result is not an iterable: the shim's ``iter()`` on it raises."""
    return 42


def test_non_iterable_result_is_placed_at_the_app_definition() -> None:
    """``iter()`` of the app's result fails in the shim's frames: the error's ``where`` is the
    app callable's own file:line (where it is defined), never a file of the tracer."""
    wrapped, rec = traced(returns_a_number)
    with pytest.raises(TypeError):
        list(wrapped(environ(), lambda status, headers, exc_info=None: None))
    (error,) = only(rec.events, K.ERROR)
    assert error.data["type"] == "TypeError"
    line = returns_a_number.__code__.co_firstlineno
    assert error.data["where"] == f"tests/shim/test_wsgi.py:{line}"


def test_exception_identity_is_preserved() -> None:
    """What the server catches is the app's own exception object, traceback included."""
    raised: list[BaseException] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        error = Boom("same")
        raised.append(error)
        raise error

    shim, _ = traced(app)
    with pytest.raises(Boom) as info:
        shim(environ(), start_response)
    assert info.value is raised[0]


# -- redaction -------------------------------------------------------------------------------------

SECRET_HEADERS = {
    "Authorization": "Bearer hunter2",
    "Cookie": "session=s3cr3t",
    "X-Api-Key": "k-123",
    "Proxy-Authorization": "Basic x",
}


def sets_cookie(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Set-Cookie", "session=new-secret")])
    return [b"ok"]


def test_secrets_redacted_by_default() -> None:
    """Secret request headers, secret query parameters and Set-Cookie never reach the
    recording; other values do."""
    app, rec = traced(sets_cookie)
    serve(app, url="/?api_token=t0k&page=2", headers={**SECRET_HEADERS, "X-Trace": "visible"})
    start = only(rec.events, K.REQUEST_START)[0]
    headers = dict(map(tuple, start.data["headers"]))
    for name in SECRET_HEADERS:
        assert headers[name.lower()] == REDACTED
    assert headers["x-trace"] == "visible"
    assert start.data["query"] == f"api_token={REDACTED}&page=2"
    response_headers = only(rec.events, K.WSGI_START_RESPONSE)[0].data["headers"]
    assert response_headers == [["Content-Type", "text/plain"], ["Set-Cookie", REDACTED]]
    text = repr([event.data for event in rec.events])
    for secret in ("hunter2", "s3cr3t", "k-123", "t0k", "new-secret"):
        assert secret not in text


def test_redaction_opt_out_keeps_everything() -> None:
    """redact=False records headers and query exactly as sent."""
    app, rec = traced(sets_cookie, redact=False)
    serve(app, url="/?api_token=t0k", headers={"Authorization": "Bearer hunter2"})
    start = only(rec.events, K.REQUEST_START)[0]
    assert ["authorization", "Bearer hunter2"] in start.data["headers"]
    assert start.data["query"] == "api_token=t0k"
    assert ["Set-Cookie", "session=new-secret"] in only(rec.events, K.WSGI_START_RESPONSE)[0].data[
        "headers"
    ]


def test_redact_headers_replaces_the_set() -> None:
    """redact_headers names the headers to hide (any case), instead of the default set."""
    app, rec = traced(hello, redact_headers={"X-Internal"})
    serve(app, headers={"X-Internal": "hide", "Authorization": "Bearer shown"})
    headers = dict(map(tuple, only(rec.events, K.REQUEST_START)[0].data["headers"]))
    assert headers["x-internal"] == REDACTED
    assert headers["authorization"] == "Bearer shown"


# -- transparency with a real Flask app ------------------------------------------------------------


def make_flask_app() -> flask.Flask:
    app = flask.Flask("shim_test")

    @app.get("/")
    def index() -> str:
        return "index"

    @app.post("/echo")
    def echo() -> Any:
        return flask.jsonify(got=flask.request.get_json(), length=flask.request.content_length)

    @app.get("/stream")
    def stream() -> Any:
        return flask.Response((f"part{i};" for i in range(3)), mimetype="text/plain")

    @app.get("/cookie")
    def cookie() -> Any:
        response = flask.make_response("c")
        response.set_cookie("session", "value")
        return response

    return app


FLASK_REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/", {}),
    ("POST", "/echo", {"json": {"a": [1, 2, 3]}}),
    ("GET", "/stream", {}),
    ("GET", "/cookie", {}),
    ("GET", "/missing", {}),
    ("DELETE", "/", {}),
]


@pytest.mark.parametrize("method,path,kwargs", FLASK_REQUESTS)
def test_flask_same_response_wrapped_and_unwrapped(
    method: str, path: str, kwargs: dict[str, Any]
) -> None:
    """Status, headers and body are byte for byte those of the unwrapped Flask app."""
    plain = serve(make_flask_app(), method, path, **kwargs)
    app, rec = traced(make_flask_app())
    wrapped = serve(app, method, path, **kwargs)
    assert wrapped.status_code == plain.status_code
    assert wrapped.headers.multi_items() == plain.headers.multi_items()
    assert wrapped.content == plain.content
    end = only(rec.events, K.REQUEST_END)[0]
    assert end.data["status"] == plain.status_code
    assert end.data["bytes_out"] == len(plain.content)
    assert end.data["close_called"] is True


def test_flask_body_read_and_streaming_recorded() -> None:
    """Flask's JSON parsing reads the body through wsgi.input; a streamed response is one
    wsgi.body event per part."""
    app, rec = traced(make_flask_app())
    serve(app, "POST", "/echo", json={"a": 1})
    reads = only(rec.events, K.WSGI_INPUT_READ)
    assert sum(event.data["bytes"] for event in reads) == len(b'{"a":1}')
    rec2 = Recorder()
    serve(WsgiShim(make_flask_app(), recorder=rec2), "GET", "/stream")
    assert [e.data["bytes"] for e in only(rec2.events, K.WSGI_BODY)] == [6, 6, 6]


def test_violation_events_from_the_checker() -> None:
    """A status line without a reason phrase is reported as a violation of the request."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200", [("Content-Type", "text/plain")])
        return [b"x"]

    shim, rec = traced(app)
    body = shim(environ(), start_response)
    list(body)
    body.close()
    violations = only(rec.events, K.VIOLATION)
    assert [v.data["rule"] for v in violations] == ["WSGI-005"]
    assert violations[0].req == only(rec.events, K.REQUEST_START)[0].req
    shim_off, rec_off = traced(app, checks=False)
    list(shim_off(environ(), start_response))
    assert only(rec_off.events, K.VIOLATION) == []


# -- failures of the shim's own parts never break a request ----------------------------------------


class FailingRecorder(Recorder):
    """A recorder whose every emit fails, as a full disk or a bug would."""

    def emit(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("recorder broke")


def test_recorder_failure_never_breaks_the_request(caplog: pytest.LogCaptureFixture) -> None:
    """With every emit failing, requests still get the app's response; each failing place is
    logged once, not once per request."""
    app = WsgiShim(chunked, recorder=FailingRecorder())
    with caplog.at_level(logging.ERROR, logger="tracer"):
        first = serve(app)
        second = serve(app)
    assert first.content == second.content == b"one,two,three"
    messages = [record.getMessage() for record in caplog.records]
    assert messages and len(messages) == len(set(messages))


class UnbuildableChecker:
    """A checker whose construction fails."""

    def __init__(self, environ: dict[str, Any], report: Any) -> None:
        raise RuntimeError("checker cannot start")


def test_checker_that_cannot_start_leaves_the_request_traced() -> None:
    """A checker failing at construction costs only the checks: every event is recorded."""
    app, rec = traced(hello)
    app.checker_factory = UnbuildableChecker
    assert serve(app).text == "Hello, World!"
    assert kinds(rec.events) == [
        K.REQUEST_START,
        K.WSGI_START_RESPONSE,
        K.WSGI_BODY,
        K.WSGI_CLOSE,
        K.SCHED_THREAD,
        K.REQUEST_END,
    ]


class BrokenChecker:
    """A checker that raises in every hook."""

    def __init__(self, environ: dict[str, Any], report: Any) -> None:
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        def hook(*args: Any, **kwargs: Any) -> None:
            raise ValueError(f"checker bug in {name}")

        return hook


def test_failing_checker_is_disabled_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    """A checker that raises is switched off for the request; the request and its events
    are complete, and the failure is logged once across requests."""
    app, rec = traced(hello)
    app.checker_factory = BrokenChecker
    with caplog.at_level(logging.ERROR, logger="tracer"):
        assert serve(app).text == "Hello, World!"
        assert serve(app).text == "Hello, World!"
    assert kinds(rec.events).count(K.REQUEST_END) == 2
    assert len([r for r in caplog.records if "checker" in r.getMessage()]) == 1


# -- a real server on 127.0.0.1 ------------------------------------------------------------------


def test_real_server_send_file_uses_the_servers_file_wrapper(tmp_path: Any) -> None:
    """Behind wsgiref's real server, Flask's send_file returns the server's file wrapper: the
    shim hands it back untouched and the client gets the file; a plain route is closed by the
    server as usual."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    served = tmp_path / "served.txt"
    served.write_bytes(b"contents of a file\n")
    flask_app = make_flask_app()
    flask_app.add_url_rule("/file", "file", lambda: flask.send_file(served))
    rec = Recorder()
    server = make_server("127.0.0.1", 0, WsgiShim(flask_app, recorder=rec), handler_class=Quiet)
    thread = threading.Thread(target=lambda: [server.handle_request() for _ in range(2)])
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            assert client.get("/file").content == b"contents of a file\n"
            assert client.get("/").text == "index"
    finally:
        thread.join(10)
        server.server_close()
    ends = only(rec.events, K.REQUEST_END)
    assert [end.data.get("file_wrapper", False) for end in ends] == [True, False]
    assert ends[1].data["close_called"] is True and ends[1].data["status"] == 200
    assert only(rec.events, K.REQUEST_START)[0].data["client"].startswith("127.0.0.1")


def test_asgiref_adapter_never_closes_and_runs_on_its_thread() -> None:
    """Behind asgiref's WsgiToAsgi (the wsgi-on-loop model), the app runs on the adapter's
    worker thread, not the event loop's, and the adapter never calls close(): the request
    still ends, with close_called false. The app returns a list (nothing to close): no rule
    is broken; a generator (it has close()) is reported under WSGI-022."""
    import asyncio

    from asgiref.wsgi import WsgiToAsgi

    rec = Recorder()
    adapter = WsgiToAsgi(WsgiShim(hello, recorder=rec))
    loop_threads: list[int] = []

    async def main() -> httpx.Response:
        loop_threads.append(threading.get_ident())
        transport = httpx.ASGITransport(app=adapter)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get("/")

    assert asyncio.run(main()).text == "Hello, World!"
    events = rec.events
    assert {event.tid for event in events}.isdisjoint(loop_threads)
    assert len({event.tid for event in events}) == 1
    end = only(events, K.REQUEST_END)[0]
    assert end.data["close_called"] is False and end.data["status"] == 200
    assert only(events, K.VIOLATION) == []

    def generated(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"generated"

    rec = Recorder()
    adapter = WsgiToAsgi(WsgiShim(generated, recorder=rec))
    assert asyncio.run(main()).text == "generated"
    end = only(rec.events, K.REQUEST_END)[0]
    assert end.data["close_called"] is False
    assert [v.data["rule"] for v in only(rec.events, K.VIOLATION)] == ["WSGI-022"]


def test_start_response_with_exc_info_and_malformed_headers() -> None:
    """An error page sent with exc_info names the exception; headers that are not pairs are
    recorded as null (and reported), the call still reaching the server unchanged."""
    import sys

    seen: list[Any] = []

    def server_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        seen.append((status, headers, exc_info))
        return lambda data: None

    def error_page(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        try:
            raise ValueError("bad input")
        except ValueError:
            start_response(
                "500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info()
            )
        return [b"error"]

    shim, rec = traced(error_page)
    body = shim(environ(), server_start_response)
    list(body)
    body.close()
    assert seen[0][2][0] is ValueError
    assert only(rec.events, K.WSGI_START_RESPONSE)[0].data["exc_info"] == "ValueError"
    assert only(rec.events, K.REQUEST_END)[0].data["status"] == 500

    def bad_headers(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", "Content-Type: text/plain")
        return [b"x"]

    shim, rec = traced(bad_headers)
    body = shim(environ(), server_start_response)
    list(body)
    body.close()
    assert seen[1] == ("200 OK", "Content-Type: text/plain", None)
    assert only(rec.events, K.WSGI_START_RESPONSE)[0].data["headers"] is None
    assert only(rec.events, K.VIOLATION)


def test_cpu_time_never_exceeds_the_wall_time_around_it() -> None:
    """A request's thread segment: 0 <= cpu_ns <= dur, however the clock reads interleave
    (the end of a closed response was read before the CPU clock)."""
    app, rec = traced(lambda environ, start_response: (start_response("200 OK", []), Closing())[1])
    for _ in range(300):
        body = app(environ(), start_response)
        list(body)
        body.close()
    segments = [e for e in rec.events if e.kind == K.SCHED_THREAD]
    assert len(segments) == 300
    assert all(0 <= s.data["cpu_ns"] <= s.dur for s in segments)


# -- one recorder, one request, however often the app is wrapped --------------------------------


def copy_environ(app: Any) -> Any:
    """Middleware between two shims that hands the app a copy of the environ."""

    def middleware(environ: dict[str, Any], start_response: Any) -> Any:
        return app(dict(environ), start_response)

    return middleware


@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(
            lambda app, rec: WsgiShim(WsgiShim(app, recorder=rec), recorder=rec), id="twice"
        ),
        pytest.param(
            lambda app, rec: WsgiShim(copy_environ(WsgiShim(app, recorder=rec)), recorder=rec),
            id="middleware-copying-the-environ",
        ),
        pytest.param(
            lambda app, rec: WsgiShim(
                WsgiShim(WsgiShim(app, recorder=rec), recorder=Recorder()), recorder=rec
            ),
            id="another-recorder-between",
        ),
    ],
)
def test_a_recorder_records_each_request_once_however_often_the_app_is_wrapped(
    wrap: Any,
) -> None:
    """Shims of one recorder around one app: the innermost passes the request straight to the
    app, so the request is recorded once, exactly as by one shim."""
    rec = Recorder()
    assert serve(wrap(make_flask_app(), rec), "POST", "/echo", json={"a": 1}).status_code == 200
    once = Recorder()
    serve(WsgiShim(make_flask_app(), recorder=once), "POST", "/echo", json={"a": 1})
    assert kinds(rec.events) == kinds(once.events)
    assert len(only(rec.events, K.REQUEST_START)) == 1


def test_two_recorders_both_record_every_request() -> None:
    """Shims of two recorders around one app: each records the request in full."""
    first, second = Recorder(), Recorder()
    app = WsgiShim(WsgiShim(make_flask_app(), recorder=first), recorder=second)
    serve(app, "POST", "/echo", json={"a": 1})
    for rec in (first, second):
        assert len(only(rec.events, K.REQUEST_START)) == 1
        assert len(only(rec.events, K.WSGI_INPUT_READ)) >= 1
        assert only(rec.events, K.REQUEST_END)[0].data["status"] == 200


def test_instrument_returns_a_wsgi_shim_of_the_same_recorder_and_settings_as_it_is() -> None:
    """``instrument(shim)`` with the shim's recorder and settings returns it; other settings
    or another recorder wrap it."""
    rec = Recorder()
    shim = tracer.instrument(hello, recorder=rec)
    assert tracer.instrument(shim, recorder=rec) is shim
    assert tracer.instrument(shim, recorder=rec, checks=False).app is shim
    assert tracer.instrument(shim, recorder=Recorder()).app is shim


class _Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no words")


def test_an_exception_that_cannot_be_printed_is_recorded_all_the_same() -> None:
    """An app's exception whose ``str()`` raises: the shim's own recording failed (a traceback
    of ours and no ``error``). It is recorded as the traceback module prints it, and comes out
    unchanged."""
    raised = ValueError(_Unprintable())

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise raised

    shim, rec = traced(app)
    with pytest.raises(ValueError) as caught:
        serve(shim)
    assert caught.value is raised
    (error,) = only(rec.events, K.ERROR)
    assert error.data["message"] == "<unprintable ValueError object>"
    assert only(rec.events, K.REQUEST_END)[0].data["error"] == "ValueError"
