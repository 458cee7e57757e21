"""The step proxy: it drives a coroutine exactly as ``await`` would and records each step."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from shim_asgi_apps import cancellable_sleep

from tracer import events as K
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.shim.steps import Stepper

pytestmark = pytest.mark.timeout(60)

HERE = Path(__file__).name


def line_of(marker: str) -> int:
    """The line number in this file of the line ending with ``# <marker>``."""
    for number, line in enumerate(Path(__file__).read_text().splitlines(), 1):
        if line.rstrip().endswith(f"# {marker}"):
            return number
    raise LookupError(marker)


def stepper(coro: Any, rec: Recorder, block_ms: float = 1000.0, **kwargs: Any) -> Stepper:
    """A Stepper for request 1 on the calling thread."""
    return Stepper(coro, 1, rec, int(block_ms * 1e6), "t", threading.get_ident(), "main", **kwargs)


def steps(rec: Recorder) -> list[Event]:
    """The sched.step events, in recording-time order."""
    return [e for e in rec.recording().events if e.kind == K.SCHED_STEP]


class Ask:
    """A bare awaitable: yields a question to whoever drives it, returns the answer sent."""

    def __await__(self) -> Generator[str, Any, Any]:
        answer = yield "question"  # ASKS
        return answer


def drive(awaitable: Any, *actions: tuple[str, Any]) -> list[Any]:
    """Drive an awaitable by hand (as an event loop would) and log what comes out of it."""
    gen = awaitable.__await__()
    log: list[Any] = [("yielded", next(gen))]
    for action, value in actions:
        try:
            if action == "send":
                log.append(("yielded", gen.send(value)))
            elif action == "throw":
                log.append(("yielded", gen.throw(value)))
            else:
                gen.close()
                log.append(("closed", None))
        except StopIteration as stop:
            log.append(("returned", stop.value))
        except BaseException as exc:  # the log compares exception objects by identity
            log.append(("raised", exc))
    return log


async def adder() -> int:
    """Asks twice and returns the sum of the answers."""
    return await Ask() + await Ask()


def test_values_go_in_and_the_result_comes_out_unchanged() -> None:
    """send() values reach the coroutine and its return value comes back, as with a plain await."""
    rec = Recorder()
    actions = (("send", 2), ("send", 3))
    assert (
        drive(stepper(adder(), rec), *actions)
        == drive(adder(), *actions)
        == [
            ("yielded", "question"),
            ("yielded", "question"),
            ("returned", 5),
        ]
    )
    recorded = steps(rec)
    assert [s.data["awaiting"] for s in recorded] == ["str", "str", None]
    assert recorded[0].data["location"].endswith(f"{HERE}:{line_of('ASKS')}")
    assert all(s.req == 1 and 0 <= s.data["cpu_ns"] <= s.dur for s in recorded)


def test_thrown_exceptions_reach_the_coroutine_as_the_same_object() -> None:
    """throw() delivers the very exception object; one the coroutine lets go comes back out."""
    caught: list[BaseException] = []

    async def catcher() -> str:
        try:
            await Ask()
        except KeyError as exc:
            caught.append(exc)
        await Ask()
        return "done"

    first, second = KeyError("k"), ValueError("v")
    plain = drive(catcher(), ("throw", first), ("throw", second))
    wrapped = drive(stepper(catcher(), Recorder()), ("throw", first), ("throw", second))
    assert plain == wrapped
    assert wrapped[-1][1] is second and caught == [first, first]


def test_close_runs_the_coroutines_cleanup() -> None:
    """close() (GeneratorExit) goes into the coroutine; its finally runs, as with await."""
    cleaned: list[str] = []

    async def holder() -> None:
        try:
            await Ask()
        finally:
            cleaned.append("finally")

    assert drive(holder(), ("close", None)) == drive(stepper(holder(), Recorder()), ("close", None))
    assert cleaned == ["finally", "finally"]


def test_cancellation_goes_in_and_comes_back_out() -> None:
    """A cancelled task cancels the driven coroutine, which sees CancelledError."""
    seen: list[str] = []

    rec = Recorder()

    async def run() -> None:
        task = asyncio.ensure_future(_await(stepper(cancellable_sleep(seen), rec)))
        while not steps(rec):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())
    assert seen == ["cancelled"]
    assert [s.data["awaiting"] for s in steps(rec)] == ["asyncio.sleep", None]


async def _await(awaitable: Any) -> Any:
    return await awaitable


def test_each_step_names_what_it_awaits_and_where() -> None:
    """Steps name a bare yield, a Future, a Task, asyncio.sleep, asyncio.to_thread, and the line."""
    rec = Recorder()

    async def app() -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(0)  # YIELDS
        future = loop.create_future()
        loop.call_soon(future.set_result, None)
        await future  # FUTURE
        await asyncio.create_task(asyncio.sleep(0), name="helper")  # TASK
        await asyncio.sleep(0.001)  # SLEEP
        await asyncio.to_thread(sum, [1, 2])  # THREAD

    asyncio.run(_await(stepper(app(), rec)))
    recorded = steps(rec)
    assert [(s.data["awaiting"], s.data["location"]) for s in recorded] == [
        ("asyncio.sleep", f"{_display()}:{line_of('YIELDS')}"),
        ("Future (loop.create_future)", f"{_display()}:{line_of('FUTURE')}"),
        ("Task helper", f"{_display()}:{line_of('TASK')}"),
        ("asyncio.sleep", f"{_display()}:{line_of('SLEEP')}"),
        ("asyncio.to_thread", f"{_display()}:{line_of('THREAD')}"),
        (None, None),
    ]
    # Steps of one request never overlap: each resumes after the previous suspended.
    assert all(a.end <= b.t for a, b in zip(recorded, recorded[1:], strict=False))


def _display() -> str:
    import os

    return os.path.relpath(__file__)


def test_a_step_past_the_threshold_is_loop_blocked_at_the_blocking_line() -> None:
    """A 50 ms time.sleep in a step (threshold 20 ms): loop.blocked of that step, at that line."""
    rec = Recorder()

    async def app() -> None:
        time.sleep(0.05)  # HOLDS
        await asyncio.sleep(0)

    asyncio.run(_await(stepper(app(), rec, block_ms=20)))
    first = steps(rec)[0]
    blocked = [e for e in rec.events if e.kind == K.LOOP_BLOCKED and e.req is not None]
    assert [(b.req, b.t, b.dur) for b in blocked][:1] == [(1, first.t, first.dur)]
    assert blocked[0].data["location"].endswith(f"{HERE}:{line_of('HOLDS')}")
    assert blocked[0].data["delayed"] == []


class _Broken(Recorder):
    def emit(self, kind: str, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("broken recorder")


def test_a_recording_failure_is_reported_once_and_the_coroutine_runs_on() -> None:
    """When recording raises, on_failure hears of it once; the result is untouched."""
    failures: list[BaseException] = []
    result = asyncio.run(_await(stepper(_three_steps(), _Broken(), on_failure=failures.append)))
    assert result == "three"
    assert [type(f) for f in failures] == [RuntimeError]


async def _three_steps() -> str:
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    return "three"


def test_a_non_awaitable_fails_as_await_itself_would() -> None:
    """Driving something that is not awaitable raises the TypeError a plain await raises."""

    async def plain() -> None:
        await 42  # type: ignore[misc]

    async def wrapped() -> None:
        await stepper(42, Recorder())

    messages = []
    for main in (plain, wrapped):
        with pytest.raises(TypeError) as info:
            asyncio.run(main())
        messages.append(str(info.value))
    assert messages[0] == messages[1]
