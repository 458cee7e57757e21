"""A process the app forks while an in-process model serves it: the app's, not the tool's.

With an in-process model the tool is the server, so a child the app forks in a request
(``os.fork()``) is a copy of the tool: it runs on in the tool's worker machinery once the app's
code returns, and had the tool's signal handlers. A ``sys.exit()`` in it was taken for the
app's failure (a 500, as the worker answers it) and the child then waited for requests that
never came, for ever, ignoring SIGINT and SIGTERM as the tool's handlers do, and holding the
tool's standard output and error. Under a real server such a child is the app's process:

- the tool's SIGINT and SIGTERM handlers are put back to Python's defaults in it at the fork
  (``KeyboardInterrupt``; the end of the process), so Ctrl-C or ``kill`` end it;
- when the app's code gives control back to the worker machinery in it, by returning or by
  raising, the child ends (``end_child``): with ``SystemExit``'s code, 1 after another
  exception (its traceback on stderr), of SIGINT after a ``KeyboardInterrupt``, 0 after a
  return. The tool's exit handlers are not run: they are the tool's (its recording).

The worker machinery calls ``serve_here()`` in the process that runs the app (the tool's, or a
``processes`` worker) and asks ``forked_child()`` after each call into the app. Imports nothing
of ours.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from typing import Any, NoReturn

__all__ = ["end_child", "forked_child", "serve_here"]

_serving_pid: int | None = None  # the process whose worker machinery calls the app
_forked = False  # this process was forked from it


def serve_here() -> None:
    """This process runs the app on the tool's worker machinery (a model's start)."""
    global _serving_pid, _forked
    _serving_pid = os.getpid()
    _forked = False


def forked_child() -> bool:
    """Whether this process was forked (by the app) from one that ``serve_here()`` named."""
    return _forked


def end_child(exc: BaseException | None = None) -> NoReturn:
    """End this forked child as a Python process ends after ``exc`` (None: a return)."""
    code = 0
    if isinstance(exc, SystemExit):
        code = _exit_code(exc.code)
    elif isinstance(exc, KeyboardInterrupt):
        code = 130
    elif exc is not None:
        traceback.print_exception(exc)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # closed by the app: nothing more to write there
            pass
    if isinstance(exc, KeyboardInterrupt):
        # As Python itself ends of an uncaught KeyboardInterrupt: of the signal.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    os._exit(code)


def _exit_code(code: Any) -> int:
    """The exit status ``sys.exit(code)`` gives (None 0, an int itself, else printed and 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        print(code, file=sys.stderr)
    except (OSError, ValueError):
        pass
    return 1


def _ours(handler: Any) -> bool:
    """Whether ``handler`` is one the tool installed (a function or object of ``tracer``)."""
    return callable(handler) and str(getattr(handler, "__module__", "")).startswith("tracer.")


def _after_fork_in_child() -> None:
    global _forked
    # Put back Python's defaults where the tool's handlers are (not the app's own): a child
    # the app forks, at any time, is ended by Ctrl-C and SIGTERM as a process of its own is.
    for signum, default in (
        (signal.SIGINT, signal.default_int_handler),
        (signal.SIGTERM, signal.SIG_DFL),
    ):
        try:
            if _ours(signal.getsignal(signum)):
                signal.signal(signum, default)
        except (OSError, ValueError):  # not this process's main thread: nothing to change
            pass
    if _serving_pid is not None:
        _forked = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
