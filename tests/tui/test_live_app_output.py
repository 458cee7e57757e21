"""What the app prints under the live dashboard goes to ``<name>.app.log``, not the terminal."""

from __future__ import annotations

import io
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
from tracer.tui.live import LiveApp, PrintsToFile
from tracer.tui.screen import ReplayScreen

pytestmark = [pytest.mark.timeout(90)]

PRINTER_APP = """
import sys


def app(environ, start_response):
    print("STDOUT-LINE")
    print("STDERR-LINE", file=sys.stderr)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


@pytest.mark.anyio
async def test_prints_of_the_run_go_to_the_file_given(loop_rec: Recording, tmp_path: Path) -> None:
    """Given ``prints``, what the run prints to stdout and stderr, from its thread and from
    threads of its own, lands in that file in order, none of it in Textual's capture."""
    recorder = Recorder(tmp_path / "run.jsonl", flush_interval=0.02)
    recorder.header.update(loop_rec.header)

    def worker(n: int) -> None:
        print(f"thread {n}")

    def work(stop: threading.Event) -> None:
        print("out 1")
        print("err 1", file=sys.stderr)
        sys.stdout.write("out 2\n")
        for n in range(3):
            thread = threading.Thread(target=worker, args=(n,))
            thread.start()
            thread.join()
        recorder.extend(loop_rec.events)
        recorder.close()

    log = tmp_path / "run.app.log"
    with open(log, "a", encoding="utf-8") as prints:
        app = LiveApp(recorder, work, title="printing", prints=prints)
        async with app.run_test(size=(100, 30)) as pilot:
            await _until(pilot, lambda: isinstance(app.screen, ReplayScreen))
            await pilot.press("q")
    assert app.error is None
    assert log.read_text(encoding="utf-8").splitlines() == [
        "out 1",
        "err 1",
        "out 2",
        "thread 0",
        "thread 1",
        "thread 2",
    ]


def test_a_closed_or_failing_file_never_fails_the_app() -> None:
    """A print after the file was closed (an app thread outliving the run) is dropped, not
    raised in the app; the sink counts as written, as a terminal would."""
    file = io.StringIO()
    sink = PrintsToFile(file)
    print("kept", file=sink)
    file.close()
    print("dropped", file=sink)
    sink.flush()
    assert sink.write("x") == 1


# -- end to end, in a real terminal ---------------------------------------------------------


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
@pytest.mark.parametrize("server", ["processes", "threads"])
def test_the_app_prints_to_its_log_not_over_the_dashboard(tmp_path: Path, server: str) -> None:
    """``trace run`` on a terminal with an app printing per request: no printed line is ever
    on the dashboard's screen, the file beside the recording holds every one of them (the
    children's descriptors, or this process's streams), and stderr names it after the
    dashboard closed."""
    (tmp_path / "printer.py").write_text(PRINTER_APP, encoding="utf-8")
    name = f"gt-prints-{server}-{uuid.uuid4().hex[:8]}"
    command = (
        f"cd {tmp_path} && {sys.executable} -m tracer run printer:app --server {server} "
        "-n 20 -c 2 --record run.jsonl; echo $? > rc.txt; sleep 60"
    )
    screens: list[str] = []

    def replaying() -> bool:
        screens.append(_tmux("capture-pane", "-p", "-t", name).stdout)
        return "replay of the whole run" in screens[-1]

    rc = tmp_path / "rc.txt"
    try:
        new_session(name, command, width=120, height=40)
        assert _wait_for(replaying, 60.0), screens[-1:]
        _tmux("send-keys", "-t", name, "q")
        assert _wait_for(lambda: rc.exists() and rc.stat().st_size > 0, 60.0)
        after = _tmux("capture-pane", "-p", "-S", "-", "-t", name).stdout
    finally:
        _tmux("kill-session", "-t", name)
    assert rc.read_text().strip() == "0", after
    shown = [screen for screen in screens if "LINE" in screen]
    assert not shown, shown[0]
    lines = (tmp_path / "run.app.log").read_text(encoding="utf-8").splitlines()
    assert sorted(lines) == ["STDERR-LINE"] * 20 + ["STDOUT-LINE"] * 20
    assert "the app printed 40 lines: run.app.log" in after, after
    assert "STDOUT-LINE" not in after, after


def test_lines_printed_by_threads_at_once_stay_whole() -> None:
    """``print`` writes its text and its newline apart: two threads printing at once would cut
    into each other's lines ("AB" then an empty line). Each thread's line waits for its end;
    ``flush`` pushes one left unfinished."""
    file = io.StringIO()
    sink = PrintsToFile(file)
    a_wrote, b_done = threading.Event(), threading.Event()

    def thread_a() -> None:
        sink.write("A")
        a_wrote.set()
        b_done.wait(10)
        sink.write("\n")

    def thread_b() -> None:
        a_wrote.wait(10)
        sink.write("B")
        sink.write("\n")
        b_done.set()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    sink.write("tail")
    assert file.getvalue() == "B\nA\n"
    sink.flush()
    assert file.getvalue() == "B\nA\ntail"
