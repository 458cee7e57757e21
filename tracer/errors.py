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
    "AppImportFailed",
    "AppAttributeNotFound",
    "AppNotCallable",
    "InterfaceError",
    "RecordingError",
    "RecordingNotFound",
    "RecordingFormatError",
    "EventsNotKept",
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


class AppImportFailed(AppLoadError):
    """The app's own code raised while it was imported (or while its factory ran).

    ``str()`` is one line; ``traceback`` is the app's own formatted traceback (the loader's
    frames left out), which the CLI prints after that line: the one case where a traceback is
    the right output.
    """

    def __init__(self, message: str, traceback: str = "") -> None:
        super().__init__(message)
        self.traceback = traceback


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


class EventsNotKept(TracerError):
    """A recorder that keeps no events in memory (``keep=False``, a streaming recorder's
    default) was asked to save them: its file is the recording."""


class ServerError(TracerError):
    """A server model or real server could not start or run."""
