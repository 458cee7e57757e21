"""How a source file is named in recordings, and whose code it is.

``display_path`` names it relative to the working directory or to site-packages, so
``location`` fields read the same on every machine and in every event kind (``sched.step``,
``loop.blocked``, ``error``, ``violation``). ``source_kind`` says whether it is the app's own
code, a library's, the standard library's or gateway-tracer's: a location names the app's
line when one is on the stack. Imports nothing of ours.
"""

from __future__ import annotations

import os
import sysconfig

__all__ = [
    "display_path",
    "source_kind",
    "SITE_DIRS",
    "STDLIB_DIRS",
    "OWN_DIR",
    "USER",
    "LIBRARY",
    "STDLIB",
    "OURS",
]

SITE_DIRS: tuple[str, ...] = tuple(
    {
        os.path.abspath(p) + os.sep
        for p in (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"])
    }
)
"""Where installed packages live (``site-packages``), each ending with a separator."""

STDLIB_DIRS: tuple[str, ...] = tuple(
    {
        os.path.abspath(p) + os.sep
        for p in (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
    }
)
"""Where the standard library lives (site-packages may lie inside it: it is tried first)."""

OWN_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
"""The tracer package's directory (shims, checkers, drivers), ending with a separator."""

USER = 0
"""``source_kind``: the app's own code (anything outside the three places below)."""
LIBRARY = 1
"""``source_kind``: an installed package (site-packages): a framework, a server."""
STDLIB = 2
"""``source_kind``: the standard library, or code with no file (``<frozen ...>``)."""
OURS = 3
"""``source_kind``: gateway-tracer itself."""


def source_kind(filename: str) -> int:
    """Whose code ``filename`` (a ``co_filename``) is: ``USER``, ``LIBRARY``, ``STDLIB`` or
    ``OURS``. The rule every location follows: the app's own line first, a library's when no
    app frame is there, never ours."""
    if filename.startswith("<"):
        return STDLIB
    filename = os.path.abspath(filename)
    if filename.startswith(OWN_DIR):
        return OURS
    if any(filename.startswith(site) for site in SITE_DIRS):
        return LIBRARY
    if any(filename.startswith(stdlib) for stdlib in STDLIB_DIRS):
        return STDLIB
    return USER


def display_path(filename: str) -> str:
    """``filename`` (absolute) as recordings name it: inside site-packages or the standard
    library, from there on (``contextlib.py``); under the working directory, relative to it;
    elsewhere, as it is."""
    for site in SITE_DIRS:
        if filename.startswith(site):
            return filename[len(site) :]
    for stdlib in STDLIB_DIRS:
        if filename.startswith(stdlib):
            return filename[len(stdlib) :]
    try:
        relative = os.path.relpath(filename)
    except ValueError:  # another drive on Windows
        return filename
    return filename if relative.startswith("..") else relative
