"""The server of ``trace demo NAME --serve``: textual-serve's, made fit for a lecture hall.

What changes from ``textual_serve.server.Server``:

- The page (``serve_page/app_index.html``) loads nothing from outside 127.0.0.1: textual-serve's
  own asks fonts.googleapis.com for Roboto Mono, which it also ships; ours uses those files.
  It has a charset, a title, a ``lang`` and its words in the demo's language.
- It serves on a socket already listening (``tracer.cli.serve.listen_socket``), so nothing
  says "serving" before the port is known to be usable; no banner, no line per request.
- Ctrl-C (SIGINT), SIGTERM or SIGHUP (the terminal closed) stop it within seconds, with
  browsers open: each session's process is asked to quit, then terminated, then killed, each
  after ``GRACE`` seconds, then its page is told the session ended. textual-serve's own waits
  for every browser to leave (aiohttp waits for open WebSockets). A second Ctrl-C kills the
  sessions' processes at once.
- Each session's ``trace demo`` runs without a shell (its pid is the one to signal), in a
  session and process group of its own (a signal to the server's group, as a terminal's
  Ctrl-C is, does not reach it first: the server ends it), with the read end of a pipe only
  the server holds (``tracer.cli.serve.end_with_server``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import signal
import socket
from typing import Any

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, log, to_int

from tracer.cli.serve import PAGE_WORDS, SERVER_PIPE

__all__ = ["GRACE", "PAGE_FOLDER", "BrowserServer", "SessionProcess"]

PAGE_FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "serve_page")
"""The folder of the served page's template (``app_index.html``)."""

GRACE = 2.0
"""Seconds a session's process gets at each step of its end (quit, SIGTERM) before the next."""

CLOSE_TIMEOUT = 2.0
"""Seconds a browser gets to answer the closing of its WebSocket (aiohttp's default is 10)."""

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class SessionProcess(AppService):
    """One browser session's ``trace demo`` process (textual-serve's ``AppService``), started
    without a shell in a process group of its own, and ended within ``3 * GRACE`` seconds."""

    def __init__(self, command: str, **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self._server_end: int | None = None
        self._ending: asyncio.Task[None] | None = None

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Any:
        environment = self._build_environment(width=width, height=height)
        watched, server_end = os.pipe()  # both close on exec: the child gets only ``watched``
        environment[SERVER_PIPE] = str(watched)
        try:
            self._process = process = await asyncio.create_subprocess_exec(
                *shlex.split(self.command),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=environment,
                start_new_session=True,
                pass_fds=(watched,),
            )
        except BaseException:
            os.close(server_end)
            raise
        finally:
            os.close(watched)
        self._server_end = server_end
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    @property
    def ending(self) -> bool:
        """Whether its end has begun (asked by the server, or its page closed)."""
        return self._ending is not None

    @property
    def reader(self) -> asyncio.Task[None] | None:
        """The task reading its output (textual-serve's ``run``), None before it started."""
        return self._task

    @property
    def pid(self) -> int | None:
        """The process's pid (its process group's id too), None before it started."""
        return None if self._process is None else self._process.pid

    def kill(self) -> None:
        """SIGKILL the process's group now (what it started in its group goes too)."""
        self._signal(signal.SIGKILL)

    def end(self) -> asyncio.Task[None]:
        """Ask the process to quit, then SIGTERM, then SIGKILL its group, ``GRACE`` seconds
        apart, until it has ended; the same task for every caller."""
        if self._ending is None:
            self._ending = asyncio.ensure_future(self._end())
        return self._ending

    async def _end(self) -> None:
        process = self._process
        if process is not None:
            if process.returncode is None:
                await self.send_meta({"type": "quit"})
            for then in (signal.SIGTERM, signal.SIGKILL):
                if await self._ended_within(GRACE):
                    break
                self._signal(then)
            await process.wait()
            # What it left in its group (it leads the group: the id is not reused while any
            # member lives).
            self._signal(signal.SIGKILL)
        if self._task is not None:
            # Its output is read to the end, unless something it started still holds it open.
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._task, GRACE)
            self._task = None
        if self._server_end is not None:
            os.close(self._server_end)
            self._server_end = None
        await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)

    async def _ended_within(self, seconds: float) -> bool:
        assert self._process is not None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._process.wait(), seconds)
        return self._process.returncode is not None

    def _signal(self, signum: int) -> None:
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signum)

    async def stop(self) -> None:
        """textual-serve's name for it: ``end``."""
        await self.end()


class BrowserServer(Server):
    """textual-serve's ``Server`` on an already listening socket, with a page that needs no
    internet and a stop that does not wait for the browsers (see the module's docstring)."""

    def __init__(
        self, command: str, *, sock: socket.socket, title: str | None = None, lang: str = "en"
    ) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(command, host=host, port=port, title=title, templates_path=PAGE_FOLDER)
        self.sock = sock
        self.lang = lang
        self.sessions: dict[SessionProcess, web.WebSocketResponse] = {}

    async def _make_app(self) -> web.Application:
        import aiohttp_jinja2

        app = await super()._make_app()
        aiohttp_jinja2.get_env(app).globals["page"] = PAGE_WORDS.get(self.lang, PAGE_WORDS["en"])
        return app

    async def on_startup(self, app: web.Application) -> None:
        """Say nothing: ``trace demo`` has said where it serves (textual-serve prints a banner
        and its command line)."""

    async def on_shutdown(self, app: web.Application) -> None:
        """End every session's process, then tell its page the session ended."""
        await asyncio.gather(
            *(self._end_session(s, ws) for s, ws in list(self.sessions.items())),
            return_exceptions=True,
        )

    @staticmethod
    async def _end_session(session: SessionProcess, websocket: web.WebSocketResponse) -> None:
        await session.end()
        await websocket.close()

    def initialize_logging(self) -> None:
        """textual-serve's logging, less "Application failed to start" for a session ended
        before its app was up (the page closed, or Ctrl-C, while the scenario still ran)."""
        super().initialize_logging()
        log.addFilter(self._not_ended_on_purpose)

    def _not_ended_on_purpose(self, record: logging.LogRecord) -> bool:
        with contextlib.suppress(RuntimeError):  # no running loop: not a session's message
            task = asyncio.current_task()
            return not any(s.ending and s.reader is task for s in self.sessions)
        return True

    def kill_sessions(self) -> None:
        """SIGKILL every session's process group now."""
        for session in list(self.sessions):
            session.kill()

    def serve(self, debug: bool = False) -> None:
        """Serve until SIGINT, SIGTERM or SIGHUP; the sessions' processes end before it returns."""
        self.debug = debug
        self.initialize_logging()
        try:
            asyncio.run(self._serve())
        finally:
            self.sock.close()

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()

        def on_signal() -> None:
            if stop.is_set():
                self.kill_sessions()  # asked twice: no more waiting
            stop.set()

        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, on_signal)
        # No access log: a line per request would bury what matters on the lecturer's screen.
        runner = web.AppRunner(
            await self._make_app(), access_log=None, shutdown_timeout=3 * GRACE + CLOSE_TIMEOUT
        )
        await runner.setup()
        try:
            await web.SockSite(runner, self.sock).start()
            await stop.wait()
        finally:
            await runner.cleanup()  # on_shutdown ends the sessions
            for signum in STOP_SIGNALS:
                loop.remove_signal_handler(signum)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One browser session: its own ``trace demo`` process, ended with the session."""
        websocket = web.WebSocketResponse(heartbeat=15, timeout=CLOSE_TIMEOUT)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        session: SessionProcess | None = None
        try:
            await websocket.prepare(request)
            session = SessionProcess(
                self.command,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            self.sessions[session] = websocket
            await session.start(width, height)
            await self._process_messages(websocket, session)
        except asyncio.CancelledError:
            pass
        except Exception as error:  # a session's failure ends that session, not the server
            log.exception(error)
        finally:
            if session is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(session.end())
                self.sessions.pop(session, None)
            with contextlib.suppress(Exception):
                await websocket.close()
        return websocket
