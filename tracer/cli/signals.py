"""How ``trace`` answers SIGINT (Ctrl-C) and SIGTERM, from its start to its report.

Each stage has its own answer: while the commands load and the command line is read, Ctrl-C
waits for them to be loaded (``CtrlCDeferred``), and ``trace run`` takes that handler over with
its own (``CtrlCHeld``), so no instant in between has the one ``trace`` started with; during
``trace run``'s start-up (the app's import) Ctrl-C interrupts and SIGTERM gives the import up
(``ctrl_c_noted``, ``Termination.interrupts``); in the stretches of that start-up no stage
answers, Ctrl-C is noted for the next one (``CtrlCHeld``); during a headless load both stop the
load and keep the recording (``ctrl_c_sets``); under the live dashboard SIGTERM closes it as
``q`` does (``sigterm_closes_dashboard``); and around it all a SIGTERM is noted rather than
fatal (``sigterm_noted``). Handlers are installed on the main thread only and the previous one
comes back after each stage.

Imports nothing of ours at module level (the dashboard's stop, only when a SIGTERM arrives).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

__all__ = [
    "CtrlCDeferred",
    "CtrlCHeld",
    "StoppedStarting",
    "Termination",
    "ctrl_c_deferred",
    "ctrl_c_noted",
    "ctrl_c_sets",
    "sigterm_closes_dashboard",
    "sigterm_noted",
]


@contextlib.contextmanager
def _on_signal(signum: int, handler: Callable[[int, Any], None]) -> Iterator[None]:
    """While inside, ``handler`` answers ``signum``; the previous handler comes back after.
    Only the main thread can install a handler; elsewhere this changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signum, handler)
    try:
        yield
    finally:
        signal.signal(signum, previous)


def _on_ctrl_c(handler: Callable[[int, Any], None]) -> contextlib.AbstractContextManager[None]:
    """While inside, ``handler`` answers SIGINT (see ``_on_signal``)."""
    return _on_signal(signal.SIGINT, handler)


class CtrlCDeferred:
    """While installed (``with``; the commands' modules being imported, the command line read),
    a Ctrl-C is noted (``pressed``), not raised, and ``check()`` raises it as
    ``KeyboardInterrupt`` where the caller chooses. Raised where Python's handler raises it, in
    the middle of an import, it could crash an extension module's initialisation (orjson's:
    a segmentation fault), or be printed as "ignored" by an import lock's weakref callback
    and lost, the command then running on.

    SIGINT inherited ignored (a shell starts a background job, ``trace run … &``, with it
    ignored) is noted the same way: ``trace`` answers a SIGINT at every moment from its start,
    and one dropped here let the run go on to its end. Nothing changes where SIGINT is handled
    by an embedding program or by a handler of the caller's, or off the main thread.

    A ``CtrlCHeld`` entered while this is installed takes it over (``trace run``'s first
    handler): no instant between the two has the handler ``trace`` started with, in which a
    SIGINT inherited ignored was dropped."""

    def __init__(self) -> None:
        self.pressed = threading.Event()
        """Set by a Ctrl-C while this handler was installed."""
        self._previous: Any = None
        self._installed = False

    def __call__(self, signum: int, frame: Any) -> None:
        self.pressed.set()

    def __enter__(self) -> CtrlCDeferred:
        if threading.current_thread() is threading.main_thread() and signal.getsignal(
            signal.SIGINT
        ) in (signal.default_int_handler, signal.SIG_IGN):
            self._previous = signal.signal(signal.SIGINT, self)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        """Put back the handler there was before, unless a ``CtrlCHeld`` took this one over
        (idempotent). One pending is noted first (``signal.signal`` runs it)."""
        if self._installed:
            self._installed = False
            signal.signal(signal.SIGINT, self._previous)

    def check(self) -> None:
        """``KeyboardInterrupt`` when a Ctrl-C was noted."""
        if self.pressed.is_set():
            raise KeyboardInterrupt

    def end(self) -> None:
        """``release``, then ``check``: from here on Ctrl-C is what it was when trace started."""
        self.release()
        self.check()

    def _taken_over(self) -> Any:
        """The handler there was before this one, which a ``CtrlCHeld`` that replaced this one
        puts back in its turn; this one is then no longer installed."""
        self._installed = False
        return self._previous


@contextlib.contextmanager
def ctrl_c_deferred() -> Iterator[None]:
    """While inside, a ``CtrlCDeferred`` notes Ctrl-C; one noted is raised as
    ``KeyboardInterrupt`` once outside (not when the block raised)."""
    with CtrlCDeferred() as deferred:
        yield
    deferred.check()


@contextlib.contextmanager
def ctrl_c_noted() -> Iterator[threading.Event]:
    """While inside (the start-up: importing the app, opening the server), Ctrl-C interrupts as
    Python's own handler does, and the event yielded notes it, so that one lost on the way
    (see ``ctrl_c_sets``) still ends the command once the start-up is over."""
    pressed = threading.Event()

    def interrupted(signum: int, frame: Any) -> None:
        pressed.set()
        raise KeyboardInterrupt

    with _on_ctrl_c(interrupted):
        yield pressed


@contextlib.contextmanager
def ctrl_c_sets(stop: threading.Event) -> Iterator[None]:
    """While inside, Ctrl-C (SIGINT) sets ``stop``; a second one raises ``KeyboardInterrupt``.
    SIGTERM (``timeout``, a container stopping, a supervisor) does the same: the recording
    is finished and the report printed instead of the process dying mid-write.

    Python's own handler raises ``KeyboardInterrupt`` in whatever the main thread is running
    at that instant, and when that is a finaliser or a weakref callback (the garbage
    collector runs them on any thread) the exception is printed as "ignored" and lost: the run
    would go on to its end. Setting an event cannot be lost that way.
    """

    def interrupted(signum: int, frame: Any) -> None:
        if stop.is_set():  # pressed again: the user insists
            raise KeyboardInterrupt
        stop.set()

    terminations: list[int] = []

    def terminated(signum: int, frame: Any) -> None:
        # Never "insists": GNU timeout sends SIGTERM to the child and then to its whole
        # group, so one request to stop arrives twice. A stop that must be forced is SIGKILL.
        terminations.append(signum)
        stop.set()

    with _on_ctrl_c(interrupted), _on_signal(signal.SIGTERM, terminated):
        yield
    if terminations and threading.current_thread() is threading.main_thread():
        # The duplicate may come after the run: the report still gets printed.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


class StoppedStarting(BaseException):
    """SIGTERM while ``trace run`` started (the app's import): it unwinds the import as
    KeyboardInterrupt does, and is no ``Exception`` for the same reason: an app's own
    ``except Exception`` around an import must not swallow it."""


class Termination:
    """SIGTERM from the start of ``trace run`` to its end, where the load's own handlers
    (``ctrl_c_sets``, ``sigterm_closes_dashboard``) do not answer it: Python's default
    ended the process at once, leaving an empty recording (``timeout 1 trace run APP`` of an
    app whose import takes longer). It is noted (``received``) and sets the load's stop
    events (``stops``); inside ``interrupts()`` (the app's import, which may hang) it also
    raises ``StoppedStarting``, once."""

    def __init__(self) -> None:
        self.received = threading.Event()
        self.stops: list[threading.Event] = []
        self._interrupting = False

    def __call__(self, signum: int, frame: Any) -> None:
        self.received.set()
        for stop in self.stops:
            stop.set()
        if self._interrupting:
            self._interrupting = False
            raise StoppedStarting

    @contextlib.contextmanager
    def interrupts(self) -> Iterator[None]:
        """While inside, a SIGTERM raises ``StoppedStarting`` (one before it, on entry)."""
        if self.received.is_set():
            raise StoppedStarting
        self._interrupting = True
        try:
            yield
        finally:
            self._interrupting = False


@contextlib.contextmanager
def sigterm_noted() -> Iterator[Termination]:
    """While inside, a ``Termination`` answers SIGTERM. After one (this one's or the
    load's, which then ignore more), more are ignored: GNU timeout sends one to ``trace`` and
    then one to its group, which may come while the output is flushed."""
    termination = Termination()
    if threading.current_thread() is not threading.main_thread():
        yield termination
        return
    previous = signal.signal(signal.SIGTERM, termination)
    try:
        yield termination
    finally:
        if termination.received.is_set() or signal.getsignal(signal.SIGTERM) == signal.SIG_IGN:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        else:
            signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def sigterm_closes_dashboard(received: list[int]) -> Iterator[None]:
    """While inside (the live dashboard runs), SIGTERM does what a first Ctrl-C or ``q`` does
    there: the load stops, the recording is finished, the dashboard closes (the terminal given
    back) and the report follows; during the replay it closes the replay. ``timeout N trace
    run`` on a terminal used to kill the process at once, leaving the terminal in the alternate
    screen with mouse reports on and the recording cut mid-request. (On the dashboard Ctrl-C is
    a key, the terminal being raw; a SIGINT sent to the process ends it cleanly already.)

    The SIGTERMs received are added to ``received``: one that came before the dashboard's event
    loop ran is left for the caller to send again once it runs. After a SIGTERM, more are
    ignored: GNU timeout sends one to ``trace`` and then one to its group, which may come while
    the report prints.
    """

    def terminated(signum: int, frame: Any) -> None:
        received.append(signum)
        from tracer.tui.live import stop_from_signal

        stop_from_signal()

    with _on_signal(signal.SIGTERM, terminated):
        yield
    if received and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


class CtrlCHeld:
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

    Entered while the command line's ``CtrlCDeferred`` is installed, it takes that one over:
    a Ctrl-C noted there counts as one here, and the handler ``trace`` started with comes back
    at ``release``. The command line used to put that handler back before the command ran: a
    SIGINT inherited ignored that came while the line was read or the server models imported
    was dropped, and the run went on to its end.
    """

    def __init__(self, stops: list[threading.Event]) -> None:
        self.pressed = threading.Event()
        """Set by a Ctrl-C while this handler was installed."""
        self._stops = stops
        self._previous: Any = None
        self._installed = False

    def __call__(self, signum: int, frame: Any) -> None:
        self.pressed.set()
        for stop in self._stops:
            stop.set()

    def __enter__(self) -> CtrlCHeld:
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGINT, self)
            if isinstance(previous, CtrlCDeferred):
                # The command line's (taken over: it ends with no instant between the two):
                # what it noted is for this stage, and its predecessor comes back after it.
                if previous.pressed.is_set():
                    self.pressed.set()
                previous = previous._taken_over()
            self._previous = previous
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
