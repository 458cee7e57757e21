"""The watchdog's wake-up flag behaves as ``threading.Event`` for its one waiter: raised, a
wait returns at once and the flag stays up until cleared; lowered, a wait lasts its timeout
unless another thread raises it meanwhile; raising it twice is raising it."""

from __future__ import annotations

import threading

import pytest

from tracer.shim.blocking import _Wake

pytestmark = pytest.mark.timeout(10)


def test_a_raised_flag_stays_up_until_cleared() -> None:
    wake = _Wake()
    assert wake.wait(0) is False
    wake.set()
    wake.set()  # raising it again is no error
    assert wake.wait(0) is True
    assert wake.wait(0) is True  # a wait does not lower it
    wake.clear()
    assert wake.wait(0.01) is False
    wake.clear()  # lowering it again neither
    assert wake.wait(0) is False


def test_another_thread_raising_it_ends_a_wait() -> None:
    wake = _Wake()
    started = threading.Event()

    def raise_it() -> None:
        started.wait(5)
        wake.set()

    thread = threading.Thread(target=raise_it)
    thread.start()
    started.set()
    assert wake.wait(5) is True
    thread.join(5)
    wake.clear()
    assert wake.wait(0) is False
