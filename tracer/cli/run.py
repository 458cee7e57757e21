"""``trace run [APP] ...``: load through a server model into the traced app, then the report.

Parses into a ``RunConfig`` and calls ``tracer.run.run``. On a terminal (without
``--headless``) the live dashboard runs it, if installed; otherwise a rich progress bar (on
stderr with ``--json``) and the report, or the summary JSON alone on stdout with ``--json``.
The recording streams to ``--record FILE`` (default ``traces/<app>-<time>.jsonl``, ``-2``…
added when that exists), opened before the app is loaded (``tracer.cli.paths``), and its path is
printed at the end. Textual and OpenTelemetry are imported only when used.

This module is the command's flow; its parts live beside it: the progress bar of a headless
run (``tracer.cli.headless``), the logs kept beside the recording of what the server and the
app printed (``tracer.cli.run_logs``), what is said at the end about how the run ended
(``tracer.cli.run_end``), and the streams it writes to, kept from what the app does to the
process's (``tracer.cli.streams``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import signal
import sys
import threading
from typing import Any

from tracer.cli.body import read_body_file
from tracer.cli.headless import run_headless
from tracer.cli.parsing import bounded, parse_duration
from tracer.cli.run_end import say_how_it_ended, who_exited
from tracer.cli.run_logs import open_app_log, save_server_output, say_app_log

# Private here: the signal handling is tracer.cli.signals', which this module only uses.
from tracer.cli.signals import StoppedStarting as _StoppedStarting
from tracer.cli.signals import Termination as _Termination
from tracer.cli.signals import ctrl_c_noted as _ctrl_c_noted
from tracer.cli.signals import sigterm_closes_dashboard as _sigterm_closes_dashboard
from tracer.cli.signals import sigterm_noted as _sigterm_noted
from tracer.cli.streams import KeptStreams, kept_streams
from tracer.cli.terminal import dumb_terminal, is_tty, on_terminal
from tracer.errors import UsageError
from tracer.tui.labels import LANGUAGES

__all__ = [
    "add_parser",
    "main",
    "config_from_args",
    "refuse_what_does_not_apply",
    "DEFAULT_CLIENTS",
]


DEFAULT_CLIENTS = 50
"""Closed-loop clients when neither -c nor --rate is given."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``run`` sub-command (flags as DESIGN.md's command line)."""
    from tracer.servers import SERVER_MODELS

    p: argparse.ArgumentParser = subparsers.add_parser(
        "run", help="drive load through a traced app and report what happened"
    )
    p.add_argument(
        "app",
        nargs="?",
        metavar="APP",
        help="module:attr or path/file.py:attr (default: a bundled sample app)",
    )
    # A closed loop of -c clients or an open loop at --rate: a -c beside --rate would be
    # dropped (the arrivals wait for no client), so the pair is refused, as trace sim does.
    load = p.add_mutually_exclusive_group()
    load.add_argument(
        "-c",
        "--concurrency",
        type=int,
        default=None,
        metavar="N",
        help=f"closed loop: N clients (default {DEFAULT_CLIENTS})",
    )
    load.add_argument(
        "--rate",
        type=bounded(float, above=0.0),
        metavar="R",
        help="open loop: Poisson arrivals per second",
    )
    count = p.add_mutually_exclusive_group()
    count.add_argument(
        "-n", "--requests", type=int, default=None, help="requests in all (default 200)"
    )
    count.add_argument(
        "-z",
        "--duration",
        metavar="D",
        help="send for this long instead: 10s, 500ms, 2m (a plain number is seconds)",
    )
    p.add_argument(
        "--server",
        metavar="MODEL",
        help=f"server model: {', '.join(SERVER_MODELS)} (default: threads for WSGI, loop for ASGI)",
    )
    p.add_argument("--workers", type=int, help="worker processes")
    p.add_argument("--threads", type=int, help="worker threads (per process)")
    p.add_argument("--interface", choices=("auto", "wsgi", "asgi"), default="auto")
    p.add_argument("--factory", action="store_true", help="APP is a factory that returns the app")
    p.add_argument(
        "--app-dir", default=".", metavar="DIR", help="directory to import APP from (default .)"
    )
    p.add_argument(
        "-m",
        "--method",
        help="HTTP method (default GET; POST with -d or --body-file, as curl's -d)",
    )
    p.add_argument(
        "--path",
        action="append",
        dest="paths",
        metavar="P",
        help="path to request (repeatable, round robin; ws:/p for a websocket)",
    )
    p.add_argument("-H", "--header", action="append", dest="headers", default=[], metavar="'K: V'")
    body = p.add_mutually_exclusive_group()
    body.add_argument("-d", "--data", dest="body", help="request body (implies -m POST)")
    body.add_argument("--body-file", metavar="F", help="request body from a file (implies -m POST)")
    p.add_argument(
        "--ws-messages", type=int, default=0, metavar="N", help="messages per websocket session"
    )
    p.add_argument(
        "--http2", action="store_true", help="HTTP/2 (real servers; in-process scopes say 2)"
    )
    p.add_argument(
        "--timeout",
        default="20s",
        metavar="D",
        help="per-request client timeout (default 20s)",
    )
    p.add_argument(
        "--block-threshold-ms",
        "--block-threshold",  # the older spelling, taken by sim and replay too
        dest="block_threshold",
        type=bounded(float, above=0.0),
        default=10.0,
        metavar="MS",
        help="loop.blocked threshold in ms (default 10)",
    )
    p.add_argument(
        "--record",
        metavar="FILE",
        help="where to write the recording (default traces/<app>-<time>.jsonl)",
    )
    p.add_argument("--otlp", action="store_true", help="also export spans over OTLP")
    p.add_argument(
        "--otlp-endpoint",
        metavar="URL",
        help="OTLP endpoint, implies --otlp (default $OTEL_EXPORTER_OTLP_ENDPOINT or "
        "http://localhost:4318)",
    )
    p.add_argument("--headless", action="store_true", help="no dashboard: progress bar and report")
    p.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=None,
        help="language of the live dashboard and of its replay (default en; the report "
        "stays English)",
    )
    p.add_argument("--json", action="store_true", help="print only the summary JSON on stdout")
    p.add_argument("--seed", type=int, help="seed of the open loop's arrival times (--rate)")
    real = p.add_argument_group(
        "real servers (--server uvicorn|hypercorn|gunicorn|waitress|granian|daphne)"
    )
    real.add_argument("--worker-class", choices=("sync", "gthread", "asgi"), help="gunicorn")
    real.add_argument(
        "--loop", choices=("auto", "asyncio", "uvloop"), help="uvicorn, granian: event loop"
    )
    real.add_argument("--http", choices=("auto", "h11", "httptools"), help="uvicorn HTTP parser")
    real.add_argument(
        "--limit-concurrency",
        type=bounded(int, low=1),
        metavar="N",
        help="uvicorn: answer 503 past N",
    )
    real.add_argument("--no-keepalive", action="store_true", help="a new connection per request")
    return p


def refuse_what_does_not_apply(args: argparse.Namespace) -> None:
    """``UsageError`` for an option this run would ignore (README: refused, not a silent
    no-op): ``--lang`` without the dashboard, ``--seed`` without an open loop."""
    if args.lang is not None and (args.headless or args.json):
        flag = "--json" if args.json else "--headless"
        raise UsageError(
            f"--lang is the live dashboard's language, and {flag} runs without it "
            "(the report is English): drop --lang."
        )
    if args.seed is not None and args.rate is None:
        raise UsageError(
            "--seed sets the open loop's arrival times (--rate R); the closed loop of -c "
            "clients draws nothing at random: drop --seed, or add --rate."
        )


def _server_options(args: argparse.Namespace) -> dict[str, Any]:
    """The real servers' own flags that were given (``ServerConfig.options``)."""
    names = ("worker_class", "loop", "http", "limit_concurrency", "no_keepalive")
    return {name: getattr(args, name) for name in names if getattr(args, name, None)}


def config_from_args(args: argparse.Namespace) -> Any:
    """The ``RunConfig`` of parsed arguments (``UsageError`` for bad values)."""
    from tracer.run import DEFAULT_APP, RunConfig

    duration = None if args.duration is None else parse_duration(args.duration, "-z")
    requests = args.requests if args.requests is not None else (None if duration else 200)
    if args.body_file is not None:
        body = read_body_file(args.body_file)
    else:
        # The bytes typed (os.fsencode): a non-UTF-8 byte arrives as a lone surrogate.
        body = os.fsencode(args.body or "")
    return RunConfig(
        app=args.app or DEFAULT_APP,
        factory=args.factory,
        app_dir=args.app_dir,
        interface=args.interface,
        server=args.server,
        workers=args.workers,
        threads=args.threads,
        concurrency=DEFAULT_CLIENTS if args.concurrency is None else args.concurrency,
        requests=requests,
        duration=duration,
        rate=args.rate,
        method=_method(args),
        paths=tuple(args.paths or ("/",)),
        headers=tuple(args.headers),
        body=body,
        ws_messages=args.ws_messages,
        http2=args.http2,
        timeout=parse_duration(args.timeout, "--timeout"),
        seed=args.seed,
        block_threshold_ms=args.block_threshold,
        server_options=_server_options(args),
    )


def _method(args: argparse.Namespace) -> str:
    """``-m``, else POST when a body was given (``-d``, even empty, or ``--body-file``), as
    curl's ``-d`` implies POST: a GET with a body is what nobody typing ``-d`` means, and
    many apps and servers ignore such a body. Every path a WebSocket session (a GET without
    a body) keeps GET, so that the refusal names the body alone, as typed."""
    if args.method is not None:
        return str(args.method)
    if args.body is None and args.body_file is None:
        return "GET"
    from tracer.loadgen import build_plan

    try:
        plan = build_plan(paths=tuple(args.paths or ("/",)), ws_messages=args.ws_messages)
    except UsageError:  # a bad path or count: RunConfig.check says so, in its turn
        return "POST"
    return "GET" if all(request.websocket for request in plan.requests) else "POST"


def main(args: argparse.Namespace) -> int:
    """Run, record, report. With ``--json`` the summary is alone on stdout: what the app
    prints goes to stderr."""
    # A child the app forks gets Python's signal handlers back, not this command's.
    import tracer.servers.forks  # noqa: F401
    from tracer.servers.crashes import CrashReport

    with _sigterm_noted() as termination, _CtrlCHeld(termination.stops) as held:
        if not args.json:
            with kept_streams() as streams, CrashReport(streams.err) as crash:
                return _main(args, sys.stdout, termination, streams, held, crash)
        from tracer.cli.stdout import app_prints_to_stderr

        with app_prints_to_stderr() as out, kept_streams() as streams:
            with CrashReport(streams.err) as crash:
                return _main(args, out, termination, streams, held, crash)


class _CtrlCHeld:
    """SIGINT (Ctrl-C) in the stretches of ``trace run``'s start-up that no stage answers:
    before the app's import (the recorder and its thread being set up), between the import
    and the load's own handler (``ctrl_c_sets``: the progress bar's import and start), and
    up to the dashboard. Each stage's handler puts this one back when it ends.

    Without it those stretches had the handler ``trace`` started with. Python's own raised
    ``KeyboardInterrupt`` wherever the main thread was (inside ``Thread.start``: a recorder
    that could not be closed; inside an import's lock callback: printed as ignored and lost);
    one inherited ignored (a shell starts a background job with SIGINT ignored) dropped the
    signal, and the run went on to its end. Here a Ctrl-C is noted (``pressed``), which
    interrupts at the next stage (the app's import, or before the load: exit 130), and sets
    the load's stop events once there are some (it stops the load, as during it).
    """

    def __init__(self, stops: list[threading.Event]) -> None:
        self.pressed = threading.Event()
        self._stops = stops
        self._previous: Any = None
        self._installed = False

    def __call__(self, signum: int, frame: Any) -> None:
        self.pressed.set()
        for stop in self._stops:
            stop.set()

    def __enter__(self) -> _CtrlCHeld:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        """Put back the handler there was before (idempotent). One pending is answered here
        first (``signal.signal`` runs it), so the caller's check of ``pressed`` sees it."""
        if self._installed:
            self._installed = False
            # None: a handler not installed from Python (an embedding program's), left to it.
            if self._previous is not None:
                signal.signal(signal.SIGINT, self._previous)

    def check(self) -> None:
        """``KeyboardInterrupt`` when a Ctrl-C was noted: nothing of the load has started."""
        if self.pressed.is_set():
            raise KeyboardInterrupt


def _main(
    args: argparse.Namespace,
    out: Any,
    termination: _Termination,
    streams: KeptStreams,
    held: _CtrlCHeld,
    crash: Any,
) -> int:
    from rich.console import Console

    from tracer.cli.paths import (
        cannot_write,
        claim_recording,
        discard,
        refuse_empty_record,
        watch_writer,
    )
    from tracer.digest import Digest
    from tracer.recorder import Recorder
    from tracer.report import print_report
    from tracer.run import default_record_path, open_server, run, stopped_before_load

    refuse_empty_record(
        args.record,
        "a file name, not an empty string; leave --record out for the default "
        "traces/<app>-<time>.jsonl.",
    )
    refuse_what_does_not_apply(args)
    config = config_from_args(args)
    config.check()
    if args.otlp_endpoint is not None:
        args.otlp = True  # an endpoint given is an export asked for
    if args.otlp:
        _check_otlp(args.otlp_endpoint)  # one line and exit 2 before anything starts
    # The recording's file is opened before anything is loaded: an unwritable path is one line
    # and exit 2 up front, and two runs in one second never share a default name.
    if args.record:
        target = claim_recording(args.record)
    else:
        target = claim_recording(default_record_path(config.app), default=True)
    path = target.path
    # Standard error as it was at the start: the app may replace sys.stderr or close
    # descriptor 2 while it runs, and the progress bar and these lines must still show.
    err = Console(file=streams.err)
    stops = termination.stops  # the load's stop events: a failed writer or a SIGTERM sets them

    def writer_failed() -> None:
        for stop in stops:
            stop.set()

    recorder = Recorder(path)
    failures = watch_writer(recorder, writer_failed)
    if target.created:
        # The header is on disk before the app is imported: a process that dies at once (a
        # segmentation fault in the app) leaves a recording to load, not an empty file. A file
        # given that existed keeps what it held until the app is loaded.
        recorder.open_file()
    digest = Digest(recorder.header)  # the run fills in its load later: read at the summary
    recorder.subscribe(digest.feed)
    recorded = threading.Event()  # set once events came: a start that recorded some keeps them
    recorder.subscribe(lambda batch: recorded.set())
    otlp: list[Any] = []  # the OTLP exporter's shutdown, once attached

    def app_exited(code: int) -> None:
        # The app ends this very process (in-process models): no report can follow. Through
        # the console, so the line lands above a progress bar and is not wrapped.
        err.print(
            f"trace: the app called os._exit({code}) during the run; the recording ends here: "
            f"{path}",
            soft_wrap=True,
            markup=False,
            highlight=False,
        )

    def begin() -> None:
        # t=0 of the recording is now, just before the load: the app's import and the
        # dashboard's start-up would otherwise open every timeline on a stretch of nothing.
        # The OTLP bridge is attached after it, as it reads the recording's clock once.
        recorder.start_now()
        if args.otlp:
            otlp.append(_attach_otlp(recorder, args.otlp_endpoint))

    try:
        held.check()  # a Ctrl-C while the recorder was set up
        with _ctrl_c_noted() as pressed, termination.interrupts():
            server = open_server(config, recorder)
            if args.otlp:
                _otlp_available()
        if pressed.is_set():  # a Ctrl-C the start-up swallowed (nothing is started yet)
            raise KeyboardInterrupt
        held.check()  # one just after the import
        recorder.open_file()  # (a file that existed: emptied only now that the app is loaded)
        if termination.received.is_set():  # one the start-up swallowed, or one just after it
            raise _StoppedStarting
    except _StoppedStarting:
        # A stop, as SIGTERM is during the load: a valid recording of no requests, exit 0.
        streams.reclaim()  # what the app's import did to sys.stdout is not the report's
        stopped_before_load(config, recorder)
        try:
            recorder.close()
        except OSError as exc:
            failures.append(exc)
        if failures:
            raise cannot_write(path, failures[0]) from None
        print(
            "trace: the run was stopped (SIGTERM) before the load began: no requests were sent.",
            file=sys.stderr,
        )
        if args.json:
            print(json.dumps(digest.summary()), file=out)
            print(f"recording: {path}", file=sys.stderr)
        else:
            print(f"recording: {path}")
        return 0
    except BaseException:
        if not target.created:
            recorder.path = None  # nothing ran: the file given keeps what it held
        with contextlib.suppress(OSError):
            recorder.close()
        discard(target)  # no empty recording left behind by a bad APP
        raise
    app_log: str | None = None  # where what the app prints goes under the dashboard
    prints: Any = None
    try:
        dashboard = on_terminal() and not args.headless and not args.json
        if dumb_terminal() and is_tty(sys.stdout) and not (args.headless or args.json):
            print("trace: TERM=dumb: no dashboard, running headless", file=sys.stderr)
        live = _live_runner() if dashboard else None
        if live is not None:
            # The dashboard answers SIGINT its own way (Python's handler, which its event
            # loop takes over): not noted from here on.
            held.release()
            held.check()
            app_log, prints = open_app_log(path, server)
            if prints is not None:
                crash.move_to(prints)  # with the app's prints, not over the dashboard's screen

            def app_exited_live(code: int) -> None:
                from tracer.tui.live import leave_terminal

                leave_terminal()  # the line below goes to the shell's screen, which works again
                if prints is not None:
                    with contextlib.suppress(OSError, ValueError):
                        prints.flush()  # the process ends without closing it
                sys.stderr = sys.__stderr__  # not Textual's capture of prints: the process ends
                app_exited(code)

            terminated: list[int] = []  # the SIGTERMs received while the dashboard runs

            def work(stop: threading.Event) -> Any:
                stops.append(stop)
                if failures:
                    stop.set()
                if terminated or termination.received.is_set():
                    # A SIGTERM came before the dashboard's loop ran: again, now.
                    os.kill(os.getpid(), signal.SIGTERM)
                begin()
                return run(config, recorder, server=server, stop=stop, on_app_exit=app_exited_live)

            from tracer.shim.hops import competing

            with competing("the live dashboard"), _sigterm_closes_dashboard(terminated):
                live(
                    recorder,
                    work,
                    title=f"{config.app} · {server.describe().get('model')}",
                    total_requests=config.requests,
                    lang=args.lang or "en",
                    prints=prints,
                    exited=lambda: who_exited(server),
                )
        else:
            stop = threading.Event()
            stops.append(stop)  # from here on a Ctrl-C or a SIGTERM sets it
            if termination.received.is_set() or held.pressed.is_set():  # one since the start-up
                stop.set()
            try:
                run_headless(
                    config, recorder, server, err, begin, stop=stop, on_app_exit=app_exited
                )
            finally:
                held.release()  # after the load, Ctrl-C is what it was when trace started
    except BaseException:
        # The server never served (it could not load the app): no header-only recording left.
        # One whose start recorded events (a lifespan startup that failed) keeps them.
        with contextlib.suppress(Exception):
            recorder.drain()  # what is queued reaches the digest first
        if not digest.requests() and not recorded.is_set():
            with contextlib.suppress(OSError):
                recorder.close()
            discard(target)
        raise
    finally:
        # The app is done: from here on the command writes where it did when it started,
        # whatever the app did to sys.stdout, sys.stderr or descriptors 1 and 2.
        streams.reclaim()
        try:
            recorder.close()
        except OSError as exc:  # the run's own error, if any, is the one to report
            failures.append(exc)
        for shutdown in otlp:
            shutdown()  # the last spans, then the exporter's final batch
        save_server_output(server, path)
        if app_log is not None:
            say_app_log(app_log, prints)
    if failures:
        raise cannot_write(path, failures[0])
    summary = digest.summary()
    say_how_it_ended(server, config, summary["requests"], stopped=bool(stops) and stops[0].is_set())
    if args.json:
        print(json.dumps(summary), file=out)
        print(f"recording: {path}", file=sys.stderr)
        return 0
    from tracer.recording import Recording

    recording = Recording(header=dict(recorder.header), events=[], path=path)
    # After the dashboard too: its screen is gone once it closes, and the report stays in the
    # terminal's scrollback, as after a headless run.
    print_report(recording, summary, details=digest.details())
    print(f"recording: {path}")
    return 0


def _live_runner() -> Any:
    """``tracer.tui.live.run_live`` when the dashboard is installed, else None."""
    if importlib.util.find_spec("tracer.tui.live") is None:
        return None
    from tracer.tui.live import run_live

    return run_live


def _otlp_available() -> None:
    """``UsageError`` when ``--otlp`` cannot work here (the bridge is not installed)."""
    if importlib.util.find_spec("tracer.otel.live") is None:
        raise UsageError(
            "--otlp needs the OpenTelemetry bridge (tracer.otel), which is not installed."
        )


def _check_otlp(endpoint: str | None) -> None:
    """The bridge is installed, the protocol known and the endpoint a URL (else UsageError)."""
    _otlp_available()
    from tracer.otel.config import check_endpoint, protocol_from_env

    protocol_from_env()
    if endpoint is not None:
        check_endpoint(endpoint)


def _attach_otlp(recorder: Any, endpoint: str | None) -> Any:
    """Export finished requests as OTLP spans (off the request path); returns the shutdown."""
    _otlp_available()
    from tracer.otel.live import attach_from_cli

    return attach_from_cli(recorder, endpoint)
