"""The loop watchdog ends once every loop it traced is closed, parked or not.

Each case runs in a process of its own: a loop another test left open would keep the
watchdog running. The watchdog parks after ``PARK_AFTER_S`` without a traced step; both
constants are shortened there so that a case takes a fraction of a second.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)

_COMMON = """
import asyncio, threading, time
import tracer
from tracer import events as K
from tracer.shim import blocking

blocking.PARK_AFTER_S = 0.05
blocking.PARKED_LOOK_S = 0.02
rec = tracer.Recorder()
blocked_on = []

async def app(scope, receive, send):
    if scope["path"] == "/block":
        time.sleep(0.08)  # BLOCKS
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})

shim = tracer.instrument(app, recorder=rec)

async def call(path):
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        pass
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": [], "client": None,
             "server": None}
    await shim(scope, receive, send)

async def until_parked():
    for _ in range(1000):
        if blocking._WATCHDOG["parked"]:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the watchdog never parked")

async def one_request_then_park():
    await call("/")
    await until_parked()
"""

_ONE_LOOP = (
    _COMMON
    + """
asyncio.run(one_request_then_park())  # closes the only traced loop while the watchdog is parked
watchdog = blocking._WATCHDOG["thread"]
assert watchdog is not None
watchdog.join(10)
print("ended" if not watchdog.is_alive() else "still running")
"""
)

_TWO_LOOPS = (
    _COMMON
    + """
go_on = threading.Event()

async def stays_open():
    await call("/")
    await asyncio.get_running_loop().run_in_executor(None, go_on.wait)
    await call("/block")  # the watchdog, parked, must still name the blocking line

other = threading.Thread(target=asyncio.run, args=(stays_open(),))
other.start()
asyncio.run(one_request_then_park())  # one of the two loops closes while it is parked
watchdog = blocking._WATCHDOG["thread"]
looks = blocking._WATCHDOG.get("looks", 0)
for _ in range(1000):  # let it look for open loops twice since the close, parked
    if blocking._WATCHDOG.get("looks", 0) >= looks + 2:
        break
    time.sleep(0.01)
go_on.set()
other.join(10)
watchdog.join(10)
[block] = [e for e in rec.events if e.kind == K.LOOP_BLOCKED]
print(block.data.get("location", "").rsplit("/", 1)[-1], "ended" if not watchdog.is_alive() else "still running")
"""
)


def _run(script: str, tmp_path: Path) -> str:
    """Run ``script`` from a file (the watchdog names a line of a file only)."""
    path = tmp_path / "watched.py"
    path.write_text(script)
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=50)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_parked_watchdog_ends_when_its_only_loop_closes(tmp_path: Path) -> None:
    """A loop idle long enough for the watchdog to park, then closed: the watchdog ends (it
    used to stay parked for the rest of the process)."""
    assert _run(_ONE_LOOP, tmp_path) == "ended"


def test_a_parked_watchdog_watches_on_while_another_traced_loop_is_open(tmp_path: Path) -> None:
    """One of two traced loops closes while the watchdog is parked: it stays, and still names
    the line of the other loop's next blocking step; once that loop closes too, it ends."""
    line = next(n for n, text in enumerate(_TWO_LOOPS.splitlines(), 1) if "# BLOCKS" in text)
    assert _run(_TWO_LOOPS, tmp_path) == f"watched.py:{line} ended"
