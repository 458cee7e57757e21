"""``trace run [APP] ...``: load through a server model into the traced app, then the report.

Parses into a ``RunConfig`` and calls ``tracer.run.run``. On a terminal (without
``--headless``) the live dashboard runs it, if installed; otherwise a rich progress bar (on
stderr with ``--json``) and the report, or the summary JSON alone on stdout with ``--json``.
The recording streams to ``--record FILE`` (default ``traces/<app>-<time>.jsonl``, ``-2``…
added when that exists), opened before the app is loaded (``tracer.cli.paths``), and its path is
printed at the end. Textual and OpenTelemetry are imported only when used.

This module is the command's options and the order of its steps; the steps are a
``RunSession`` (``tracer.cli.run_session``: claim the recording, load the app, run the load
live or headless, report), whose parts live beside it: the progress bar of a headless run
(``tracer.cli.headless``), the logs kept beside the recording of what the server and the app
printed (``tracer.cli.run_logs``), what is said at the end about how the run ended
(``tracer.cli.run_end``), and the streams it writes to, kept from what the app does to the
process's (``tracer.cli.streams``). Ctrl-C and SIGTERM are answered by ``tracer.cli.signals``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from typing import Any

from tracer.cli.body import read_body_file
from tracer.cli.encoding import no_ui_line
from tracer.cli.parsing import bounded, parse_duration

# Private here: the signal handling is tracer.cli.signals', which this module only uses.
from tracer.cli.signals import CtrlCHeld as _CtrlCHeld
from tracer.cli.signals import StoppedStarting as _StoppedStarting
from tracer.cli.signals import Termination as _Termination
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
    "HOLDS_CTRL_C",
    "SERVER_CHOICES",
]

HOLDS_CTRL_C = True
"""``main`` answers Ctrl-C from its first line (``CtrlCHeld``): the command line hands it the
handler that noted one while the line was read, and never puts back the one ``trace`` started
with in between (inherited ignored, a SIGINT there was dropped and the run went on)."""


DEFAULT_CLIENTS = 50
"""Closed-loop clients when neither -c nor --rate is given."""

SERVER_CHOICES = (
    "threads",
    "loop",
    "wsgi-on-loop",
    "processes",
    "uvicorn",
    "hypercorn",
    "gunicorn",
    "waitress",
    "granian",
    "daphne",
)
"""The ``--server`` choices its help lists: ``tracer.servers.SERVER_MODELS``'s keys, in its
order (a test holds them equal), written out because every command's parser is built at the
start and ``replay``, ``export`` and ``summary`` must not import the server models for it. A
name is checked against the registry itself (``server_model``), which lists them too."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``run`` sub-command (flags as DESIGN.md's command line)."""
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
        help=f"server model: {', '.join(SERVER_CHOICES)} (default: threads for WSGI, loop for ASGI)",
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
        "--ws-messages",
        type=int,
        default=None,
        metavar="N",
        help="messages per websocket session (default 1; 0: open and close only); "
        "without a ws: path, every path is a session",
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
    real.add_argument(
        "--worker-class",
        choices=("sync", "gthread", "asgi", "gevent", "asyncio", "uvloop", "trio"),
        help="gunicorn: sync, gthread, asgi, gevent; hypercorn: asyncio (its default), uvloop, "
        "trio",
    )
    real.add_argument(
        "--worker-connections",
        type=bounded(int, low=1),
        metavar="N",
        help="gunicorn --worker-class gevent: connections a worker process serves at once "
        "(default 1000)",
    )
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
    real.add_argument(
        "--max-requests",
        type=bounded(int, low=1),
        metavar="N",
        help="gunicorn, uvicorn: a worker process ends after N requests (gunicorn and uvicorn "
        "--workers start another; a lone uvicorn stops)",
    )
    real.add_argument("--no-keepalive", action="store_true", help="a new connection per request")
    real.add_argument(
        "--read-for",
        metavar="D",
        help="read each response for D after its first byte, then close it (an SSE stream, "
        "a long download): recorded as closed by the client, not an error",
    )
    real.add_argument(
        "--read-bytes",
        type=bounded(int, low=0),
        metavar="N",
        help="close each response once N body bytes came (as --read-for)",
    )
    real.add_argument(
        "--read-rate",
        type=bounded(float, above=0.0),
        metavar="BYTES/S",
        help="read responses at about this many bytes a second (a slow client: the server "
        "waits to write); HTTP/1.1",
    )
    return p


def refuse_what_does_not_apply(args: argparse.Namespace) -> None:
    """``UsageError`` for an option this run would ignore (README: refused, not a silent
    no-op): ``--lang`` without the dashboard, ``--seed`` without an open loop; and a server
    or loop this operating system cannot run (``tracer.cli.platforms``)."""
    from tracer.cli.platforms import refuse_run_off_platform

    refuse_run_off_platform(args.server)
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
    _refuse_read_options(args)


_READ_OPTIONS = (
    ("read_for", "--read-for"),
    ("read_bytes", "--read-bytes"),
    ("read_rate", "--read-rate"),
)
"""The options that say how the client reads a response (HTTP only)."""


def _refuse_read_options(args: argparse.Namespace) -> None:
    """``UsageError`` for a read option this run would ignore or that cannot take effect."""
    given = [flag for name, flag in _READ_OPTIONS if getattr(args, name, None) is not None]
    if not given:
        return
    if args.read_rate is not None and args.http2:
        raise UsageError(
            "--read-rate paces the HTTP/1.1 client's reads; the HTTP/2 client reads every "
            "stream as it comes: drop --read-rate or --http2."
        )
    if args.ws_messages is not None or any(path.startswith("ws:") for path in args.paths or ()):
        raise UsageError(
            f"{given[0]} says how HTTP responses are read; WebSocket sessions (ws: paths, "
            f"--ws-messages) read every reply: drop {given[0]}, or give HTTP paths only."
        )
    if args.read_for is not None:
        read_for = parse_duration(args.read_for, "--read-for")
        timeout = parse_duration(args.timeout, "--timeout")
        if read_for >= timeout:
            raise UsageError(
                f"--read-for {args.read_for} is not shorter than --timeout {args.timeout}: a "
                "response still read at its timeout is an error. Give a longer --timeout."
            )


def _server_options(args: argparse.Namespace) -> dict[str, Any]:
    """The real servers' own flags that were given (``ServerConfig.options``), and how their
    client reads (``read_for`` in seconds, ``read_bytes``, ``read_rate``)."""
    names = (
        "worker_class",
        "worker_connections",
        "loop",
        "http",
        "limit_concurrency",
        "max_requests",
        "no_keepalive",
    )
    options = {name: getattr(args, name) for name in names if getattr(args, name, None)}
    for name, _ in _READ_OPTIONS:
        value = getattr(args, name, None)
        if value is not None:
            options[name] = parse_duration(value, "--read-for") if name == "read_for" else value
    return options


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
    with _sigterm_noted() as termination, _CtrlCHeld(termination.stops) as held:
        # Imported under the held Ctrl-C: the server models' package loads asyncio and the
        # recorder, where one raised would land in the middle of an import.
        # A child the app forks gets Python's signal handlers back, not this command's.
        import tracer.servers.forks  # noqa: F401
        from tracer.servers.crashes import CrashReport

        if not args.json:
            with kept_streams() as streams, CrashReport(streams.err) as crash:
                return _main(args, sys.stdout, termination, streams, held, crash)
        from tracer.cli.stdout import app_prints_to_stderr

        own = sys.stdout
        with app_prints_to_stderr() as out, kept_streams() as streams:
            with CrashReport(streams.err) as crash:
                code = _main(args, out, termination, streams, held, crash)
            if out is not own and getattr(args, "_process_command_line", False):
                _stdout_finished(out)
            return code


def _stdout_finished(out: Any) -> None:
    """The summary JSON is written: point ``out``'s descriptor (the real standard output,
    which ``app_prints_to_stderr`` puts back on descriptor 1 as it ends) at standard error.
    The app may still write to standard output until the process ends (its exit handlers, a
    thread it left running, which ``trace`` gives a second to end): those lines go to stderr,
    as its prints during the run did, and never follow the JSON into the file or pipe."""
    try:
        out.flush()
        os.dup2(sys.stderr.fileno(), out.fileno())
    except (AttributeError, OSError, ValueError):  # no descriptor of its own: nothing to guard
        pass


def _main(
    args: argparse.Namespace,
    out: Any,
    termination: _Termination,
    streams: KeptStreams,
    held: _CtrlCHeld,
    crash: Any,
) -> int:
    """The run's steps: check the options, claim the recording, load the app, run the load
    (live or headless), report (``tracer.cli.run_session``)."""
    from tracer.cli.paths import refuse_empty_record
    from tracer.cli.run_session import RunSession, check_otlp

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
        check_otlp(args.otlp_endpoint)  # one line and exit 2 before anything starts
    session = RunSession(
        args, config, out=out, termination=termination, streams=streams, held=held, crash=crash
    )
    session.claim()
    try:
        session.start()
    except _StoppedStarting:
        return session.stopped_starting()
    session.run(lambda: _dashboard(args))
    return session.report()


def _dashboard(args: argparse.Namespace) -> Any:
    """The live dashboard's runner when this run shows it (every standard stream on a
    terminal, neither ``--headless`` nor ``--json``), else None: headless. Asked once the app
    is loaded, as what its import did to the streams counts."""
    dashboard = on_terminal() and not args.headless and not args.json
    if dumb_terminal() and is_tty(sys.stdout) and not (args.headless or args.json):
        print("trace: TERM=dumb: no dashboard, running headless", file=sys.stderr)
    elif dashboard and (line := no_ui_line("running headless")) is not None:
        print(line, file=sys.stderr)  # a terminal whose encoding cannot show it (LC_ALL=C)
        dashboard = False
    return _live_runner() if dashboard else None


NO_DASHBOARD_HERE = (
    "trace: no live dashboard on Windows (it needs a POSIX terminal): running headless; "
    "trace replay shows the recording"
)
"""Said where the live dashboard cannot draw (no ``termios``), before the run goes headless."""


def _live_runner() -> Any:
    """``tracer.tui.live.run_live`` when the dashboard is installed and can draw here, else
    None. It draws through Textual's Linux driver, on ``termios``: Windows has neither."""
    if importlib.util.find_spec("tracer.tui.live") is None:
        return None
    if importlib.util.find_spec("termios") is None:
        print(NO_DASHBOARD_HERE, file=sys.stderr)
        return None
    from tracer.tui.live import run_live

    return run_live
