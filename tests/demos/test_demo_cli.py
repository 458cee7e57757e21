"""``trace demo``: list, bad names, headless figures, --record, --screenshot and --serve."""

from __future__ import annotations

import asyncio
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from demo_cache import simulated

from tracer import events as K
from tracer.cli import main
from tracer.cli.demo import DEFAULT_PORT, bookmark_count, list_text, make_server, serve_command
from tracer.demos import SCENARIOS

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[2]


def test_list_names_every_scenario_in_both_languages(capsys: pytest.CaptureFixture[str]) -> None:
    """--list prints one line per scenario, titles in the chosen language."""
    assert main(["demo", "--list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out] == list(SCENARIOS)
    assert main(["demo", "--list", "--lang", "zh"]) == 0
    assert "同步与异步" in capsys.readouterr().out


def test_an_unknown_scenario_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A bad NAME: exit 2, one stderr line listing the choices, no traceback."""
    assert main(["demo", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'Unknown demo "nope"' in err and "c10k" in err


@pytest.mark.parametrize(
    "argv,says",
    [
        (
            ["sync-vs-async", "--sim", "--port", "8001"],
            "--port is the port of --serve; add --serve or drop --port.",
        ),
        (["sync-vs-async", "--serve", "--headless"], "--headless does not apply to --serve"),
        (["sync-vs-async", "--serve", "--record", "out"], "--record does not apply to --serve"),
        (["c10k", "--serve", "--screenshot", "a.svg"], "--screenshot does not apply to --serve"),
        (["--list", "nosuch"], 'Unknown demo "nosuch"'),
        (["--list", "--sim"], "--list only lists the scenarios; --sim is for running one"),
        (["--list", "--port", "8001"], "--list only lists the scenarios; --port is for"),
        (
            ["c10k", "--screenshot", "shot.png"],
            '--screenshot writes SVG only: give a file name ending in .svg, not "shot.png".',
        ),
        (["c10k", "--screenshot", ""], "--screenshot writes SVG only: give a file name ending"),
        (["c10k", "--record", ""], "--record needs a folder, not an empty string"),
    ],
)
def test_an_option_that_would_be_ignored_is_one_line_and_exit_2(
    argv: list[str],
    says: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An option the chosen path ignores (or a .png that would hold SVG): exit 2, one line on
    stderr, before any scenario runs or any server starts."""
    import tracer.cli.demo
    import tracer.demos

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the scenario ran")

    monkeypatch.setattr(tracer.demos, "run_demo", never)
    monkeypatch.setattr(tracer.cli.demo, "make_server", never)
    assert main(["demo", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and says in err


def test_list_with_a_name_lists_that_one(capsys: pytest.CaptureFixture[str]) -> None:
    """--list NAME: the line of that scenario only (an unknown NAME is refused above)."""
    assert main(["demo", "--list", "c10k", "--lang", "zh"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        next(line for line in list_text("zh").splitlines() if line.startswith("c10k "))
    ]


def test_serve_without_port_uses_the_default_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--port's default is None (so it can be refused without --serve): --serve alone still
    serves on 8000, --port N on N."""
    import tracer.cli.demo

    ports: list[int] = []

    class Server:
        def __init__(self, port: int) -> None:
            self.port = port

        def serve(self) -> None:
            ports.append(self.port)

    monkeypatch.setattr(
        tracer.cli.demo, "make_server", lambda command, *, port, title, lang: Server(port)
    )
    assert main(["demo", "c10k", "--serve"]) == 0
    assert main(["demo", "c10k", "--serve", "--port", "8123"]) == 0
    assert ports == [DEFAULT_PORT, 8123] == [8000, 8123]
    assert "http://127.0.0.1:8000" in capsys.readouterr().err


def test_no_name_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """``trace demo`` alone asks for a name."""
    assert main(["demo"]) == 2
    assert "--list" in capsys.readouterr().err


def test_headless_sim_prints_figures_and_the_shape(capsys: pytest.CaptureFixture[str]) -> None:
    """--headless --sim: sides, figures and "shape: as expected"."""
    assert main(["demo", "sync-vs-async", "--sim", "--headless"]) == 0
    out = capsys.readouterr().out
    assert "asgi_max_in_flight: 50" in out and "wsgi_max_in_flight: 4" in out
    assert "shape: as expected" in out


def test_record_and_screenshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--record DIR writes both recordings; --screenshot writes the first screen with the caption
    (into a name ending in .svg, in any case)."""
    shot = tmp_path / "shot.SVG"
    args = ["demo", "wsgi-on-asgi", "--sim", "--lang", "zh", "--headless"]
    assert main([*args, "--record", str(tmp_path / "rec"), "--screenshot", str(shot)]) == 0
    assert sorted(os.listdir(tmp_path / "rec")) == ["wsgi-on-asgi-1.jsonl", "wsgi-on-asgi-2.jsonl"]
    svg = shot.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "WsgiToAsgi" in svg and "排队" in svg
    # The progress lines are in the demo's language too.
    assert capsys.readouterr().err.splitlines() == [
        "trace：正在模拟 wsgi-on-asgi…",
        f"trace：记录文件已写入 {tmp_path / 'rec' / 'wsgi-on-asgi-1.jsonl'}",
        f"trace：记录文件已写入 {tmp_path / 'rec' / 'wsgi-on-asgi-2.jsonl'}",
        f"trace：截图已写入 {shot}",
    ]


@pytest.mark.parametrize("where", ["a-file/shot.svg", "a-file/sub/shot.svg", "folder.svg"])
def test_a_screenshot_that_cannot_be_written_is_refused_before_the_demo_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """Under a file, onto a folder: one line and exit 2 before the scenario runs (no
    "running" line, as --record is checked); nothing is left behind."""
    (tmp_path / "a-file").write_text("not a folder\n")
    (tmp_path / "folder.svg").mkdir()
    shot = tmp_path / where
    assert main(["demo", "sync-vs-async", "--sim", "--screenshot", str(shot)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f'trace: error: Cannot write the screenshot "{shot}": ')
    assert err.count("\n") == 1
    assert sorted(os.listdir(tmp_path)) == ["a-file", "folder.svg"]


def test_a_screenshot_into_a_missing_folder_makes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The folder is made, as trace sim --record makes its file's (it said "No such file or
    directory" and wrote nothing)."""
    shot = tmp_path / "new" / "deeper" / "shot.svg"
    assert main(["demo", "sync-vs-async", "--sim", "--screenshot", str(shot)]) == 0
    assert shot.read_text(encoding="utf-8").startswith("<svg")
    assert capsys.readouterr().err.splitlines()[-1] == f"trace: screenshot written to {shot}"


def test_record_onto_a_file_says_it_takes_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--record names a folder for NAME-1.jsonl and NAME-2.jsonl: a file there said only
    "(File exists)"."""
    taken = tmp_path / "out.jsonl"
    taken.write_text("x")
    assert main(["demo", "blocking-call", "--sim", "--record", str(taken)]) == 2
    assert capsys.readouterr().err == (
        f'trace: error: --record "{taken}" is a file: --record takes a folder to write the '
        "recordings into (as blocking-call-1.jsonl, blocking-call-2.jsonl); give a folder.\n"
    )
    assert taken.read_text() == "x"


def test_record_help_says_it_replaces_earlier_recordings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--record DIR writes NAME-1.jsonl and NAME-2.jsonl over an earlier run's: said in --help."""
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--record DIR write the recordings into DIR as NAME-1.jsonl, NAME-2.jsonl" in help_text
    assert "replacing those of an earlier run" in help_text


def test_serve_command_reruns_the_demo_in_the_chosen_language() -> None:
    """The browser session runs ``trace demo NAME --lang L [--sim]`` with this Python."""
    words = shlex.split(serve_command("cpu-gil", "zh", simulated=True))
    assert words == [sys.executable, "-m", "tracer", "demo", "cpu-gil", "--lang", "zh", "--sim"]
    port = _free_port()
    server = make_server("true", port=port)
    try:
        assert (server.host, server.port, server.command) == ("127.0.0.1", port, "true")
    finally:
        server.sock.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_on_localhost_then_stops() -> None:
    """--serve listens on 127.0.0.1 and answers GET / with the page, within a bound."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tracer",
            "demo",
            "sync-vs-async",
            "--sim",
            "--serve",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        page = ""
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as reply:
                    page = reply.read().decode("utf-8", "replace")
                    break
            except OSError:
                time.sleep(0.2)  # the server is still starting: poll again
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert "<html" in page.lower()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def _narrate(lang: str) -> tuple[list[int], list[str], list[bool], int]:
    from tracer.cli.demo import demo_app
    from tracer.tui.caption import Caption

    app = demo_app(simulated("blocking-call", lang))
    cursors, captions, playing = [], [], []
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        # The caption as written (the pane wraps it to its width).
        captions.append(screen.query_one(Caption).text)
        for _ in range(3):
            await pilot.press("m")
            cursors.append(int(screen.viewport.cursor))
            captions.append(screen.query_one(Caption).text)
        await pilot.press("home", "space")
        playing.append(screen.viewport.playing)
        await pilot.press("space")
        playing.append(screen.viewport.playing)
        at = screen.viewport.cursor
        await pilot.press("full_stop")
        stepped = int(screen.viewport.cursor - at)
    return cursors, captions, playing, stepped


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_bookmarks_captions_and_pause_step_for_narration(lang: str) -> None:
    """m walks the bookmarks in time order with their captions; space plays/pauses; . steps."""
    cursors, captions, playing, stepped = asyncio.run(_narrate(lang))
    demo = simulated("blocking-call", lang)
    marks = sorted(e.t for r in demo.recordings for e in r.events if e.kind == K.MARK)
    assert cursors == marks
    assert captions[0] == demo.caption
    first = next(e for e in demo.recordings[0].events if e.kind == K.MARK)
    colon = "：" if lang == "zh" else ": "
    assert captions[1] == f"{first.data['label']}{colon}{first.data['caption']}"
    assert playing == [True, False]
    assert stepped > 0


@pytest.mark.parametrize(("lang", "word"), [("en", "1 bookmark\n"), ("zh", "1 个书签\n")])
def test_headless_counts_bookmarks_in_the_chosen_language(
    lang: str, word: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """One bookmark per side reads "1 bookmark" (not "1 bookmarks"); Chinese: "1 个书签"."""
    assert main(["demo", "sync-vs-async", "--sim", "--headless", "--lang", lang]) == 0
    out = capsys.readouterr().out
    assert out.count(word) == 2 and "1 bookmarks" not in out
    assert bookmark_count(0) == "0 bookmarks" and bookmark_count(2) == "2 bookmarks"


def test_an_unwritable_record_folder_fails_before_the_scenario_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--record into a folder that cannot be made or written: one line, exit 2, and the
    scenario never ran (a minute of load is not spent before the error)."""
    import tracer.demos

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the scenario ran")

    monkeypatch.setattr(tracer.demos, "run_demo", never)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for folder in (str(blocker / "rec"), "/proc/gateway-tracer-test"):
        assert main(["demo", "blocking-call", "--sim", "--record", folder]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert f'--record folder "{folder}"' in err


def test_headless_in_chinese_says_simulated_and_the_shape_in_chinese(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--lang zh: the mode, the recordings' titles and the shape line are in Chinese."""
    assert main(["demo", "cpu-gil", "--sim", "--headless", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "(simulated)" not in out and "as expected" not in out
    assert "（模拟）" in out.splitlines()[0] and "演示效果：符合预期" in out
    # Chinese lines take full-width punctuation: "（模拟）；1 个书签", not "（模拟）; 1 个书签".
    sides = [line for line in out.splitlines() if line.startswith(("  1. ", "  2. "))]
    assert len(sides) == 2
    assert all(line.endswith("；1 个书签") and "; " not in line for line in sides), sides
    # and a side's label takes "：": "WSGI，4 个线程：sample_apps…", not "…: sample_apps…".
    assert all("：" in line and ": " not in line for line in sides), sides


def test_a_simulated_only_title_says_simulated_once(capsys: pytest.CaptureFixture[str]) -> None:
    """c10k's title says "(simulated)" already: the heading does not repeat it."""
    assert main(["demo", "c10k", "--headless"]) == 0
    heading = capsys.readouterr().out.splitlines()[0]
    assert heading.count("simulated") == 1


def test_a_demo_with_a_side_that_cannot_run_says_it_is_partly_simulated() -> None:
    """websocket run for real still simulates its WSGI side (WSGI has no WebSocket): its
    headline said "(real)"; the other real demos are all real, c10k is all simulated."""
    from tracer.cli.demo import HEADLESS

    partly = {name for name, scenario in SCENARIOS.items() if scenario.partly_simulated}
    assert partly == {"websocket"}
    assert all(not s.partly_simulated for s in SCENARIOS.values() if s.simulated_only)
    assert {lang: "partly" in words for lang, words in HEADLESS.items()} == {"en": True, "zh": True}


def test_serve_without_textual_serve_names_the_package_in_one_line() -> None:
    """--serve where textual-serve is not installed (``pip install .`` without ``[serve]``):
    one line naming the package and the extra, exit 2; it used to say "serving" and then
    print a ModuleNotFoundError traceback."""
    code = (
        "import sys; sys.modules['textual_serve'] = None\n"  # as if it were not installed
        "from tracer.cli import main\n"
        "sys.exit(main(['demo', 'c10k', '--serve', '--port', '1']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "textual-serve" in proc.stderr and "gateway-tracer[serve]" in proc.stderr
    assert "serving" not in proc.stdout + proc.stderr
