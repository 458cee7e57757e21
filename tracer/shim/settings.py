"""Checks of the shims' settings shared by ``tracer.instrument`` and the shim classes.

Imports only ``tracer.errors``.
"""

from __future__ import annotations

import math
from typing import Any

from tracer.errors import UsageError

__all__ = ["block_threshold_ns"]


def block_threshold_ns(block_threshold_ms: Any) -> int:
    """``block_threshold_ms`` in ns, or ``UsageError`` unless it is a finite number above 0
    (a NaN would fail deep inside with a bare ValueError, a string with a TypeError)."""
    value = block_threshold_ms
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise UsageError(
            f"block_threshold_ms must be a number of milliseconds above 0, not {value!r}; try 10."
        )
    return int(value * 1_000_000)
