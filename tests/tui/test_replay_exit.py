"""``ReplayApp.hold_until_exit``: a process that ends with the replay does not free a big
recording's objects one by one after ``q`` (seconds of it); they stay until the process ends."""

from __future__ import annotations

import gc
import weakref

from tracer.recording import Recording
from tracer.tui.app import ReplayApp


def test_held_recordings_and_models_outlive_the_app(threads_rec: Recording) -> None:
    """Held, the models (and the recordings they hold) stay once nothing names them, collections or not."""
    app = ReplayApp([threads_rec])
    model = weakref.ref(app.models[0])
    app.hold_until_exit()
    del app
    gc.collect()
    assert model() is not None  # and the recording it holds
    assert gc.isenabled()


def test_an_app_not_held_leaves_its_models_to_be_freed(threads_rec: Recording) -> None:
    """Not held (a replay in a process that goes on), they are freed with the app."""
    app = ReplayApp([threads_rec])
    model = weakref.ref(app.models[0])
    del app
    gc.collect()
    assert model() is None
