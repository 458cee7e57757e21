"""WSGI apps whose status line servers refuse or pass on broken, for ``trace check``."""

from __future__ import annotations

from typing import Any


def _app(status: str) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(status, [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"hi"]

    return app


not_latin1 = _app("200 Grüß ✓")
"""A reason that is not latin-1: gunicorn and waitress answer 500 instead."""
nul = _app("200 O\x00K")
"""A NUL in the reason: waitress sends it on as it is."""
escape = _app("200 \x1b[31mOK")
"""An escape sequence in the reason: sent on as it is, obeyed by a terminal showing it."""
latin1 = _app("200 Grüße")
"""A latin-1 reason (umlaut, sharp s): servers encode it as ISO-8859-1 and send it."""
