"""A selector over multiprocessing's pipes and process sentinels, on every system.

POSIX selectors take pipes and sentinels (descriptors) as they take sockets. Windows'
``select`` takes sockets only (anything else is WSAENOTSOCK): there the pipes' and processes'
handles are waited on as ``multiprocessing.connection.wait`` waits on them
(``WaitForMultipleObjects``), behind the few selector methods ``tracer.servers.processes``
uses. Whether ``select`` has ``poll`` tells them apart: Windows' alone has not.
"""

from __future__ import annotations

import select
import selectors
from multiprocessing.connection import wait
from types import TracebackType
from typing import Any

__all__ = ["pipe_selector"]


def pipe_selector() -> Any:
    """A selector (a context manager) that can watch pipes and process sentinels here."""
    if hasattr(select, "poll"):
        return selectors.DefaultSelector()
    return _WaitSelector()


class _WaitSelector:
    """``register``, ``unregister`` and ``select`` of a selector, read-only, over ``wait``."""

    def __init__(self) -> None:
        self._keys: dict[Any, selectors.SelectorKey] = {}

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        """Watch ``fileobj`` (a ``Connection``, or a sentinel) for being readable."""
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        key = self._keys[fileobj] = selectors.SelectorKey(fileobj, fd, events, data)
        return key

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        """Stop watching ``fileobj``; ``KeyError`` when it was not watched (as selectors do)."""
        return self._keys.pop(fileobj)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        """The keys of what is readable (or ended), after ``timeout`` seconds at most."""
        if not self._keys:
            return []
        ready = wait(list(self._keys), timeout)
        return [(self._keys[obj], selectors.EVENT_READ) for obj in ready if obj in self._keys]

    def close(self) -> None:
        """Forget everything watched."""
        self._keys.clear()

    def __enter__(self) -> _WaitSelector:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
