"""Test-suite set-up shared by every folder.

Tests run in pytest's importlib mode (so files in different folders may share a name); the
folders' own helper modules (``real_helpers``, ``conformance_cases``, ...) are made importable
by putting each test folder on ``sys.path``.

A suite started in the background of a non-interactive shell (``… &``) inherits SIGINT
ignored, and Python then installs no handler for it: the tests of Ctrl-C would see nothing.
Ctrl-C is given its usual meaning here, and the ``trace`` processes the tests start inherit it.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

_TESTS = Path(__file__).resolve().parent
for _folder in sorted({p.parent for p in _TESTS.rglob("*.py")} - {_TESTS}):
    if "__snapshots__" not in _folder.parts and str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))
