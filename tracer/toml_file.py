"""Reading a hand-written TOML file (a workload, a scenario) with one clear line for each way
it can fail.

``read_toml(path, noun=..., give=...)`` gives the parsed tables, or a ``UsageError`` of one line
naming the file: missing, a folder, not a regular file (a pipe would wait for a writer, a device
like /dev/zero never end), past ``MAX_FILE_BYTES``, UTF-16 or UTF-32 (an editor's "Unicode"),
not UTF-8 (the byte, its line and column), or not valid TOML (tomllib's line and column). A
UTF-8 byte order mark is skipped, as Windows Notepad writes one. ``trace sim --workload`` and
``trace demo --scenario`` read their files through it, so both say the same things.
Imports only ``tracer.errors``.
"""

from __future__ import annotations

import os
import stat
import tomllib
from typing import Any

from tracer.errors import UsageError

__all__ = ["read_toml", "MAX_FILE_BYTES"]

MAX_FILE_BYTES = 1 << 20
"""The largest file read (1 MiB): workloads and scenarios are a few KB. Past it, the file given
is something else (a recording, a log), and tomllib would read all of it."""

_UTF8_BOM = b"\xef\xbb\xbf"
_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)
"""Byte order marks of the encodings editors offer as "Unicode" (longest first: UTF-32 LE's
begins with UTF-16 LE's)."""


def read_toml(path: str, *, noun: str, give: str, shown: str | None = None) -> dict[str, Any]:
    """The tables of the TOML file ``path``, or a ``UsageError`` of one line.

    ``noun`` names what the file is (``"Workload"``, ``"Scenario"``), ``give`` says what to give
    instead (``"give a TOML file"``), ``shown`` is the name messages use (``path`` by default:
    a bundled file is read from the package but named as the user named it)."""
    shown = path if shown is None else shown
    what = noun.lower()
    try:
        # Looked at before it is opened: opening a pipe waits for a writer.
        status = os.stat(path)
        if stat.S_ISDIR(status.st_mode):
            raise UsageError(f'{noun} "{shown}" is a folder, not a TOML file; {give}.')
        if not stat.S_ISREG(status.st_mode):
            raise UsageError(f'{noun} "{shown}" is not a regular file; {give}.')
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)  # bounded: the file may grow after the stat
    except FileNotFoundError:
        raise UsageError(f'{noun} file "{shown}" does not exist; {give}.') from None
    except OSError as exc:
        raise UsageError(
            f'{noun} file "{shown}" cannot be read ({exc.strerror or type(exc).__name__}).'
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        size = max(status.st_size, len(raw))
        raise UsageError(
            f'{noun} file "{shown}" is {size:,} bytes, more than a {what} takes (at most '
            f"1 MiB); {give}."
        )
    try:
        return tomllib.loads(_utf8_text(raw, f'{noun} file "{shown}"'))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f'{noun} file "{shown}" is not valid TOML: {exc}.') from None


def _utf8_text(raw: bytes, named: str) -> str:
    """The file's text: UTF-8 as TOML is, after a UTF-8 byte order mark if there is one; another
    encoding is one line naming it, or the first byte UTF-8 cannot read, and the fix."""
    for mark, encoding in _WIDE_BOMS:
        if raw.startswith(mark):
            raise UsageError(f"{named} is {encoding} text; save it as UTF-8.")
    raw = raw.removeprefix(_UTF8_BOM)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        # What comes before the bad byte on its line decoded: its column counts characters.
        column = len(raw[line_start : exc.start].decode("utf-8")) + 1
        line = raw.count(b"\n", 0, exc.start) + 1
        raise UsageError(
            f"{named} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at line {line}, column "
            f"{column}); save it as UTF-8."
        ) from None
