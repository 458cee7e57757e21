"""``tracer.shim.running``: a loop's running task, known without ``asyncio.current_task()``."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from tracer.shim.running import UNKNOWN, fast_loop, task_on

pytestmark = pytest.mark.timeout(60)


def test_task_on_answers_only_for_the_calling_threads_loop() -> None:
    """``task_on``: the running task of a loop running on this thread; None from one of its
    callbacks; ``UNKNOWN`` for no loop, a loop on another thread, and while another loop has
    a running task too (it could be one nested in this one)."""
    assert task_on(None) is UNKNOWN
    other_running = threading.Event()
    release = threading.Event()
    seen: dict[str, Any] = {}

    def other_thread() -> None:
        async def holds_its_task() -> None:
            other_running.set()
            release.wait(10)  # a step that stays on: this loop has a running task meanwhile

        asyncio.run(holds_its_task())

    async def main() -> None:
        loop = asyncio.get_running_loop()
        fast = fast_loop(loop)
        if fast is None:  # Python 3.12+: asyncio.current_task() is asked instead
            assert task_on(fast) is UNKNOWN
            return
        seen["own"] = task_on(fast) is asyncio.current_task()
        done = loop.create_future()
        loop.call_soon(lambda: done.set_result(task_on(fast)))
        seen["callback"] = await done
        thread = threading.Thread(target=other_thread)
        thread.start()
        try:
            assert other_running.wait(10)
            seen["both"] = task_on(fast)
        finally:
            release.set()
            thread.join(10)
        seen["elsewhere"] = await asyncio.to_thread(task_on, fast)

    asyncio.run(main())
    if seen:
        assert seen == {"own": True, "callback": None, "both": UNKNOWN, "elsewhere": UNKNOWN}
