"""``trace export FILE --to otlp|otlp-json|console|perfetto|... [-o OUT]``.

The ``--to`` choices are the keys of ``tracer.export.EXPORTERS``; the chosen exporter (and
OpenTelemetry with it) is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tracer.export import EXPORTERS
from tracer.otel.spans import DETAILS

__all__ = ["add_parser", "main"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``export`` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "export",
        help="send a recording to OTLP, or convert it (Perfetto, OTLP JSON, ...)",
        description="Export a recording: spans to an OTLP collector (with their original "
        "times), OTLP JSON or the console; a Chrome trace JSON for ui.perfetto.dev.",
    )
    parser.add_argument("file", metavar="FILE", help="a recording (.jsonl or .jsonl.gz)")
    parser.add_argument("--to", required=True, choices=list(EXPORTERS), help="export target")
    parser.add_argument(
        "-o", "--output", metavar="OUT", help="output file (default: next to FILE; - for stdout)"
    )
    parser.add_argument(
        "--otlp-endpoint",
        metavar="URL",
        help="OTLP collector (default: $OTEL_EXPORTER_OTLP_ENDPOINT or http://localhost:4318)",
    )
    parser.add_argument(
        "--otel-detail",
        choices=DETAILS,
        default="events",
        help="protocol calls as span events (default) or as child spans",
    )
    return parser


def main(args: argparse.Namespace) -> int:
    """Load the recording, run the chosen exporter, say what it did on stderr."""
    from tracer.export import ExportOptions, get_exporter
    from tracer.recording import load

    recording = load(args.file)
    exporter = get_exporter(args.to)
    options = ExportOptions(
        output=args.output, otlp_endpoint=args.otlp_endpoint, otel_detail=args.otel_detail
    )
    print(f"trace: {exporter(recording, options)}", file=sys.stderr)
    return 0
