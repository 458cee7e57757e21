"""``--serve``'s setup and what each browser session's process needs from it.

``make_server`` binds 127.0.0.1:PORT before anything says "serving" (a port in use, or one
this user may not bind, is one line and exit 2), then hands the socket to the server
(``tracer.cli.serve_server``, which imports textual-serve). Each browser session runs
``trace demo NAME`` in a process group of its own; the server gives it the read end of a pipe
it alone holds open, named by ``SERVER_PIPE``: ``end_with_server`` in that process ends it
when the pipe closes, so a server that is killed (SIGKILL, a crash) leaves no session behind.
The session's own pipes cannot tell: Textual's web driver keeps running when its stdin ends.

Imports nothing heavy: ``trace demo`` imports this module only for ``--serve`` and in a
session's process.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import threading
from typing import Any

__all__ = [
    "HOST",
    "PAGE_WORDS",
    "SERVER_PIPE",
    "end_with_server",
    "listen_socket",
    "make_server",
]

HOST = "127.0.0.1"
"""The only address served: the lecturer's own machine, never the hall's network."""

SERVER_PIPE = "GATEWAY_TRACER_SERVER_PIPE"
"""Environment variable naming, in a browser session's process, the descriptor that reads
the end of the pipe only the server holds open."""

PAGE_WORDS: dict[str, dict[str, str]] = {
    "en": {"lang": "en", "start": "Start", "ended": "Session ended.", "restart": "Restart"},
    "zh": {"lang": "zh-CN", "start": "开始", "ended": "会话已结束。", "restart": "重新开始"},
}
"""Language -> the served page's ``lang`` attribute and its few words (textual-serve's own
page has them in English only)."""


def listen_socket(port: int) -> socket.socket:
    """A socket listening on 127.0.0.1:``port``; ``UsageError`` (one line) if it cannot be."""
    from tracer.errors import UsageError

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        # A server restarted right after Ctrl-C gets its port back despite connections in
        # TIME_WAIT; on Linux and macOS this never lets two servers listen on one port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise UsageError(f"Cannot serve on {HOST}:{port}: {_why(exc)}") from None
    return sock


def _why(exc: OSError) -> str:
    """The reason a port cannot be listened on, and what to do, as the end of one line."""
    if exc.errno == errno.EADDRINUSE:
        return (
            "the port is in use (another server, or a trace demo --serve still running); "
            "choose another --port."
        )
    if exc.errno == errno.EACCES:
        return (
            "this user may not listen on that port (ports below 1024 need root or "
            "CAP_NET_BIND_SERVICE); choose a --port of 1024 or more."
        )
    reason = exc.strerror or str(exc)
    return f"{reason[:1].lower()}{reason[1:]}; choose another --port."


def make_server(command: str, *, port: int, title: str | None = None, lang: str = "en") -> Any:
    """A server of ``command`` (run once per browser session) listening on 127.0.0.1:``port``
    already, its page titled ``title`` and worded in ``lang``; ``UsageError`` naming the
    package when textual-serve is not installed, or saying why the port cannot be used
    (or that this system cannot serve: ``tracer.cli.platforms``)."""
    from tracer.cli.platforms import refuse_serve_off_platform
    from tracer.errors import UsageError

    refuse_serve_off_platform()
    try:
        from tracer.cli.serve_server import BrowserServer
    except ImportError as exc:
        if exc.name is None or exc.name.split(".")[0] == "tracer":
            raise  # ours: a bug to see, not a package to install
        raise UsageError(
            "--serve needs the textual-serve package, which is not installed. Install it with: "
            'pip install textual-serve (or "gateway-tracer[serve]").'
        ) from None
    return BrowserServer(command, sock=listen_socket(port), title=title, lang=lang)


def end_with_server() -> threading.Thread | None:
    """In a browser session's process: once the server's end of its pipe closes (the server
    ended, however), end this process and its process group; None when not started by the
    server. A daemon thread waits in a read: no polling."""
    named = os.environ.pop(SERVER_PIPE, None)
    if named is None:
        return None
    try:
        fd = int(named)
        os.set_inheritable(fd, False)  # the processes this one starts have no use for it
    except (ValueError, OSError):
        return None  # not a pipe of ours (an environment copied by hand): nothing to watch

    def watch() -> None:
        with contextlib.suppress(OSError):
            while os.read(fd, 64):  # the server never writes: this returns b"" at its end
                pass
        if os.getpgrp() == os.getpid():  # the server made this process its group's leader
            with contextlib.suppress(OSError):
                os.killpg(os.getpgrp(), signal.SIGKILL)
        os._exit(1)

    thread = threading.Thread(target=watch, name="gateway-tracer-server-watch", daemon=True)
    thread.start()
    return thread
