"""``trace replay FILE [FILE2] [--screenshot OUT.svg]``: the replay and compare UI.

A demo's recording (``trace demo NAME --record DIR``) is replayed as the demo shows it: the
scenario's caption in the pane, its side names and bookmarks, all in ``--lang`` whatever
language it was recorded in (``tracer.demos.language``). Textual is imported inside ``main``,
and the scenarios only for a demo's recording, so other commands start without them.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import TYPE_CHECKING, Any

from tracer.cli.encoding import encoding_fix, ui_cannot_show
from tracer.cli.parsing import bounded
from tracer.cli.terminal import can_draw, dumb_terminal
from tracer.errors import UsageError

if TYPE_CHECKING:
    from tracer.recording import Recording

__all__ = [
    "add_parser",
    "check_screenshot_path",
    "in_language",
    "lower_threshold_warning",
    "main",
    "parse_size",
    "write_screenshot",
]


def check_screenshot_path(path: str) -> None:
    """``UsageError`` for a ``--screenshot`` that could not be written, before anything runs
    or is rendered: a name that does not end in ``.svg`` (the only format written: a ``.png``
    name would get SVG inside), a folder, a place that cannot be written. Missing folders are
    made when it is written, as ``--record`` makes them (the check leaves nothing behind)."""
    if not path.lower().endswith(".svg"):
        raise UsageError(
            f'--screenshot writes SVG only: give a file name ending in .svg, not "{path}".'
        )
    from tracer.cli.paths import probe_writable

    try:
        probe_writable(path)
    except OSError as exc:
        raise UsageError(f'Cannot write the screenshot "{path}": {exc.strerror or exc}.') from None


def write_screenshot(path: str, svg: str) -> None:
    """Write a ``--screenshot`` SVG, its missing folders made; an unwritable path is a
    ``UsageError`` (one line, exit 2)."""
    from tracer.cli.paths import make_parent

    try:
        make_parent(path)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(svg)
    except OSError as exc:
        raise UsageError(f'Cannot write the screenshot "{path}": {exc.strerror or exc}.') from None


MAX_COLUMNS, MAX_ROWS = 1000, 500
"""The largest screenshot: far past any screen or slide, and rendered in seconds."""


def parse_size(text: str) -> tuple[int, int]:
    """``120x40`` -> ``(120, 40)``; at least 40×12, at most ``MAX_COLUMNS``×``MAX_ROWS``."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if not match:
        raise UsageError(f'Bad --size "{text}": write it as COLUMNSxROWS, e.g. 120x40.')
    columns, rows = int(match.group(1)), int(match.group(2))
    if columns < 40 or rows < 12:
        raise UsageError(f'--size "{text}" is too small: the replay needs at least 40x12.')
    if columns > MAX_COLUMNS or rows > MAX_ROWS:
        # Rendering is linear in the cells: a typo like 100000x100000 would run for hours.
        raise UsageError(f'--size "{text}" is too large: at most {MAX_COLUMNS}x{MAX_ROWS} cells.')
    return columns, rows


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``replay`` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "replay",
        help="replay a recording, or compare two, in the terminal UI",
        description="Replay a recording on a timeline; with two files, compare them on one time axis.",
    )
    parser.add_argument("file", metavar="FILE", help="a recording (.jsonl or .jsonl.gz)")
    parser.add_argument(
        "file2", metavar="FILE2", nargs="?", help="a second recording to compare with"
    )
    # Any more are refused in main with why (argparse would say only "unrecognized arguments").
    parser.add_argument("more", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument(
        "--screenshot",
        metavar="OUT.svg",
        help="render to an SVG file without a terminal, then exit",
    )
    parser.add_argument(
        "--size", default="120x40", help="screenshot size as COLUMNSxROWS (default 120x40)"
    )
    parser.add_argument(
        "--view", choices=("request", "worker"), default="request", help="lanes to start with"
    )
    parser.add_argument(
        "--lang",
        choices=("en", "zh"),
        default=None,
        help="language of the UI labels, and of a demo recording's captions and bookmarks "
        "(default: the language the first recording was made in, as trace export; else en)",
    )
    parser.add_argument(
        "--block-threshold-ms",
        "--block-threshold",  # trace run's older spelling, taken by every command
        dest="block_threshold_ms",
        # Above 0, as trace run and trace sim take it: a recording's steps are drawn as a run
        # with that threshold would have recorded them.
        type=bounded(float, above=0.0),
        default=None,
        metavar="MS",
        help="also draw any coroutine step longer than this (ms, above 0) as blocking the loop",
    )
    return parser


def lower_threshold_warning(recording: Recording, given: str, threshold_ns: int) -> str | None:
    """The warning line for ``--block-threshold-ms`` below the threshold ``recording`` was made
    with (its header's ``block_threshold_ns``), or None: the steps between the two are drawn
    as blocking, but the file has no ``loop.blocked`` of theirs (where the loop was held, whom
    it delayed). A file that does not say its threshold (older, WSGI) gets none."""
    from tracer.recording import BLOCK_THRESHOLD

    recorded = recording.header.get(BLOCK_THRESHOLD)
    if type(recorded) is not int or threshold_ns >= recorded:
        return None
    path = recording.path or given
    made, asked = f"{recorded / 1_000_000:g} ms", f"{threshold_ns / 1_000_000:g} ms"
    return (
        f"trace: warning: {path} was recorded with a block threshold of {made}: blocks shorter "
        f"than {made} were not recorded; the steps longer than {asked} are drawn as blocking, "
        "without where they held the loop or whom they delayed."
    )


def in_language(recordings: list[Recording], lang: str) -> tuple[list[Recording], str]:
    """The recordings with a demo's texts said in ``lang``, and the caption pane's text (empty
    when none is a demo's recording: the pane stays hidden, as before): the exports' own
    ``tracer.export.titles.said_in``."""
    from tracer.export.titles import said_in

    said, caption, _ = said_in(recordings, lang)
    return said, caption


def main(args: argparse.Namespace) -> int:
    """Load the recordings (one clear error if one is missing or foreign), then show or render."""
    from tracer.tui.app import open_recordings

    if args.more:
        raise UsageError(
            f"trace replay shows one recording, or two to compare on one time axis, not "
            f"{2 + len(args.more)}; replay them two at a time."
        )
    if args.screenshot is not None:
        check_screenshot_path(args.screenshot)  # before the recordings are read
    files = [args.file, *([args.file2] if args.file2 else [])]
    recordings = open_recordings(files)
    from tracer.cli.paths import unfinished_warning

    threshold = (
        None if args.block_threshold_ms is None else int(args.block_threshold_ms * 1_000_000)
    )
    for recording, given in zip(recordings, files, strict=True):
        if recording.unfinished:
            # As trace summary and trace export say it: valid data, shown as far as it goes.
            print(unfinished_warning(recording, given), file=sys.stderr)
        lower = None if threshold is None else lower_threshold_warning(recording, given, threshold)
        if lower is not None:
            print(lower, file=sys.stderr)
    from tracer.export.titles import said_in

    # Without --lang, the language the first recording was made in, as trace export says it.
    recordings, caption, lang = said_in(recordings, args.lang)
    options: dict[str, Any] = {
        "view": args.view,
        "lang": lang,
        "threshold_ns": threshold,
        "caption": caption,
    }
    if args.screenshot is not None:
        from tracer.tui.app import render_svg

        size = parse_size(args.size)
        write_screenshot(args.screenshot, render_svg(recordings, size=size, **options))
        print(os.path.abspath(args.screenshot))
        return 0
    if not can_draw():
        needs = "a terminal that can draw (TERM=dumb cannot)" if dumb_terminal() else "a terminal"
        raise UsageError(
            f"trace replay needs {needs}. To render without one, add --screenshot OUT.svg."
        )
    encoding = ui_cannot_show()
    if encoding is not None:
        raise UsageError(
            f"trace replay needs a terminal that can show its characters; this one's encoding "
            f"is {encoding}: {encoding_fix()}. To render without one, add --screenshot OUT.svg."
        )
    from tracer.tui.app import ReplayApp

    app = ReplayApp(recordings, **options)
    app.run()
    app.hold_until_exit()  # the process ends now: its recordings are not freed one by one
    # Textual sets 1 when the UI failed (it has shown the traceback): a script must see it.
    return app.return_code or 0
