"""``TracedBody``: the response iterable the WSGI shim hands back to the server.

It yields exactly the app's chunks, times each one (the time inside the app's ``next()``), and
keeps the protocol's shape: ``close()`` always exists and calls the app's own ``close()`` when
there is one; ``SizedTracedBody`` adds ``len()`` when the app's iterable had it (wsgiref sets
Content-Length from a one-item list). A server that drops the wrapper unclosed ends the request
from the finaliser; that breaks WSGI-022 only when the app's iterable has a ``close()`` of its
own. Exceptions from the app's iteration, ``len()`` and close (looking ``close`` up included:
a property may raise) are recorded and re-raised unchanged.

While the app makes a chunk and while its ``close()`` runs, the request is current
(``tracer.shim.context.CURRENT``), as during the app call: work a streamed body hands to other
threads (a pool's ``submit``, asgiref's ``async_to_sync``) is a hop of the request
(``tracer.shim.hops``). Only then: between chunks the server's own code runs, and a server
thread keeps its context after the request, so the request is set and reset around each step.

A response that is the server's own ``wsgi.file_wrapper`` is not wrapped (servers recognise it
by its class, waitress by ``__class__ is``, to send the file their own way, sendfile): the
instance gets a ``FileWrapperClose`` as its ``close`` instead, which ends the request when the
server is done with the file, and ``file_length`` says how many bytes it will send.
Imports only sibling shim modules; never the TUI, exporters or CLI.
"""

from __future__ import annotations

import os
import weakref
from typing import TYPE_CHECKING, Any

from tracer.shim.context import CURRENT
from tracer.shim.greenlets import os_thread_ident

if TYPE_CHECKING:
    from tracer.shim.wsgi_cycle import WsgiCycle

__all__ = ["TracedBody", "SizedTracedBody", "FileWrapperClose", "file_length"]

# The OS thread's ident even where gevent patched ``threading`` (``tracer.shim.greenlets``):
# a request's cycle is on its OS thread, whatever greenlet runs it.
_get_ident = os_thread_ident()
_current = CURRENT.get
_set_current = CURRENT.set
_reset_current = CURRENT.reset


class TracedBody:
    """Wraps the app's response iterable for one request."""

    __slots__ = ("_result", "_iter", "_cycle", "_request")

    def __init__(self, result: Any, cycle: WsgiCycle) -> None:
        self._result = result
        self._cycle = cycle
        self._iter: Any = None
        # The request the app's code works for: the shim makes the body inside the app
        # call, while it is current (the cycle, or the request linking it to another
        # recorder's: ``tracer.shim.wsgi.NestedWsgiRequest``).
        self._request = _current()

    @property
    def result(self) -> Any:
        """The app's own response iterable."""
        return self._result

    def __iter__(self) -> TracedBody:
        return self

    def __next__(self) -> Any:
        cycle = self._cycle
        if _get_ident() != cycle.tid:
            cycle.switch_thread()
        sink = cycle.sink
        t = sink.clock() - sink.start_ns
        token = _set_current(self._request)
        try:
            iterator = self._iter
            if iterator is None:
                iterator = self._iter = iter(self._result)
            chunk = next(iterator)
        except StopIteration:
            cycle.exhausted = True  # the whole response went to the server
            raise
        except BaseException as exc:
            cycle.fail(exc)
            raise
        finally:
            try:
                _reset_current(token)
            except ValueError:  # the app switched contexts under us; the value dies with it
                pass
        cycle.body(chunk, t, iterator)
        return chunk

    def close(self) -> None:
        """Close the app's iterable (if it can be closed) and end the request."""
        cycle = self._cycle
        t = cycle.enter()
        token = _set_current(self._request)
        try:
            # Inside the try: looking ``close`` up runs the app's code too (a property), and
            # what it raises is the app's error in close, as if ``close()`` itself raised.
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        except BaseException as exc:
            cycle.fail(exc, in_close=True)
            raise
        finally:
            try:
                _reset_current(token)
            except ValueError:  # as in ``__next__``
                pass
            cycle.closed(t)

    def __del__(self) -> None:
        # The server dropped the response without calling close(): the request is still over.
        try:
            cycle = self._cycle
        except AttributeError:  # __init__ never ran to the end
            return
        if not cycle.done:
            # PEP 3333 asks for close() only when the app's iterable has one (a list has not):
            # request.end says close was not called either way; the checker reports WSGI-022
            # only when a close() of the app's own was missed.
            # BaseException: a finaliser that lets anything out (an app's close property that
            # raises SystemExit) only prints "Exception ignored", and the request never ends.
            try:
                closable = getattr(self._result, "close", None) is not None
            except BaseException:  # an app attribute that raises: judge as if it had close()
                closable = True
            try:
                cycle.finish(close_called=False, closable=closable)
            except BaseException:  # noqa: S110 - a finaliser must never raise
                pass

    def __getattr__(self, name: str) -> Any:
        if name in TracedBody.__slots__:
            raise AttributeError(name)
        return getattr(self._result, name)

    def __repr__(self) -> str:
        return f"<TracedBody of {self._result!r}>"


class SizedTracedBody(TracedBody):
    """A ``TracedBody`` with ``len()``, for app iterables that have one (lists, tuples)."""

    __slots__ = ()

    def __len__(self) -> int:
        try:
            return len(self._result)
        except BaseException as exc:
            # The app's __len__ raised, or gave what len() refuses (a negative number, not an
            # int: ValueError, TypeError): the app's error either way. A server asks len()
            # for a Content-Length, so before it sends the headers: it answers 500 (waitress
            # does so with the first chunk in hand).
            self._cycle.fail(exc, headers_held=True)
            raise


def _declared_length(headers: Any) -> int | None:
    """The ``Content-Length`` among response headers, or None (absent or not a number)."""
    try:
        for name, value in headers:
            if name.lower() == "content-length":
                length = int(value)
                return length if length >= 0 else None
    except (TypeError, ValueError, AttributeError):
        pass
    return None


def _remaining(wrapper: Any) -> int | None:
    """The bytes of the wrapped file from its current position to its end, or None.

    The wrappers keep the file as ``filelike`` (gunicorn, wsgiref, the in-process models) or
    ``file`` (waitress, Werkzeug); a file with no descriptor (``io.BytesIO``) has no size here.
    """
    for attribute in ("filelike", "file"):
        filelike = getattr(wrapper, attribute, None)
        if filelike is None:
            continue
        try:
            size = os.fstat(filelike.fileno()).st_size
            position = filelike.tell()
        except (AttributeError, OSError, TypeError, ValueError):
            return None
        return max(0, size - position) if isinstance(position, int) else None
    return None


def file_length(wrapper: Any, headers: Any) -> int:
    """The bytes a server sends for a ``wsgi.file_wrapper`` response: the declared
    Content-Length, no more than the file holds from its current position (gunicorn's
    sendfile and waitress send the smaller), either when only one is known, else 0."""
    declared = _declared_length(headers)
    remaining = _remaining(wrapper)
    if declared is None:
        return remaining or 0
    return declared if remaining is None else min(declared, remaining)


class FileWrapperClose:
    """The ``close`` put on a ``wsgi.file_wrapper`` instance the app returned: the server
    calls it once it has sent the file, which ends the request (``wsgi.close`` with the time
    inside the wrapper's own close, then ``request.end``).

    It holds the instance weakly, so that the instance holding it is freed by reference
    counting as before; a server that drops the instance unclosed ends the request from
    ``install``'s finaliser, with ``close_called: false``.
    """

    __slots__ = ("_wrapper", "_own", "_cycle", "_finalizer")

    def __init__(self, wrapper: Any, cycle: WsgiCycle) -> None:
        # gunicorn's and wsgiref's wrappers set ``close`` per instance (the file's own close):
        # kept as it is; else the class's close is called on the instance.
        self._own = vars(wrapper).get("close")
        self._wrapper = weakref.ref(wrapper)
        self._cycle = cycle
        self._finalizer: Any = None

    @classmethod
    def install(cls, wrapper: Any, cycle: WsgiCycle) -> bool:
        """Put one on ``wrapper``; False when the instance takes no attribute (``__slots__``)
        or no weak reference, and the request cannot be followed to the server's close."""
        try:
            close = cls(wrapper, cycle)
            wrapper.close = close
        except (AttributeError, TypeError):
            return False
        finalizer = weakref.finalize(wrapper, cycle.finish, close_called=False, file_wrapper=True)
        finalizer.atexit = False  # a response still held at exit is no request that ended
        close._finalizer = finalizer
        return True

    def __call__(self) -> None:
        cycle = self._cycle
        t = cycle.enter()
        try:
            if self._own is not None:
                self._own()
            else:
                wrapper = self._wrapper()
                close = getattr(type(wrapper), "close", None)
                if wrapper is not None and close is not None:
                    close(wrapper)
        except BaseException as exc:
            cycle.fail(exc, in_close=True)
            raise
        finally:
            if self._finalizer is not None:
                self._finalizer.detach()
            cycle.closed(t, file_wrapper=True)

    def __repr__(self) -> str:
        return f"<FileWrapperClose of {self._wrapper()!r}>"
