"""The live dashboard freezes what is alive once its replay is built (``gc.freeze``: a big run's
objects are not walked by every later collection), the app and its widgets included. Closed,
an app not ``held`` gives all of it back to the collector: a process that goes on (a test
suite, a second dashboard) frees the app and its run; a ``held`` one (``run_live``: the process
ends with it) keeps it frozen."""

from __future__ import annotations

import gc
import threading
import weakref
from typing import Any

import anyio
import pytest
from pilot_helpers import until

from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.tui.live import LiveApp
from tracer.tui.screen import ReplayScreen

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def _closed_after_replay(run: Recording, *, held: bool) -> tuple[weakref.ref[Any], ...]:
    """A dashboard whose run ended and became its replay, closed with ``q``; weak references
    to the app and to the replay's model. Run in a task of its own: Textual names the running
    app in a context variable of the task that runs it."""
    refs: list[weakref.ref[Any]] = []
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(_dashboard, run, held, refs)
    return tuple(refs)


async def _dashboard(run: Recording, held: bool, refs: list[weakref.ref[Any]]) -> None:
    recorder = Recorder()
    recorder.header.update(run.header)

    def work(stop: threading.Event) -> None:
        recorder.extend(run.events)
        recorder.close()  # its writer thread would keep the stderr Textual had replaced

    app = LiveApp(recorder, work, title="freeze", held=held)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    refs += [weakref.ref(app), weakref.ref(app.replay_model)]


def _frozen_before() -> int:
    """What the permanent generation holds before a dashboard: none on 3.11 and 3.13; on 3.12
    a collection moves the immortal objects it meets there (a few hundred), and they stay."""
    gc.collect()
    return gc.get_freeze_count()


async def test_a_closed_dashboard_and_its_run_can_be_collected(sim_threads: Recording) -> None:
    """Twice in one process: each time, the app and its replay's model are freed by the next
    collection, and nothing stays frozen."""
    before = _frozen_before()
    for _ in range(2):
        app, model = await _closed_after_replay(sim_threads, held=False)
        gc.collect()
        assert app() is None and model() is None
        assert gc.get_freeze_count() == before


async def test_a_held_dashboard_keeps_what_it_froze(sim_threads: Recording) -> None:
    """``held`` (as ``run_live`` makes it): the replay's objects stay frozen, so the collection
    before the process ends does not walk them; the app is not collected."""
    before = _frozen_before()
    try:
        app, model = await _closed_after_replay(sim_threads, held=True)
        gc.collect()
        assert gc.get_freeze_count() > before
        assert app() is not None and model() is not None
    finally:
        gc.unfreeze()  # the rest of the suite's objects back to the collector
