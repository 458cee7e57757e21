"""``trace export FILE [FILE2] --to otlp|otlp-json|console|perfetto|html|svg [-o OUT]``.

The ``--to`` choices are the keys of ``tracer.export.EXPORTERS``; the chosen exporter (and
OpenTelemetry with it) is imported only when the command runs. An option given to a target
it does not apply to (``--otel-detail`` to perfetto, ``--otlp-endpoint`` to a file, ``-o`` to
a collector) is refused, one line and exit code 2, rather than ignored.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tracer.cli.parsing import bounded
from tracer.export import COMPARE_LANES, EXPORTERS, MAX_LANES
from tracer.otel.spans import DETAILS

if TYPE_CHECKING:
    from tracer.export.stream import RecordingFile

__all__ = ["add_parser", "main", "COMPARING", "SAID", "SPANS", "SENDING", "FIGURE_SUFFIXES"]

COMPARING = ("html", "svg")
"""Targets that draw a second recording (FILE2) beside the first."""

SAID = ("html", "svg", "perfetto")
"""Targets that say a demo's texts in a language (``--lang``): a figure's labels and caption,
a Perfetto trace's title and bookmarks."""

SPANS = ("otlp", "otlp-json", "console")
"""Targets that make OpenTelemetry spans (``--otel-detail``)."""

SENDING = ("otlp",)
"""Targets that send to a collector (``--otlp-endpoint``) and write no file (``-o``)."""

FIGURE_SUFFIXES: dict[str, tuple[str, ...]] = {"svg": (".svg",)}
"""The suffixes ``-o`` may end in for a target that has one of its own: a viewer opens a file by
its suffix, so ``-o x.png`` holding SVG would not open (``trace replay --screenshot`` and
``trace demo --screenshot`` take ``.svg`` only)."""


class _Intermixed(argparse.ArgumentParser):
    """Takes FILE2 after the options too: ``trace export a.jsonl --to svg b.jsonl``.

    argparse fills every positional from the first run of them, so a FILE2 after ``--to``
    was "unrecognized arguments" whatever the target; parsed intermixed, it reaches ``main``,
    which says which targets take it.
    """

    _inside = False

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        """``parse_known_intermixed_args``, which itself calls this method twice."""
        if self._inside:
            return super().parse_known_args(args, namespace)
        self._inside = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inside = False


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``export`` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "export",
        help="send a recording to OTLP, or convert it (Perfetto, OTLP JSON, ...)",
        description="Export a recording: spans to an OTLP collector (with their original "
        "times), OTLP JSON or the console; a Chrome trace JSON for ui.perfetto.dev; a "
        "self-contained HTML page or an SVG figure (of FILE, or FILE and FILE2 compared).",
    )
    parser.add_argument("file", metavar="FILE", help="a recording (.jsonl or .jsonl.gz)")
    parser.add_argument(
        "file2", metavar="FILE2", nargs="?", help="a second recording to compare (html, svg)"
    )
    parser.add_argument("--to", required=True, choices=list(EXPORTERS), help="export target")
    parser.add_argument(
        "-o", "--output", metavar="OUT", help="output file (default: next to FILE; - for stdout)"
    )
    parser.add_argument(
        "--otlp-endpoint",
        metavar="URL",
        help="otlp: the collector (default: $OTEL_EXPORTER_OTLP_ENDPOINT or http://localhost:4318)",
    )
    parser.add_argument(
        "--lanes",
        type=bounded(int, low=1),
        default=None,
        metavar="N",
        help=f"html, svg: request lanes per recording (default {MAX_LANES}, {COMPARE_LANES} "
        "each when comparing two, to fit a slide; bookmarked requests are drawn too)",
    )
    parser.add_argument(
        "--otel-detail",
        choices=DETAILS,
        default=None,
        help="otlp, otlp-json, console: protocol calls as span events (default) or as child spans",
    )
    parser.add_argument(
        "--lang",
        choices=("en", "zh"),
        default=None,
        help="html, svg, perfetto: language of the labels, and of a demo recording's caption, "
        "side names and bookmarks (default: the language the first recording was made in)",
    )
    # The sub-command parsers share one class (one-line errors): keep it, add intermixing.
    parser.__class__ = type("ExportParser", (_Intermixed, type(parser)), {})
    return parser


def main(args: argparse.Namespace) -> int:
    """Open the recording, run the chosen exporter, say what it did on stderr.

    The recording is not loaded: each exporter reads the file in passes
    (``tracer.export.stream``), keeping what it draws or has not yet written.
    """
    from tracer.cli import check_stdout
    from tracer.errors import UsageError
    from tracer.export import ExportOptions, get_exporter
    from tracer.export.stream import RecordingFile
    from tracer.export.titles import recording_lang

    if args.file2 and args.to not in COMPARING:
        raise UsageError(f"FILE2 is for --to {' or '.join(COMPARING)}; --to {args.to} takes one.")
    if args.lanes is not None and args.to not in COMPARING:
        raise UsageError(
            f"--lanes is for --to {' or '.join(COMPARING)} (figures); --to {args.to} has no lanes."
        )
    _refuse_what_does_not_apply(args)
    if args.to in SPANS:
        from tracer.otel.config import export_batch_size, span_limits

        # The span settings of the environment, checked before a file is written or a span
        # sent: a bad one is one line and exit 2 (the SDK would log a traceback, or raise one).
        export_batch_size()
        span_limits()
    recording = RecordingFile(args.file)
    compared = (RecordingFile(args.file2),) if args.file2 else ()
    if args.output is not None and args.output != "-":
        from tracer.cli.paths import make_parent

        try:
            make_parent(args.output)  # as --record makes its folders
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            raise UsageError(f'Cannot write "{args.output}": {reason}.') from None
    # html, svg and perfetto also take ``lang`` (refused for the others above).
    exporter: Callable[..., str] = get_exporter(args.to)
    if args.lang is not None:
        exporter = functools.partial(exporter, lang=args.lang)
    options = ExportOptions(
        output=args.output,
        otlp_endpoint=args.otlp_endpoint,
        otel_detail=args.otel_detail or "events",
        compare=compared,
        lanes=args.lanes,  # None: the figure's own default, fewer each for a compare
    )
    named_stdout = _names_stdout(args.output)
    try:
        note = exporter(recording, options)
    except UsageError as exc:
        if named_stdout:
            # ``Cannot write "/dev/stdout": Broken pipe.``: the reader of stdout has gone, the
            # quiet exit ``-o -`` gets (exit 1), whatever name stdout was given.
            check_stdout()
        if args.output is None and str(exc).startswith("Cannot write "):
            # The path was the default one, beside the recording (a read-only folder): say
            # how to choose another, as --record's line does.
            raise UsageError(f"{exc} Pass -o OUT to write it elsewhere.") from None
        raise
    to_stdout = args.output == "-" or named_stdout or (args.to == "console" and not args.output)
    if to_stdout:
        # Say it was written only once stdout took all of it (``| head`` may have closed it).
        check_stdout()
    for loaded in (recording, *compared):
        if loaded.unfinished:
            # Valid data, exported as far as it goes (exit 0); but say it is not the whole run.
            print(_cut_short(loaded, args.file, args.to), file=sys.stderr)
    # A figure's or a Perfetto trace's note is said in its language (``said_in``), and so is
    # its prefix; the other targets' notes are English, as their texts are as recorded.
    lang = (args.lang or recording_lang(recording.shell)) if args.to in SAID else "en"
    print(f"{'trace：' if lang == 'zh' else 'trace: '}{note}", file=sys.stderr)
    return 0


def _names_stdout(output: str | None) -> bool:
    """Whether ``-o OUTPUT`` is a path to the file stdout is (``/dev/stdout``, ``/dev/fd/1``,
    ``/proc/self/fd/1``, a FIFO's name): its reader going away is then a closed stdout."""
    if output is None or output == "-":
        return False
    try:
        named = os.stat(output)
        ours = os.fstat(sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # no such file; no descriptor (a capture)
        return False
    return (named.st_dev, named.st_ino) == (ours.st_dev, ours.st_ino)


def _cut_short(recording: RecordingFile, given: str, target: str) -> str:
    """The warning for a recording that ends before its run did (as ``trace summary`` says)."""
    from tracer.cli.paths import unfinished_warning

    marked = "; a request with no end is marked tracer.incomplete" if target in SPANS else ""
    return unfinished_warning(recording.shell, given, marked)


def _refuse_what_does_not_apply(args: argparse.Namespace) -> None:
    """``UsageError`` for an option the target would ignore (defaults are not options given)."""
    from tracer.errors import UsageError

    target = args.to
    if args.lang is not None and target not in SAID:
        raise UsageError(
            f"--lang is for --to {', '.join(SAID[:-1])} or {SAID[-1]}; --to {target} writes "
            "the texts as recorded."
        )
    if args.otel_detail is not None and target not in SPANS:
        raise UsageError(
            f"--otel-detail is for --to {', '.join(SPANS[:-1])} or {SPANS[-1]} (spans); "
            f"--to {target} makes no spans."
        )
    if args.otlp_endpoint is not None and target not in SENDING:
        raise UsageError(
            f"--otlp-endpoint is for --to otlp (a collector); --to {target} sends nothing."
        )
    if args.output is not None and target in SENDING:
        raise UsageError(
            f"-o is for targets that write a file; --to {target} sends the spans to a "
            "collector (--otlp-endpoint)."
        )
    output = args.output
    if output == "":
        raise UsageError(
            "-o needs a file name (or - for stdout), not an empty string; leave -o out to "
            "write next to FILE."
        )
    suffixes = FIGURE_SUFFIXES.get(target)
    if output is not None and output != "-" and suffixes is not None:
        # A name without a suffix (/dev/stdout, a pipe) says no other format.
        suffix = os.path.splitext(os.path.basename(output))[1].lower()
        if suffix and suffix not in suffixes:
            raise UsageError(
                f"--to {target} writes {target.upper()}: give -o a file name ending in "
                f'{" or ".join(suffixes)}, not "{output}".'
            )
    if output is not None and output != "-" and os.path.exists(output):
        for given in (args.file, args.file2):
            if given and os.path.exists(given) and os.path.samefile(given, output):
                raise UsageError(
                    f'-o "{output}" is the recording being exported: choose another file '
                    "(it would be overwritten)."
                )
