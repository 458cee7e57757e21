"""The ``trace`` command line: parse, then call one command module's ``main``.

Thin by design: each sub-command lives in ``tracer.cli.<name>`` with ``add_parser`` and
``main(args) -> int``, and imports heavy things (Textual, OpenTelemetry) inside ``main``.
Errors: a ``TracerError`` becomes one line on stderr and exit code 2; usage errors too.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from tracer._version import __version__
from tracer.errors import TracerError

__all__ = ["main", "build_parser", "COMMANDS", "OneLineParser"]

# Sub-command name -> module under tracer.cli (the module must exist to be registered).
COMMANDS: dict[str, str] = {
    "run": "tracer.cli.run",
    "replay": "tracer.cli.replay",
    "summary": "tracer.cli.summary",
    "sim": "tracer.cli.sim",
    "demo": "tracer.cli.demo",
    "export": "tracer.cli.export",
    "check": "tracer.cli.check",
}

EXIT_OK = 0
EXIT_FOUND = 1
EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every sub-command whose module is installed."""
    parser = OneLineParser(
        prog="trace",
        description="See what WSGI and ASGI do under concurrency.",
    )
    parser.add_argument("--version", action="version", version=f"gateway-tracer {__version__}")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=OneLineParser
    )
    for module_name in COMMANDS.values():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        sub = module.add_parser(subparsers)
        sub.set_defaults(_main=module.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``trace`` console script and ``python -m tracer``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    command: Any = getattr(args, "_main", None)
    if command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(command(args) or 0)
    except TracerError as exc:
        # The app's own code failed on import: its traceback is the useful part (AppImportFailed).
        app_traceback = getattr(exc, "traceback", "")
        if app_traceback:
            print(app_traceback, end="", file=sys.stderr)
        print(f"trace: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("trace: interrupted", file=sys.stderr)
        return 130
