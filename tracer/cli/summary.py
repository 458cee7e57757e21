"""``trace summary FILE [--json]``: the report of a recording."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["add_parser", "main"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``summary`` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "summary", help="print the summary of a recording"
    )
    parser.add_argument("file", metavar="FILE", help="a recording (.jsonl or .jsonl.gz)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    return parser


def main(args: argparse.Namespace) -> int:
    """Load the recording and print its summary."""
    from tracer.recording import load
    from tracer.summary import summarize

    recording = load(args.file)
    summary = summarize(recording)
    if args.json:
        print(json.dumps(summary))
        return 0
    try:
        from tracer.report import print_report
    except ImportError:
        print(json.dumps(summary, indent=2))
        return 0
    print_report(recording, summary)
    return 0
