"""``CtrlCDeferred`` (the command line's) handed to ``CtrlCHeld`` (``trace run``'s): a Ctrl-C
is noted by one or the other at every instant, and the handler ``trace`` started with comes
back only when the held one is released."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from tracer.cli.signals import CtrlCDeferred, CtrlCHeld


@pytest.fixture(params=["ignored", "python"])
def inherited(request: pytest.FixtureRequest) -> Iterator[object]:
    """SIGINT's handler as ``trace`` started: ignored (a background job) or Python's own."""
    handler = signal.SIG_IGN if request.param == "ignored" else signal.default_int_handler
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_ctrl_c_before_the_hand_over_is_the_held_ones(inherited: object) -> None:
    """Noted by the command line's handler, it is the run's to answer: ``check`` raises."""
    deferred = CtrlCDeferred().__enter__()
    os.kill(os.getpid(), signal.SIGINT)
    with CtrlCHeld([]) as held:
        assert signal.getsignal(signal.SIGINT) is held
        with pytest.raises(KeyboardInterrupt):
            held.check()
    assert signal.getsignal(signal.SIGINT) is inherited
    deferred.release()  # taken over: nothing left to put back
    assert signal.getsignal(signal.SIGINT) is inherited


def test_without_a_ctrl_c_the_held_one_takes_over_quietly(inherited: object) -> None:
    deferred = CtrlCDeferred().__enter__()
    with CtrlCHeld([]) as held:
        held.check()  # nothing noted
        os.kill(os.getpid(), signal.SIGINT)
        assert held.pressed.is_set()
        assert not deferred.pressed.is_set()
    assert signal.getsignal(signal.SIGINT) is inherited


def test_the_command_lines_handler_not_taken_over_is_put_back(inherited: object) -> None:
    """A command that answers Ctrl-C its own way gets it as ``trace`` started: ``end`` puts
    the handler back, then raises one noted."""
    with CtrlCDeferred() as deferred:
        os.kill(os.getpid(), signal.SIGINT)
        with pytest.raises(KeyboardInterrupt):
            deferred.end()
        assert signal.getsignal(signal.SIGINT) is inherited
    assert signal.getsignal(signal.SIGINT) is inherited
