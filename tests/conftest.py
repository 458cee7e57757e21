"""Test-suite set-up shared by every folder.

Tests run in pytest's importlib mode (so files in different folders may share a name); the
folders' own helper modules (``real_helpers``, ``conformance_cases``, ...) are made importable
by putting each test folder on ``sys.path``.
"""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parent
for _folder in sorted({p.parent for p in _TESTS.rglob("*.py")} - {_TESTS}):
    if "__snapshots__" not in _folder.parts and str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))
