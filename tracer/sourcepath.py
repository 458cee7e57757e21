"""How a source file is named in recordings: relative to the working directory or to
site-packages, so ``location`` fields read the same on every machine and in every event kind
(``sched.step``, ``loop.blocked``, ``error``, ``violation``). Imports nothing of ours.
"""

from __future__ import annotations

import os
import sysconfig

__all__ = ["display_path", "SITE_DIRS", "STDLIB_DIRS"]

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
