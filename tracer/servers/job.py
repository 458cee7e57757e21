"""The client side shared by the in-process server models: one ``Job`` per request.

A ``Job`` is created on the load generator's loop when a request arrives (``request.queued``),
handed to the model's workers, and resolved from whichever thread finished it. ``wait`` turns a
client timeout into ``request.end`` with ``error="timeout"``. Also ``load_app_for``: the app a
model runs, loaded and checked against the interfaces the model serves (the loader's hint, when
it has one, said on stderr: ``say_load_hint``, in the language ``notes_in`` sets: a demo's
Chinese run says it in Chinese, every other caller in English).
Imports the spine, ``tracer.loading`` and ``tracer.servers``; nothing above them.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from tracer import events as K
from tracer.errors import InterfaceError
from tracer.interface import detect_interface, is_asgi
from tracer.recorder import Recorder
from tracer.redact import redact_path
from tracer.servers import CANCELLED, TIMEOUT, Request, Response, ServerConfig
from tracer.servers.mailbox import Mailbox

__all__ = [
    "Job",
    "JobTarget",
    "load_app_for",
    "notes_in",
    "notes_language",
    "read_by_app",
    "record_refusal",
    "say_load_hint",
]

# Taking a request (a worker) and withdrawing it (its client) must not both succeed, or the
# request would run and also be ended as cancelled: one lock for every job decides which won.
_CLAIM = threading.Lock()


class Job:
    """One request in flight between the load generator's loop and a model's workers."""

    __slots__ = (
        "req",
        "request",
        "future",
        "inbox",
        "abandoned",
        "started",
        "finished",
        "on_abandon",
        "deadline",
        "deadline_t",
        "read_so_far",
        "sent_so_far",
    )

    def __init__(self, req: int, request: Request, inbox: Mailbox) -> None:
        self.req = req
        self.request = request
        self.inbox = inbox
        self.future: asyncio.Future[Response] = inbox.loop.create_future()
        self.abandoned = False
        """Set when the client gave up (it timed out, or the run stopped): a worker that has not
        started it skips it, one running it stops pulling its body."""
        self.started = False
        """Set when a worker took it (``claim``): from then on the worker records its end."""
        self.finished = False
        """Set by the server model once the app is done with it (its ``request.end`` is in)."""
        self.on_abandon: Callable[[], None] | None = None
        """Called (on the client loop) when the client gives up, to tell the server side."""
        self.deadline: float | None = None
        """Loop time after which the client gives up (None: it waits for ever)."""
        self.deadline_t: int | None = None
        """The same instant in recording time (ns): a timeout's end is dated there."""
        self.read_so_far: Callable[[], int] | None = None
        """How many request body bytes the app has read until now, asked from any thread;
        set by the worker running the request. None: no app has it yet, so none were read."""
        self.sent_so_far: Callable[[], tuple[int | None, int]] | None = None
        """What the client has had of the response until now, asked from any thread: its
        status once the status line went out (None before), and the body bytes; set by the
        worker running the request. None: nothing went out."""

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The load generator's loop, where the client waits."""
        return self.inbox.loop

    def claim(self) -> bool:
        """A worker takes the request; False when its client already gave up (skip it)."""
        with _CLAIM:
            if self.abandoned:
                return False
            self.started = True
            return True

    def withdraw(self) -> bool:
        """The client leaves a request no worker took yet; False when one already has."""
        with _CLAIM:
            if self.started:
                return False
            self.abandoned = True
            return True

    def bytes_read(self) -> int:
        """The request body bytes the app has read so far, as the shim counts them: what an
        end the model records itself says (readers take the first end, so the whole body
        would claim bytes the app never read)."""
        read_so_far = self.read_so_far
        return 0 if read_so_far is None else read_so_far()

    def sent(self) -> tuple[int | None, int]:
        """The status the client got (None: no response started) and the body bytes it got
        so far: an end the model records itself (a timeout) keeps them, as a response whose
        headers went out keeps its status when its body is cut short."""
        sent_so_far = self.sent_so_far
        return (None, 0) if sent_so_far is None else sent_so_far()

    def resolve(self, response: Response) -> None:
        """Hand the response back to the client; safe from any thread, once or more."""
        self.inbox.post((self.future, response))


def _set_result(item: tuple[asyncio.Future[Response], Response]) -> None:
    future, response = item
    if not future.done():
        future.set_result(response)


class JobTarget:
    """Base of the in-process targets: arrival, waiting with a timeout, replies batched."""

    sweep_interval = 0.02
    """Seconds between looks for timed-out requests (a timeout is noticed this late at most)."""
    stop_leaves = False
    """True: when the run stops, the client of a request a worker is running leaves it, as a
    real server sees the connection close (the WSGI models: a body still streaming is pulled
    no further and closed at its next chunk, where an endless one was left unclosed). The
    ``loop`` models leave it to their stop, which cancels the apps' tasks."""

    def __init__(self, recorder: Recorder, redact: bool = True) -> None:
        self.recorder = recorder
        self.redact = redact
        """Whether ``request.queued``'s path loses secret ``;name=value`` values, as the shim's
        ``request.start`` does (the server's ``config.redact``)."""
        self._inbox: Mailbox | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._sweeper_loop: asyncio.AbstractEventLoop | None = None
        self.jobs: dict[int, Job] = {}
        """Requests whose client is still waiting, by id."""
        self.stopped: dict[int, Job] = {}
        """Requests a worker was running when the run stopped: their worker records the end
        (``settle`` ends those it never finished)."""

    def arrive(self, request: Request) -> Job:
        """A new request arrives: give it an id and record ``request.queued`` (client loop)."""
        inbox = self._inbox
        if inbox is None or inbox.loop is not asyncio.get_running_loop():
            inbox = self._inbox = Mailbox(asyncio.get_running_loop(), _set_result)
        recorder = self.recorder
        req = recorder.new_request_id()
        path = redact_path(request.path) if self.redact else request.path
        recorder.emit(K.REQUEST_QUEUED, req, {"method": request.method, "path": path})
        job = self.jobs[req] = Job(req, request, inbox)
        return job

    async def wait(self, job: Job, timeout: float | None) -> Response:
        """Wait for ``job``'s response; a timeout or a cancellation is recorded as its end."""
        if timeout is not None:
            # One sweeping timer for all requests costs less than a timer per request.
            loop = job.loop
            job.deadline = loop.time() + timeout
            job.deadline_t = self.recorder.now() + int(timeout * 1e9)
            if self._sweeper is None or self._sweeper_loop is not loop:
                # (a sweeper left on a finished loop never runs: start one on this loop)
                self._sweeper_loop = loop
                self._sweeper = loop.call_later(
                    min(timeout, self.sweep_interval), self._sweep, loop
                )
        try:
            return await job.future
        except asyncio.CancelledError:
            if not job.abandoned:
                self._cancel(job)
            raise
        finally:
            self.jobs.pop(job.req, None)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        self._sweeper = None
        now = loop.time()
        waiting = False
        for job in list(self.jobs.values()):
            if job.deadline is None or job.loop is not loop:
                continue
            if job.deadline <= now:
                _expire(self.recorder, job)
            else:
                waiting = True
        if waiting:
            self._sweeper = loop.call_later(self.sweep_interval, self._sweep, loop)

    def _cancel(self, job: Job) -> None:
        # The run stopped. A request still queued ends now, as cancelled; one on a worker ends
        # when the worker finishes it (the shim records that end), so it is not ended twice,
        # and with ``stop_leaves`` its client leaves it first.
        if job.withdraw():
            _give_up(self.recorder, job, CANCELLED)
        else:
            if self.stop_leaves:
                _abandon(job)
            self.stopped[job.req] = job

    def fail(self, job: Job, error: str) -> None:
        """End a request its server side lost (the worker process running it died): recorded
        with ``error`` and answered so, now. Safe from any thread."""
        job.finished = True
        status, bytes_out = _record_end(self.recorder, job, error)
        job.resolve(Response(job.req, status, bytes_out, error))

    def settle(self) -> int:
        """End as cancelled the stopped requests whose worker never finished (it hangs).

        Called once the server model has stopped (and waited for its workers as long as it
        would); returns how many were ended here.
        """
        count = 0
        for job in list(self.stopped.values()):
            if not job.finished:
                job.abandoned = True
                _record_end(self.recorder, job, CANCELLED)
                count += 1
        self.stopped.clear()
        return count


def _expire(recorder: Recorder, job: Job) -> None:
    if not job.future.done():
        # Dated at the deadline, not when the sweep got to it: a client loop that fell behind
        # (an overloaded open-loop run) notices late, and an app that answered in between
        # must not turn a timed-out request into a success seconds past its --timeout.
        # A response that started keeps its status for the client too, as a real server's
        # client counts a stream its timeout cut short.
        status, bytes_out = _give_up(recorder, job, TIMEOUT, t=job.deadline_t)
        job.future.set_result(Response(job.req, status, bytes_out, TIMEOUT))


def _abandon(job: Job) -> None:
    """The client left ``job``: a body still streaming stops at its next chunk."""
    job.abandoned = True
    if job.on_abandon is not None:
        job.on_abandon()


def _give_up(
    recorder: Recorder, job: Job, error: str, *, t: int | None = None
) -> tuple[int | None, int]:
    _abandon(job)
    return _record_end(recorder, job, error, t=t)


def _record_end(
    recorder: Recorder, job: Job, error: str, *, t: int | None = None
) -> tuple[int | None, int]:
    """Record ``job``'s end for its client, with the status and body bytes it had (``sent``):
    returned, for its ``Response``."""
    if t is not None:
        t = min(t, recorder.now())
    status, bytes_out = job.sent()
    recorder.emit(
        K.REQUEST_END,
        job.req,
        {"status": status, "bytes_in": job.bytes_read(), "bytes_out": bytes_out, "error": error},
        t=t,
    )
    return status, bytes_out


def read_by_app(body: Any) -> int:
    """How much of the request body the app read from ``body``, the server's own stream under
    ``wsgi.input``: its position, which every read moves by what it returned, so it is the
    shim's ``bytes_in``. 0 when there is no stream to ask (the app closed it)."""
    try:
        return int(body.tell())
    except (AttributeError, ValueError, OSError):
        return 0


def record_refusal(
    recorder: Recorder,
    req: int | None,
    refused: BaseException,
    *,
    status: int | None,
    bytes_in: int,
    bytes_out: int,
    t: int | None = None,
    raised: bool = False,
) -> None:
    """The server could not send what the app gave it (``refused`` says why): an ``error`` and
    the request's end as its client saw it, before the shim's own end (readers take the first).

    ``raised``: ``refused`` came out of the app's call (the server raised into the app, which
    let it out), so the shim already recorded it as the app's error and ended the request with
    the status the app gave: only the end is recorded, dated ``t`` (when the server raised,
    before the shim's end) so that it is the one readers take.
    """
    error = type(refused).__name__
    if not raised:
        recorder.emit(K.ERROR, req, {"type": error, "message": str(refused), "where": None})
    recorder.emit(
        K.REQUEST_END,
        req,
        {"status": status, "bytes_in": bytes_in, "bytes_out": bytes_out, "error": error},
        t=t,
    )


def load_app_for(
    config: ServerConfig, model: str, serves: tuple[str, ...], *, say_hint: bool = True
) -> tuple[Any, str]:
    """The untraced app of ``config`` and its interface (``wsgi``/``asgi2``/``asgi3``).

    Loaded from ``config.app_spec`` (no ``config.app``), with ``say_hint`` the loader's hint is
    said on stderr first (``say_load_hint``): once per run, where the app is loaded in the
    ``trace`` process (a worker process passes False: the parent said it). Raises
    ``InterfaceError`` naming the model to use when the app does not fit ``serves``.
    """
    app = config.app
    if app is None:
        from tracer.loading import load_app

        loaded = load_app(
            config.app_spec or "",
            factory=config.factory,
            app_dir=config.app_dir,
            interface=config.interface,
        )
        app, interface = loaded.app, loaded.interface
        if say_hint:
            lang = notes_language()
            say_load_hint(loaded.hint_in(lang), lang)
    else:
        interface = detect_interface(app, config.interface)
    family = "asgi" if is_asgi(interface) else "wsgi"
    if family not in serves:
        label = config.app_spec or getattr(app, "__name__", "the app")
        other = "loop" if family == "asgi" else "threads"
        raise InterfaceError(
            f"{label} is {'an' if family == 'asgi' else 'a'} {family.upper()} app, but "
            f"--server {model} runs "
            f"{' and '.join(s.upper() for s in serves)} apps. Use --server {other}."
        )
    return app, interface


# A context variable, not an argument: the demo's language reaches the models' constructors,
# which load the app in the caller's thread, without every ServerConfig carrying it.
_NOTES_LANG: ContextVar[str] = ContextVar("notes_lang", default="en")


@contextlib.contextmanager
def notes_in(lang: str) -> Iterator[None]:
    """Within it, ``load_app_for`` says the loader's hint in ``lang`` (``trace demo --lang``);
    English outside it, as ``trace run`` documents its stderr."""
    token = _NOTES_LANG.set(lang)
    try:
        yield
    finally:
        _NOTES_LANG.reset(token)


def notes_language() -> str:
    """The language ``load_app_for`` says the loader's hint in here (``notes_in``)."""
    return _NOTES_LANG.get()


_NOTE_PREFIX = {"en": "trace: note: ", "zh": "trace：注意："}
"""Language -> the words before the hint (the demo's own: ``PROGRESS``, ``HEADLESS``)."""


def say_load_hint(hint: str | None, lang: str = "en") -> None:
    """Say the loader's hint (``LoadedApp.hint``, or ``hint_in(lang)``: APP is already
    instrumented, or taken for ASGI 2 it may not be an app) as one ``trace: note: …`` line on
    stderr (``trace：注意：…`` for ``zh``), before the run: it says what was run in its place,
    or what APP likely meant. Nothing for None."""
    stream = sys.stderr
    if hint is None or stream is None:  # (None: an app that took stderr away at import)
        return
    try:
        print(f"{_NOTE_PREFIX.get(lang, _NOTE_PREFIX['en'])}{hint}", file=stream, flush=True)
    except (OSError, ValueError):  # a closed stream: the run goes on without the note
        pass
