"""The request plan: what the load generator sends, built from ``trace run``'s options.

``-m``, ``--path`` (repeatable, round robin, ``ws:/path`` for a websocket), ``-H 'K: V'``,
``-d``/``--body-file`` and ``--ws-messages`` become a tuple of ready ``Request`` objects, built
once and reused, so the hot loop only picks the next one. A header value is sent as the UTF-8
bytes typed (``wire_value``). (``-z`` and ``--timeout`` are read
by the CLI's one duration rule, ``tracer.cli.parsing.parse_duration``.)
Imports only ``tracer.errors`` and ``tracer.servers``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tracer._version import __version__
from tracer.errors import UsageError
from tracer.servers import Request

__all__ = [
    "RequestPlan",
    "WS_PREFIX",
    "build_plan",
    "parse_header",
    "shell_made_path",
    "wire_value",
]

WS_PREFIX = "ws:"
"""A ``--path`` starting with this opens a websocket (``ws:/echo``)."""


SHELL_MADE = (
    "the shell (Git Bash) turned a path starting with / into a Windows path; write it with "
    "two slashes (//api) or set MSYS_NO_PATHCONV=1."
)
"""Why a ``--path`` that is a Windows path was refused, and how to keep its slash."""


def shell_made_path(path: str) -> bool:
    """Whether ``path`` is a Windows path with a drive (``C:/Program Files/Git/api``): what
    Git Bash (MSYS) passes for an argument typed as ``/api``."""
    return len(path) > 2 and path[0].isascii() and path[0].isalpha() and path[1:3] in (":/", ":\\")


@dataclass(frozen=True, slots=True)
class RequestPlan:
    """The requests to send, in round-robin order."""

    requests: tuple[Request, ...]
    """One ready request per ``--path``."""

    def __getitem__(self, index: int) -> Request:
        return self.requests[index % len(self.requests)]

    def __len__(self) -> int:
        return len(self.requests)


_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
"""The characters of a header name (RFC 9110 5.1, ``tchar``)."""


def parse_header(text: str) -> tuple[str, str]:
    """``"Name: value"`` -> ``("Name", "value")``.

    Refuses what cannot go into one header line: a name that is not a token, a value with
    a line break, NUL or other control character (it would smuggle in a header of its own).
    The value is the text typed; ``wire_value`` gives the bytes sent.
    """
    name, sep, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not name or not set(name) <= _TOKEN:
        raise UsageError(f"Cannot read the header \"{text}\". Write it as -H 'Name: value'.")
    if any(_control(c) and c != "\t" for c in value):
        raise UsageError(
            f"The header {name!r} has a line break or control character in its value: "
            f"{value!r}. Give each header its own -H."
        )
    return name, value


def wire_value(value: str) -> str:
    """A header value as it goes on the wire: the UTF-8 bytes typed (as curl sends them),
    carried as a latin-1 "bytes in a str", as PEP 3333 carries them in the environ.

    Every part that writes a ``Request``'s headers encodes them latin-1 (the client on the
    socket, the in-process ASGI scope) or hands them on as they are (the in-process environ),
    so each sends or shows the same bytes a real server receives. A non-UTF-8 byte on the
    command line (a lone surrogate in argv) goes out as that byte."""
    if value.isascii():
        return value
    return value.encode("utf-8", "surrogateescape").decode("latin-1")


def _control(c: str) -> bool:
    return c < " " or c == "\x7f"


def _request_target(raw: str, path: str) -> str:
    """``path`` as it goes on the request line: non-ASCII percent-encoded in UTF-8 (as
    browsers and curl's ``--url-query`` do); spaces and control characters refused."""
    if any(_control(c) or c == " " for c in path):
        raise UsageError(
            f"--path {raw!r} has a space or control character; percent-encode it (%20)."
        )
    if path.isascii():
        return path
    # The bytes typed: a non-UTF-8 byte on the command line arrives as a lone surrogate
    # (surrogateescape), which UTF-8 cannot encode; it goes out as its own %XX.
    sent = path.encode("utf-8", "surrogateescape")
    return "".join(chr(b) if b < 0x80 else f"%{b:02X}" for b in sent)


def build_plan(
    *,
    method: str = "GET",
    paths: Sequence[str] = ("/",),
    headers: Sequence[str] = (),
    body: bytes = b"",
    ws_messages: int | None = None,
) -> RequestPlan:
    """The plan for the given options.

    A ``ws:`` path is a WebSocket session of ``ws_messages`` messages (0: one that is opened,
    accepted and closed without a message; None, not given: 1). Given (0 included) with no
    ``ws:`` path, it makes every path a session.
    """
    if ws_messages is not None and ws_messages < 0:
        raise UsageError(f"--ws-messages must be 0 or more, not {ws_messages}.")
    if not method or not set(method) <= _TOKEN:
        raise UsageError(
            f"Cannot use {method!r} as a method: a method is a single word (letters, digits "
            "and !#$%&'*+-.^_`|~), such as GET or POST."
        )
    parsed = [(name, wire_value(value)) for name, value in map(parse_header, headers)]
    names = {name.lower() for name, _ in parsed}
    defaults = [("host", "127.0.0.1:8000"), ("user-agent", f"gateway-tracer/{__version__}")]
    base = [(name, value) for name, value in defaults if name not in names] + parsed
    if body and "content-type" not in names:
        base.append(("content-type", "application/x-www-form-urlencoded"))  # as curl -d does
    if body and "content-length" not in names:
        base.append(("content-length", str(len(body))))
    any_ws = any(path.startswith(WS_PREFIX) for path in paths)
    requests = []
    for raw in paths or ("/",):
        websocket = raw.startswith(WS_PREFIX) or (ws_messages is not None and not any_ws)
        path = raw[len(WS_PREFIX) :] if raw.startswith(WS_PREFIX) else raw
        if not path.startswith("/"):
            said = f'--path "{raw}" must start with "/"'
            if shell_made_path(path):
                raise UsageError(f"{said}: {SHELL_MADE}")
            raise UsageError(f'{said} (or "ws:/" for a websocket).')
        path, _, query = _request_target(raw, path).partition("?")
        requests.append(
            Request(
                method="GET" if websocket else method.upper(),
                path=path,
                query=query,
                headers=tuple(h for h in base if not websocket or h[0] != "content-length"),
                body=b"" if websocket else body,
                websocket=websocket,
                ws_messages=(1 if ws_messages is None else ws_messages) if websocket else 0,
            )
        )
    if all(request.websocket for request in requests) and (method.upper() != "GET" or body):
        # Every path is a WebSocket session: an upgrade is a GET without a body, so the
        # method and the body asked for would be dropped without a word.
        asked = " and ".join(
            part
            for part, given in ((f"-m {method}", method.upper() != "GET"), ("a body", bool(body)))
            if given
        )
        raise UsageError(
            f"Every path here is a WebSocket session (a GET without a body): {asked} would not "
            "be sent. Drop it, or give HTTP paths too (ws:/path for the sessions)."
        )
    return RequestPlan(tuple(requests))
