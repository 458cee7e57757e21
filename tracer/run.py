"""``run``: load through a server model into a traced app, recorded. What ``trace run`` calls.

``open_server(config, recorder)`` loads the app and builds the server model (errors here are
the user's: bad APP, wrong interface for the model), and fills in the recording header.
``run(config, recorder, stop=..., progress=...)`` starts the model, drives the load on a fresh
event loop in the calling thread, and shuts the model down; it returns promptly once ``stop``
is set (while the model starts, too), with every event of the run in the recorder. While it
runs, an app calling ``os._exit`` in this process first drains the recorder to its file
(``tracer.servers.exit_guard``). The caller owns (and closes) the recorder.
The CLI and the live dashboard both call it. Imports the spine, the server models and the
load generator; never the TUI, the exporters or the CLI.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import random
import re
import threading
import time

# Bound now, before any app is imported: the load's loop must not depend on what the app does
# to asyncio at import (an event-loop policy whose ``new_event_loop`` raises, or returns a
# loop of its own; a replaced ``asyncio.run``).
from asyncio import Runner, get_running_loop
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from tracer import events as K
from tracer.errors import UsageError
from tracer.loadgen import LoadSettings, LoadStats, Progress, RequestPlan, build_plan, drive
from tracer.loops import new_own_loop, real_time
from tracer.recorder import Recorder
from tracer.redact import redact_target
from tracer.servers import (
    DEFAULT_MODELS,
    ServerConfig,
    ServerModel,
    server_model,
)
from tracer.servers.exit_guard import guard_os_exit

__all__ = [
    "DEFAULT_APP",
    "MAX_BACKLOG",
    "MAX_CLIENTS",
    "MAX_THREADS",
    "RunConfig",
    "RunResult",
    "default_record_path",
    "open_server",
    "run",
    "stopped_before_load",
]

DEFAULT_APP = "sample_apps.hello:asgi_app"
"""What ``trace run`` runs when no APP is given."""

MAX_BACKLOG = 20_000
"""Events waiting for the recorder's writer past which closed-loop clients pause (flat memory)."""

MAX_LAG_NS = 400_000_000
"""How long the oldest event may wait for the recorder's writer before closed-loop clients
pause: what a run killed outright loses stays near the flush interval (0.2 s) plus this."""

MAX_THREADS = 4_194_304
"""The most ``--threads``, ``--workers`` and ``--workers`` × ``--threads`` may be: Linux's
``PID_MAX_LIMIT`` on 64-bit (every thread and process takes an id from it), as in ``trace sim``."""

MAX_CLIENTS = 1_048_576
"""Linux's default ``fs.nr_open``, the files (connections) one process can hold open: the most
``-c`` may be, as ``trace sim``'s bound (``sim.arrivals.MAX_CLIENTS``, which this spine may not
import), and as far as the soft limit of open files is raised when the hard one is unlimited."""


_SPARE_FILES = 32
"""Open files a run needs besides its clients' sockets: the recording, the server's pipes and
logs, the event loops' own. Each bundled real server ran 35 clients with no error under
``ulimit -n 64`` with none to spare: this leaves a machine allowing 64 some 20 clients."""


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Everything ``trace run`` was asked to do (the parsed command line)."""

    app: str = DEFAULT_APP
    """APP as ``module:attr`` or ``path/file.py:attr``."""
    factory: bool = False
    """APP is a factory returning the app."""
    app_dir: str = "."
    """Directory importable first (``--app-dir``)."""
    interface: str = "auto"
    """``auto``, ``wsgi`` or ``asgi``."""
    server: str | None = None
    """Server model (``--server``); None: ``threads`` for WSGI, ``loop`` for ASGI."""
    workers: int | None = None
    """Worker processes (``processes`` and real servers)."""
    threads: int | None = None
    """Worker threads (per process)."""
    concurrency: int = 50
    """Closed-loop clients (``-c``)."""
    requests: int | None = 200
    """Requests in all (``-n``); None with a duration."""
    duration: float | None = None
    """Seconds of load (``-z``)."""
    rate: float | None = None
    """Open-loop Poisson arrivals per second (``--rate``)."""
    method: str = "GET"
    """HTTP method (``-m``)."""
    paths: tuple[str, ...] = ("/",)
    """Paths, sent round robin (``ws:/p`` opens a websocket)."""
    headers: tuple[str, ...] = ()
    """Extra request headers, ``"Name: value"``."""
    body: bytes = b""
    """Request body (``-d`` / ``--body-file``)."""
    ws_messages: int | None = None
    """Messages per websocket session (None, not given: 1 for each ``ws:`` path, and paths
    without ``ws:`` stay HTTP; given, 0 included, with no ``ws:`` path: every path is a
    session)."""
    http2: bool = False
    """Report HTTP/2 in scopes (real servers speak it)."""
    timeout: float | None = 20.0
    """Seconds a client waits for one response."""
    seed: int | None = None
    """Seed of the arrival times (a random one is chosen and recorded when None)."""
    block_threshold_ms: float = 10.0
    """A coroutine step longer than this is ``loop.blocked``."""
    server_options: dict[str, Any] = field(default_factory=dict)
    """Real servers' own flags (``worker_class``, ``loop``, ``http``, ``limit_concurrency``,
    ``no_keepalive``), passed as ``ServerConfig.options``."""

    def check(self) -> None:
        """Raise ``UsageError`` for numbers out of range, naming the option."""
        _positive("-c/--concurrency", self.concurrency)
        if self.concurrency > MAX_CLIENTS:
            raise UsageError(
                f"-c/--concurrency must be a whole number from 1 to {MAX_CLIENTS:,}, not "
                f"{self.concurrency:,} (the connections one process can hold open)."
            )
        _positive("-n/--requests", self.requests)
        _positive("-z/--duration", self.duration)
        _positive("--rate", self.rate)
        _positive("--workers", self.workers)
        _positive("--threads", self.threads)
        _positive("--timeout", self.timeout)
        for option, value, what in (
            ("--threads", self.threads, "threads"),
            ("--workers", self.workers, "processes"),
        ):
            if value is not None and value > MAX_THREADS:
                raise UsageError(
                    f"{option} must be a whole number from 1 to {MAX_THREADS:,}, not {value:,} "
                    f"(Linux's PID_MAX_LIMIT: no machine runs more {what})."
                )
        if self.workers and self.threads and self.workers * self.threads > MAX_THREADS:
            raise UsageError(
                f"--workers {self.workers:,} × --threads {self.threads:,} is "
                f"{self.workers * self.threads:,} threads, more than {MAX_THREADS:,} (no machine "
                "runs more); give fewer workers or threads."
            )
        if self.ws_messages is not None and self.ws_messages < 0:
            raise UsageError(f"--ws-messages must be 0 or more, not {self.ws_messages}.")
        if not math.isfinite(self.block_threshold_ms) or self.block_threshold_ms <= 0:
            raise UsageError(
                f"--block-threshold-ms must be a number above 0, not {self.block_threshold_ms:g}."
            )
        plan = self.plan()  # bad headers or paths fail here, before anything starts
        if self.http2 and any(request.websocket for request in plan.requests):
            # The client opens WebSockets with an HTTP/1.1 upgrade only (not RFC 8441):
            # the header would say HTTP/2 of sessions that were not.
            raise UsageError(
                "--http2 does not apply to WebSocket sessions (ws: paths, --ws-messages): the "
                "client opens them with an HTTP/1.1 upgrade; leave one of them out."
            )

    def plan(self) -> RequestPlan:
        """The request plan of these options."""
        return build_plan(
            method=self.method,
            paths=self.paths,
            headers=self.headers,
            body=self.body,
            ws_messages=self.ws_messages,
        )


def _positive(option: str, value: float | None) -> None:
    if value is not None and value <= 0:
        raise UsageError(f"{option} must be greater than 0, not {value:g}.")


@dataclass(frozen=True, slots=True)
class RunResult:
    """What a run did, from the client's side (the recording holds the rest)."""

    stats: LoadStats
    """Client-side counters: sent, done, timeouts, statuses..."""
    server: dict[str, Any]
    """The server model's description (the header's ``server``)."""
    path: str | None
    """Where the recording is being written, if anywhere."""
    wall_s: float
    """Seconds from the first request to the end of the load."""
    stopped: bool
    """True when ``stop`` ended the run early."""
    server_exit: int | None = None
    """A real server's exit code when it died during the load (the load stopped there)."""


# What each in-process model takes of --threads and --workers (real servers check their own).
_MODEL_OPTIONS: dict[str, frozenset[str]] = {
    "threads": frozenset({"threads"}),
    "processes": frozenset({"threads", "workers"}),
    "loop": frozenset(),
    "wsgi-on-loop": frozenset(),
}


def _check_model_options(config: RunConfig, model: str) -> None:
    """``UsageError`` for --threads or --workers given to an in-process model that has no use
    for them: the user would believe a setting took effect that nothing read."""
    takes = _MODEL_OPTIONS.get(model)
    if takes is None:
        return
    for name, value in config.server_options.items():
        if value is not None and value is not False:
            flag = "--" + name.replace("_", "-")
            raise UsageError(
                f"{flag} is a real server's flag; --server {model} runs in process: leave it "
                "out, or choose a real server (--server uvicorn, gunicorn, ...)."
            )
    if model != "loop" and any(request.websocket for request in config.plan().requests):
        # A WSGI app has no upgrade: in process the session was a plain GET counted a
        # success (a real WSGI server's answer shows as UpgradeIgnored instead).
        raise UsageError(
            f"WebSocket sessions (ws: paths, --ws-messages) need an ASGI app; --server {model} "
            "runs WSGI. Use --server loop, or a real WSGI server to see the upgrade ignored."
        )
    for option, value in (("threads", config.threads), ("workers", config.workers)):
        if value is not None and option not in takes:
            hint = {
                "threads": "it runs every request on one thread",
                "workers": "it is one process",
            }[option]
            raise UsageError(
                f"--{option} does not apply to --server {model} ({hint}); leave it out."
            )


_GENERIC_MODULES = frozenset({"wsgi", "asgi", "main", "app", "application", "server", "__init__"})
"""Module names that say nothing of the project (``mysite.wsgi``, ``app.main``): a recording
is named by their package too."""


def default_record_path(app: str, *, now: float | None = None, folder: str = "traces") -> str:
    """``traces/<app-name>-<YYYYmmdd-HHMMSS>.jsonl`` for APP ``app``."""
    call = app.find("(", app.find(":") + 1) if app.endswith(")") else -1
    if call > 0:
        app = app[:call]  # "flaskr:create_app()": the factory's name, not its arguments
    module, _, attr = app.rpartition(":") if ":" in app else (app, "", "")
    if module.endswith(".py"):
        module = module[:-3]
    parts = [part for part in re.split(r"[./\\]", module) if part]
    name = parts[-1] if parts else "app"
    if name in _GENERIC_MODULES and len(parts) > 1:
        # Every Django project's module is "wsgi", FastAPI's bigger application's "main":
        # the package names the project.
        name = f"{parts[-2]}-{name}"
    if attr and attr not in ("app", "application"):
        name = f"{name}-{attr}"
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return os.path.join(folder, f"{name}-{stamp}.jsonl")


def _check_client_packages(config: RunConfig, model: str) -> None:
    """``UsageError`` when the network client needs a package that is not installed (h2 for
    ``--http2``, wsproto for WebSocket sessions): otherwise every request would fail on its
    import, counted as the server's failure. The in-process models use neither."""
    if model in _MODEL_OPTIONS:
        return
    needs = []
    if config.http2:
        needs.append(("h2", "--http2"))
    if any(request.websocket for request in config.plan().requests):
        needs.append(("wsproto", "WebSocket sessions (ws: paths, --ws-messages)"))
    for package, what in needs:
        if importlib.util.find_spec(package) is None:
            raise UsageError(
                f"{what} against --server {model} needs the {package} package, which is not "
                f'installed. Install it with: pip install {package} (or "gateway-tracer[servers]").'
            )


def open_server(config: RunConfig, recorder: Recorder, *, app: Any = None) -> ServerModel:
    """Load the app, build (not start) its server model and fill in the recording header."""
    config.check()
    if config.server is not None:
        factory = server_model(config.server)  # an unknown name fails before the import
    server_config = ServerConfig(
        app_spec=config.app,
        app=app,
        interface=config.interface,
        factory=config.factory,
        app_dir=config.app_dir,
        threads=config.threads,
        workers=config.workers,
        http_version="2" if config.http2 else "1.1",
        block_threshold_ms=config.block_threshold_ms,
        options=dict(config.server_options),
    )
    if config.server is None:
        from tracer.servers.job import load_app_for

        loaded, interface = load_app_for(server_config, "auto", ("wsgi", "asgi"))
        family = "asgi" if interface.startswith("asgi") else "wsgi"
        factory = server_model(DEFAULT_MODELS[family])
        server_config = ServerConfig(**{**_fields(server_config), "app": loaded})
    model_name = getattr(factory, "name", config.server or "")
    if app is not None and model_name not in _MODEL_OPTIONS.keys() - {"processes"}:
        # Fresh worker processes import APP by name: an object (a notebook's app) cannot
        # reach them, and they ran RunConfig.app, the default app, in its place.
        raise UsageError(
            f"--server {model_name} starts processes that import the app by name; an app "
            "object runs only on threads, loop and wsgi-on-loop: give "
            "RunConfig(app='module:attr') instead."
        )
    _check_model_options(config, model_name)
    _check_client_packages(config, model_name)
    _make_room_for_clients(config, model_name)
    model = factory(server_config, recorder)
    interface = getattr(model, "interface", "")
    recorder.header.update(
        app=config.app,
        interface="asgi" if str(interface).startswith("asgi") else "wsgi",
        server=model.describe(),
        load=_load_header(config),
        redact=True,  # the shims' default rule: trace run has no way to turn it off
    )
    if recorder.header["interface"] == "asgi" or model.describe().get("worker_class") == "gevent":
        # As ``tracer.instrument`` writes it: a real server's workers instrument the app with
        # this threshold (a gevent worker's greenlets too: ``tracer.shim.greenlets``), but their
        # files are merged into this header, not theirs.
        from tracer.recording import BLOCK_THRESHOLD
        from tracer.shim.settings import block_threshold_ns

        recorder.header[BLOCK_THRESHOLD] = block_threshold_ns(config.block_threshold_ms)
    return model


def _make_room_for_clients(config: RunConfig, model: str) -> None:
    """Raise this process's soft limit of open files to what the clients of a real server
    need (each is a socket, here and in the server, which inherits the limit), up to the hard
    limit; past it, ``UsageError`` naming ``ulimit -n``. Without it, the requests past the
    limit failed with EMFILE, counted as the app's errors, and the run sometimes aborted.
    The in-process models hand requests over in memory: nothing to do for them."""
    if model in _MODEL_OPTIONS:  # an in-process model
        return
    try:
        import resource
    except ImportError:  # Windows: no such limit
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    most = MAX_CLIENTS if hard == resource.RLIM_INFINITY else hard
    if config.rate is None:
        clients = config.concurrency
    elif config.timeout is not None:
        # An open loop has in flight at most what arrives within one client timeout.
        clients = math.ceil(config.rate * config.timeout)
    else:
        clients = most
    if config.requests is not None:
        clients = min(clients, config.requests)
    per_connection = 1
    if config.http2:  # streams share connections
        from tracer.client.config import ClientConfig

        per_connection = ClientConfig().streams_per_connection
        clients = math.ceil(clients / per_connection)
    others = _open_files() + _SPARE_FILES
    needed = clients + others
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    with contextlib.suppress(OSError, ValueError):  # a system allowing less than it says (macOS)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, most), hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    # An open loop's bound is a worst case (every request timing out): not refused for it.
    if soft < needed and config.rate is None:
        fits = (soft - others) * per_connection  # the most -c that would run
        advice = (
            f"give -c {fits:,} or fewer, or raise the limit: ulimit -n {needed}"
            if fits >= 1
            else f"raise the limit: ulimit -n {needed}, or leave --server out (the in-process "
            "models open no socket per client)"
        )
        raise UsageError(
            f"-c {config.concurrency} needs about {needed:,} open files (each client is a "
            f"socket, in trace and in the server), more than the {soft:,} allowed here "
            f"(ulimit -n); {advice}."
        )


def _open_files() -> int:
    """How many files this process has open now (a guess where it cannot tell)."""
    for folder in ("/proc/self/fd", "/dev/fd"):
        with contextlib.suppress(OSError):
            return len(os.listdir(folder))
    return 16


def _fields(config: ServerConfig) -> dict[str, Any]:
    return {name: getattr(config, name) for name in ServerConfig.__dataclass_fields__}


_READ_HEADER = (
    ("read_for", "read_for_s"),
    ("read_bytes", "read_bytes"),
    ("read_rate", "read_rate"),
)
"""How the client read responses (``server_options`` name, ``load`` key): in the header only
when given, as the run's other real-server flags."""


def _load_header(config: RunConfig) -> dict[str, Any]:
    """The header's ``load``: what was asked of the run (docs/recording-format.md)."""
    load = {
        "concurrency": None if config.rate is not None else config.concurrency,
        "requests": config.requests,
        "duration_s": config.duration,
        "rate": config.rate,
        "method": config.method.upper(),  # as the requests are sent
        # Redacted like the requests' own events: a token in a query must not sit in line 1.
        "paths": [redact_target(path) for path in config.paths],
        "body_bytes": len(config.body),
        "timeout_s": config.timeout,
        "seed": config.seed,
    }
    for option, key in _READ_HEADER:
        value = config.server_options.get(option)
        if value is not None:
            load[key] = value
    return load


def stopped_before_load(config: RunConfig, recorder: Recorder) -> None:
    """Record a run stopped before its server model was opened (``trace run`` given SIGTERM
    while the app was imported): the header says what was asked (the app, the load; no
    server, none was built) and a ``stopped`` mark that no request was sent. The recording is
    then a valid one of no requests, as that of a stop while the server starts, rather than
    an empty file. The caller closes the recorder."""
    recorder.header.update(app=config.app, load=_load_header(config))
    if config.interface != "auto":
        recorder.header["interface"] = config.interface
    _mark_stopped(recorder, "The run was stopped before the load began: no requests.")


def _mark_stopped(recorder: Recorder, caption: str) -> None:
    recorder.emit(K.MARK, data={"label": "stopped", "caption": caption})


def run(
    config: RunConfig,
    recorder: Recorder,
    *,
    server: ServerModel | None = None,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
    on_app_exit: Callable[[int], None] | None = None,
) -> RunResult:
    """Run the load of ``config`` through ``server`` (opened from ``config`` if None).

    While it runs, an app calling ``os._exit(code)`` in this process (an in-process model)
    first drains ``recorder`` to its file and calls ``on_app_exit(code)``, then exits.
    """
    if server is None:
        server = open_server(config, recorder)
    seed = config.seed if config.seed is not None else random.SystemRandom().randrange(2**32)
    # A closed loop draws nothing at random: its header names no seed it did not use (one
    # given through the library is kept, as given).
    drawn = config.rate is not None or config.seed is not None
    recorder.header.setdefault("load", {})["seed"] = seed if drawn else None
    plan = config.plan()
    settings = LoadSettings(
        concurrency=config.concurrency,
        requests=config.requests,
        duration=config.duration,
        rate=config.rate,
        timeout=config.timeout,
    )
    stop = stop if stop is not None else threading.Event()

    def before_exit(code: int) -> None:
        # The app ends this very process (in-process models: the tool is the server): what
        # was recorded reaches the file before it goes, and the caller may say so.
        recorder.drain_unread()
        if on_app_exit is not None:
            on_app_exit(code)

    with guard_os_exit(before_exit):
        return _serve(server, recorder, plan, settings, seed, stop, progress)


def _serve(
    server: ServerModel,
    recorder: Recorder,
    plan: RequestPlan,
    settings: LoadSettings,
    seed: int,
    stop: threading.Event,
    progress: Progress | None,
) -> RunResult:
    """Start ``server``, drive the load through it, stop it (``run`` without the set-up)."""
    start_until = getattr(server, "start_until", None)
    if start_until is not None:
        start_until(stop)  # a model slow to start (processes) gives up on it once stop is set
    else:
        server.start()
    watch_exit = getattr(server, "watch_exit", None)
    if watch_exit is not None:
        watch_exit(stop)
    started = real_time()  # the real clock, whatever an app did to time.monotonic
    stats = LoadStats(total=settings.requests, duration=settings.duration)
    # The load generator runs on a loop of its own, never the server's: a server loop held by a
    # blocking call must not delay the clients' next requests (that would hide the wait they
    # would have had: coordinated omission), neither for open- nor for closed-loop load.
    try:
        if stop.is_set():  # stopped while the server was starting: a stop, and no load
            stats.stopped = True
            # The recording says so (and is not left without a single event).
            _mark_stopped(recorder, "The run was stopped while the server started: no requests.")
        else:
            # Only a recorder streaming to a file drains by itself (an in-memory one keeps all).
            behind = (
                (lambda: recorder.backlog > MAX_BACKLOG or recorder.lag_ns > MAX_LAG_NS)
                if recorder.path is not None
                else None
            )
            load = drive(
                server.target,
                plan,
                settings,
                stop=stop,
                progress=progress,
                rng=random.Random(seed),
                into=stats,
                pause=behind,
            )
            _run_load(_closing(server.target, load), stop)
    finally:
        wall = real_time() - started
        server.stop(timeout=_stop_bound(server, stats))
        # Requests a worker was running when the run stopped ended as the worker finished
        # them; those it is still stuck in end here, once, as cancelled.
        settle = getattr(server.target, "settle", None)
        if settle is not None:
            settle()
    return RunResult(
        stats=stats,
        server=server.describe(),
        path=recorder.path,
        wall_s=wall,
        stopped=stats.stopped,
        server_exit=getattr(server, "exit_code", None),
    )


def _stop_bound(server: ServerModel, stats: LoadStats) -> float:
    """Seconds ``server`` has to stop before what is left of it is cut (killed, cancelled)."""
    if stats.timeouts > 0:
        # Requests the app never answered: it is stuck in them, and a graceful stop would
        # wait for them too. Do not wait long.
        return 1.0
    own = getattr(server, "stop_timeout", None)
    if own is not None:
        # A real server stops itself: requests it still runs (a Ctrl-C with some in flight)
        # finish, then the app's lifespan shutdown runs. Cut short, the shutdown was lost and
        # the kill blamed on the app.
        return float(own)
    # In process, requests still in flight at a stop may be stuck in the app.
    return 1.0 if stats.cancelled > 0 or stats.in_flight > 0 else 5.0


LOAD_THREAD = "gateway-tracer-load"
"""The name of the thread the load runs on when ``run`` is called where an event loop is
already running (``_run_load``)."""


def _run_load(job: Coroutine[Any, Any, LoadStats], stop: threading.Event) -> None:
    """Run the load's coroutine ``job`` to its end on a new loop of the tool's own.

    On the calling thread, unless an event loop is running there already: a Jupyter cell
    (the kernel runs every cell inside its loop) or an ``async def`` calling ``run``. One thread
    cannot run a loop inside another, so the load's loop then runs on a thread of its own
    (``LOAD_THREAD``) while this one waits. A ``KeyboardInterrupt`` while it waits (Ctrl-C, a
    kernel interrupt) sets ``stop``, lets the load end and is raised again, as on the calling
    thread. What ``job`` raises is raised here either way.
    """
    try:
        get_running_loop()
    except RuntimeError:  # none: the usual case (the CLI, a script)
        # Not asyncio.run: that asks the current policy (the app's, if it set one) for the
        # loop. Runner still cancels what is left and closes the loop at the end. The loop's
        # timers run on the real clock: an app that freezes time.monotonic (a fake clock left
        # running) must not stop the load.
        with Runner(loop_factory=new_own_loop) as runner:
            runner.run(job)
        return
    failed: list[BaseException] = []

    def load() -> None:
        try:
            with Runner(loop_factory=new_own_loop) as runner:
                runner.run(job)
        except BaseException as exc:  # handed to the caller's thread, raised there
            failed.append(exc)

    thread = threading.Thread(target=load, name=LOAD_THREAD, daemon=True)
    try:
        thread.start()  # a Ctrl-C may come as early as the load's first progress call
        # A join with a timeout: Windows cannot interrupt one without, and a Ctrl-C must reach
        # this thread while the load runs.
        while thread.is_alive():
            thread.join(0.2)
    except BaseException:
        stop.set()  # the load returns promptly once stop is set
        if thread.ident is None:  # interrupted before the thread was made: nothing ran
            job.close()
        else:
            thread.join()
        raise
    if failed:
        raise failed[0]


async def _closing(target: Any, load: Awaitable[LoadStats]) -> LoadStats:
    """Run ``load``, then let the target close its connections on this loop (a real
    server's client: ``RealTarget.aclose``)."""
    try:
        return await load
    finally:
        aclose = getattr(target, "aclose", None)
        if aclose is not None:
            await aclose()
