"""``LiveApp.hold_until_exit``: the replay ``trace run``'s live dashboard becomes keeps its model
for the rest of the process, as ``trace replay`` keeps its own, so that ``q`` does not wait for
a big run's objects to be freed one by one (it was freed by the first collection after the
app closed)."""

from __future__ import annotations

import gc
import threading
import weakref
from pathlib import Path
from typing import Any

import pytest
from pilot_helpers import until

from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.tui.live import LiveApp
from tracer.tui.screen import ReplayScreen

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def _replayed(run: Recording, tmp_path: Path) -> tuple[LiveApp, weakref.ref[Any]]:
    """A dashboard whose run ended and became its replay, closed with ``q``; a weak reference
    to the replay's model."""
    recorder = Recorder(tmp_path / "run.jsonl", flush_interval=0.02)
    recorder.header.update(run.header)

    def work(stop: threading.Event) -> None:
        recorder.extend(run.events)
        recorder.close()

    app = LiveApp(recorder, work, title="held")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        (model,) = app.screen.models
        assert app.replay_model is model
        ref = weakref.ref(model)
        del model
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    return app, ref


async def test_the_replays_model_outlives_a_held_dashboard(
    sim_threads: Recording, tmp_path: Path
) -> None:
    app, model = await _replayed(sim_threads, tmp_path)
    app.hold_until_exit()
    del app
    gc.collect()
    assert model() is not None  # and the recording it holds
    assert gc.isenabled()
