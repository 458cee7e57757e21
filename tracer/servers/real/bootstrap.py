"""The module a real server imports as its app: ``tracer.servers.real.bootstrap:app``.

Importing this module does nothing; reading its ``app`` attribute (which every server does, in
every worker process) loads the user's app from the ``GATEWAY_TRACER_*`` environment variables,
wraps it with ``tracer.instrument`` and a ``Recorder`` of its own that streams to
``<dir>/<pid>.events`` (marshal frames, ``frames.py``) with the parent's t=0 (CLOCK_MONOTONIC is system-wide, so the parent can
merge every process's events into one timeline), and drops ``<dir>/<pid>.ready``. An app
that ends the process with ``os._exit`` (no atexit then) gets its recording written first, and
the code it asked for in ``<dir>/<pid>.exit`` (``tracer.servers.exit_guard``); one that ends
it by raising a signal on itself (uvicorn's re-raised stop signal, which skips atexit too) gets
it written first as well (``raised_signals``).
In front of the shim, a tiny adapter moves the client's ``x-gateway-tracer-req`` header into
``scope["extensions"]["gateway_tracer"]["req"]`` (ASGI) or ``environ["gateway_tracer.req"]``
(WSGI), so client and server events share their request id; the header itself is taken out of
the scope's headers / the environ, so the app (and the shim's ``request.start``) sees the
request as a plain client sent it.
Imports the spine, ``tracer.instrument`` (and the shims, before the app), ``tracer.loading``
and the small helpers of ``tracer.servers`` (``exit_guard``, ``failures``, ``waits``); never the
TUI or the CLI.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import importlib
import itertools
import json
import logging
import os
import shutil
import signal
import sys
import threading
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tracer.events import Event
from tracer.recorder import Recorder, first_request_id
from tracer.servers.exit_guard import guard_os_exit
from tracer.servers.failures import describe_failure, raised_at
from tracer.servers.real.frames import BUSY_FLUSH_INTERVAL, BUSY_ROWS, encode
from tracer.servers.real.lifespan_marks import watch_lifespan
from tracer.servers.real.raised_signals import guard_raise_signal
from tracer.servers.waits import sleep

__all__ = [
    "ENV",
    "FLUSH_INTERVAL",
    "ProcessRecorder",
    "AsgiRequestIds",
    "WsgiRequestIds",
    "build_app",
    "load_failure",
    "create_app",
    "settings_env",
    "watch_parent",
]

log = logging.getLogger("tracer")

ENV = "GATEWAY_TRACER_BOOTSTRAP"
"""The environment variable holding the JSON settings of the bootstrap."""

_HEADER = b"x-gateway-tracer-req"
_ENVIRON_HEADER = "HTTP_X_GATEWAY_TRACER_REQ"
_ENVIRON_KEY = "gateway_tracer.req"

_NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
"""The errors of a write the machine has no room for: a full disk, a quota, ``ulimit -f``."""

FLUSH_INTERVAL = 0.02
"""Seconds between writes of a server process's events: short, so the parent's view is live
and the run's end is known quickly (an empty write costs about a microsecond). A process
writing many rows at a time writes less often (``frames.BUSY_ROWS``)."""


def settings_env(
    *,
    app_spec: str,
    directory: str,
    start_ns: int,
    parent: int | None = None,
    interface: str = "auto",
    factory: bool = False,
    app_dir: str = ".",
    instrument: dict[str, Any] | None = None,
) -> dict[str, str]:
    """The environment variables that tell ``app`` what to load and where to record.

    ``parent`` is the pid of the ``trace`` process: if it vanishes (killed, so it could not
    stop the server), the server's processes take their own group down.
    """
    settings = {
        "app": app_spec,
        "dir": directory,
        "start_ns": start_ns,
        "parent": parent,
        "interface": interface,
        "factory": factory,
        "app_dir": os.path.abspath(app_dir),
        "instrument": instrument or {},
    }
    return {ENV: json.dumps(settings)}


class ProcessRecorder(Recorder):
    """The recorder of one server process: raw event rows to ``path`` as marshal frames.

    Rows go out as the producers made them, packed ones included (``tracer.recorder.Sink``):
    no dict and no ``Event`` is made in the server process.

    The request ids it makes (lifespan, requests without the client's id header) live in this
    process's own range (``tracer.recorder.first_request_id``), so they never meet the
    client's ids (1, 2, ...) or another process's. JSON is left to the parent, which merges
    every process's stream into the recording: a server process spends as little as
    possible on recording, since its CPU is what the run measures.

    Its timed writes come every ``flush_interval``, or ``frames.BUSY_FLUSH_INTERVAL`` (if
    longer) after one that wrote ``frames.BUSY_ROWS`` rows or more: each wake-up of the writer
    thread takes the GIL from the server's loop, and under load fewer, larger writes cost the
    process less CPU per request (``bench/server_overhead.py``; docs/decisions.md, "Speed").
    """

    def __init__(
        self, path: str | os.PathLike[str], *, start_ns: int, flush_interval: float = FLUSH_INTERVAL
    ) -> None:
        super().__init__(None, keep=False, start_ns=start_ns, flush_interval=flush_interval)
        # The base's own counter, not one of ours: a child forked from this process (an app
        # forking a worker) then numbers its requests in its own range, as the base does.
        self._req_ids = itertools.count(first_request_id(os.getpid()))
        # Unbuffered: a write the disk has no room for leaves nothing behind to fail again at
        # each flush and at close (atexit), each time with a traceback in the server's log.
        self._file = open(path, "ab", buffering=0)  # closed by close()
        self._lost = False  # a write failed: later events go nowhere (``_write_failed``)
        self._busy_interval = max(flush_interval, BUSY_FLUSH_INTERVAL)
        self._last_rows = 0  # rows of the last frame written (``_next_flush_interval``)
        self._start_thread()  # the base class starts its drain thread only for a path

    drains_packed_rows = True
    """The shims' packed rows go to the stream as they are: the parent unpacks them."""

    def drain(self) -> list[Event]:
        """Write the queued event tuples as one frame (returns no ``Event`` objects)."""
        with self._drain_lock:
            self._write_queued()
        return []

    def drain_before_end(self, timeout: float = 1.0) -> None:
        """``drain`` as this process is about to end by a signal it raises on itself: within
        ``timeout`` seconds, since a signal handler may be interrupting a drain of this very
        thread (whose lock it would wait for for ever); then what is queued is lost."""
        if not self._drain_lock.acquire(timeout=timeout):
            return
        try:
            self._write_queued()
        finally:
            self._drain_lock.release()

    def _write_queued(self) -> None:
        queue = self._queue
        popleft = queue.popleft
        # A counted number: what emitters append meanwhile waits for the next drain.
        rows = [popleft() for _ in range(len(queue))]
        self._last_rows = len(rows)
        if rows and not self._file.closed and not self._lost:
            frame = memoryview(encode(rows))
            try:
                while frame:  # (a write may take part of it: a disk that fills up)
                    frame = frame[self._file.write(frame) or len(frame) :]
            except OSError as exc:
                self._write_failed(exc)

    def _next_flush_interval(self) -> float:
        """The pause before the next timed write: longer after a busy one (``BUSY_ROWS``)."""
        return self._busy_interval if self._last_rows >= BUSY_ROWS else self._flush_interval

    def _write_failed(self, exc: OSError) -> None:
        """Say once, in one line on standard error (the server's log), that this process's
        events could not be written, and write none after them: the frame cut short ends the
        stream (the parent reads the frames before it), and what the app goes on doing is
        served, not recorded. The run itself fails to write its recording as well on a full
        disk, and says so on its own stderr."""
        self._lost = True
        reason = exc.strerror or str(exc) or type(exc).__name__
        failed = "cannot write this server process's events"
        if exc.errno in _NO_ROOM:
            failed = "no room to write this server process's events"
            reason += ": a full disk, a quota or ulimit -f"
        line = f"gateway-tracer: {failed} ({reason}); its later events are not recorded\n"
        with contextlib.suppress(OSError):
            os.write(2, line.encode("utf-8", "backslashreplace"))

    flush = drain

    def close(self) -> None:
        """Write what is left and close the stream (idempotent)."""
        super().close()
        self._file.close()


class AsgiRequestIds:
    """ASGI: move the client's request id header into the scope extension the shim reads.

    The app gets a copy of the scope without that header (and with the extension): the
    server's own scope is left as the server made it. The lifespan passes as it is (the shim
    behind drains the recorder when it ends, ``tracer.shim.asgi``, which is what a server
    ending without atexit needs), watched when ``marks`` names the run's folder: where the
    app's startup and shutdown stand is marked there (``lifespan_marks``).
    """

    def __init__(self, app: Any, marks: Path | None = None) -> None:
        self.app = app
        self.marks = marks

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "lifespan":
            if self.marks is not None:
                await watch_lifespan(self.app, self.marks, scope, receive, send)
                return
        else:
            headers = scope.get("headers")
            if headers:
                scope = _moved(scope, headers)
        await self.app(scope, receive, send)


def _moved(scope: dict[str, Any], headers: Iterable[Any]) -> dict[str, Any]:
    """``scope`` without the id header, its id in the extension (``scope`` when no header)."""
    kept = []
    req: int | None = None
    found = False
    for pair in headers:
        if pair[0] == _HEADER:
            found = True
            if req is None:
                try:
                    req = int(pair[1])
                except ValueError:
                    pass
        else:
            kept.append(pair)
    if not found:
        return scope
    scope = dict(scope)
    scope["headers"] = kept
    if req is not None:
        extensions = dict(scope.get("extensions") or {})
        extensions["gateway_tracer"] = {"req": req}
        scope["extensions"] = extensions
    return scope


class WsgiRequestIds:
    """WSGI: move the client's request id header into ``environ["gateway_tracer.req"]``
    (the app's environ no longer has ``HTTP_X_GATEWAY_TRACER_REQ``)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        value = environ.pop(_ENVIRON_HEADER, None)
        if value is not None and value.isdigit():
            environ[_ENVIRON_KEY] = int(value)
        return self.app(environ, start_response)  # type: ignore[no-any-return]


def build_app(settings: dict[str, Any]) -> Any:
    """Load, instrument and adapt the app; start this process's recording; mark it ready.

    ``settings`` are ``settings_env``'s, and optionally ``flush_interval`` (seconds between
    writes of the events; ``FLUSH_INTERVAL`` unless given).
    """
    import tracer
    from tracer.interface import is_asgi
    from tracer.loading import load_app

    directory = Path(settings["dir"])
    pid = os.getpid()
    # The shims are imported before the app, which may change what the process allows: an app
    # lowering the recursion limit at import must fail in its requests, as without the tool,
    # not in the shim's deep imports after it.
    for shim in ("tracer.shim.asgi", "tracer.shim.wsgi"):
        importlib.import_module(shim)
    importlib.import_module("tracer.shim.hops").install()  # its hooks too, as the shims will
    limit = sys.getrecursionlimit()
    try:
        loaded = load_app(
            settings["app"],
            factory=settings.get("factory", False),
            app_dir=settings.get("app_dir", "."),
            interface=settings.get("interface", "auto"),
        )
    except Exception as exc:
        # The traceback goes into the server's log first: the parent stops the server as soon
        # as it sees the mark below, which may be before the server logged its own.
        _print_traceback(exc)
        # Say why at once: a server with several workers lives on (restarting them) and
        # the parent would otherwise wait its whole start-up timeout for a ready mark.
        with contextlib.suppress(OSError):
            failure = load_failure(exc, recursion_limit=limit)
            (directory / f"{pid}.failed").write_text(failure[:500])
        raise
    recorder = ProcessRecorder(
        directory / f"{pid}.events",
        start_ns=int(settings["start_ns"]),
        flush_interval=float(settings.get("flush_interval", FLUSH_INTERVAL)),
    )
    # Servers end their workers with a normal interpreter exit on their stop signal: flush then.
    atexit.register(recorder.close)
    # And say so: a worker that loaded the app and left neither this mark nor an os._exit one
    # was killed by a signal (its master reaps it, so its code is not ours to see).
    atexit.register(_mark_done, directory / f"{pid}.done")
    _guard_exit(recorder, directory / f"{pid}.exit")
    # uvicorn ends its process by raising its stop signal again after its graceful shutdown,
    # which skips atexit: what the app recorded in the last flush interval (a read of the
    # body, a request it finished during the stop) is written first.
    guard_raise_signal(lambda signum: _before_the_end(recorder))
    instrument = settings.get("instrument", {})
    if not is_asgi(loaded.interface):
        # gunicorn's gevent worker patched the process before loading the app: its greenlets'
        # switches are hooked here, with the run's threshold (nothing without gevent).
        from tracer.shim.greenlets import install as hook_greenlets
        from tracer.shim.settings import block_threshold_ns

        hook_greenlets(block_threshold_ns(instrument.get("block_threshold_ms", 10.0)))
    traced = tracer.instrument(
        loaded.app, recorder=recorder, interface=loaded.interface, **instrument
    )
    if settings.get("parent"):
        watch_parent(int(settings["parent"]), settings["dir"])
    # Under uvicorn the process may end by its re-raised stop signal, without atexit: the
    # ASGI shim drains the recorder when the lifespan ends, so that much is on disk by then.
    adapted = (
        AsgiRequestIds(traced, directory) if is_asgi(loaded.interface) else WsgiRequestIds(traced)
    )
    (directory / f"{pid}.ready").write_text(loaded.interface)
    return adapted


APP_FLUSH_MS = 1000
"""How long the stop waits for the app's own OpenTelemetry spans to be sent (bounded: a
collector that does not answer cannot hold the server's stop)."""


def _before_the_end(recorder: ProcessRecorder) -> None:
    """What the process must do before uvicorn raises its stop signal again (no exit hook runs
    after it): write what the app recorded, and send the spans the app's own OpenTelemetry
    batches (its global provider's: an app instrumented by hand or by the zero-code agent)."""
    recorder.drain_before_end()
    api = sys.modules.get("opentelemetry.trace")
    if api is None:  # the app uses no OpenTelemetry: nothing to send
        return
    try:
        flush = getattr(api.get_tracer_provider(), "force_flush", None)
        if flush is not None:
            flush(APP_FLUSH_MS)
    except Exception as exc:  # the app's exporter failing is the app's; the stop goes on
        log.debug("flushing the app's spans at the stop failed: %r", exc)


def load_failure(exc: BaseException, *, recursion_limit: int) -> str:
    """One line saying why the app could not be loaded, with where the app's own code raised:
    the loader wraps what the app's import raised (``AppImportFailed``), and the wrapper was
    raised in the loader, not where the app failed."""
    from tracer.errors import AppImportFailed

    cause = exc.__cause__ if isinstance(exc, AppImportFailed) else None
    if cause is None:
        return describe_failure(exc, recursion_limit=recursion_limit)
    if isinstance(cause, RecursionError):
        return describe_failure(cause, recursion_limit=recursion_limit)
    where = raised_at(cause)
    return f"{exc}" + (f" (at {where})" if where else "")


def _print_traceback(exc: BaseException) -> None:
    """Write why the app could not be loaded to this process's standard error (the server's
    log), whatever the app did to ``sys.stderr``: the app's own traceback (the loader's
    frames cut, as the CLI prints it), then the one line."""
    from tracer.errors import AppImportFailed

    if isinstance(exc, AppImportFailed) and exc.traceback:
        text = exc.traceback
    else:
        text = "".join(traceback.format_exception(exc))
    text = text if text.endswith("\n") else text + "\n"
    with contextlib.suppress(OSError):
        os.write(2, f"{text}{exc}\n".encode("utf-8", "backslashreplace"))


def _mark_done(mark: Path) -> None:
    """Leave ``mark``: this process ended by a normal interpreter exit."""
    with contextlib.suppress(OSError):
        mark.write_text("")


# The exit guard stays on for the life of the process: held here, since a guard whose context
# manager were collected would take itself off.
_EXIT_GUARD = contextlib.ExitStack()


def _guard_exit(recorder: ProcessRecorder, mark: Path) -> None:
    """Before the app ends this process with ``os._exit`` (which skips atexit), write what it
    recorded (the requests it answered in the last flush interval) and the code it asked for
    to ``mark``: a server's master may not pass the code on (hypercorn's says 0)."""

    def before(code: int) -> None:
        recorder.drain()
        with contextlib.suppress(OSError):
            mark.write_text(str(code))

    _EXIT_GUARD.enter_context(guard_os_exit(before))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: os.kill said it exists
    return stat[stat.rfind(")") + 2 :].split()[0] != "Z"


def watch_parent(
    parent: int, directory: str | None = None, *, interval: float = 0.5, grace: float = 5.0
) -> threading.Thread:
    """If ``parent`` dies without stopping us, remove the run's ``directory`` (nobody will read
    it) and SIGTERM this process group (SIGKILL after ``grace`` seconds): a killed ``trace``
    leaves no server and no files behind."""

    def watch() -> None:
        while _alive(parent):
            sleep(interval)
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)
        os.killpg(os.getpgrp(), signal.SIGTERM)
        sleep(grace)
        os.killpg(os.getpgrp(), signal.SIGKILL)

    thread = threading.Thread(target=watch, name="gateway-tracer-parent-watch", daemon=True)
    thread.start()
    return thread


_app: Any = None


def create_app() -> Any:
    """The traced app of this process (for servers that want a factory call, like hypercorn)."""
    return __getattr__("app")


def __getattr__(name: str) -> Any:
    # ``app`` is built on first access, in the process that serves it (each gunicorn worker
    # after fork, each uvicorn/hypercorn worker after spawn), never at import.
    global _app
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _app is None:
        settings = os.environ.get(ENV)
        if settings is None:
            raise RuntimeError(
                f"{__name__}:app is the app of `trace run --server ...`, which sets {ENV}; "
                "it cannot be served on its own."
            )
        _app = build_app(json.loads(settings))
    return _app
