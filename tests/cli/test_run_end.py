"""What ``trace run`` says about how its run ended (tracer.cli.run_end)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tracer.cli.run_end import say_how_it_ended, who_exited


class _Server:
    """What ``say_how_it_ended`` reads of a server that exited by itself."""

    exit_code = 3
    exit_subject = "a worker process of --server processes"
    exit_effect = "requests after that failed"
    notices = ("the lifespan shutdown did not finish in 5 s: cancelled",)

    def output(self) -> str:
        return "INFO: booting\nRuntimeError: boom\nINFO: shutting down\n"

    def describe(self) -> dict[str, Any]:
        return {"model": "processes"}


def test_how_the_run_ended_is_said_line_by_line(capsys: pytest.CaptureFixture[str]) -> None:
    """Who exited with its code and last words, the server's notices, then an open loop that
    fell short: one line each on stderr, in that order, nothing on stdout."""
    config = SimpleNamespace(rate=1000.0, duration=10.0)
    say_how_it_ended(_Server(), config, 5000, stopped=False)
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "trace: a worker process of --server processes exited by itself during the run "
        "(exit code 3); requests after that failed. Its last words: RuntimeError: boom",
        "trace: the lifespan shutdown did not finish in 5 s: cancelled",
        "trace: the load generator sent 5000 requests, 50% of the 10000 that --rate 1000 for "
        "10 s asks for: it could not keep up on this machine, and the report is of the load "
        "it did send.",
    ]


def test_a_run_that_ended_as_asked_says_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    """No exit code, no notices, a closed loop: not a word, and nobody exited."""
    server = SimpleNamespace(describe=lambda: {"model": "threads"})
    say_how_it_ended(server, SimpleNamespace(rate=None, duration=None), 10, stopped=False)
    assert capsys.readouterr() == ("", "")
    assert who_exited(server) is None
    assert who_exited(SimpleNamespace(exit_code=9, describe=lambda: {"model": "uvicorn"})) == (
        "uvicorn",
        9,
    )


def test_a_server_that_knows_how_it_ended_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    """A real server killed by a signal gives its own words (``exit_words``), not "exited by
    itself (exit code -9)"."""

    class Killed(_Server):
        exit_code = -9
        exit_words = "uvicorn was killed by signal 9 (SIGKILL) during the run"
        notices = ()

    say_how_it_ended(Killed(), SimpleNamespace(rate=None, duration=None), 5, stopped=False)
    assert capsys.readouterr().err.splitlines() == [
        "trace: uvicorn was killed by signal 9 (SIGKILL) during the run; requests after that "
        "failed. Its last words: RuntimeError: boom"
    ]
