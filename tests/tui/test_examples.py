"""The hand-built example recordings are deterministic and have the shapes they promise."""

from __future__ import annotations

from tracer import events as K
from tracer.summary import summarize
from tracer.tui.examples import loop_example, threads_example


def test_same_arguments_same_events() -> None:
    """No clock and a seeded generator: two builds are identical."""
    assert threads_example(20).events == threads_example(20).events
    assert loop_example(20).events == loop_example(20).events


def test_threads_example_queues_for_workers() -> None:
    """Never more requests running than threads; some wait in the queue."""
    summary = summarize(threads_example(30, 4))
    assert summary["max_in_flight"] == 4 and summary["queue_ms"]["max"] > 0
    assert summary["errors"] == 1 and summary["violations"] == 1


def test_loop_example_blocks_once_and_steps_never_overlap() -> None:
    """One loop.blocked by the blocking request; the loop runs one step at a time."""
    recording = loop_example(10)
    blocks = [e for e in recording.events if e.kind == K.LOOP_BLOCKED]
    assert [e.req for e in blocks] == [3]
    steps = sorted((e.t, e.end) for e in recording.events if e.kind == K.SCHED_STEP)
    assert all(a[1] <= b[0] for a, b in zip(steps, steps[1:], strict=False))
    assert not [e for e in loop_example(10, blocking=None).events if e.kind == K.LOOP_BLOCKED]
