"""The in-process driver of ``trace check``: representative requests through the real shim.

The app is wrapped with ``tracer.instrument(app, recorder=...)``, so violations come from the
same code path as every other recording; this module only plays the server. WSGI: GET each
path, POST with a body (followed on ``wsgi.input`` by the next request's bytes, as on a
keep-alive socket, so reading past CONTENT_LENGTH shows), POST chunked. ASGI: lifespan startup,
the same requests (the chunked one as three ``http.request`` messages), a websocket session,
lifespan shutdown. Probes the app plainly does not handle (a websocket to an HTTP-only app)
are skipped, not judged. Imports the spine, ``tracer.instrument`` and this package.
"""

from __future__ import annotations

import asyncio
import io
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tracer import events as K
from tracer.conformance.findings import CheckReport, Finding, app_location, findings_from_events
from tracer.conformance.rules import RULES
from tracer.events import Event
from tracer.interface import detect_interface, is_asgi
from tracer.recorder import Recorder

__all__ = ["Probe", "plan", "check_app"]

BODY = b'{"probe": "gateway-tracer check"}'
# What a keep-alive client sends next: an app reading past CONTENT_LENGTH gets these bytes.
NEXT_REQUEST = b"GET /next HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@dataclass(frozen=True, slots=True)
class Probe:
    """One representative request."""

    name: str
    """How findings name it: ``GET /``, ``POST / (chunked)``, ``websocket /``, ``lifespan``."""
    kind: str
    """``http`` or ``websocket`` (lifespan is driven around the others)."""
    method: str = "GET"
    path: str = "/"
    chunks: tuple[bytes, ...] = ()
    """The request body; more than one chunk means a streamed (chunked) body."""


def plan(paths: Sequence[str], *, websocket: bool = True) -> list[Probe]:
    """The probes for ``paths``: GET, POST with a body, POST chunked, then a websocket."""
    probes = []
    for path in paths:
        probes.append(Probe(f"GET {path}", "http", "GET", path))
        probes.append(Probe(f"POST {path}", "http", "POST", path, (BODY,)))
        probes.append(
            Probe(
                f"POST {path} (chunked)", "http", "POST", path, (BODY[:10], BODY[10:20], BODY[20:])
            )
        )
    if websocket:
        probes.extend(Probe(f"websocket {path}", "websocket", "GET", path) for path in paths)
    return probes


def _split(path: str) -> tuple[str, str]:
    path, _, query = path.partition("?")
    return path or "/", query


def _headers(probe: Probe) -> list[tuple[str, str]]:
    headers = [("host", "127.0.0.1:8000"), ("user-agent", "gateway-tracer-check")]
    if probe.chunks:
        headers.append(("content-type", "application/json"))
        if len(probe.chunks) == 1:
            headers.append(("content-length", str(len(probe.chunks[0]))))
        else:
            headers.append(("transfer-encoding", "chunked"))
    return headers


class _Session:
    """One check run: the recorder, the findings so far, and where the next probe's events start."""

    def __init__(
        self, app: Any, label: str, interface: str, recorder: Recorder | None, timeout: float
    ) -> None:
        from tracer import instrument

        self.timeout = timeout
        self.lifespan_req: int | None = None
        self.lifespan_events: list[Event] = []
        self.recorder = recorder if recorder is not None else Recorder()
        self.traced = instrument(app, recorder=self.recorder, interface=interface)
        self.report = CheckReport(app=label, interface="asgi" if is_asgi(interface) else "wsgi")
        self.fallback = app_location(app)
        self._seen = 0

    def events(self) -> list[Event]:
        """The events recorded since the last call, minus the lifespan connection's."""
        events = self.recorder.events
        fresh, self._seen = events[self._seen :], len(events)
        for event in fresh:
            if event.kind == K.REQUEST_START and event.data.get("scope_type") == "lifespan":
                self.lifespan_req = event.req
        if self.lifespan_req is None:
            return fresh
        self.lifespan_events.extend(e for e in fresh if e.req == self.lifespan_req)
        return [e for e in fresh if e.req != self.lifespan_req]

    def collect(
        self,
        request: str,
        *,
        timed_out: bool = False,
        skip: str | None = None,
        events: list[Event] | None = None,
    ) -> None:
        """File the probe's violations (or drop them, with ``skip``, if it did not apply)."""
        if events is None:
            events = self.events()
        if skip is not None:
            self.report.skipped.append(f"{request}: {skip}")
            return
        self.report.requests.append(request)
        self.report.findings.extend(findings_from_events(events, request, fallback=self.fallback))
        if timed_out:
            rule = RULES["CHK-001"]
            message = f"{rule.message} ({self.timeout:g} s)"
            self.report.findings.append(
                Finding(rule.id, rule.severity, message, rule.hint, request, self.fallback)
            )


# -- WSGI ---------------------------------------------------------------------------------------


def _environ(probe: Probe) -> dict[str, Any]:
    path, query = _split(probe.path)
    body = b"".join(probe.chunks)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": probe.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body + (NEXT_REQUEST if len(probe.chunks) == 1 else b"")),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in _headers(probe):
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
        else:
            environ[f"HTTP_{key}"] = value
    if len(probe.chunks) > 1:
        environ["wsgi.input_terminated"] = True
    return environ


def _serve_wsgi(app: Any, environ: dict[str, Any]) -> None:
    """Be a PEP 3333 server for one request: start_response, write, iterate, close."""
    sent = False

    def write(data: bytes) -> None:
        nonlocal sent
        sent = sent or bool(data)

    def start_response(status: str, headers: list[Any], exc_info: Any = None) -> Any:
        if exc_info is not None and sent:
            raise exc_info[1].with_traceback(exc_info[2])
        return write

    try:
        result = app(environ, start_response)
    except Exception:
        return  # recorded by the shim as an error event
    try:
        for item in result:
            write(item)
    except Exception:
        pass
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                pass


def _check_wsgi(session: _Session, probes: list[Probe], timeout: float) -> None:
    for probe in probes:
        if probe.kind != "http":
            continue
        worker = threading.Thread(
            target=_serve_wsgi,
            args=(session.traced, _environ(probe)),
            daemon=True,
            name="trace-check",
        )
        worker.start()
        worker.join(timeout)
        session.collect(probe.name, timed_out=worker.is_alive())


# -- ASGI ---------------------------------------------------------------------------------------


def _scope(probe: Probe) -> dict[str, Any]:
    path, query = _split(probe.path)
    scope: dict[str, Any] = {
        "type": probe.kind,
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "http" if probe.kind == "http" else "ws",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in _headers(probe)],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
        "extensions": {},
    }
    if probe.kind == "http":
        scope["method"] = probe.method
    else:
        scope["subprotocols"] = []
    return scope


async def _http(app: Any, probe: Probe, timeout: float) -> tuple[bool, str | None]:
    """Drive one http request; return (timed out, why skipped)."""
    chunks = list(probe.chunks) or [b""]
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await done.wait()  # the client stays until the response is complete
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        kind = message.get("type") if isinstance(message, dict) else None
        if (kind == "http.response.body" and not message.get("more_body", False)) or (
            kind == "http.response.pathsend"
        ):
            done.set()

    return await _run(app(_scope(probe), receive, send), timeout), None


async def _websocket(app: Any, probe: Probe, timeout: float) -> tuple[bool, str | None]:
    """Drive a websocket session: connect, one text message, disconnect."""
    incoming: list[dict[str, Any]] = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": "probe"},
    ]
    first: list[str] = []
    received = 0

    async def receive() -> dict[str, Any]:
        nonlocal received
        received += 1
        if incoming:
            return incoming.pop(0)
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Any) -> None:
        if not first:
            first.append(str(message.get("type") if isinstance(message, dict) else None))

    timed_out = await _run(app(_scope(probe), receive, send), timeout)
    if (not first and not received) or (first and first[0].startswith("http.")):
        # It never looked at the connection, or answered it as HTTP: an HTTP-only app.
        return timed_out, "the app does not handle websocket scopes"
    return timed_out, None


async def _run(coro: Any, timeout: float) -> bool:
    """Await the app; True if it timed out (it is then cancelled)."""
    try:
        await asyncio.wait_for(coro, timeout)
    except TimeoutError:
        return True
    except Exception:
        pass  # recorded by the shim as an error event
    return False


class _Lifespan:
    """The lifespan connection, running beside the requests."""

    def __init__(self, app: Any) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.answered = asyncio.Event()
        self.first: str | None = None
        self.received = 0
        self.app = app
        self.task: asyncio.Task[Any] | None = None

    async def receive(self) -> dict[str, Any]:
        self.received += 1
        return await self.queue.get()

    async def send(self, message: Any) -> None:
        kind = message.get("type") if isinstance(message, dict) else None
        if self.first is None:
            self.first = str(kind)
        if isinstance(kind, str) and kind.startswith("lifespan.") and kind.count(".") == 2:
            self.answered.set()

    async def phase(self, message: str, timeout: float) -> None:
        """Send ``lifespan.startup``/``shutdown``; wait for the answer or the app's end."""
        if self.task is None:
            scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.4"}}
            scope["state"] = {}
            self.task = asyncio.ensure_future(self.app(scope, self.receive, self.send))
        self.answered.clear()
        await self.queue.put({"type": message})
        waiter = asyncio.ensure_future(self.answered.wait())
        await asyncio.wait(
            {waiter, self.task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        waiter.cancel()

    async def end(self) -> None:
        if self.task is None:
            return
        if not self.task.done():
            self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    def skip_reason(self) -> str | None:
        """Why the lifespan probe does not apply (the app ignores or misreads the scope)."""
        ignored = self.first is None and not self.received
        if ignored or (self.first is not None and self.first.startswith("http.")):
            return "the app does not handle lifespan scopes"
        return None


async def _check_asgi(session: _Session, probes: list[Probe], timeout: float) -> None:
    lifespan = _Lifespan(session.traced)
    await lifespan.phase("lifespan.startup", timeout)
    skip = lifespan.skip_reason()
    if skip is not None:
        await lifespan.end()
    session.events()  # the lifespan connection's own events are filed at the end
    for probe in probes:
        driver = _http if probe.kind == "http" else _websocket
        timed_out, why = await driver(session.traced, probe, timeout)
        session.collect(probe.name, timed_out=timed_out, skip=why)
    if skip is None:
        await lifespan.phase("lifespan.shutdown", timeout)
        await lifespan.end()
    session.events()
    session.collect("lifespan", skip=skip, events=session.lifespan_events)


def check_app(
    app: Any,
    *,
    paths: Sequence[str] = ("/",),
    interface: str = "auto",
    timeout: float = 5.0,
    label: str | None = None,
    recorder: Recorder | None = None,
) -> CheckReport:
    """Drive ``app`` through representative requests and return what broke the protocol.

    ``timeout`` bounds each request (CHK-001 past it); ``recorder`` receives every event (a
    new in-memory one by default), so a check can be saved and replayed like any recording.
    """
    kind = detect_interface(app, interface)
    name = label or getattr(app, "__qualname__", None) or type(app).__name__
    session = _Session(app, name, kind, recorder, timeout)
    probes = plan(list(paths) or ["/"], websocket=is_asgi(kind))
    if is_asgi(kind):
        asyncio.run(_check_asgi(session, probes, timeout))
    else:
        _check_wsgi(session, probes, timeout)
    session.recorder.drain()
    return session.report
