"""Standard error with no room (``2>/dev/full``) that does not end a command before its output.

A write to standard error that fails raised out of whatever was saying something there (the
progress bar of ``trace run`` as it closed, a line about how the run ended) and ended the
command before its report, which standard output had room for. ``FailuresKept`` wraps the
stream: a failed write or flush is kept in a list, not raised; the command writes its output,
then raises the first failure kept, which the command line turns into its exit code (2 for a
write there was no room for), as it does for any failed write. Imports nothing of ours.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FailuresKept"]


class FailuresKept:
    """``stream`` whose writes and flushes never raise ``OSError``: each is appended to
    ``failures`` instead (shared, so that the command can raise the first one once its output
    is written). Everything else is the stream's."""

    def __init__(self, stream: Any, failures: list[OSError]) -> None:
        self._stream = stream
        self.failures = failures

    def write(self, text: str) -> int:
        """Write ``text``; a failure is kept, and the text counted as written (it is lost)."""
        try:
            return int(self._stream.write(text))
        except OSError as exc:
            self.failures.append(exc)
            return len(text)

    def flush(self) -> None:
        """Flush the stream; a failure is kept."""
        try:
            self._stream.flush()
        except OSError as exc:
            self.failures.append(exc)

    def __getattr__(self, name: str) -> Any:
        # isatty, fileno, encoding...: the stream's, as a console asks them.
        return getattr(self._stream, name)
