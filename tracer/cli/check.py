"""``trace check APP [--path P ...] [--format text|json|junit] [--strict]``: protocol conformance.

Drives the app in-process through representative requests (GET, HEAD, POST with a body, a
chunked POST, a websocket session and lifespan for ASGI apps) at the given paths, else at the routes a
Flask, Quart, Starlette, FastAPI, Litestar, Falcon, Bottle, Sanic or Django app declares
(``tracer.conformance.routes``), and prints every
broken WSGI/ASGI rule with the request, the app's file:line and a hint. Exit 0 clean, 1 errors found (``--strict``:
warnings too), 2 bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any

from tracer.cli.parsing import parse_duration

__all__ = ["add_parser", "main"]

MAX_TIMEOUT = 3600.0
"""The longest --timeout per request, in seconds (an hour; inf or 1e300 overflowed the clock)."""

IMPORT_NOTE_AFTER = 1.0
"""Seconds an import may take before ``trace check`` says, on a terminal, what it waits for."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``check`` sub-command."""
    from tracer.conformance.findings import FORMATS

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "check",
        help="check an app against the WSGI/ASGI protocol rules",
        description="Drive APP through representative requests and report protocol violations.",
        epilog="Exit status: 0 no violations; 1 errors found (with --strict, warnings too); "
        "2 bad input. The rules: docs/rules.md.",
    )
    parser.add_argument("app", metavar="APP", help="module:attr or path/file.py:attr")
    parser.add_argument(
        "--path",
        action="append",
        dest="paths",
        metavar="P",
        help="a path to probe (repeatable; default: the app's routes if it is a Flask, Quart, "
        "Starlette, FastAPI, Litestar, Falcon, Bottle, Sanic or Django app, else /)",
    )
    parser.add_argument("--format", choices=sorted(FORMATS), default="text", help="output format")
    parser.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    parser.add_argument(
        "--interface", choices=("auto", "wsgi", "asgi"), default="auto", help="app interface"
    )
    parser.add_argument("--factory", action="store_true", help="APP is a factory returning the app")
    parser.add_argument(
        "--app-dir", default=".", metavar="DIR", help="put DIR first on sys.path (default .)"
    )
    parser.add_argument(
        "--timeout",
        default="5s",
        metavar="D",
        help="per request: 5s, 500ms, 1m (a plain number is seconds; default 5s, at most 1h)",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")
    parser.add_argument("--record", metavar="FILE", help="also save the check's recording")
    return parser


def main(args: argparse.Namespace) -> int:
    """Load the app, check it, print the report; the exit code says whether it passed.

    What the app prints goes to stderr: the report (JSON, JUnit XML) is alone on stdout. What
    the command says itself reaches the streams it started with, whatever the app did to
    ``sys.stdout``, ``sys.stderr`` or descriptors 1 and 2 meanwhile."""
    from tracer.cli.paths import refuse_empty_record
    from tracer.cli.stdout import app_prints_to_stderr
    from tracer.cli.streams import kept_streams
    from tracer.errors import UsageError

    # An empty name is a script's unset variable: refused, as trace run refuses it, rather
    # than taken for stdout (-o) or for no recording at all (--record).
    refuse_empty_record(args.record, "a file name, not an empty string; leave --record out.")
    if args.output == "":
        raise UsageError(
            "-o needs a file name, not an empty string; leave -o out for the report on stdout."
        )
    # Paths the app's os.chdir must not move: they are the user's, relative to where trace
    # started (the app runs in process, and may change the working directory in a request).
    # What the command says names them as they were given (``_Given``).
    given = _Given(args.record, args.output)
    if (
        args.record
        and args.output
        and os.path.realpath(args.record) == os.path.realpath(args.output)
    ):
        raise UsageError(
            f'-o "{args.output}" is the file --record writes: choose another file (the report '
            "would replace the recording)."
        )
    for name in ("record", "output"):
        if getattr(args, name):
            setattr(args, name, os.path.abspath(getattr(args, name)))
    terminal = sys.stdout  # fitted to its encoding as the command started (tracer.cli.encoding)
    with app_prints_to_stderr() as out, kept_streams():
        return _main(args, out, terminal, given)


class _Given:
    """``--record`` and ``-o`` as the user gave them, for what the command says of them:
    ``trace run``, ``sim`` and ``summary`` say a relative path as it was typed, where ``trace
    check`` said the absolute one it works with."""

    def __init__(self, record: str | None, output: str | None) -> None:
        self.record = record
        self.output = output
        relative = [path for path in (record, output) if path and not os.path.isabs(path)]
        self._start = os.getcwd() if relative else None  # what they are relative to

    def error(self, exc: OSError, given: str) -> OSError:
        """``exc`` (from writing ``given``, made absolute) with its file (the one given, or
        a folder of it) said relative to where the command started, as ``given`` is."""
        filename = exc.filename
        if self._start is None or os.path.isabs(given) or not isinstance(filename, str):
            return exc
        if filename == os.path.abspath(os.path.join(self._start, given)):
            exc.filename = given  # as typed: ``./c.jsonl`` stays so
        elif os.path.isabs(filename):
            exc.filename = os.path.relpath(filename, self._start)
        return exc


def _main(
    args: argparse.Namespace, out: Any, terminal: Any = None, given: _Given | None = None
) -> int:
    from tracer.cli.paths import cannot_write
    from tracer.conformance.driver import check_app
    from tracer.conformance.findings import FORMATS
    from tracer.conformance.routes import MAX_PATHS, discover_routes
    from tracer.errors import UsageError
    from tracer.loadgen.plan import SHELL_MADE, shell_made_path
    from tracer.recorder import Recorder

    timeout = parse_duration(args.timeout, "--timeout", most=MAX_TIMEOUT, most_text="1h")
    for path in args.paths or ():
        if not path.startswith("/"):
            if path.startswith("ws:"):  # trace run's websocket prefix: check needs none
                raise UsageError(
                    f'--path "{path}": trace check has no "ws:" prefix; it sends a websocket '
                    f"session to every path of an ASGI app by itself: give --path {path[3:] or '/'}."
                )
            if shell_made_path(path):
                raise UsageError(f'--path "{path}" must start with "/": {SHELL_MADE}')
            raise UsageError(f'--path "{path}" must start with "/", like "/{path}".')
    loaded = _load(args)
    if loaded.hint is not None:
        print(f"trace check: {loaded.hint}", file=sys.stderr)
    if not args.paths:
        routes = discover_routes(loaded.app)
        if routes is not None and routes.truncated:
            print(
                f"trace check: probing {MAX_PATHS} paths of each kind of the {routes.total} "
                "routes found; name others with --path.",
                file=sys.stderr,
            )
    recorder = Recorder(app=loaded.spec, source="traced")
    report = check_app(
        loaded.app,
        paths=args.paths,
        interface="asgi" if loaded.interface != "wsgi" else "wsgi",
        timeout=timeout,
        label=loaded.spec,
        recorder=recorder,
    )
    given = given or _Given(args.record, args.output)
    if args.record:
        recorder.header["interface"] = report.interface
        try:
            _save(recorder, args.record, leave_out=report.skipped_requests)
        except OSError as exc:
            said = given.record or args.record
            raise cannot_write(said, given.error(exc, said)) from None
    report.strict = args.strict
    text = FORMATS[args.format](report)
    if args.output and not _names_stdout(args.output):
        from tracer.cli.paths import make_parent
        from tracer.export.whole_file import whole_file

        try:
            make_parent(args.output)  # as --record makes its folders
            # Whole or not at all: a write failing part-way (a full disk, ``ulimit -f``,
            # Ctrl-C) leaves an earlier report at that path as it was, not cut short.
            with whole_file(args.output) as file:
                file.write(text)
        except OSError as exc:
            said = given.output or args.output
            raise UsageError(f'Cannot write "{said}": {exc.strerror}.') from None
    else:
        if args.format == "text":
            _encode_like(out, terminal)
        out.write(text)
    return 1 if report.failed() else 0


_STDOUT_NAMES = ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1")
"""Paths that name the process's standard output (``/proc/PID/fd/1`` too)."""


def _names_stdout(path: str) -> bool:
    """Whether ``-o path`` names standard output: the report then goes where it goes without
    ``-o``. Opened by name, it was descriptor 1, which is standard error while the app runs
    (``tracer.cli.stdout``): the report went to stderr."""
    return path in _STDOUT_NAMES or path == f"/proc/{os.getpid()}/fd/1"


def _encode_like(out: Any, terminal: Any) -> None:
    """Have ``out`` encode as ``terminal``, the standard output the command started with.

    The report's own stream is always UTF-8 (``tracer.cli.stdout``): right for JSON and JUnit
    XML, files for machines that say they are UTF-8. The text report is for a person, on a
    terminal or a pipe that may take only ASCII (``LC_ALL=C``): written in its encoding, with
    the ASCII stand-ins every other command's report gets there, not in bytes it cannot show.
    """
    reconfigure = getattr(out, "reconfigure", None)
    encoding = getattr(terminal, "encoding", None)
    if out is terminal or reconfigure is None or not isinstance(encoding, str):
        return
    with contextlib.suppress(LookupError, OSError, ValueError):  # as it was: still readable
        reconfigure(encoding=encoding, errors=getattr(terminal, "errors", None) or "strict")


def _load(args: argparse.Namespace) -> Any:
    """The app (``tracer.loading.load_app``), shown importing on a terminal if that is slow.

    A ``KeyboardInterrupt`` that no Ctrl-C caused is the app's own (``raise
    KeyboardInterrupt`` at import, or in its factory): reported as a failed import, exit 2,
    as its ``SystemExit`` is, not as "trace: interrupted", exit 130, which says the user
    pressed Ctrl-C. ``ctrl_c_noted`` tells the two apart: it notes each real SIGINT.
    """
    from tracer.cli.signals import ctrl_c_noted
    from tracer.loading import load_app

    with _importing_shown(args.app):
        try:
            with ctrl_c_noted() as pressed:
                return load_app(
                    args.app, factory=args.factory, app_dir=args.app_dir, interface=args.interface
                )
        except KeyboardInterrupt as exc:
            if pressed.is_set():
                raise
            raise _raised_by_app(args.app, exc) from None


@contextlib.contextmanager
def _importing_shown(
    spec: str, stream: Any = None, after: float = IMPORT_NOTE_AFTER
) -> Iterator[None]:
    """While inside (the app's import), a slow import is shown: after ``after`` seconds one
    line, ``trace check: importing APP...``, on ``stream`` (standard error as the import
    starts, before the app can replace it), when it is a terminal. A pipe or a file gets
    nothing: a script's captured output stays the report alone."""
    from tracer.cli.terminal import is_tty
    from tracer.printable import printable

    stream = sys.stderr if stream is None else stream
    if not is_tty(stream):
        yield
        return

    def say() -> None:
        with contextlib.suppress(OSError, ValueError):  # closed meanwhile: nobody to tell
            stream.write(f"trace check: importing {printable(spec)}...\n")
            stream.flush()

    timer = threading.Timer(after, say)
    timer.daemon = True
    timer.name = "trace-check-import-note"
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join()  # gone before the check counts the threads the app starts


def _raised_by_app(spec: str, exc: KeyboardInterrupt) -> Exception:
    """The failed import of APP ``spec`` whose code raised ``exc``, with the app's traceback
    (the loader's and the tracer's frames left out)."""
    import importlib
    import traceback

    from tracer.errors import AppImportFailed
    from tracer.sourcepath import OURS, source_kind

    loader = (os.path.dirname(importlib.__file__) + os.sep, "<frozen importlib")
    summary = traceback.TracebackException.from_exception(exc)
    summary.stack = traceback.StackSummary.from_list(
        [
            frame
            for frame in summary.stack
            if source_kind(frame.filename) != OURS and not frame.filename.startswith(loader)
        ]
    )
    said = (str(exc).strip().splitlines() or [""])[0]
    detail = f"KeyboardInterrupt: {said}" if said else "KeyboardInterrupt"
    return AppImportFailed(
        f'Importing APP "{spec}" failed: {detail} (raised by the app, not a Ctrl-C)',
        "".join(summary.format()),
    )


def _save(recorder: Any, path: str, leave_out: set[int]) -> None:
    """Write the check's recording without the requests of the probes it skipped (their
    violations are not findings: the recording's summary must count what the report does)."""
    from tracer.recording import RecordingWriter

    events = sorted(
        (e for e in recorder.events if e.req is None or e.req not in leave_out),
        key=lambda e: (e.t, e.seq),
    )
    writer = RecordingWriter(path, recorder.header)
    try:
        writer.write(events)
    finally:
        writer.close()
