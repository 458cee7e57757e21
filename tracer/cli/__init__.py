"""The ``trace`` command line: parse, then call one command module's ``main``.

Thin by design: each sub-command lives in ``tracer.cli.<name>`` with ``add_parser`` and
``main(args) -> int``, and imports heavy things (Textual, OpenTelemetry) inside ``main``.
A command whose module says ``HOLDS_CTRL_C = True`` answers Ctrl-C from its first line: its
``CtrlCHeld`` takes over the handler that noted one while the command line was read.
Errors: a ``TracerError`` becomes one line on stderr and exit code 2; usage errors too.
A closed stdout (``trace export ... | head``) ends the command quietly with exit code 1.
No room to write (a full disk under stdout, ``ulimit -f``) is one line on stderr and exit
code 2, as a recording that cannot be written is.
"""

from __future__ import annotations

# Only what Python's start-up has (nearly always) loaded already: the console script imports
# this module before ``main`` can catch a Ctrl-C, and any longer import here would be a moment
# where one is a traceback. argparse and the commands load inside ``main``; typing is only for
# the type checker.
import importlib
import os
import sys

from tracer.errors import TracerError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence
    from typing import Any


__all__ = ["main", "build_parser", "COMMANDS", "check_stdout"]

# Sub-command name -> module under tracer.cli (the module must exist to be registered).
COMMANDS: dict[str, str] = {
    "run": "tracer.cli.run",
    "replay": "tracer.cli.replay",
    "summary": "tracer.cli.summary",
    "sim": "tracer.cli.sim",
    "demo": "tracer.cli.demo",
    "export": "tracer.cli.export",
    "check": "tracer.cli.check",
}

EXIT_USAGE = 2
EXIT_CLOSED_PIPE = 1
"""The reader of our output went away (as in the Python docs' SIGPIPE recipe)."""
EXIT_INTERRUPTED = 130
"""Ctrl-C ended the command (128 + SIGINT)."""

THREADS_GRACE = 1.0
"""Seconds the app's threads still running when the command is done get to end by themselves
(one finishing its last work is waited for, as Python would) before ``trace`` leaves them."""


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every sub-command whose module is installed."""
    from tracer._version import __version__
    from tracer.cli.parsing import OneLineParser

    parser = OneLineParser(
        prog="trace",
        description="See what WSGI and ASGI do under concurrency.",
    )
    parser.add_argument("--version", action="version", version=f"gateway-tracer {__version__}")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=OneLineParser
    )
    for module_name in COMMANDS.values():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        sub = module.add_parser(subparsers)
        sub.set_defaults(_main=module.main, _holds_ctrl_c=getattr(module, "HOLDS_CTRL_C", False))
    return parser


def _reader_gone(stream: Any) -> bool | None:
    """Whether ``stream`` is a pipe (or socket) whose reader has gone; None if it cannot tell."""
    if stream is None:
        return False
    try:
        stream.flush()
    except BrokenPipeError:
        return True
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (e.g. pytest's capture)
        return False
    import select

    if not hasattr(select, "poll"):  # Windows
        return None
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    # A pipe with no reader left polls as an error (Linux) or a hang-up (BSD, macOS).
    return any(mask & (select.POLLERR | select.POLLHUP) for _, mask in poller.poll(0))


def check_stdout() -> None:
    """Flush stdout; raise ``BrokenPipeError`` if its reader has gone.

    Call it before saying on stderr that something was written to stdout: under ``python -u``
    or ``PYTHONUNBUFFERED`` a write that the closing pipe cuts short drops the rest silently,
    so only the pipe can tell. ``main`` turns the error into a quiet exit.
    """
    if _reader_gone(sys.stdout):
        raise BrokenPipeError(32, "Broken pipe: the reader of stdout has gone")


def _silence_closed_outputs() -> bool:
    """Point stdout and stderr at devnull if their reader has gone, so the interpreter's final
    flush does not raise again (the Python docs' recipe for SIGPIPE); False if neither has."""
    closed = False
    for stream in (sys.stdout, sys.stderr):
        if _reader_gone(stream) is False:
            continue
        closed = True
        _to_devnull(stream)
    return closed


def _to_devnull(stream: Any) -> None:
    """Point ``stream``'s descriptor at devnull (``streams.to_devnull``); a stream with no
    descriptor (a test's capture) is left as it is."""
    from tracer.cli.streams import to_devnull

    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    to_devnull(fd)


def _discard_closed_outputs() -> None:
    """Open the null device on standard output or error when the process started with it
    closed (``>&-``, ``2>&-`` in a script; Python then has None for the stream): what the
    command writes there is discarded, as the shell asked, where it failed (``--json``), and no
    file opened later (the recording) takes descriptor 1 or 2, where the app's prints and its
    children's output would land."""
    for fd, name in ((1, "stdout"), (2, "stderr")):
        if getattr(sys, name) is not None or getattr(sys, f"__{name}__") is not None:
            continue  # open (or a test's stand-in)
        try:
            os.fstat(fd)
        except OSError:  # closed still: the null device takes its number
            devnull = os.open(os.devnull, os.O_WRONLY)
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
            os.set_inheritable(fd, True)  # as a standard descriptor: children get it too
            stream = open(fd, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 (the process's)
            setattr(sys, f"__{name}__", stream)  # as Python makes it for an open descriptor
        else:  # taken since the start: a stream of its own on the null device
            stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (the process's)
        setattr(sys, name, stream)


def _no_room_errors() -> set[int]:
    """The errors of a write the machine has no room for: a full disk, a quota, ``ulimit -f``."""
    import errno

    return {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def _say_no_room(exc: OSError) -> int:
    """One line on stderr for a write there was no room for, and exit code 2. Which stream
    failed is not known unless the error names its file (a stream drops what it could not
    write: flushing it again cannot tell); the reason says what to free or raise."""
    stdout = sys.stdout
    if stdout is not None:
        try:
            stdout.flush()
        except (OSError, ValueError):  # what it still holds would fail again at exit
            _to_devnull(stdout)
    from tracer.printable import printable

    named = f' "{printable(str(exc.filename))}"' if exc.filename else ""
    try:
        print(f"trace: error: Cannot write{named}: {exc.strerror}.", file=sys.stderr)
    except (OSError, ValueError):  # stderr has no room either: nothing can be said
        pass
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``trace`` console script and ``python -m tracer``.

    Run as the process's own command line (``argv`` None), it ends the process itself when
    the app left threads running that Python would wait for at exit (``_leave_app_threads``).
    """
    try:
        code = _command_line(argv)
    except SystemExit:
        raise  # argparse's --help and usage errors: before any app was loaded
    except BaseException:
        if argv is None and (left := _threads_left()):
            import traceback

            traceback.print_exc()  # as Python would print it, before it waited for them
            _leave_app_threads(1, left)
        raise
    if argv is None and (left := _threads_left()):
        _leave_app_threads(code, left)
    return code


def _app_threads() -> list[Any]:
    """The threads Python's exit would wait for, other than the main one: those not daemons,
    and the workers of ``concurrent.futures`` thread pools, which its exit hook joins daemon or
    not (the default executor of an event loop running in a daemon thread makes daemon workers:
    ``asyncio.to_thread``, asgiref's ``sync_to_async``). The command's own are over by the time
    it returns, so these are the app's."""
    threading = sys.modules.get("threading")
    if threading is None:  # never imported: no thread was ever started
        return []
    main_thread = threading.main_thread()
    pooled = _pool_workers()
    return [
        thread
        for thread in threading.enumerate()
        if thread is not main_thread
        and thread.is_alive()
        and (not thread.daemon or thread in pooled)
    ]


def _pool_workers() -> set[Any]:
    """The threads of every ``concurrent.futures`` thread pool still alive (none if the module
    was never imported)."""
    pools = sys.modules.get("concurrent.futures.thread")
    queues = getattr(pools, "_threads_queues", None)
    return set(queues) if queues else set()


def _release_idle_pool_workers() -> None:
    """Tell every ``concurrent.futures`` pool worker that the interpreter is shutting down, as
    its exit hook does first (``_python_exit``): an idle one ends at once; one still running
    the app's call ends when the call returns."""
    pools = sys.modules.get("concurrent.futures.thread")
    queues = getattr(pools, "_threads_queues", None)
    lock = getattr(pools, "_global_shutdown_lock", None)
    if not queues or lock is None:
        return
    with lock:
        pools._shutdown = True  # type: ignore[union-attr]
    for queue in list(queues.values()):
        queue.put(None)


def _threads_left() -> list[Any]:
    """The app's threads (``_app_threads``) still running once they had ``THREADS_GRACE`` to
    end by themselves (one finishing its last work is waited for, as Python would): those
    Python's exit would wait for, maybe for ever."""
    # Imported here, not at the top: every import there widens the instant where a Ctrl-C as
    # trace starts is a traceback.
    from time import monotonic

    left = _app_threads()
    if not left:
        return []
    _release_idle_pool_workers()
    deadline = monotonic() + THREADS_GRACE
    try:
        for thread in left:
            thread.join(max(0.0, deadline - monotonic()))
    except KeyboardInterrupt:  # Ctrl-C: wait no more
        pass
    return [thread for thread in left if thread.is_alive()]


def _leave_app_threads(code: int, left: list[Any]) -> None:
    """End the process with ``code``, leaving the app's threads ``left`` running
    (``_threads_left``: a thread looping for ever, a call with no timeout): Python's exit would
    join them and ``trace`` would never exit. Everything of the command is written and closed
    by then; the exit handlers registered (``atexit``) run and the standard streams are
    flushed, as at a normal exit, then ``os._exit``."""
    names = ", ".join(thread.name for thread in left[:3]) + (", ..." if len(left) > 3 else "")
    print(
        f"trace: left {len(left)} app thread{'s' if len(left) != 1 else ''} running ({names}); "
        "exiting without waiting for them.",
        file=sys.stderr,
    )
    import atexit

    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is not None:
        run_exit_handlers()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _command_line(argv: Sequence[str] | None) -> int:
    """The command line's exit code: the command's, or that of a closed output or a Ctrl-C."""
    try:
        code = _main(argv)
        # What is still buffered meets a closed pipe (or a full disk) here, not in the
        # interpreter's final flush.
        if sys.stdout is not None:
            sys.stdout.flush()
        return code
    except BrokenPipeError:
        if not _silence_closed_outputs():
            raise  # a socket's, not our output's: a bug to see
        return EXIT_CLOSED_PIPE
    except OSError as exc:
        if exc.errno not in _no_room_errors():
            raise
        return _say_no_room(exc)
    except KeyboardInterrupt:
        # Around the whole command line, not only the command: a Ctrl-C as trace starts
        # lands while the commands' modules are imported, before any handler of theirs.
        print("trace: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


_HEARD_LOGGERS = ("tracer.recording", "tracer.otel.spans")
"""Loggers whose warnings are about the recording a command reads: the reader's (a header
field read without) and the span maker's (a value repaired, a request skipped)."""


def _hear_reader_warnings() -> Callable[[], None]:
    """Until the returned function is called (as the command ends), what the recording
    reader warns of (a header field it read without, ``tracer.recording``) is one ``trace:
    warning:`` line on stderr, as the command's own warnings are, rather than Python's bare
    last-resort line."""
    import logging

    class _Line(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            from tracer.printable import printable

            # sys.stderr as it is now: a test's capture, or the stream fitted to its encoding.
            print(f"trace: warning: {printable(record.getMessage())}", file=sys.stderr)

    handler = _Line(logging.WARNING)
    heard = [logging.getLogger(name) for name in _HEARD_LOGGERS]
    propagates = [logger.propagate for logger in heard]
    for logger in heard:
        logger.addHandler(handler)
        logger.propagate = False

    def stop() -> None:
        for logger, propagate in zip(heard, propagates, strict=True):
            logger.removeHandler(handler)
            logger.propagate = propagate

    return stop


def _main(argv: Sequence[str] | None) -> int:
    from tracer.cli.signals import CtrlCDeferred

    # A Ctrl-C is noted, not raised where it lands, from here until the command answers it
    # (CtrlCDeferred says why); it is raised at the checks.
    with CtrlCDeferred() as deferred:
        from tracer.cli.encoding import fit_standard_streams

        _discard_closed_outputs()
        fit_standard_streams()  # before anything is printed: --help and usage errors too
        parser = build_parser()
        deferred.check()  # one while the commands loaded: nothing said yet
        try:
            args = parser.parse_args(argv)
        finally:
            deferred.check()  # one while the line was read: before --help or a usage error
        command: Any = getattr(args, "_main", None)
        if command is None:
            parser.print_help()
            return EXIT_USAGE
        # The process's own command line (not a call from Python): a command may then treat
        # the process's descriptors as its own until the process ends (trace run --json).
        args._process_command_line = argv is None
        if not getattr(args, "_holds_ctrl_c", False):
            deferred.end()  # Ctrl-C is the command's to answer, from the handler trace had
        try:
            stop_hearing = _hear_reader_warnings()
            try:
                return int(command(args) or 0)
            finally:
                stop_hearing()
        except TracerError as exc:
            from tracer.printable import printable

            # The app's own code failed on import: its traceback is the useful part (AppImportFailed).
            app_traceback = getattr(exc, "traceback", "")
            if app_traceback:
                print(app_traceback, end="", file=sys.stderr)
            # The message may quote the app (its start-up output, a lifespan failure's text) or
            # a file name: an escape sequence in it is shown, not obeyed by the terminal.
            print(f"trace: error: {printable(str(exc), newlines=True)}", file=sys.stderr)
            return EXIT_USAGE
