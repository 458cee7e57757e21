"""A plain callback that holds the loop (``loop.call_soon`` of a blocking function) is a
``loop.blocked`` with no request and ``outside_step: true``, at the callback's line, naming
the traced requests it kept waiting; a loop waiting in its selector is idle, never blocked.
On the loop model and on real uvicorn (asyncio's loop)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import app_file, trace_process

from tracer import events as K

pytestmark = pytest.mark.timeout(180)

FLUSHING = """
import asyncio
import time


def flush_metrics():
    time.sleep(0.05)  # line 7: the callback holds the loop


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    asyncio.get_running_loop().call_soon(flush_metrics)
    await asyncio.sleep(0.002)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""

IDLE = """
import asyncio


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await asyncio.sleep(0.05)  # the loop waits in its selector meanwhile: idle
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""


def _run(tmp_path: Path, name: str, source: str, *server: str) -> list[dict[str, Any]]:
    spec = app_file(tmp_path, name, source)
    record = tmp_path / f"{name}.jsonl"
    code, _, err = trace_process(
        tmp_path, "run", spec, *server, "--headless",
        "-c", "1", "-n", "4", "--timeout", "10s", "--record", str(record),
    )  # fmt: skip
    assert code == 0, err
    return [json.loads(line) for line in record.read_text().splitlines()[1:]]


def _outside(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["kind"] == K.LOOP_BLOCKED and e["data"].get("outside_step")]


def _check_callback_blocks(events: list[dict[str, Any]], name: str) -> None:
    blocks = _outside(events)
    # Four callbacks of 50 ms, one per request; one the watchdog could not see for most of
    # its time (a busy machine) may go unsaid, never one that did not happen.
    assert 1 <= len(blocks) <= 4
    starts = {e["req"]: e["t"] for e in events if e["kind"] == K.REQUEST_START}
    ends = {e["req"]: e["t"] for e in events if e["kind"] == K.REQUEST_END}
    for block in blocks:
        assert block["req"] is None and block["task"] is None
        assert block["data"]["location"] == f"{name}.py:7"
        # One client: the request that scheduled the callback is the one in flight, and its
        # 2 ms sleep fell due while the callback held the loop.
        (req,) = block["data"]["delayed"]
        assert starts[req] <= block["t"] < block["t"] + block["dur"] <= ends[req]
    # On the loop's lane: the thread its requests' steps ran on.
    loop_threads = {(e["pid"], e["tid"]) for e in events if e["kind"] == K.SCHED_STEP}
    assert {(b["pid"], b["tid"]) for b in blocks} <= loop_threads


def test_a_blocking_callback_is_a_block_on_the_loop_model(tmp_path: Path) -> None:
    events = _run(tmp_path, "flushing", FLUSHING)
    _check_callback_blocks(events, "flushing")


def test_a_blocking_callback_is_a_block_on_real_uvicorn(tmp_path: Path) -> None:
    pytest.importorskip("uvicorn")
    events = _run(tmp_path, "flushing_uv", FLUSHING, "--server", "uvicorn", "--loop", "asyncio")
    _check_callback_blocks(events, "flushing_uv")


def test_an_idle_loop_is_never_blocked(tmp_path: Path) -> None:
    """Requests sleeping 50 ms each, one at a time: the loop waits in its selector (no
    callback on its stack) for nearly the whole run, and no block is recorded."""
    events = _run(tmp_path, "idle", IDLE)
    ends = [e for e in events if e["kind"] == K.REQUEST_END and e["data"]["status"] is not None]
    assert [e["data"]["status"] for e in ends] == [200] * 4  # the lifespan's end has none
    assert _outside(events) == []
    assert [e for e in events if e["kind"] == K.LOOP_BLOCKED] == []
