"""The detail pane of a request a callback held up: a ``loop.blocked`` outside any step
(``outside_step: true``, ``req`` null) names no request, so the pane says a callback held the
loop, never "#None"."""

from __future__ import annotations

import pytest

from tracer import events as K
from tracer.events import Event
from tracer.recording import Recording, make_header
from tracer.tui.detail import detail_text
from tracer.tui.labels import labels
from tracer.tui.model import build_model

_LOOP = {"tid": 7, "thread": "loop", "pid": 1}
_START = {"method": "GET", "path": "/x", "interface": "asgi", "scope_type": "http"}


def _held_by_a_callback() -> Recording:
    """Request 2 sleeps while a callback no request ran holds the loop 50 ms, then request 1
    blocks it 30 ms: both blocks list request 2 as delayed."""
    sleep = {"cpu_ns": 1_000, "awaiting": "asyncio.sleep", "location": "app.py:3"}
    callback = {"location": "app.py:9", "delayed": [2], "outside_step": True}
    step = {"location": "app.py:12", "delayed": [2]}
    events = [
        Event(0, 0, K.REQUEST_START, 2, **_LOOP, data=_START),
        Event(1, 0, K.SCHED_STEP, 2, **_LOOP, dur=1_000, data=sleep),
        Event(2, 10_000, K.LOOP_BLOCKED, None, **_LOOP, dur=50_000_000, data=callback),
        Event(3, 50_010_000, K.REQUEST_START, 1, **_LOOP, data=_START),
        Event(4, 50_010_000, K.SCHED_STEP, 1, **_LOOP, dur=30_000_000, data={"cpu_ns": 1_000}),
        Event(5, 50_010_000, K.LOOP_BLOCKED, 1, **_LOOP, dur=30_000_000, data=step),
        Event(6, 80_010_000, K.REQUEST_END, 1, **_LOOP, data={"status": 200}),
        Event(7, 80_020_000, K.SCHED_STEP, 2, **_LOOP, dur=1_000, data={"cpu_ns": 1_000}),
        Event(8, 80_030_000, K.REQUEST_END, 2, **_LOOP, data={"status": 200}),
    ]
    return Recording(make_header(interface="asgi", server={"model": "loop"}), events)


@pytest.mark.parametrize(
    ("lang", "callback", "step"),
    [
        ("en", "loop held by a callback 50.0 ms @ app.py:9", "loop held by #1 30.0 ms @ app.py:12"),
        ("zh", "事件循环被回调占用 50.0 ms @ app.py:9", "事件循环被 #1 占用 30.0 ms @ app.py:12"),
    ],
    ids=["en", "zh"],
)
def test_a_block_outside_any_step_reads_as_a_callbacks(lang: str, callback: str, step: str) -> None:
    """The callback's block is said as a callback's, the request's as that request's, in
    order, in the UI's language."""
    model = build_model(_held_by_a_callback())
    lane = model.by_request[model.by_request.index_of(2)]
    words = labels(lang)
    said = detail_text(model, lane, words).plain
    reasons = said.split(words["delayed_by"], 1)[1].splitlines()[0]
    assert "None" not in said
    assert reasons.endswith(callback + words["semicolon"] + step), reasons
