"""Exporters: a recording out to other tools (OTLP collectors, Perfetto, files).

Each exporter is a function ``(recording, options) -> str`` (the ``Exporter`` protocol) that
writes or sends the recording and returns one line saying what it did. The recording is a
loaded ``Recording`` or a ``RecordingFile`` (``tracer.export.stream``), which the exporter
reads in passes, so that a run of millions of requests exports in the memory of a few. ``EXPORTERS`` maps the
``trace export --to`` choices to ``"module:function"``, imported only when chosen, so the
command line stays fast and an exporter's heavy dependencies load only for it. Exporters read
Recordings only: they never import a shim, a server model, the UI or the CLI. Exporters that
write a file open it with ``writing``, so a path that cannot be written (a directory, a missing
or read-only folder, a full disk) is one ``UsageError`` line whatever the target, and an export
that fails part-way leaves an earlier file at that path whole.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Protocol

from tracer.errors import UsageError
from tracer.export.whole_file import whole_file
from tracer.recording import Recording

if TYPE_CHECKING:
    from tracer.export.stream import RecordingFile

__all__ = [
    "EXPORTERS",
    "MAX_LANES",
    "COMPARE_LANES",
    "lanes_for",
    "spread_lanes",
    "Exporter",
    "ExportOptions",
    "get_exporter",
    "default_output",
    "writing",
]

EXPORTERS: dict[str, str] = {
    "otlp": "tracer.export.otlp:export_otlp",
    "otlp-json": "tracer.export.otlp:export_otlp_json",
    "console": "tracer.export.otlp:export_console",
    "perfetto": "tracer.export.perfetto:export_perfetto",
    "html": "tracer.export.html:export_html",
    "svg": "tracer.export.svg:export_svg",
}
"""``--to`` choice -> ``"module:function"`` implementing ``Exporter``."""

MAX_LANES = 40
"""Request lanes an html/svg figure of one recording draws by default (``--lanes``): a slide
stays readable."""

COMPARE_LANES = 15
"""Request lanes per recording a compare of two draws by default: the figure stays about as
tall as one recording's (under 700 px at 1200 wide), so it fits a 16:9 slide."""


def lanes_for(lanes: int | None, recordings: int) -> int:
    """The lanes drawn per recording: ``lanes`` when asked for (``--lanes``), else
    ``MAX_LANES`` for one recording and ``COMPARE_LANES`` for each of a compare."""
    if lanes is not None:
        return lanes
    return MAX_LANES if recordings <= 1 else COMPARE_LANES


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """What ``trace export`` passes to an exporter."""

    output: str | None = None
    """Where to write (``-o``); None picks a name next to the recording; ``-`` is stdout."""
    otlp_endpoint: str | None = None
    """OTLP collector URL; None uses ``OTEL_EXPORTER_OTLP_ENDPOINT`` or the default."""
    otel_detail: str = "events"
    """Protocol calls as span ``events`` or child ``spans``."""
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    """The stream for ``-`` and for the console exporter."""
    compare: tuple[Recording | RecordingFile, ...] = ()
    """Further recordings drawn beside the first on one time axis (``html``, ``svg``)."""
    lanes: int | None = None
    """Request lanes drawn per recording (``html``, ``svg``; ``--lanes``), besides those a
    bookmark points at; None: as many as fit a slide (``lanes_for``)."""


class Exporter(Protocol):
    """Exports one recording; returns one line describing what it wrote or sent."""

    def __call__(self, recording: Recording | RecordingFile, options: ExportOptions) -> str: ...


def get_exporter(name: str) -> Exporter:
    """The exporter registered as ``name`` (imported now)."""
    try:
        target = EXPORTERS[name]
    except KeyError:
        raise UsageError(
            f'Unknown export target "{name}"; choose one of: {", ".join(sorted(EXPORTERS))}.'
        ) from None
    module_name, _, attr = target.partition(":")
    exporter: Exporter = getattr(importlib.import_module(module_name), attr)
    return exporter


def default_output(recording: Recording, suffix: str) -> str:
    """``run.jsonl`` -> ``run<suffix>`` next to it (``out<suffix>`` for a recording in memory)."""
    path = recording.path or "out"
    for ending in (".gz", ".jsonl", ".json"):
        path = path.removesuffix(ending)
    return os.fspath(path + suffix)


@contextmanager
def writing(path: str, stdout: IO[str]) -> Iterator[IO[str]]:
    """The stream an export is written to: ``stdout`` for ``-``, else ``path`` opened for
    writing (UTF-8), whole or not at all (``tracer.export.whole_file``): an export that fails
    part-way leaves an earlier file at ``path`` as it was.

    Any ``OSError`` of the file, while opening, writing or closing it (a directory, a missing
    or read-only folder, a full disk that only the final flush finds), is a ``UsageError``:
    ``Cannot write "PATH": reason.`` A failing stdout is left to the command line, which tells
    a closed pipe from a real error.
    """
    if path == "-":
        yield stdout
        return
    try:
        with whole_file(path) as handle:
            yield handle
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise UsageError(f'Cannot write "{path}": {reason}.') from None


def spread_lanes(options: ExportOptions) -> bool:
    """A compare's default lanes are spread over the run (``tracer.export.drawn.lanes_chosen``):
    its few lanes per side would otherwise stop long before the run does (15 of
    sync-vs-async's 100 requests end at 400 ms of its 2.5 s). Lanes asked for (``--lanes``)
    are the first ones, as for one recording."""
    return options.lanes is None and bool(options.compare)
