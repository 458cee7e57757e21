"""One ``trace run``, from its checked options to its last line, as steps of a ``RunSession``.

``tracer.cli.run`` parses the options into a ``RunConfig`` and drives the steps: ``claim``
the recording's file (before anything is loaded), ``start`` (import the app, open the server
model), then ``run`` the load under the live dashboard or headless, and ``report``. A SIGTERM
while the app is imported ends the run early with ``stopped_starting``: a recording of no
requests, exit 0. Each step cleans up what it set up when it fails: a run that never served
leaves no recording behind. The summary JSON, the report and the recording's path are said
in one place (``_say_result``).

Imported by ``tracer.cli.run`` once the command runs, never when ``trace`` loads its commands:
it loads the recorder, the server models and rich.
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
from collections.abc import Callable
from typing import IO, Any, cast

from rich.console import Console

# tracer.run's functions are looked up as they are called, not bound here: whoever replaces
# one (tracer.run.open_server, say) replaces it for the next run too.
from tracer import run as _run
from tracer.cli.headless import run_headless
from tracer.cli.paths import (
    cannot_write,
    claim_recording,
    discard,
    watch_writer,
)
from tracer.cli.run_end import say_how_it_ended, who_exited
from tracer.cli.run_logs import open_app_log, save_server_output, say_app_log
from tracer.cli.signals import CtrlCHeld, StoppedStarting, Termination
from tracer.cli.signals import ctrl_c_noted as _ctrl_c_noted
from tracer.cli.signals import sigterm_closes_dashboard as _sigterm_closes_dashboard
from tracer.cli.stderr_kept import FailuresKept
from tracer.cli.streams import KeptStreams
from tracer.digest import Digest
from tracer.errors import UsageError
from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.report import print_report
from tracer.run import RunConfig
from tracer.servers.exit_guard import guard_os_exit

__all__ = ["RunSession", "check_otlp"]


class RunSession:
    """The state of one ``trace run`` shared by its steps: the claimed recording, the recorder
    and the digest fed from it, the server once started, the load's stop events and the
    writer's failures. Built from the parsed ``args`` and their ``RunConfig``; ``out`` is where
    the summary JSON goes, ``streams`` the standard streams as they were at the start."""

    def __init__(
        self,
        args: argparse.Namespace,
        config: RunConfig,
        *,
        out: Any,
        termination: Termination,
        streams: KeptStreams,
        held: CtrlCHeld,
        crash: Any,
    ) -> None:
        self.args = args
        self.config = config
        self._out = out
        self._termination = termination
        self._streams = streams
        self._held = held
        self._crash = crash
        # Standard error as it was at the start: the app may replace sys.stderr or close
        # descriptor 2 while it runs, and the progress bar and these lines must still show.
        # A write there that fails (2>/dev/full) is kept, not raised: the report still goes to
        # standard output, then the failure ends the command (``_raise_unsaid``).
        self._unsaid: list[OSError] = []
        self._err = Console(file=cast(IO[str], FailuresKept(streams.err, self._unsaid)))
        # The load's stop events: a failed writer, a Ctrl-C or a SIGTERM sets them.
        self._stops = termination.stops
        self._otlp: list[Any] = []  # the OTLP exporter's shutdown, once attached
        self._app_log: str | None = None  # where what the app prints goes under the dashboard
        self._prints: Any = None
        self._terminated: list[int] = []  # the SIGTERMs received while the dashboard runs
        self.server: Any = None
        """The server model, once ``start`` opened it."""

    # -- the steps, in their order ------------------------------------------------------------

    def claim(self) -> None:
        """Claim the recording's file and set up the recorder and the digest fed from it.

        The file is opened before anything is loaded: an unwritable path is one line and exit 2
        up front, and two runs in one second never share a default name."""
        args = self.args
        if args.record:
            self._target = claim_recording(args.record)
        else:
            default = _run.default_record_path(self.config.app)
            self._target = claim_recording(default, default=True)
        self.path = self._target.path
        self.recorder = Recorder(self.path)
        self._failures = watch_writer(self.recorder, self._writer_failed)
        if self._target.created:
            # The header is on disk before the app is imported: a process that dies at once (a
            # segmentation fault in the app) leaves a recording to load, not an empty file. A
            # file given that existed keeps what it held until the app is loaded.
            self.recorder.open_file()
        # The run fills in its load later: the digest reads the header at the summary.
        self.digest = Digest(self.recorder.header)
        self.recorder.subscribe(self.digest.feed)
        self._recorded = threading.Event()  # set once events came: a start that recorded some
        self.recorder.subscribe(lambda batch: self._recorded.set())  # keeps them

    def start(self) -> None:
        """Import the app and open its server model (``self.server``). ``KeyboardInterrupt``
        for a Ctrl-C and ``StoppedStarting`` for a SIGTERM during it or just after; on any
        failure but the SIGTERM, the recording claimed is given up (no empty file left by a
        bad APP; a file given that existed keeps what it held)."""
        held, termination = self._held, self._termination
        try:
            held.check()  # a Ctrl-C while the recorder was set up
            with (
                _ctrl_c_noted() as pressed,
                termination.interrupts(),
                guard_os_exit(self._app_exited_loading),
            ):
                self.server = _run.open_server(self.config, self.recorder)
                if self.args.otlp:
                    _otlp_available()
            if pressed.is_set():  # a Ctrl-C the start-up swallowed (nothing is started yet)
                raise KeyboardInterrupt
            held.check()  # one just after the import
            self.recorder.open_file()  # (a file that existed: emptied only now the app loaded)
            if termination.received.is_set():  # one the start-up swallowed, or just after it
                raise StoppedStarting
        except StoppedStarting:
            raise
        except BaseException:
            self._give_up_recording()
            raise

    def _give_up_recording(self) -> None:
        """Nothing ran: no empty recording is left behind by a bad APP, and a file given that
        existed keeps what it held."""
        if not self._target.created:
            self.recorder.path = None
        with contextlib.suppress(OSError):
            self.recorder.close()
        discard(self._target)

    def _app_exited_loading(self, code: int) -> None:
        """The app called ``os._exit`` while it was imported (before ``open_server`` returned),
        which ends this process with the app's code: the recording is given up as for an APP
        that cannot be loaded, and one line says why ``trace`` ended, where it said nothing."""
        self._give_up_recording()
        self._err.print(
            f"trace: the app called os._exit({code}) while it was imported; no request was "
            "sent, and no recording was kept.",
            soft_wrap=True,
            markup=False,
            highlight=False,
        )

    def stopped_starting(self) -> int:
        """A SIGTERM while the app was imported: a stop, as SIGTERM is during the load. The
        recording is valid with no requests in it; exit 0."""
        self._reclaim()  # what the app's import did to sys.stdout is not the report's
        _run.stopped_before_load(self.config, self.recorder)
        try:
            self.recorder.close()
        except OSError as exc:
            self._failures.append(exc)
        if self._failures:
            raise cannot_write(self.path, self._failures[0]) from None
        print(
            "trace: the run was stopped (SIGTERM) before the load began: no requests were sent.",
            file=sys.stderr,
        )
        self._say_result(self.digest.summary(), report=False)
        self._raise_unsaid()
        return 0

    def run(self, choose_live: Callable[[], Any]) -> None:
        """Send the load, under the live dashboard when ``choose_live()`` gives its runner,
        else headless; then close the recording, whatever happened. A run that failed before
        any request (the server could not load the app) leaves no header-only recording; one
        whose start recorded events (a lifespan startup that failed) keeps them, and names it
        (``recording: PATH``) before the error is said. A second Ctrl-C (``KeyboardInterrupt``
        out of the load) kills the server at once, however far its graceful stop got; the
        recording it leaves is named too, as is one whose last spans a second Ctrl-C stopped
        sending (``--otlp``), before the interrupt is said."""
        recorder = self.recorder
        kept = False  # a run that failed or was interrupted, its recording kept: named here
        ran = False
        try:
            live = choose_live()
            if live is not None:
                self._run_live(live)
            else:
                self._run_headless()
            ran = True
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                kill = getattr(self.server, "kill", None)
                if kill is not None:
                    kill()  # the user insists: the stop under way finds it gone
            with contextlib.suppress(Exception):
                recorder.drain()  # what is queued reaches the digest first
            if not self.digest.requests() and not self._recorded.is_set():
                with contextlib.suppress(OSError):
                    recorder.close()
                discard(self._target)
            else:
                kept = isinstance(exc, (Exception, KeyboardInterrupt))
            raise
        finally:
            try:
                self._close()
            except KeyboardInterrupt:
                # Pressed again while the last spans were sent (the OTLP export's own answer):
                # the recording is closed and whole, and no report follows to name it.
                kept = kept or ran
                raise
            finally:
                if kept and not self._failures:
                    out = sys.stderr if self.args.json else sys.stdout
                    print(f"recording: {self.path}", file=out)

    def report(self) -> int:
        """Say how the run ended, then the summary JSON or the report, and the recording's
        path; ``cannot_write`` (exit 2) when the recording could not be written."""
        if self._failures:
            raise cannot_write(self.path, self._failures[0])
        summary = self.digest.summary()
        stopped = bool(self._stops) and self._stops[0].is_set()
        say_how_it_ended(self.server, self.config, summary["requests"], stopped=stopped)
        self._say_result(summary, report=True)
        self._raise_unsaid()
        return 0

    def _raise_unsaid(self) -> None:
        """The first write to standard error that failed, raised once the command's output is
        written: the command line makes it the exit code (2 for no room), never a traceback."""
        if self._unsaid:
            raise self._unsaid[0]

    # -- the load's two ways --------------------------------------------------------------------

    def _run_live(self, live: Any) -> None:
        """The load under the live dashboard, which answers SIGINT its own way (Python's
        handler, which its event loop takes over): not noted from here on."""
        from tracer.shim.hops import competing

        self._held.release()
        self._held.check()
        self._app_log, self._prints = open_app_log(self.path, self.server)
        if self._prints is not None:
            self._crash.move_to(self._prints)  # with the app's prints, not over the dashboard
        config = self.config
        with competing("the live dashboard"), _sigterm_closes_dashboard(self._terminated):
            live(
                self.recorder,
                self._work_live,
                title=f"{config.app} · {self.server.describe().get('model')}",
                total_requests=config.requests,
                lang=self.args.lang or "en",
                prints=self._prints,
                exited=lambda: who_exited(self.server),
            )

    def _work_live(self, stop: threading.Event) -> Any:
        """The dashboard's work, on its own thread: the load, stopped by ``stop``."""
        self._stops.append(stop)
        if self._failures:
            stop.set()
        if self._terminated or self._termination.received.is_set():
            # A SIGTERM came before the dashboard's loop ran: again, now.
            os.kill(os.getpid(), signal.SIGTERM)
        self._begin()
        return _run.run(
            self.config,
            self.recorder,
            server=self.server,
            stop=stop,
            on_app_exit=self._app_exited_live,
        )

    def _run_headless(self) -> None:
        """The load under a progress bar on standard error (or nothing with ``--json``)."""
        stop = threading.Event()
        self._stops.append(stop)  # from here on a Ctrl-C or a SIGTERM sets it
        if self._termination.received.is_set() or self._held.pressed.is_set():  # since start-up
            stop.set()
        try:
            run_headless(
                self.config,
                self.recorder,
                self.server,
                self._err,
                self._begin,
                stop=stop,
                on_app_exit=self._app_exited,
            )
        finally:
            self._held.release()  # after the load, Ctrl-C is what it was when trace started

    def _begin(self) -> None:
        """t=0 of the recording is now, just before the load: the app's import and the
        dashboard's start-up would otherwise open every timeline on a stretch of nothing.
        The OTLP bridge is attached after it, as it reads the recording's clock once."""
        self.recorder.start_now()
        if self.args.otlp:
            self._otlp.append(_attach_otlp(self.recorder, self.args.otlp_endpoint))

    # -- what ends the run ----------------------------------------------------------------------

    def _writer_failed(self) -> None:
        """The recording cannot be written: the load stops (the error is said at the end)."""
        for stop in self._stops:
            stop.set()

    def _app_exited(self, code: int) -> None:
        """The app ends this very process (in-process models): no report can follow. Said
        through the console, so the line lands above a progress bar and is not wrapped."""
        self._err.print(
            f"trace: the app called os._exit({code}) during the run; the recording ends here: "
            f"{self.path}",
            soft_wrap=True,
            markup=False,
            highlight=False,
        )

    def _app_exited_live(self, code: int) -> None:
        """``_app_exited`` under the dashboard: the terminal is given back to the shell first."""
        from tracer.tui.live import leave_terminal

        leave_terminal()  # the line below goes to the shell's screen, which works again
        if self._prints is not None:
            with contextlib.suppress(OSError, ValueError):
                self._prints.flush()  # the process ends without closing it
        sys.stderr = sys.__stderr__  # not Textual's capture of prints: the process ends
        self._app_exited(code)

    def _close(self) -> None:
        """The app is done: from here on the command writes where it did when it started,
        whatever the app did to sys.stdout, sys.stderr or descriptors 1 and 2.

        The recording is closed with Ctrl-C noted, not raised: a large one takes a while to
        flush, and a Ctrl-C pressed meanwhile (by a user who stopped the load and sees nothing
        happen) would leave its last events unwritten, its file unfinished, and skip the
        report and the line naming it. The run then ends as it would have."""
        self._reclaim()
        with CtrlCHeld([]):  # notes Ctrl-C; the handler there was comes back after
            try:
                self.recorder.close()
            except OSError as exc:  # the run's own error, if any, is the one to report
                self._failures.append(exc)
        for shutdown in self._otlp:
            shutdown()  # the last spans, then the exporter's final batch
        save_server_output(self.server, self.path)
        if self._app_log is not None:
            say_app_log(self._app_log, self._prints)

    def _reclaim(self) -> None:
        """Write where the command started writing (``KeptStreams.reclaim``), standard error
        through ``FailuresKept``: what is said there from here on (how the run ended, where the
        logs are) cannot end the command before its report. ``kept_streams`` puts the stream
        itself back as the command ends."""
        self._streams.reclaim()
        if sys.stderr is not None:
            sys.stderr = FailuresKept(sys.stderr, self._unsaid)  # type: ignore[assignment]

    def _say_result(self, summary: dict[str, Any], *, report: bool) -> None:
        """The run's last lines. With ``--json`` the summary alone on ``out`` and the path on
        standard error; else the report (when ``report``) and the path on standard output.
        The report comes after the dashboard too: its screen is gone once it closes, and the
        report stays in the terminal's scrollback, as after a headless run."""
        if self.args.json:
            print(json.dumps(self.digest.for_json(summary)), file=self._out)
            print(f"recording: {self.path}", file=sys.stderr)
            return
        try:
            if report:
                recording = Recording(header=dict(self.recorder.header), events=[], path=self.path)
                print_report(recording, summary, details=self.digest.details())
            print(f"recording: {self.path}")
            if sys.stdout is not None:
                sys.stdout.flush()  # a full disk says so here, while the path can still be said
        except BrokenPipeError:
            raise  # its reader has gone: the command line ends quietly
        except OSError:
            # No room for the report (> /dev/full): the line naming the recording went with it.
            # It is said on standard error, before the error line, as with --json.
            print(f"recording: {self.path}", file=sys.stderr)
            raise


def _otlp_available() -> None:
    """``UsageError`` when ``--otlp`` cannot work here (the bridge is not installed)."""
    if importlib.util.find_spec("tracer.otel.live") is None:
        raise UsageError(
            "--otlp needs the OpenTelemetry bridge (tracer.otel), which is not installed."
        )


def check_otlp(endpoint: str | None) -> None:
    """The bridge is installed, the protocol known, the endpoint a URL and the batch size and
    span limits of the environment usable (else UsageError): said before the run, not once
    the load began."""
    _otlp_available()
    from tracer.otel.config import (
        check_endpoint,
        export_batch_size,
        protocol_from_env,
        queue_size,
        span_limits,
    )

    protocol_from_env()
    if endpoint is not None:
        check_endpoint(endpoint)
    export_batch_size(queue=queue_size())
    span_limits()


def _attach_otlp(recorder: Any, endpoint: str | None) -> Any:
    """Export finished requests as OTLP spans (off the request path); returns the shutdown."""
    _otlp_available()
    from tracer.otel.live import attach_from_cli

    return attach_from_cli(recorder, endpoint)
