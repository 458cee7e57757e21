"""``CloseWatch``: which response iterables inside the app were never closed (WSGI-022).

The shim sees only the outermost iterable, which the check's server always closes. A
middleware that wraps an inner app's iterable must close that one in its own ``close()``
(PEP 3333); one that forgets leaves the inner app's cleanup (a file, a database session,
Werkzeug's ``ClosingIterator`` callbacks) undone, and nothing outside shows it. So while a WSGI
probe runs, a profile function on the thread that serves it notes every WSGI call inside the
app (a Python function called with an environ and a callable), the iterable each returns and
every ``close()`` called on one; what is left unclosed once the request is over is reported.

A generator is judged by its state instead: one that ran to its end has nothing left to
close, and its ``close()`` may also come from its finaliser, which no profile function sees.
This is for ``trace check`` alone: a profile function slows every call of the thread it is
on. Imports only the conformance package.
"""

from __future__ import annotations

import sys
from types import FrameType, GeneratorType
from typing import Any

from tracer.conformance.base import OWN_DIR, Site, format_site

__all__ = ["CloseWatch", "Unclosed"]

_MAX_TRACKED = 1000
"""At most this many iterables are followed in one request (a runaway app stays bounded)."""


class Unclosed:
    """An inner app's response iterable that nobody closed."""

    __slots__ = ("producer", "kind", "called_at")

    def __init__(self, producer: str, kind: str, called_at: Site | None) -> None:
        self.producer = producer
        """The qualified name of the WSGI callable that returned it."""
        self.kind = kind
        """Its type's name."""
        self.called_at = called_at
        """Where the app (the middleware) called that callable: it took the iterable on there,
        so its own response's ``close()`` is the one that must forward."""

    def detail(self) -> str:
        """The violation's detail: whose iterable, and who took it (``location`` says where)."""
        text = f"the {self.kind} returned by {self.producer}() was never closed"
        if self.called_at is not None:
            text += ": the close() of the middleware that called it must call its close()"
        return text

    def location(self) -> str | None:
        """``file:line`` of the middleware's call, when known."""
        return None if self.called_at is None else format_site(self.called_at)


def _wsgi_call(frame: FrameType) -> bool:
    """Whether ``frame`` is a call with an environ and a callable among its first arguments."""
    code = frame.f_code
    count = code.co_argcount
    if count < 2 or code.co_filename.startswith(OWN_DIR):
        return False
    local = frame.f_locals
    names = code.co_varnames[: min(count, 3)]
    for first, second in zip(names, names[1:], strict=False):
        environ = local.get(first)
        if type(environ) is dict and "wsgi.version" in environ and callable(local.get(second)):
            return True
    return False


def _caller_site(frame: FrameType) -> Site | None:
    """(file, line) of the nearest frame that called ``frame`` from outside the tracer."""
    caller = frame.f_back
    for _ in range(40):
        if caller is None:
            return None
        if not caller.f_code.co_filename.startswith(OWN_DIR):
            return caller.f_code.co_filename, caller.f_lineno
        caller = caller.f_back
    return None


class CloseWatch:
    """Follows the response iterables of the WSGI calls inside one request, on its thread.

    ``start()`` on the thread that serves the request, ``stop()`` there when it is over;
    ``unclosed()`` after that says what was left open. ``abandon()`` from another thread (the
    request timed out): the profile function removes itself at the thread's next call.
    """

    def __init__(self) -> None:
        # The WSGI calls running: frame -> (its number, the number of the WSGI call it runs
        # inside or None, where it was called from). Numbers, not frames, outlive the calls:
        # a frame kept would keep its locals, and so the iterables judged here, alive.
        self._calls: dict[FrameType, tuple[int, int | None, Site | None]] = {}
        self._count = 0
        # call number -> the id of the followed iterable it returned (None: nothing followed)
        self._results: dict[int, int | None] = {}
        # id -> (the iterable, who returned it, the WSGI call that took it, where that called
        # it); the iterable is held so that its id stays its own until the request is judged.
        self._tracked: dict[int, tuple[Any, str, int | None, Site | None]] = {}
        self._closed: set[int] = set()
        self._abandoned = False

    def start(self) -> None:
        """Watch the calling thread."""
        sys.setprofile(self._profile)

    def stop(self) -> None:
        """Stop watching the calling thread."""
        sys.setprofile(None)

    def abandon(self) -> None:
        """Stop watching a thread that is still in the request (from any thread)."""
        self._abandoned = True

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if self._abandoned:
            sys.setprofile(None)
            return
        if event == "call":
            if frame.f_code.co_name == "close":
                self._closing(frame.f_locals.get("self"))
            elif _wsgi_call(frame):
                self._count += 1
                self._calls[frame] = (self._count, self._enclosing(frame), _caller_site(frame))
        elif event == "return":
            call = self._calls.pop(frame, None)
            if call is not None:
                number, parent, called_at = call
                self._results[number] = self._track(
                    arg, frame.f_code.co_qualname, parent, called_at
                )
        elif event == "c_call" and getattr(arg, "__name__", None) == "close":
            self._closing(getattr(arg, "__self__", None))

    def _closing(self, owner: Any) -> None:
        if owner is not None and id(owner) in self._tracked:
            self._closed.add(id(owner))

    def _enclosing(self, frame: FrameType) -> int | None:
        """The number of the innermost WSGI call running around ``frame``, or None."""
        outer = frame.f_back
        for _ in range(200):
            if outer is None:
                return None
            call = self._calls.get(outer)
            if call is not None:
                return call[0]
            outer = outer.f_back
        return None

    def _track(
        self, result: Any, producer: str, parent: int | None, called_at: Site | None
    ) -> int | None:
        """Follow ``result`` if it is an iterable with a close() (PEP 3333 asks for it only
        then); return its id, or None. The same object passed up through several calls is
        followed once, as returned by the outermost of them: the call that took it from
        there is the one that wrapped it instead of passing it on."""
        key = id(result)
        if key in self._tracked:
            self._tracked[key] = (result, producer, parent, called_at)
            return key
        if len(self._tracked) >= _MAX_TRACKED:
            return None
        try:
            closable = callable(getattr(result, "close", None)) and hasattr(result, "__iter__")
        except Exception:  # an app attribute that raises: nothing to follow
            return None
        if not closable:
            return None
        self._tracked[key] = (result, producer, parent, called_at)
        return key

    def unclosed(self) -> list[Unclosed]:
        """The iterables nobody closed, in the order their calls returned.

        One left open because the iterable that wraps it was left open too is that one's
        consequence (closing the outer one may well have closed it): only the outermost of
        such a chain is the mistake. The request's own iterable is the server's to close,
        and the check's server always does.
        """
        left = []
        open_ = {key for key in self._tracked if not self._finished(key)}
        for key in self._tracked:  # in the order they were first tracked
            if key not in open_:
                continue
            _, producer, parent, called_at = self._tracked[key]
            outer = None if parent is None else self._results.get(parent)
            if outer is not None and outer != key and outer in open_:
                continue
            left.append(Unclosed(producer, type(self._tracked[key][0]).__name__, called_at))
        self._tracked.clear()
        return left

    def _finished(self, key: int) -> bool:
        """Closed, or a generator that ran to its end (or whose finaliser closed it)."""
        if key in self._closed:
            return True
        result = self._tracked[key][0]
        return type(result) is GeneratorType and result.gi_frame is None
