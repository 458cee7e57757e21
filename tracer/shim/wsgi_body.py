"""``TracedBody``: the response iterable the WSGI shim hands back to the server.

It yields exactly the app's chunks, times each one (the time inside the app's ``next()``), and
keeps the protocol's shape: ``close()`` always exists and calls the app's own ``close()`` when
there is one; ``SizedTracedBody`` adds ``len()`` when the app's iterable had it (wsgiref sets
Content-Length from a one-item list). A server that drops the wrapper unclosed ends the request
from the finaliser; that breaks WSGI-022 only when the app's iterable has a ``close()`` of its
own. Exceptions from the app's iteration, ``len()`` and close (looking ``close`` up included:
a property may raise) are recorded and re-raised unchanged.
Imports only sibling shim modules; never the TUI, exporters or CLI.
"""

from __future__ import annotations

from threading import get_ident as _get_ident
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracer.shim.wsgi_cycle import WsgiCycle

__all__ = ["TracedBody", "SizedTracedBody"]


class TracedBody:
    """Wraps the app's response iterable for one request."""

    __slots__ = ("_result", "_iter", "_cycle")

    def __init__(self, result: Any, cycle: WsgiCycle) -> None:
        self._result = result
        self._cycle = cycle
        self._iter: Any = None

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
        try:
            iterator = self._iter
            if iterator is None:
                iterator = self._iter = iter(self._result)
            chunk = next(iterator)
        except StopIteration:
            raise
        except BaseException as exc:
            cycle.fail(exc)
            raise
        cycle.body(chunk, t, iterator)
        return chunk

    def close(self) -> None:
        """Close the app's iterable (if it can be closed) and end the request."""
        cycle = self._cycle
        t = cycle.enter()
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
