"""hypercorn serving an app in a thread of the test process, on trio or on asyncio, on 127.0.0.1.

``serving(app, "trio")`` runs ``hypercorn.trio.serve`` (what ``hypercorn --worker-class trio``
runs in each worker) in a thread of its own, with its own ``trio.run``; ``"asyncio"`` runs
``hypercorn.asyncio.serve`` on a fresh asyncio loop the same way, to compare with. The server
stops when the block ends (its shutdown trigger), and the thread is joined.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypercorn.config import Config

__all__ = ["serving"]


@contextmanager
def serving(app: Any, backend: str, *, graceful_s: float = 1.0) -> Iterator[str]:
    """Serve ``app`` on ``backend`` ("trio" or "asyncio") at a free port; yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.graceful_timeout = graceful_s
    config.accesslog = config.errorlog = None
    stop = threading.Event()
    failed: list[BaseException] = []
    thread = threading.Thread(
        target=_serve, args=(app, config, backend, stop, failed), name=f"hypercorn-{backend}"
    )
    thread.start()
    try:
        _wait_listening(port, thread)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        thread.join(15)
    assert not thread.is_alive(), "hypercorn did not stop"
    assert not failed, failed


def _serve(
    app: Any, config: Config, backend: str, stop: threading.Event, failed: list[BaseException]
) -> None:
    try:
        if backend == "trio":
            import trio
            from hypercorn.trio import serve as trio_serve

            async def trio_stopped() -> None:
                while not stop.is_set():
                    await trio.sleep(0.01)

            trio.run(lambda: trio_serve(app, config, shutdown_trigger=trio_stopped))
        else:
            from hypercorn.asyncio import serve as asyncio_serve

            async def asyncio_stopped() -> None:
                while not stop.is_set():
                    await asyncio.sleep(0.01)

            asyncio.run(asyncio_serve(app, config, shutdown_trigger=asyncio_stopped))
    except BaseException as exc:
        failed.append(exc)


def _wait_listening(port: int, thread: threading.Thread) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and thread.is_alive():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.01)
    raise AssertionError("hypercorn did not start listening")
