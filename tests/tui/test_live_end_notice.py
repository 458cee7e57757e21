"""When the run ended because its server (or a worker) exited by itself, the replay opens
saying so, with the exit code, instead of "run finished"."""

from __future__ import annotations

import sys
import threading
import uuid
from pathlib import Path

import pytest
from pilot_helpers import until as _until
from tmux_helpers import TMUX, new_session
from tmux_helpers import tmux as _tmux
from tmux_helpers import wait_for as _wait_for

from tracer.recorder import Recorder
from tracer.recording import Recording
from tracer.tui.live import LiveApp
from tracer.tui.screen import ReplayScreen

pytestmark = [pytest.mark.timeout(90)]


def _notices(app: LiveApp) -> list[tuple[str, str]]:
    return [(str(n.message), str(n.severity)) for n in app._notifications]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "run ended: uvicorn exited by itself (exit code 7): replay of the run until then"),
        ("zh", "运行结束：uvicorn 自行退出（退出码 7）：回放到此为止的运行"),
    ],
)
async def test_the_replay_says_who_exited_and_its_code(
    loop_rec: Recording, tmp_path: Path, lang: str, said: str
) -> None:
    """``exited`` names uvicorn and 7: that is the replay's notice, a warning, in the UI's
    language; without it, the run finished."""
    recorder = Recorder(tmp_path / "run.jsonl", flush_interval=0.02)
    recorder.header.update(loop_rec.header)

    def work(stop: threading.Event) -> None:
        recorder.extend(loop_rec.events)
        recorder.close()

    app = LiveApp(recorder, work, title="exits", lang=lang, exited=lambda: ("uvicorn", 7))
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: isinstance(app.screen, ReplayScreen) and _notices(app))
        assert _notices(app) == [(said, "warning")]
        await pilot.press("q")


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
def test_trace_run_says_the_worker_exited_when_the_replay_opens(tmp_path: Path) -> None:
    """``trace run`` of an app that calls ``os._exit(7)`` on its 50th request under
    ``--server processes``: the replay opens saying the worker process exited, with its code."""
    (tmp_path / "dies.py").write_text(
        "import itertools, os\n"
        "_count = itertools.count(1)\n"
        "def app(environ, start_response):\n"
        "    if next(_count) == 50:\n"
        "        os._exit(7)\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'ok']\n",
        encoding="utf-8",
    )
    name = f"gt-exit-{uuid.uuid4().hex[:8]}"
    command = (
        f"cd {tmp_path} && {sys.executable} -m tracer run dies:app --server processes "
        "-n 200 -c 2 --record run.jsonl; echo $? > rc.txt; sleep 60"
    )
    screens: list[str] = []

    def replaying() -> bool:
        screens.append(_tmux("capture-pane", "-p", "-J", "-t", name).stdout)
        return "▌ run" in screens[-1]

    try:
        new_session(name, command, width=200, height=40)
        assert _wait_for(replaying, 60.0), screens[-1:]
        _tmux("send-keys", "-t", name, "q")
        assert _wait_for(lambda: (tmp_path / "rc.txt").exists(), 30.0)
    finally:
        _tmux("kill-session", "-t", name)
    notice = " ".join(
        line.split("▌")[-1].strip() for line in screens[-1].splitlines() if "▌" in line
    )
    said = "a worker process of --server processes exited by itself (exit code 7)"
    assert said in notice, notice
    assert "run finished" not in notice
