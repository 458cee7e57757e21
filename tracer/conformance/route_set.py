"""What route discovery found: the paths ``trace check`` probes, and the methods of each.

``Routes`` is filled by the readers of each framework's route table
(``tracer.conformance.routes`` and the ``routes_*`` modules beside it). Imports nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["Routes", "MAX_PATHS", "PROBED_METHODS"]

MAX_PATHS = 40
"""At most this many paths of each kind are probed: a check stays a few seconds long."""

PROBED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
"""The declared methods a route is probed with (HEAD and OPTIONS are the framework's own)."""


@dataclass
class Routes:
    """What was found: the framework's name and the paths to probe, HTTP and websocket."""

    framework: str
    http: list[str] = field(default_factory=list)
    websocket: list[str] = field(default_factory=list)
    total: int = 0
    """Paths found before the ``MAX_PATHS`` cut."""
    methods: dict[str, list[str]] = field(default_factory=dict)
    """HTTP path -> the methods its routes declare (``PROBED_METHODS`` order); a path with no
    entry declared none (any method): it gets the default probes."""
    serves_websockets: bool = False
    """The framework routes websocket scopes itself (Starlette, Quart, Litestar, Falcon's ASGI
    app, Sanic): what it answers to a websocket session at an HTTP route is its answer, judged
    like any other, never taken for an HTTP-only app that ignores the scope's type."""

    def add(
        self, path: str, *, websocket: bool = False, methods: Iterable[str] | None = None
    ) -> None:
        """List ``path`` once (a route reached two ways is probed once), with its methods
        (several routes of one path, ``@get`` and ``@post``, add up)."""
        paths = self.websocket if websocket else self.http
        if not websocket and methods is not None:
            declared = set(self.methods.get(path, ())) | {m.upper() for m in methods}
            self.methods[path] = [m for m in PROBED_METHODS if m in declared]
        if path in paths:
            return
        self.total += 1
        if len(paths) < MAX_PATHS:
            paths.append(path)

    @property
    def truncated(self) -> bool:
        """True when some routes were left out (``MAX_PATHS``)."""
        return self.total > len(self.http) + len(self.websocket)
