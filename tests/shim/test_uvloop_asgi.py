"""The ASGI shim on uvloop: by hand (``uvloop.run``) the events asyncio's loop gives, a blocking
step located by the watchdog; end to end, ``trace run --server uvicorn --loop uvloop``."""

from __future__ import annotations

from pathlib import Path

import pytest
from step_blocks import blocks_at
from trio_apps import hello, on_asyncio, shape

from sample_apps import blocking
from tracer import events as K
from tracer.cli import main
from tracer.recorder import Recorder
from tracer.recording import load
from tracer.shim.asgi import AsgiShim

uvloop = pytest.importorskip("uvloop")

pytestmark = pytest.mark.timeout(90)

# What the events of a request are besides the shim's protocol events.
SIDES = (K.SCHED_STEP, K.CLIENT_SEND, K.CLIENT_RESPONSE, K.REQUEST_QUEUED)


def _line(path: Path, code: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip().startswith(code):
            return number
    raise LookupError(code)


# The sleep's line: its call spans lines, and the sample names the first.
BLOCKING_LINE = f"sample_apps/blocking.py:{_line(Path(blocking.__file__), 'time.sleep(')}"


def test_a_raw_app_on_uvloop_records_what_it_records_on_asyncio() -> None:
    """The same events, in the same order, with the same data (but times) on both loops."""
    on_uv = AsgiShim(hello, recorder=Recorder())
    twin = AsgiShim(hello, recorder=Recorder())
    assert on_asyncio(on_uv, run=uvloop.run) == on_asyncio(twin)
    events = on_uv.recorder.recording().events
    assert shape(events) == shape(twin.recorder.recording().events)
    assert len({e.task for e in events}) == 1 and events[0].task is not None


def test_a_blocking_app_on_uvloop_is_located_and_its_list_said_not_whole() -> None:
    """``time.sleep`` in ``async def`` on uvloop: the watchdog names the line, and uvloop
    hiding its timers, the list of whom it delayed is a bound from below."""
    shim = AsgiShim(blocking.app, recorder=Recorder(), block_threshold_ms=10)
    on_asyncio(shim, "/?ms=40", run=uvloop.run)
    blocks = [e for e in shim.recorder.recording().events if e.kind == K.LOOP_BLOCKED]
    assert [(e.data["location"], e.data["delayed_complete"]) for e in blocks] == [
        (BLOCKING_LINE, False)
    ]


def test_trace_run_on_uvicorn_with_uvloop_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``trace run --server uvicorn --loop uvloop`` of the blocking sample app: every request
    is recorded whole and in order in the server's process, each block at the app's line with
    its list said not whole, and the report says its count is a bound from below."""
    record = tmp_path / "run.jsonl"
    argv = ["run", "sample_apps.blocking:app", "--server", "uvicorn", "--loop", "uvloop"]
    argv += ["-n", "4", "-c", "2", "--path", "/?ms=30", "--headless", "--record", str(record)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    events = load(record).events
    served = sorted({e.req for e in events if e.kind == K.CLIENT_RESPONSE and e.req is not None})
    assert len(served) == 4
    # A busy machine can hold any step past the threshold (a block of its making): the
    # requests' own events are compared with the blocks at the app's line only.
    blocks = blocks_at(events, {BLOCKING_LINE})
    for req in served:
        own = [
            e.kind
            for e in events
            if e.req == req
            and e.kind not in SIDES
            and (e.kind != K.LOOP_BLOCKED or e.data["location"] == BLOCKING_LINE)
        ]
        assert own == [
            K.REQUEST_START,
            K.LOOP_BLOCKED,
            K.ASGI_SEND,
            K.ASGI_SEND,
            K.REQUEST_END,
        ]
    assert {e.data["delayed_complete"] for e in blocks} == {False}
    assert "could not name every request" in " ".join(out.split())  # wrapped to the terminal
