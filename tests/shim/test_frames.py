"""Naming what a suspended coroutine awaits and where: app frames, primitives, tracebacks."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import types
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from tracer.shim.frames import (
    app_location,
    describe,
    mark_wrapper,
    where_in_stack,
    where_raised,
)

HERE = os.path.relpath(__file__)


def line_of(marker: str) -> int:
    """The line number in this file of the line ending with ``# <marker>``."""
    for number, line in enumerate(Path(__file__).read_text().splitlines(), 1):
        if line.rstrip().endswith(f"# {marker}"):
            return number
    raise LookupError(marker)


@types.coroutine
def bare_yield() -> Generator[None, None, None]:
    """Hands None to the loop, as asyncio.sleep(0) does underneath."""
    yield  # BARE


async def inner() -> None:
    await bare_yield()  # INNER


async def outer() -> None:
    await inner()  # OUTER


def test_describe_names_the_innermost_app_frame_and_the_awaited_thing() -> None:
    """A chain outer -> inner -> bare yield: the location is the innermost app await."""
    coro = outer()
    yielded = coro.send(None)
    # bare_yield lives in this (app) file, so it is the innermost app frame, awaiting "yield".
    assert describe(coro, yielded) == ("yield", f"{HERE}:{line_of('BARE')}")
    coro.close()


def test_asyncio_primitives_are_named_and_skipped_for_the_location() -> None:
    """Awaiting asyncio.sleep: awaiting is "asyncio.sleep" and the location the app's line."""

    async def app() -> None:
        await asyncio.sleep(0)  # APP_SLEEP

    coro = app()
    yielded = coro.send(None)
    assert describe(coro, yielded) == ("asyncio.sleep", f"{HERE}:{line_of('APP_SLEEP')}")
    coro.close()


def test_a_marked_wrapper_is_a_leaf_with_its_own_name() -> None:
    """Our wrappers (receive/send) end the walk: the app awaits "receive", whatever is below."""

    async def wrapper() -> None:
        await outer()

    mark_wrapper(wrapper.__code__, "receive")

    async def app() -> None:
        await wrapper()  # CALLS_WRAPPER

    coro = app()
    yielded = coro.send(None)
    assert describe(coro, yielded) == ("receive", f"{HERE}:{line_of('CALLS_WRAPPER')}")
    coro.close()


def test_where_raised_prefers_the_app_line_over_the_library_line() -> None:
    """An exception raised inside the standard library is placed at the app line calling it."""
    try:
        json.loads("{")  # PARSES
    except ValueError as exc:
        assert where_raised(exc.__traceback__) == f"{HERE}:{line_of('PARSES')}"
    else:
        pytest.fail("json.loads accepted a broken document")


def returns_a_number(environ: Any, start_response: Any) -> Any:  # RETURNS
    """A WSGI app returning what is not an iterable."""
    return 42


class CallableApp:
    """An app that is an instance with ``__call__``."""

    def __call__(self, environ: Any, start_response: Any) -> Any:  # CALL
        return 42


def test_where_raised_in_our_own_frames_names_the_app_definition() -> None:
    """An exception whose frames are all gateway-tracer's (the shim handling what the app
    returned) is placed where the app callable is defined; with no app, at the raise."""
    from tracer.recording import loads

    try:
        loads("not a recording")  # raises inside tracer/, in frames of ours only
    except Exception as exc:
        tb = exc.__traceback__
        assert tb is not None
        own = tb.tb_next  # drop this test's frame: what is left is the tracer's
        assert where_raised(own, returns_a_number) == f"{HERE}:{line_of('RETURNS')}"
        assert where_raised(own, CallableApp()) == f"{HERE}:{line_of('CALL')}"
        assert str(where_raised(own)).startswith(os.path.join("tracer", ""))
        assert str(where_raised(tb, returns_a_number)).startswith(f"{HERE}:")  # an app frame wins
    else:
        pytest.fail("loads accepted a document that is not a recording")


def test_app_location_unwraps_partials_methods_and_instances() -> None:
    """The definition line of a function, a partial of it, a callable instance, a bound
    method; None for a builtin."""
    import functools

    expected = f"{HERE}:{line_of('RETURNS')}"
    assert app_location(returns_a_number) == expected
    assert app_location(functools.partial(returns_a_number, {})) == expected
    assert app_location(CallableApp()) == f"{HERE}:{line_of('CALL')}"
    assert app_location(CallableApp().__call__) == f"{HERE}:{line_of('CALL')}"
    assert app_location(len) is None


def test_where_in_stack_only_blames_frames_inside_the_root() -> None:
    """Sampling another thread: its app line inside the root frame, None outside it."""
    ready, release = threading.Event(), threading.Event()
    frames: dict[str, Any] = {}

    def root() -> None:
        frames["root"] = __import__("sys")._getframe()
        ready.set()
        release.wait(10)  # WAITS

    thread = threading.Thread(target=root)
    thread.start()
    ready.wait(10)
    try:
        assert thread.ident is not None
        assert where_in_stack(thread.ident, frames["root"]) == f"{HERE}:{line_of('WAITS')}"
        assert where_in_stack(thread.ident, __import__("sys")._getframe()) is None
    finally:
        release.set()
        thread.join()


def test_paths_are_named_from_site_packages_the_stdlib_or_the_working_directory() -> None:
    """Every kind of file a location can name reads the same on every machine."""
    import contextlib
    import os

    import flask

    from tracer.sourcepath import display_path

    assert display_path(contextlib.__file__) == "contextlib.py"
    assert display_path(flask.__file__) == os.path.join("flask", "__init__.py")
    assert display_path(os.path.abspath("tests/x.py")) == os.path.join("tests", "x.py")
    assert display_path("/elsewhere/app.py") == "/elsewhere/app.py"


def test_reading_other_threads_frames_runs_no_garbage_collection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """gh-106883 (CPython before 3.11.9 / 3.12.3): a collection starting inside
    sys._current_frames() could free a threading.local and deadlock the watchdog holding the
    GIL, freezing the whole run. The collector is off during the call, and left as it was."""
    import gc
    import sys
    import threading

    from tracer.shim import frames

    seen: list[bool] = []

    def current_frames() -> dict[int, Any]:
        seen.append(gc.isenabled())
        return {}

    monkeypatch.setattr(sys, "_current_frames", current_frames)
    was = gc.isenabled()
    try:
        gc.enable()
        assert frames.function_in_stack(threading.get_ident()) is None
        assert seen == [False] and gc.isenabled()
        gc.disable()
        frames.function_in_stack(threading.get_ident())
        assert seen == [False, False] and not gc.isenabled()  # not turned on by us
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()
