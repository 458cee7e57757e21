"""Neighbouring requests on a worker lane wear different shades.

The shade was the request id's parity: with an even number of threads each thread got all odd
or all even ids (``trace sim --model threads -c 8``: ``waitress-0`` served 1, 5, 9, … and was
one unbroken bar). It now alternates by the request's turn on its lane.
"""

from __future__ import annotations

from rich.segment import Segment

from tracer.recorder import Recorder
from tracer.tui.lane import RUNNING, WAITING, Lane, Span
from tracer.tui.lane_strip import lane_segments
from tracer.tui.model import build_model
from tracer.tui.palette import WORKER_STYLES


def _blocks(segments: list[Segment]) -> list[tuple[str, str | None]]:
    """Each block a worker lane shows: its text and its shade (background colour)."""
    return [
        (segment.text, segment.style.bgcolor.name if segment.style.bgcolor else None)
        for segment in segments
        if segment.style is not None and segment.text.strip()
    ]


def test_a_threads_requests_take_turns_at_the_shades() -> None:
    """Requests 1, 5 and 9 back to back on one thread: three blocks, shades alternating."""
    lane = Lane(
        "thread:1",
        "w-0",
        "thread",
        [Span(0, 100, RUNNING, 1), Span(100, 200, RUNNING, 5), Span(200, 300, RUNNING, 9)],
    )
    blocks = _blocks(lane_segments(lane, 0, 10, 30, worker=True))
    assert [text.split()[0] for text, _ in blocks] == ["1", "5", "9"]
    shades = [shade for _, shade in blocks]
    assert shades[0] != shades[1] and shades[1] != shades[2] and shades[0] == shades[2]


def test_a_request_keeps_its_shade_through_its_phases() -> None:
    """One request running, waiting, running: its phases change, its shade does not (the next
    request's does)."""
    lane = Lane(
        "thread:1",
        "w-0",
        "thread",
        [
            Span(0, 100, RUNNING, 2),
            Span(100, 200, WAITING, 2),
            Span(200, 300, RUNNING, 2),
            Span(300, 400, RUNNING, 4),
        ],
    )
    segments = lane_segments(lane, 0, 10, 40, worker=True)
    styles = [segment.style for segment in segments]
    assert [segment.text for segment in segments] == [
        " 2 " + " " * 7,
        " 2 " + "─" * 7,
        " 2 " + " " * 7,
        " 4 " + " " * 7,
    ]
    assert styles[0] == styles[2] == WORKER_STYLES[(RUNNING, 0)]
    assert styles[1] == WORKER_STYLES[(WAITING, 0)]
    assert styles[3] == WORKER_STYLES[(RUNNING, 1)]


def test_a_simulated_run_on_four_threads_shows_every_boundary() -> None:
    """``trace sim --model threads --cpu 20ms --io 10ms -n 40 -c 8``: on every thread's lane (ids 1, 5, 9, … on the first),
    each request's block differs in shade from the one before it."""
    from sim import SimConfig, inline_workload, parse_dist, simulate

    recorder = Recorder()
    workload = inline_workload(cpu=parse_dist("20ms"), io=parse_dist("10ms"))
    simulate(
        SimConfig(model="threads", requests=40, concurrency=8, workload=workload, seed=1),
        recorder=recorder,
    )
    lanes = [lane for lane in build_model(recorder.recording()).by_worker if lane.kind == "thread"]
    assert len(lanes) == 4  # the model's four threads, an even number
    for lane in lanes:
        end = max(span.end for span in lane.spans)
        blocks = _blocks(lane_segments(lane, 0, end / 120, 120, worker=True))
        assert len(blocks) >= 4, lane.label  # each of its requests, named
        for (text, shade), (next_text, next_shade) in zip(blocks, blocks[1:], strict=False):
            assert text.split()[0] != next_text.split()[0], lane.label
            assert shade != next_shade, (lane.label, text, next_text)
