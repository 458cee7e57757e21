"""A key typed as the dashboard closes (a second ``q``) is dropped, not echoed before the
report: ``run_live`` discards the terminal's unread input once the dashboard is gone."""

from __future__ import annotations

import os
import pty
import select
import tty

from tracer.tui.live import drop_typed_ahead


def test_unread_keys_are_dropped() -> None:
    """On a pseudo-terminal: ``q`` typed and not read is gone after ``drop_typed_ahead``; a
    stream that is no terminal (a pipe) is left alone."""
    master, slave = pty.openpty()
    try:
        tty.setraw(slave)  # as the dashboard leaves it: a key is input without a newline
        os.write(master, b"q")
        assert select.select([slave], [], [], 5)[0]  # the key is there to be read
        with os.fdopen(os.dup(slave), "r") as stream:
            drop_typed_ahead(stream)  # type: ignore[arg-type]
        assert not select.select([slave], [], [], 0.1)[0]
    finally:
        os.close(master)
        os.close(slave)
    read, write = os.pipe()
    try:
        os.write(write, b"q")
        with os.fdopen(os.dup(read), "r") as stream:
            drop_typed_ahead(stream)  # type: ignore[arg-type]
        assert os.read(read, 1) == b"q"
    finally:
        os.close(read)
        os.close(write)
