"""``--server processes``: what the app read of a request (``read_of``, the ``bytes_in`` of an
end the parent records when its client times out) is never another request's. A child that
finishes a request and takes the next one between the parent's look at the slot's request and
its look at the slot's count would hand the parent the next request's count: the parent reads
the count only while the slot still holds the request, as ``sent_of`` does.

The interleaving is forced, not waited for by chance: a trace hook on ``read_of`` stops it just
before it reads the count, lets the real child finish the first request and read the second's
body, then lets ``read_of`` go on."""

from __future__ import annotations

import asyncio
import linecache
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from model_driver import running

from tracer.servers import Request

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes"),
]

FIRST_BODY = b"0123456789"
NEXT_BODY = b"abc"

_APP = """\
def app(environ, start_response):
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    # Held until the test opens the named pipe in the query string for writing and closes it.
    with open(environ["QUERY_STRING"], "rb") as held:
        held.read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


@pytest.fixture
def held_app(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A WSGI app that reads its whole body, then waits for its request's named pipe; the
    parent's import of it is forgotten afterwards."""
    (tmp_path / "read_race_app.py").write_text(_APP)
    path = list(sys.path)
    try:
        yield str(tmp_path), tmp_path
    finally:
        sys.modules.pop("read_race_app", None)
        sys.path[:] = path


def _release(pipe: Path) -> None:
    """Let the request waiting on ``pipe`` go on (its end of file)."""
    with open(pipe, "wb"):
        pass


def _until(condition: Any, what: str, bound: float = 20.0) -> None:
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw {what}")
        time.sleep(0.005)


def _before_count_read(action: Any) -> Any:
    """A trace function that runs ``action`` once, when ``read_of`` is about to read the
    slot's count (the line that indexes ``body_read``): after it found the request's slot."""
    done = False

    def on_line(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal done
        if event == "line" and not done:
            line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
            if "self.body_read[" in line:
                done = True
                action()
        return on_line

    def on_call(frame: FrameType, event: str, arg: Any) -> Any:
        return on_line if frame.f_code.co_name == "read_of" else None

    return on_call


def test_a_count_read_after_the_child_took_the_next_request_is_not_that_ones(
    held_app: tuple[str, Path],
) -> None:
    folder, pipes = held_app
    first, after = pipes / "first", pipes / "next"
    os.mkfifo(first)
    os.mkfifo(after)
    with running(
        "processes", app_spec="read_race_app:app", app_dir=folder, workers=1, threads=1
    ) as (server, _):
        slots: Any = server
        answers: list[Any] = []

        async def send() -> None:
            answers.extend(
                await asyncio.gather(
                    *(
                        server.target.request(
                            Request(method="POST", path="/", query=str(pipe), body=body),
                            timeout=30.0,
                        )
                        for pipe, body in ((first, FIRST_BODY), (after, NEXT_BODY))
                    )
                )
            )

        load = threading.Thread(target=asyncio.run, args=(send(),))
        load.start()
        try:
            _until(
                lambda: slots.running[0] and slots.body_read[0] == len(FIRST_BODY),
                "the first request's body read",
            )
            first_req = slots.running[0]

            def child_moves_on() -> None:
                _release(first)
                _until(
                    lambda: (
                        slots.running[0] not in (0, first_req)
                        and slots.body_read[0] == len(NEXT_BODY)
                    ),
                    "the next request's body read in the same slot",
                )

            sys.settrace(_before_count_read(child_moves_on))
            try:
                read = slots.read_of(first_req)
            finally:
                sys.settrace(None)
            assert slots.running[0] != first_req  # the interleaving did happen
            assert read != len(NEXT_BODY)
            assert read == 0  # finished: its answer says what it read
            _release(after)
        finally:
            for pipe in (first, after):
                _release_if_waited(pipe)  # an assertion failed above: let its requests end
            load.join(30)
        assert [answer.status for answer in answers] == [200, 200]


def _release_if_waited(pipe: Path) -> None:
    """``_release``, only if a request waits on ``pipe`` now (else nothing: no reader)."""
    try:
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass
