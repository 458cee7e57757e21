"""What every bench script's command line shares: counts that must be positive, a usage mistake
told in one line (exit 2, never a traceback or a table of negative µs), and a child process
whose failure is shown with its own stderr rather than as a ``CalledProcessError``.

A helper module of the scripts beside it (each puts this folder first on ``sys.path`` by
being run from it); run as a script, it says so and does nothing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

__all__ = ["Parser", "non_negative_int", "positive_int", "run_child"]


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``PROG: error: MESSAGE (see --help)`` and exit 2."""
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _int(text: str, least: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, not {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be {what}, not {text!r}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1 (a count of requests, repeats, rounds)."""
    return _int(text, 1, "a positive integer")


def non_negative_int(text: str) -> int:
    """An argparse type: an integer of at least 0 (0 where the option says it skips a part)."""
    return _int(text, 0, "an integer of 0 or more")


def run_child(command: Sequence[str], **options: Any) -> subprocess.CompletedProcess[str]:
    """Run ``command`` with its output captured as text; when it fails, end this script with
    exit code 1 and the child's own stderr (what went wrong is there), not a traceback."""
    done = subprocess.run(list(command), capture_output=True, text=True, **options)
    if done.returncode != 0:
        shown = " ".join(command[:4]) + (" ..." if len(command) > 4 else "")
        print(f"{shown} failed (exit {done.returncode}):", file=sys.stderr)
        print(done.stderr.rstrip() or "(nothing on stderr)", file=sys.stderr)
        raise SystemExit(1)
    return done


if __name__ == "__main__":
    print("bench_cli.py is a helper module of the bench scripts beside it", file=sys.stderr)
    raise SystemExit(2)
