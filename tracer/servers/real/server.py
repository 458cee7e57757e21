"""``RealServer``: the server-model face of a real server in a subprocess.

Built like every server model from ``(ServerConfig, Recorder)``; ``start`` checks the server is
installed and the app fits it, starts it on 127.0.0.1 and a free port with the app wrapped by
the shim (``bootstrap``), and merges every server process's events into the recorder while the
run lasts. ``target`` sends each request over real sockets (``tracer.client.Pool``): it is
how ``trace run``'s load generator drives the server. ``run_load`` drives a whole load with the
client's own driver (``tracer.client.Driver``) instead: for the tests and benchmarks.
A subclass per server (uvicorn.py, hypercorn.py, ...) says how to launch it.
Imports the spine, ``tracer.client``, ``tracer.loading`` and ``tracer.servers``.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib.util
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from tracer import events as K
from tracer.client import ClientConfig, ClientStats, Driver
from tracer.client.pool import Pool
from tracer.errors import InterfaceError, ServerError, UsageError
from tracer.interface import detect_interface, is_asgi
from tracer.recorder import Recorder
from tracer.servers import CANCELLED, TIMEOUT, Request, Response, ServerConfig
from tracer.servers.failures import killed_by
from tracer.servers.real.bootstrap import FLUSH_INTERVAL, settings_env
from tracer.servers.real.frames import BUSY_FLUSH_INTERVAL
from tracer.servers.real.harness import (
    HOST,
    ServerProcess,
    check_port,
    free_port,
    group_members,
)
from tracer.servers.real.in_flight import ENDED, STARTED, InFlight
from tracer.servers.real.merge import Merger
from tracer.servers.real.worker_ends import exit_verdict, recycling, worker_ends
from tracer.servers.waits import async_sleep, monotonic, sleep

__all__ = ["RealServer", "RealTarget"]

BOOTSTRAP_APP = "tracer.servers.real.bootstrap:app"

START_TIMEOUT = 20.0
"""Seconds a server has to start serving, plus twice what the app took to import in ``trace``
itself (``RealServer.start_timeout``)."""


def _processes(count: int) -> str:
    """``1 worker process``, ``3 worker processes``."""
    return f"{count} worker process{'es' if count > 1 else ''}"


LIMIT_EXIT_WAIT = 5.0
"""Seconds a server that reached its ``--max-requests`` has to exit by itself once it refuses
connections (it is shutting down gracefully), before it is taken to be running on."""


class RealTarget:
    """Sends the load generator's requests to the real server, one ``await`` each."""

    def __init__(self, server: RealServer) -> None:
        self.server = server
        self.recorder = server.recorder
        self._pool: Pool | None = None
        self.in_flight = InFlight()
        """The requests not yet answered, with what the server recorded of each."""
        self.stopped: dict[int, tuple[Request, int]] = {}
        """Requests the run's stop cancelled, with when (recording time): ``settle`` ends
        those the server did not end itself."""
        self.failed = 0
        """Requests that came back without a response, but for a timeout: refused, or their
        connection closed (a server that stopped, or died)."""

    @property
    def stop_grace(self) -> float:
        """Seconds the load generator waits, at a stop, for the requests in flight before it
        cancels them: the server's own stop bound. The client's view is the outcome here, so
        a request the app answers meanwhile must reach its client, as a short request ends
        normally at a stop on the in-process models."""
        return self.server.stop_timeout

    async def request(self, request: Request, *, timeout: float | None = None) -> Response:
        """Send ``request`` over a reused connection; record a timeout or cancellation."""
        pool = self._pool
        if pool is None:
            pool = self._pool = Pool(
                self.server.host,
                self.server.port,
                self.server.client_config(),
                recorder=self.recorder,
            )
            pool.on_closed = self.in_flight.left
            self.server.pools.append((asyncio.get_running_loop(), pool))
        req = self.recorder.new_request_id()
        path = f"{request.path}?{request.query}" if request.query else request.path
        self.in_flight.sent(req)
        try:
            status, nbytes, error = await pool.request(
                req,
                path,
                method=request.method,
                headers=request.headers,
                body=request.body,
                ws_messages=request.ws_messages if request.websocket else None,
                timeout=timeout,
            )
        except asyncio.CancelledError:
            # The run stopped. Whether the server ends the request itself is known once it
            # has stopped: ``settle`` then ends it, once, if it did not.
            self.stopped[req] = (request, self.recorder.now())
            raise
        except BaseException:
            self.in_flight.answered(req)
            raise
        if error == "timeout":
            error = TIMEOUT
            self._end(req, TIMEOUT, self._read_so_far(req))
        if status is None and error != TIMEOUT:
            self.failed += 1
        self.in_flight.answered(req)
        if error == "ConnectionRefusedError":
            self.server.check_exit(grace=0.5)  # a dead server refuses: stop the load now
        return Response(req, status, nbytes, error)

    async def aclose(self) -> None:
        """Close the client's connections, on the load's own loop before it ends: left to
        the loop's closing, they stay open and the server waits for them at shutdown."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
            await async_sleep(0)  # the transports' close callbacks run

    def settle(self) -> int:
        """End, as cancelled, the requests the run's stop cancelled that the server did not
        end itself: one the app never saw when its client left; one the app was still on
        now, the server having stopped. One the app finished keeps the shim's end alone, as
        on the in-process models. Called once the server has stopped and its events are all
        merged (``RealServer.stop``); returns how many were ended here."""
        count = 0
        for req in list(self.stopped):  # (a stop from another thread may add to it)
            _, left = self.stopped.pop(req)
            state, read = self.in_flight.state(req), self.in_flight.read(req)
            self.in_flight.answered(req)
            if state != ENDED:
                self._end(req, CANCELLED, read, t=None if state == STARTED else left)
                count += 1
        return count

    def _read_so_far(self, req: int) -> int:
        """The request body bytes the app has read of ``req`` until now, as the server's
        events tell once what its processes have written is merged (they write every
        ``FLUSH_INTERVAL``, or ``BUSY_FLUSH_INTERVAL`` under load: a read in the last one is
        not counted yet)."""
        merger = self.server.merger
        if merger is not None:
            merger.poll()
        return self.in_flight.read(req)

    def _end(self, req: int, error: str, bytes_in: int, *, t: int | None = None) -> None:
        # bytes_in is what the app read, as in the shim's end: readers take the first end,
        # and what the client sent is its client.send's ``bytes``.
        data = {"status": None, "bytes_in": bytes_in, "bytes_out": 0, "error": error}
        self.recorder.emit(K.REQUEST_END, req, data, t=t)


class _WatchedDriver(Driver):
    """The client's own driver, telling ``in_flight`` of each request what ``RealTarget``
    tells it: sent, closed on purpose (``read_for``, ``read_bytes``), answered. The stop's
    line then counts the requests still in the app whose clients left (``left_running``)."""

    def __init__(
        self,
        host: str,
        port: int,
        config: ClientConfig,
        *,
        recorder: Recorder,
        in_flight: InFlight,
    ) -> None:
        super().__init__(host, port, config, recorder=recorder)
        self._watched = in_flight

    def send(self, req: int, path: str, method: str | None = None, body: int = 0) -> int:
        """As ``Driver.send``; the request is watched from now on."""
        self._watched.sent(req)
        return super().send(req, path, method, body)

    def finished(
        self,
        slot: Any,
        req: int,
        sent: int,
        first: int,
        status: int | None,
        nbytes: int,
        **extra: Any,
    ) -> None:
        """As ``Driver.finished``; a response closed on purpose stays watched until the
        server ends its request (as ``Pool.on_closed`` tells ``RealTarget``)."""
        if "client_closed" in extra:
            self._watched.left(req)
        self._watched.answered(req)
        super().finished(slot, req, sent, first, status, nbytes, **extra)

    def failed(self, slot: Any, req: int, sent: int, exc: BaseException | None, **kw: Any) -> None:
        """As ``Driver.failed``; the request is no longer watched."""
        self._watched.answered(req)
        super().failed(slot, req, sent, exc, **kw)


class RealServer:
    """A real server in a subprocess group; subclasses set ``name``, ``module`` and ``command``."""

    name = "real"
    module = ""
    """The Python package that must be installed (``uvicorn``, ``gunicorn``, ...)."""
    serves: tuple[str, ...] = ("asgi", "wsgi")
    """Interfaces this server runs."""
    stop_signal = signal.SIGTERM
    """The signal that makes the server shut down gracefully (flushing each process's events)."""
    flags: frozenset[str] = frozenset()
    """Server-specific options this server takes (``loop``, ``worker_class``, ...)."""
    option_packages: tuple[tuple[str, str, str], ...] = ()
    """(option, value, package): a value of a server option that needs a package of its own
    (uvicorn's ``--loop uvloop``), checked before the server starts."""
    single_process = False
    """True for servers that run one process (``--workers`` does not apply)."""
    takes_threads = False
    """True for servers with a worker-thread count of their own (``--threads``)."""
    speaks_http2 = False
    """True for servers that accept HTTP/2 with prior knowledge on a plain socket (``--http2``)."""
    runs_lifespan = True
    """False for a server that never runs an ASGI app's lifespan (daphne): its start then
    waits for no lifespan startup, and the run notes that none ran."""
    stop_timeout = 5.0
    """Seconds the server's own graceful stop may take before it is killed: finishing the
    requests it runs, then the app's lifespan shutdown. More than the server's own bound on
    the requests, where it has one (gunicorn's ``--graceful-timeout``), so that it ends
    them itself."""

    def __init__(self, config: ServerConfig, recorder: Recorder, *, host: str = HOST) -> None:
        self.config = config
        self.recorder = recorder
        self.host = host
        self.port = int(config.options.get("port") or 0)
        self.options = config.options
        self._check_options()
        self._check_installed()
        # The app is loaded once here, so a bad APP or an interface the server cannot run is
        # reported before anything starts (and the header's interface is right).
        self.import_s = 0.0
        """Seconds the app took to import in this process (0 when it was given loaded)."""
        self.interface = self._interface()
        self.process: ServerProcess | None = None
        self.merger: Merger | None = None
        self.pools: list[tuple[asyncio.AbstractEventLoop, Pool]] = []
        self._dir: str | None = None
        self._target = RealTarget(self)
        self._stopping = threading.Lock()
        self._load_stop: threading.Event | None = None
        self._graced = False
        self._limit_waited = False
        self._stopped_the_load = False
        self.exit_code: int | None = None
        """The server's exit code if it died during the load (``watch_exit``), else None."""
        self.exit_subject: str | None = None
        """Who ``exit_code`` is about when it is not the server's own (for the CLI's line)."""
        self.exit_words: str | None = None
        """How the server ended during the run when that was no exit of its own: killed by
        a signal (its code negative), or one of its workers killed by one (a master that
        then exits by itself, as hypercorn's does with 0). None when it exited itself."""
        self.exit_quote = True
        """Whether the end-of-run line quotes the server's last words (not when ``exit_words``
        names the cause and the server's own reading of it would mislead)."""
        self.replaced_workers = 0
        """Server processes that loaded the app beyond ``processes()``: workers the server
        started in place of ones that ended during the run (counted by ``stop``)."""
        self.recycled_workers = 0
        """Of ``replaced_workers``, those in place of a worker that had served its
        ``--max-requests`` and ended by a normal exit: recycled, as asked, not dead."""
        self.reached_workers = 0
        """Workers that reached their ``--max-requests`` and ended with no new one after them
        before the run's stop: not replaced during the run (counted by ``stop``)."""
        self.served_at_exit: int | None = None
        """Requests the server had served when it stopped by itself at its ``--max-requests``
        (a lone uvicorn exits there), else None."""
        self.notices: list[str] = []
        """One line each about what the stop had to do beyond asking (the server outlived
        its stop signal and was killed), for the CLI to print after the run."""

    # -- what subclasses say ----------------------------------------------------------------

    def command(self, host: str, port: int) -> list[str]:
        """The command line that starts the server serving ``BOOTSTRAP_APP``."""
        raise NotImplementedError

    def processes(self) -> int:
        """How many processes will load the app (workers)."""
        return self.config.workers or 1

    @property
    def max_requests(self) -> int:
        """``--max-requests``: requests a worker process serves before it ends (0: no limit).
        Only servers that take it (``max_requests`` among their ``flags``) get one."""
        return int(self.options.get("max_requests") or 0)

    def describe(self) -> dict[str, Any]:
        """The recording header's ``server`` field."""
        described: dict[str, Any] = {"model": self.name, "workers": self.processes(), "real": True}
        if self.port:
            described["port"] = self.port
        return described

    # -- ServerModel ------------------------------------------------------------------------

    @property
    def target(self) -> RealTarget:
        """Where the load generator sends requests (valid after ``start``)."""
        return self._target

    @property
    def http2(self) -> bool:
        """Whether the client speaks HTTP/2 to this server (``--http2``)."""
        return self.config.http_version == "2" or bool(self.options.get("http2"))

    def client_config(self) -> ClientConfig:
        """How the client talks to this server (HTTP/2, keep-alive) from ``options``."""
        return ClientConfig(
            http2=self.http2,
            keepalive=not self.options.get("no_keepalive", False),
            redact=self.config.redact,
            read_for=self.options.get("read_for"),
            read_bytes=self.options.get("read_bytes"),
            read_rate=self.options.get("read_rate"),
        )

    @property
    def start_timeout(self) -> float:
        """How long ``start`` waits by default: ``START_TIMEOUT``, plus twice the app's import
        time here (each server process imports it again, several at once with workers)."""
        return round(START_TIMEOUT + 2 * self.import_s, 1)  # "within 20s", not 20.0007s

    def start(self, timeout: float | None = None) -> None:
        """Start the server and its event merging; return once it serves the app (within
        ``timeout`` seconds, ``start_timeout`` by default)."""
        self.start_until(None, timeout)

    def start_until(self, stop: threading.Event | None, timeout: float | None = None) -> None:
        """``start``, unless ``stop`` is set first (a Ctrl-C while the app still imports in
        the server): then the server is stopped and it returns, which is not a failure."""
        if timeout is None:
            timeout = self.start_timeout
        if self.port:
            check_port(self.port, self.host)
        self.port = self.port or free_port(self.host)
        self._dir = tempfile.mkdtemp(prefix=f"gateway-tracer-{self.name}-")
        env = dict(os.environ)
        env.update(self._settings())
        # The server must import our package and the user's app the same way the parent does.
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (os.path.abspath(self.config.app_dir), *sys.path) if p
        )
        self.process = ServerProcess(
            self.name,
            self.command(self.host, self.port),
            port=self.port,
            env=env,
            ready_dir=self._dir,
            expected=self.processes(),
            stop_signal=self.stop_signal,
            host=self.host,
            lifespan=is_asgi(self.interface) and self.runs_lifespan,
        )
        self.process.left_running = self._target.in_flight.left_running
        self.merger = Merger(self._dir, self.recorder, in_flight=self._target.in_flight)
        # Whoever started it, the server never outlives this interpreter: a caller whose own
        # shutdown was cut short (a Ctrl-C landing in Thread.join) still leaves nothing behind.
        atexit.register(self.stop)
        try:
            self.process.start(timeout, stop)
        except BaseException:
            self.stop()  # the temporary folder and the exit hook go too
            raise
        if stop is not None and stop.is_set():
            self.stop(timeout=1.0)  # still starting: nothing of the app's to finish
            return
        self.merger.start()
        if is_asgi(self.interface) and not self.runs_lifespan:
            self.notices.append(
                f"note: {self.name} does not run the ASGI lifespan: the app's startup and "
                "shutdown handlers, if it has any, did not run (state they set is missing)"
            )

    def watch_exit(self, stop: threading.Event) -> None:
        """Set ``stop`` if the server exits by itself during the load (an app that killed it):
        the load stops there instead of knocking on a closed port, and ``exit_code`` says so.
        """
        self._load_stop = stop

        def watch() -> None:
            while not stop.is_set() and not self._stopping.locked():
                if self.check_exit():
                    return
                sleep(0.1)

        threading.Thread(target=watch, name=f"{self.name}-exit-watch", daemon=True).start()

    def check_exit(self, *, grace: float = 0.0) -> bool:
        """Whether the server has exited by itself (allowing it ``grace`` seconds to finish
        exiting); if so, note its exit code and stop the load. The client calls it when a
        connection is refused: hypercorn closes its socket a while before its process ends."""
        process = self.process
        if process is None or self._stopping.locked():
            return False  # not started, or our own stop
        code = process.returncode_now()
        if code is None and grace > 0 and not self._graced:
            self._graced = True  # once: a live server that refuses must not stall the client
            code = process.exit_within(grace)
        if code is None and grace > 0 and not self._limit_waited and self._limit_reached():
            # It refuses because it is stopping, as --max-requests asks (uvicorn closes its
            # socket, then shuts down): wait for its exit, or every later request is
            # refused too, said of no cause.
            self._limit_waited = True
            code = process.exit_within(LIMIT_EXIT_WAIT)
        if code is None:
            return False
        self._note_exit(code)
        if self._load_stop is not None:
            self._load_stop.set()
            self._stopped_the_load = True
        return True

    def _note_exit(self, code: int) -> None:
        self.exit_code = code
        if code < 0:
            self.exit_words = f"{self.name} {killed_by(-code)} during the run"
            return
        if self._dir is None or self.process is None:
            return
        served = self._served_to_the_limit(code)
        if served is not None:
            # No failure: the server did what --max-requests asks of a lone process.
            self.served_at_exit = served
            self.exit_words = (
                f"{self.name} stopped by itself after serving {served} requests, as "
                f"--max-requests {self.max_requests} asks of its one process"
            )
            self.exit_quote = False
            return
        # A master exiting by itself may be passing on a worker's end: its workers' marks say
        # which (the app's os._exit, or a signal), more than its own code does.
        live = set(group_members(self.process.pgid)) if self.process.pgid else set()
        ends = worker_ends(Path(self._dir), self.process.pid, live)
        verdict = exit_verdict(self.name, code, ends)
        if verdict is not None:
            self.exit_code = verdict.code
            self.exit_subject = verdict.subject
            self.exit_words = verdict.words
            self.exit_quote = verdict.quote

    def _served_to_the_limit(self, code: int) -> int | None:
        """The requests the server's own process served, when its exit (``code`` 0) is its
        ``--max-requests`` reached (``limit_reached``); None otherwise."""
        return self._limit_reached() if code == 0 else None

    def _limit_reached(self) -> int | None:
        """The requests the server's own process has served, when that is its
        ``--max-requests`` or more and it loaded the app itself (one process, no master to
        start another): it stops serving there (a lone uvicorn). None otherwise."""
        if not self.max_requests or self._dir is None or self.process is None:
            return None
        pid = self.process.pid
        if pid is None or not (Path(self._dir) / f"{pid}.ready").exists():
            return None  # a master: its workers' ends are what tell
        if self.merger is None:
            return None
        self.merger.poll()  # what it wrote until now: once gone, all of it
        served = self.merger.served.get(pid, 0)
        return served if served >= self.max_requests else None

    @property
    def exit_effect(self) -> str:
        """What the server's exit during the run did to the load, for the CLI's line."""
        if self.served_at_exit is None:
            return "requests after that failed and the load was stopped"
        # The client's failures are the requests that found it stopping or gone: the run
        # ends at the first one (``check_exit``).
        failed = self._target.failed
        said = []
        if failed:
            said.append(
                f"{failed} request{'s' if failed > 1 else ''} sent then got no answer "
                "(refused, or the connection closed: counted as errors)"
            )
        if self._stopped_the_load:
            said.append("the load was stopped there")
        return ", and ".join(said) or "every request sent to it was answered"

    @property
    def restart_note(self) -> str | None:
        """One line saying the server replaced workers during the run (``None`` when it did
        not): those that had served their ``--max-requests`` (recycled), and those that died.
        It serves on, and its log may not say so (uvicorn's does at info level only)."""
        recycled = self.recycled_workers
        died = self.replaced_workers - recycled
        said = []
        if recycled:
            said.append(
                f"replaced {_processes(recycled)} that had served their --max-requests "
                f"{self.max_requests}"
            )
        if died:
            said.append(f"restarted {_processes(died)} that died during the run")
        reached = self.reached_workers
        if reached:
            its = "their" if reached > 1 else "its"
            said.append(
                f"ended {_processes(reached)} at {its} --max-requests {self.max_requests} as "
                "the run ended (none started in its place before the stop)"
            )
        if not said:
            return None
        return f"{self.name} {', and '.join(said)}"

    def run_load(self, load: ClientConfig) -> ClientStats:
        """Drive a whole load with the client's own driver (``tracer.client.Driver``) in this
        thread: closed loop, or open loop on its fixed schedule (``ClientConfig.rate``). The
        tests and benchmarks use it; ``trace run`` sends through ``target`` instead, paced by
        its load generator (Poisson arrivals for ``--rate``)."""
        driver = _WatchedDriver(
            self.host, self.port, load, recorder=self.recorder, in_flight=self._target.in_flight
        )
        return asyncio.run(driver.run())

    def kill(self) -> None:
        """Kill the server's processes now (SIGKILL), whoever is stopping it: a second
        Ctrl-C, the user insisting. A stop under way then finds them gone."""
        if self.process is not None:
            self.process.kill()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server (no process left), then merge the rest of its events (idempotent,
        thread-safe: a second caller waits for the first one to finish)."""
        with self._stopping:
            self._stop(timeout)
        atexit.unregister(self.stop)

    def _stop(self, timeout: float) -> None:
        if self.process is not None and self.exit_code is None:
            # Gone before we stopped it: the load may have ended faster than the watch saw.
            code = self.process.returncode_now()
            if code is not None:
                self._note_exit(code)
        for loop, pool in self.pools:
            try:
                loop.call_soon_threadsafe(pool.close)
            except RuntimeError:  # that loop is closed: its transports went with it
                pass
        self.pools.clear()
        if self.process is not None:
            self._settle()
            running = self.process.process is not None  # not stopped by an earlier call
            if self._target.stopped:
                # The load waited the whole bound for these at the stop (``stop_grace``) and
                # they did not end: the app is stuck in them, and a graceful stop waits for
                # them too. Do not wait that long again.
                timeout = min(timeout, 1.0)
            self.process.stop(timeout)
            if running and self.process.killed is not None and self.exit_code is None:
                # Once: a stop while it was still starting is followed by the run's own.
                self.notices.append(self.process.killed)
            elif running and self.exit_code is None and self.process.shutdown_unanswered():
                # The server ended its workers itself at its own bound (gunicorn's graceful
                # timeout): the app's shutdown was cut all the same, and its log may not say.
                cut = self.process.shutdown_unanswered()
                self.notices.append(
                    f"{self.name} ended {_processes(cut)} at its own graceful timeout before "
                    "the app's lifespan shutdown had finished (it received lifespan.shutdown "
                    "and had not answered it); fix its shutdown handler"
                )
        if self.merger is not None:
            self.merger.stop()
        if self._dir is not None and self.process is not None:
            # Every worker's requests are merged: which of those that ended were recycled.
            self._count_recycling()
        # Every event the server recorded is in: the requests the stop cancelled can be ended.
        self._target.settle()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _count_recycling(self) -> None:
        """``replaced_workers``, ``recycled_workers`` and ``reached_workers`` from the marks:
        every process that loaded the app left a ready mark, those beyond the workers asked
        for were started in place of ones that ended; a worker at its ``--max-requests`` of
        the client's requests that ended normally (its ``.done``: a worker that died leaves
        no such mark, or an ``os._exit`` one) is recycled when a new one loaded the app
        after it ended, and only reached its limit otherwise (the run ended first)."""
        assert self._dir is not None and self.process is not None
        served = self.merger.served if self.merger is not None else {}
        ends = recycling(
            Path(self._dir),
            self.process.pgid,
            expected=self.processes(),
            limit=self.max_requests,
            served=served,
        )
        self.recycled_workers = ends.recycled
        self.replaced_workers = ends.recycled + ends.died
        self.reached_workers = ends.reached

    def _settle(self, bound: float = 1.0) -> None:
        # Each server process writes its events every FLUSH_INTERVAL (BUSY_FLUSH_INTERVAL
        # after a busy write); some servers end by re-raising their stop signal, which skips
        # exit handlers. So merge until two polls in a row, each longer than the interval the
        # streams' last frames tell apart, bring nothing new (the last responses' events are
        # on disk), within a bound, and only then stop the server.
        merger = self.merger
        if merger is None:
            return
        quiet = 0
        deadline = monotonic() + bound
        while quiet < 2 and monotonic() < deadline:
            quiet = quiet + 1 if merger.poll() == 0 else 0
            sleep((BUSY_FLUSH_INTERVAL if merger.busy else FLUSH_INTERVAL) * 1.5)

    def output(self) -> str:
        """What the server printed (for error messages and tests)."""
        return "" if self.process is None else self.process.output()

    def save_output(self, path: str) -> None:
        """Save what the server printed (its log, the app's prints and tracebacks) to ``path``
        (an empty file when it printed nothing)."""
        if self.process is not None:
            self.process.save_output(path)

    @property
    def pids(self) -> set[int]:
        """The server processes that recorded events."""
        return set() if self.merger is None else set(self.merger.pids)

    # -- helpers ----------------------------------------------------------------------------

    def _check_options(self) -> None:
        # Every server takes these; the rest must be the server's own, or the user would think
        # a flag took effect that this server never saw.
        common = {"port", "http2", "no_keepalive", "read_for", "read_bytes", "read_rate"}
        for name, value in self.options.items():
            if value is None or value is False or name in common or name in self.flags:
                continue
            flag = "--" + name.replace("_", "-")
            raise UsageError(f"{flag} does not apply to --server {self.name}; leave it out.")
        if self.http2 and not self.speaks_http2:
            raise UsageError(
                f"--server {self.name} does not speak HTTP/2 on a plain socket; "
                "use --server hypercorn or granian for --http2."
            )
        if self.http2 and self.options.get("no_keepalive"):
            raise UsageError(
                "--no-keepalive does not apply with --http2: the client carries its requests "
                "as streams of shared connections; leave one of them out."
            )
        if self.config.threads is not None and not self.takes_threads:
            raise UsageError(
                f"--server {self.name} has no worker-thread setting; --threads does not apply "
                "(gunicorn, waitress and granian take it)."
            )
        if self.single_process and (self.config.workers or 1) > 1:
            instead = "use --threads, or " if self.takes_threads else "use "
            raise UsageError(
                f"--server {self.name} runs one process; --workers does not apply "
                f"({instead}--server gunicorn for several processes)."
            )

    def _check_installed(self) -> None:
        if importlib.util.find_spec(self.module) is None:
            raise ServerError(
                f"--server {self.name} needs the {self.module} package, which is not installed. "
                f'Install it with: pip install {self.module} (or "gateway-tracer[servers]").'
            )
        for option, value, package in self.option_packages:
            # The server would start, fail to import it and leave a traceback in its log.
            if self.options.get(option) == value and importlib.util.find_spec(package) is None:
                flag = "--" + option.replace("_", "-")
                raise ServerError(
                    f"{flag} {value} needs the {package} package, which is not installed. "
                    f"Install it with: pip install {package} (or leave {flag} out)."
                )

    def _interface(self) -> str:
        app = self.config.app
        if app is None:
            from tracer.loading import load_app

            began = monotonic()
            loaded = load_app(
                self.config.app_spec or "",
                factory=self.config.factory,
                app_dir=self.config.app_dir,
                interface=self.config.interface,
            )
            self.import_s = monotonic() - began
            from tracer.servers.job import say_load_hint

            say_load_hint(loaded.hint)  # said once, here: the server's processes load it silently
            interface = str(loaded.interface)
        else:
            interface = detect_interface(app, self.config.interface)
        family = "asgi" if is_asgi(interface) else "wsgi"
        if family not in self.serves:
            label = self.config.app_spec or "the app"
            raise InterfaceError(
                f"{label} is {'an' if family == 'asgi' else 'a'} {family.upper()} app, "
                f"but --server {self.name} runs only "
                f"{' and '.join(s.upper() for s in self.serves)} apps. "
                f"Try --server {'uvicorn' if family == 'asgi' else 'waitress'}."
            )
        return interface

    def _settings(self) -> dict[str, str]:
        if not self.config.app_spec:
            raise ServerError(f"--server {self.name} needs the app as module:attr (APP).")
        assert self._dir is not None
        return settings_env(
            app_spec=self.config.app_spec,
            directory=self._dir,
            start_ns=self.recorder.start_ns,
            parent=os.getpid(),
            interface=self.config.interface,
            factory=self.config.factory,
            app_dir=self.config.app_dir,
            instrument={
                "block_threshold_ms": self.config.block_threshold_ms,
                "redact": self.config.redact,
                "checks": self.config.checks,
            },
        )
