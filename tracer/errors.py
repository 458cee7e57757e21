"""The exception hierarchy of gateway-tracer.

Library code raises these; only the CLI prints them (one line) and picks the exit code.
This module imports nothing of ours.
"""

from __future__ import annotations

__all__ = [
    "TracerError",
    "UsageError",
    "AppLoadError",
    "AppFormatError",
    "AppModuleNotFound",
    "AppAttributeNotFound",
    "AppNotCallable",
    "InterfaceError",
    "RecordingError",
    "RecordingNotFound",
    "RecordingFormatError",
    "ServerError",
]


class TracerError(Exception):
    """Base of every error this tool raises on purpose; its message is meant for the user."""


class UsageError(TracerError):
    """A bad option or combination of options (exit code 2)."""


class AppLoadError(TracerError):
    """The APP argument could not be turned into a callable."""


class AppFormatError(AppLoadError):
    """APP is not of the form ``module:attr`` or ``path/file.py:attr``."""


class AppModuleNotFound(AppLoadError):
    """The module named by APP does not exist (as opposed to failing inside its own imports)."""


class AppAttributeNotFound(AppLoadError):
    """The module exists but has no such attribute."""


class AppNotCallable(AppLoadError):
    """The attribute exists but is not callable."""


class InterfaceError(TracerError):
    """Whether an app is WSGI or ASGI cannot be decided, or it does not fit the chosen server."""


class RecordingError(TracerError):
    """A recording cannot be read."""


class RecordingNotFound(RecordingError):
    """The recording file does not exist."""


class RecordingFormatError(RecordingError):
    """The file is not a gateway-trace recording, is corrupt, or is of a newer version."""


class ServerError(TracerError):
    """A server model or real server could not start or run."""
