"""``paused_gc``: the cyclic garbage collector paused for a block that makes millions of objects
that all live on, or die by reference counting alone (reading a recording, a simulation).

Each full collection walks every object still alive: with millions of events kept, the
collections their allocations set off free nothing and took half the time of a load, and made a
recorded simulation of 100,000 requests 3x slower (bench/load_speed.py, bench/sim_speed.py).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["paused_gc"]


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for a block, and restore it as it was (a caller's
    own ``gc.disable()`` stays), even when the block raises."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
