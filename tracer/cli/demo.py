"""``trace demo [NAME | --scenario FILE] [--list] [--lang en|zh] [--sim] [--headless]
[--record DIR] [--screenshot OUT.svg] [--serve [--port N]]``.

Runs a lecture scenario (``tracer.demos.SCENARIOS``, or a TOML file's:
``tracer.demos.from_file``) and opens the compare view with its
caption and bookmarks; ``--headless`` prints the figures and the shape check instead;
``--serve`` serves the same command to a browser through textual-serve on 127.0.0.1
(``tracer.cli.serve``): one ``trace demo NAME`` process per browser session, ended with it.
An option the chosen path would ignore (``--port`` without ``--serve``, ``--headless`` with it,
``--sim`` with ``--list``...) is refused, as is a ``--screenshot`` not named ``.svg``.
The scenarios (and with them the server models and the simulator), Textual and
textual-serve are imported only by the paths that need them, so ``trace --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
from typing import Any, TextIO

from tracer import events as K
from tracer.cli.encoding import ui_shown
from tracer.cli.parsing import bounded
from tracer.cli.terminal import on_terminal
from tracer.tui.labels import LANGUAGES

__all__ = [
    "add_parser",
    "main",
    "serve_command",
    "make_server",
    "list_text",
    "demo_app",
    "bookmark_count",
    "refuse_ignored",
]

DEFAULT_PORT = 8000
"""textual-serve's own default port."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``demo`` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="run a lecture demonstration (sync vs async, the GIL, thread pools...)",
        description="Run a scenario that makes one point about WSGI and ASGI visible: two "
        "recordings side by side, a caption saying what to look at, bookmarks (m) at the key "
        "moments, space to play or pause, , and . to step.",
    )
    parser.add_argument("name", metavar="NAME", nargs="?", help="scenario (see --list)")
    parser.add_argument(
        "--scenario",
        metavar="FILE",
        help="run your own scenario from a TOML file (title, caption, one or two [[side]] "
        "tables) instead of a built-in one",
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--lang", choices=LANGUAGES, default="en", help="captions and labels")
    parser.add_argument("--sim", action="store_true", help="simulate (deterministic)")
    parser.add_argument("--headless", action="store_true", help="no UI: print the figures")
    parser.add_argument(
        "--record",
        metavar="DIR",
        help="write the recordings into DIR as NAME-1.jsonl, NAME-2.jsonl (DIR is made if "
        "missing), replacing those of an earlier run",
    )
    parser.add_argument("--screenshot", metavar="OUT.svg", help="render the first screen to SVG")
    parser.add_argument("--serve", action="store_true", help="serve the UI to a browser")
    parser.add_argument(
        "--port",
        # Not 0: textual-serve builds the page's URLs from the port it is given.
        type=bounded(int, low=1, high=65535),
        default=None,  # None: not given, so a --port without --serve can be refused
        help=f"--serve port, 1 to 65535 (default {DEFAULT_PORT})",
    )
    return parser


def list_text(lang: str = "en", name: str | None = None) -> str:
    """One line per scenario (or only ``name``'s; ``UsageError`` if unknown): name and title."""
    from tracer.demos import SCENARIOS, scenario

    chosen = SCENARIOS if name is None else {name: scenario(name)}
    width = max(len(key) for key in SCENARIOS)
    return "\n".join(f"{key:<{width}}  {s.title(lang)}" for key, s in chosen.items())


def serve_command(name: str, lang: str, *, simulated: bool, file: str | None = None) -> str:
    """The command textual-serve runs for each browser session (``file``: a scenario file's
    path, run in place of ``name``; absolute, as the session may start in another folder)."""
    chosen = ["--scenario", os.path.abspath(file)] if file is not None else [name]
    words = [sys.executable, "-m", "tracer", "demo", *chosen, "--lang", lang]
    if simulated:
        words.append("--sim")
    return shlex.join(words)


def make_server(
    command: str, *, port: int = DEFAULT_PORT, title: str | None = None, lang: str = "en"
) -> Any:
    """A textual-serve server of ``command`` listening on 127.0.0.1:``port`` (never another
    interface), its page worded in ``lang``; ``UsageError`` naming the package when
    textual-serve is not installed, or saying why the port cannot be used."""
    from tracer.cli.serve import make_server as listening_server

    return listening_server(command, port=port, title=title, lang=lang)


def _in_browser() -> bool:
    """Whether this is a browser session's process: textual-serve runs it with its web
    driver, no TTY."""
    return "WebDriver" in os.environ.get("TEXTUAL_DRIVER", "")


def _has_screen() -> bool:
    """A terminal that can show the UI, or a browser page. A terminal whose encoding cannot
    show it (``LC_ALL=C``) gets the figures instead, and a line saying why."""
    if _in_browser():
        return True
    return on_terminal() and ui_shown("printing the figures instead")


def bookmark_count(count: int, lang: str = "en") -> str:
    """``1 bookmark``, ``2 bookmarks``; Chinese counts with a measure word and no plural."""
    if lang == "zh":
        return f"{count} 个书签"
    return f"{count} bookmark" if count == 1 else f"{count} bookmarks"


HEADLESS: dict[str, dict[str, str]] = {
    "en": {
        "simulated": " (simulated)",
        "real": " (real)",
        "partly": " (real; a side that cannot run is simulated)",
        "shape": "shape: ",
        "ok": "as expected",
        "note": "note: ",
        "and": "; ",
    },
    "zh": {
        "simulated": "（模拟）",
        "real": "（真实运行）",
        "partly": "（真实运行；无法运行的一侧为模拟）",
        "shape": "演示效果：",
        "ok": "符合预期",
        "note": "注意：",
        "and": "；",  # full-width, as Chinese text punctuates
    },
}
"""Language -> the words of the ``--headless`` report around the scenario's own texts."""


PROGRESS: dict[str, dict[str, str]] = {
    "en": {
        "simulating": "trace: simulating {name}…",
        "running": "trace: running {name}…",
        "recording": "trace: recording written to {path}",
        "screenshot": "trace: screenshot written to {path}",
        "serving": "trace: serving {name} on {url} (open it in a browser on this machine; "
        "Ctrl-C stops it)",
        "no_zh": "trace: {path} has no Chinese texts ([zh]); its title and captions are shown "
        "in English",
    },
    "zh": {
        "simulating": "trace：正在模拟 {name}…",
        "running": "trace：正在运行 {name}…",
        "recording": "trace：记录文件已写入 {path}",
        "screenshot": "trace：截图已写入 {path}",
        "serving": "trace：正在 {url} 上提供 {name}（请在本机的浏览器中打开；按 Ctrl-C 停止）",
        "no_zh": "trace：{path} 没有中文文本（[zh]），标题和说明以英文显示",
    },
}
"""Language -> the progress lines on stderr (a lecture in Chinese sees no English line)."""


def _say(lang: str, key: str, **values: str) -> None:
    print(PROGRESS.get(lang, PROGRESS["en"])[key].format(**values), file=sys.stderr)


def _headless(demo: Any, out: TextIO) -> int:
    from tracer.export.titles import figure_title

    scenario = demo.scenario
    words = HEADLESS.get(demo.lang, HEADLESS["en"])
    # A built-in simulated-only scenario's title already says so ("C10k (simulated): ...");
    # a file's title is the teacher's, and says nothing of it.
    if scenario.simulated_only and scenario.source is None:
        mode = ""
    elif demo.simulated or scenario.simulated_only:
        mode = words["simulated"]
    else:
        mode = words["partly" if scenario.partly_simulated else "real"]
    print(f"{scenario.name}: {scenario.title(demo.lang)}{mode}", file=out)
    for index, recording in enumerate(demo.recordings):
        marks = sum(1 for e in recording.events if e.kind == K.MARK)
        title = figure_title(recording, demo.lang)
        marked = bookmark_count(marks, demo.lang)
        print(f"  {index + 1}. {title}{words['and']}{marked}", file=out)
    for key, value in demo.figures.items():
        print(f"  {key}: {_figure(key, value)}", file=out)
    if scenario.source is not None:
        return 0  # a scenario file states no expected shape: nothing was checked
    problems = demo.problems()
    # The problems are a developer's diagnostics, read from events: left in English.
    print(f"  {words['shape']}" + (words["ok"] if not problems else "; ".join(problems)), file=out)
    for note in demo.notes():
        print(f"  {words['note']}{note}", file=out)
    return 0


def _figure(key: str, value: float) -> str:
    """A scenario's figure as the report writes its kind (``tracer.figures``): a time in ms
    (its key says ``_ms``) as every time in ms (``1,200.0``), an int as a count (``10,000``,
    as the C10k title writes it), any other to three significant digits (a ratio: ``1.02``)."""
    from tracer import figures

    if isinstance(value, int) and not isinstance(value, bool) and "_ms" not in key:
        return figures.count(value)
    return figures.ms(value)


def refuse_ignored(args: argparse.Namespace) -> None:
    """``UsageError`` for an option the chosen path would silently ignore, or that would write
    something other than it says (``--screenshot shot.png`` holding SVG)."""
    from tracer.cli.paths import refuse_empty_record
    from tracer.errors import UsageError

    refuse_empty_record(
        args.record,
        "a folder, not an empty string; give the folder to write the recordings into.",
    )
    if args.screenshot is not None and not args.screenshot.lower().endswith(".svg"):
        from tracer.cli.replay import check_screenshot_path

        check_screenshot_path(args.screenshot)  # says it writes SVG only
    if args.scenario is not None and args.name:
        raise UsageError(f'Give a scenario NAME or --scenario FILE, not both (NAME "{args.name}").')
    running = {
        "--scenario": args.scenario is not None,
        "--sim": args.sim,
        "--headless": args.headless,
        "--record": args.record is not None,
        "--screenshot": args.screenshot is not None,
        "--serve": args.serve,
        "--port": args.port is not None,
    }
    if args.list:
        for flag, given in running.items():
            if given:
                raise UsageError(
                    f"--list only lists the scenarios; {flag} is for running one: drop one of them."
                )
    if args.serve:
        # The browser session runs ``trace demo NAME --lang L [--sim]`` (serve_command): the
        # UI, never the figures, and it writes nothing.
        for flag in ("--headless", "--record", "--screenshot"):
            if running[flag]:
                raise UsageError(
                    f"{flag} does not apply to --serve (the browser gets the UI, and nothing is "
                    f"written); drop {flag} or --serve."
                )
    elif running["--port"]:
        raise UsageError("--port is the port of --serve; add --serve or drop --port.")


def main(args: argparse.Namespace) -> int:
    """List, run headless, record, screenshot, serve or show a scenario."""
    from tracer.demos import run_demo, save_demo
    from tracer.demos.runner import check_record_folder
    from tracer.errors import UsageError

    refuse_ignored(args)
    if args.list:
        print(list_text(args.lang, args.name))  # with a NAME, only its line
        return 0
    if not args.name and args.scenario is None:
        raise UsageError(
            "Give a scenario name, e.g. trace demo sync-vs-async (see --list), or --scenario FILE."
        )
    chosen = _chosen(args)
    if args.serve:
        port = DEFAULT_PORT if args.port is None else args.port
        command = serve_command(chosen.name, args.lang, simulated=args.sim, file=chosen.source)
        # Listening already: a port that cannot be used is refused before "serving" is said.
        server = make_server(command, port=port, title=chosen.title(args.lang), lang=args.lang)
        _say(args.lang, "serving", name=chosen.name, url=f"http://127.0.0.1:{port}")
        server.serve()
        return 0
    if _in_browser():
        from tracer.cli.serve import end_with_server

        end_with_server()  # a killed server leaves no session's process behind
    # Both checked before the scenario runs, not after.
    if args.record:
        check_record_folder(args.record, chosen)
    if args.screenshot:
        _screenshot_folder(args.screenshot)
    mode = "simulating" if args.sim or chosen.simulated_only else "running"
    if not _in_browser():  # textual-serve would print it on its console when the tab closes
        _say(args.lang, mode, name=chosen.name)
        if chosen.source is not None and args.lang != "en":
            from tracer.demos.from_file import speaks

            if not speaks(chosen, args.lang):
                _say(args.lang, "no_zh", path=chosen.source)
    demo = run_demo(chosen, simulated=args.sim, lang=args.lang)
    if args.record:
        for path in save_demo(demo, args.record):
            _say(args.lang, "recording", path=str(path))
    if args.screenshot:
        from tracer.cli.replay import write_screenshot
        from tracer.tui.app import render_svg

        svg = render_svg(demo.recordings, caption=demo.caption, lang=args.lang)
        write_screenshot(args.screenshot, svg)
        _say(args.lang, "screenshot", path=args.screenshot)
    if args.headless or args.record or args.screenshot or not _has_screen():
        if args.headless or not (args.record or args.screenshot):
            return _headless(demo, sys.stdout)
        return 0
    app = demo_app(demo)
    app.run()
    app.hold_until_exit()  # the process ends now: its recordings are not freed one by one
    return 0


def _chosen(args: argparse.Namespace) -> Any:
    """The built-in scenario ``NAME``, or the one ``--scenario FILE`` describes."""
    if args.scenario is not None:
        from tracer.demos.from_file import load_scenario

        return load_scenario(args.scenario)
    from tracer.demos import scenario

    return scenario(args.name)


def _screenshot_folder(path: str) -> None:
    """Make the folder of a ``--screenshot`` when missing, as ``trace sim --record`` makes its
    file's, then check that the file can be written there (``UsageError``: one line)."""
    from tracer.cli.replay import check_screenshot_path

    folder = os.path.dirname(path)
    if folder:
        with contextlib.suppress(OSError):  # check_screenshot_path says why it cannot be made
            os.makedirs(folder, exist_ok=True)
    check_screenshot_path(path)


def demo_app(demo: Any) -> Any:
    """The compare view of a ``DemoRun``: caption pane, bookmarks from its marks, its language."""
    from tracer.tui.app import ReplayApp

    return ReplayApp(demo.recordings, caption=demo.caption, lang=demo.lang)
