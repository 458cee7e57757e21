"""``trace summary FILE [--json]``: the report of a recording, as ``trace run`` prints it.

The recording is streamed through ``tracer.digest`` (memory stays flat for long runs).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["add_parser", "main"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``summary`` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "summary",
        help="print the summary of a recording",
        description="Print the report of a recording, as trace run prints it at the end: "
        "requests, throughput, latency and queueing percentiles, workers, loop blocking, "
        "violations. --json prints the summary JSON instead.",
    )
    parser.add_argument("file", metavar="FILE", help="a recording (.jsonl or .jsonl.gz)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    return parser


def main(args: argparse.Namespace) -> int:
    """Read the recording and print its report (or its summary JSON)."""
    from tracer.digest import digest_file

    recording, digest = digest_file(args.file)
    summary = digest.summary()
    unsaid: OSError | None = None
    if recording.unfinished:
        # On stderr in both forms: a script reading the JSON learns the data is incomplete,
        # and the report (which also says a cut-short line) may be going to a file.
        from tracer.cli.paths import unfinished_warning

        try:
            print(unfinished_warning(recording, args.file), file=sys.stderr, flush=True)
        except OSError as exc:
            # Standard error cannot take it (2>/dev/full): the report still goes to stdout,
            # then the error ends the command as any failed write does (tracer.cli).
            unsaid = exc
    if args.json:
        print(json.dumps(digest.for_json(summary)))
    else:
        from tracer.report import print_report

        print_report(recording, summary, details=digest.details())
    if unsaid is not None:
        raise unsaid
    return 0
