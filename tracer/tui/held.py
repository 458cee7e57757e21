"""``hold_until_exit``: keep a replay's data for the rest of the process, never freed.

Freeing a big recording's millions of objects one by one takes seconds (about as long per
request as reading it), spent after ``q`` for memory the process gives back as it ends anyway:
``trace replay``, ``sim``, ``demo`` and the replay ``trace run``'s live dashboard becomes all
end with the replay.
"""

from __future__ import annotations

import gc
from typing import Any

__all__ = ["hold_until_exit"]


def hold_until_exit(*objects: Any) -> None:
    """Keep ``objects`` for the rest of the process, never freed: to be called once the replay
    holding them is closed and the process is about to end.

    Pass data only (events, lanes, figures): no file, socket or thread, nothing that must be
    flushed or closed. They are held by a cycle of their own, frozen out of the collector, so
    that neither the names going out of scope nor the interpreter clearing its modules at exit
    frees them; garbage already made is collected first, so that nothing waiting to be
    finalized (a file to close) is frozen with them.
    """
    held: list[Any] = list(objects)
    held.append(held)
    gc.collect()
    gc.freeze()
