"""A recording's timeline shown inline in a Jupyter notebook (or any IPython display).

``show(recording)`` (or ``show(a, b)``, two compared on one time axis) returns a ``Timeline``:
the figure ``trace export --to svg`` draws (request lanes, bookmarks, axis, legend, key
numbers), narrowed to fit a notebook's output area. The last value of a cell is displayed by
its ``_repr_html_``: the SVG inline in the page, where each lane's tooltip shows on hover (an
SVG shown as an image would lose them) and the figure shrinks with a narrower window. Its ids
differ from figure to figure, so several in one notebook do not clash. ``Timeline.svg`` is the
figure as a file would hold it; ``Timeline.save(path)`` writes one. ``report(recording)``
prints the tables ``trace summary`` prints (in a notebook, rich writes them as HTML).

A recording is a ``Recording`` (``tracer.load``), a ``Recorder`` (its events so far) or the
path of a recording file (read in two passes, as ``trace export`` reads one: a long run is
drawn in the memory of its drawn lanes). Imports the spine and ``tracer.export``.

A cell that instruments an app is run again and again: give the instrumented app a name of
its own (``traced = tracer.instrument(app, recorder=tracer.Recorder())``), so that each run
wraps the same app in its new recorder. ``app = tracer.instrument(app, ...)`` run twice wraps
the app instrumented the first time, and nested recorders each record every request (a
documented feature: docs/recording-format.md, "Wrapped twice"), the old one included.
"""

from __future__ import annotations

import os
from typing import Any

from tracer.errors import UsageError
from tracer.export import ExportOptions
from tracer.export.stream import RecordingFile
from tracer.export.svg import figure_svg
from tracer.recording import Recording

__all__ = ["NOTEBOOK_WIDTH", "Timeline", "report", "show"]

NOTEBOOK_WIDTH = 960
"""The figure's width in pixels: about a notebook's output area (JupyterLab's and VS Code's
at a laptop's width). A narrower one scales it down; a slide's 1200 would need scrolling."""

_SCALED = '<svg style="max-width:100%;height:auto"'
"""The root element's start inline: as wide as the output area allows, its proportions kept."""


class Timeline:
    """A drawn figure of one recording or two, displayed inline by a notebook."""

    def __init__(self, svg: str) -> None:
        self.svg = svg
        """The figure as a standalone ``.svg`` file holds it."""

    def _repr_html_(self) -> str:
        """The figure inline in the notebook's page, scaled down to a narrower output area."""
        return _SCALED + self.svg[len("<svg") :]

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write the figure to ``path`` (an ``.svg`` file, in UTF-8); returns the path."""
        from tracer.export.html import write_text

        where = os.fspath(path)
        write_text(where, self.svg)
        return where

    def __repr__(self) -> str:
        return f"<Timeline: {len(self.svg):,} characters of SVG>"


def show(
    *recordings: Any,
    lanes: int | None = None,
    lang: str | None = None,
    width: int = NOTEBOOK_WIDTH,
) -> Timeline:
    """The timeline of one recording, or of two compared on one time axis (first requests
    aligned), as ``trace export --to svg`` draws it: ``lanes`` request lanes per recording
    (None: as many as fit, 40 for one and 15 each for two, spread over the run when two),
    its texts in ``lang`` (``en``, ``zh``; None: the language it was recorded in), ``width``
    pixels wide. A mistake in an argument is a ``UsageError``."""
    if not 1 <= len(recordings) <= 2:
        raise UsageError(f"show takes one recording or two to compare, not {len(recordings)}.")
    if lanes is not None and (type(lanes) is not int or lanes < 1):
        raise UsageError(f"lanes must be a whole number above 0, not {lanes!r}.")
    if type(width) is not int or not 300 <= width <= 10_000:
        raise UsageError(
            f"width must be a whole number of pixels from 300 to 10000, not {width!r}."
        )
    sources = [_source(recording) for recording in recordings]
    options = ExportOptions(lanes=lanes, compare=tuple(sources[1:]))
    svg, _ = figure_svg(sources[0], options, lang=lang, width=width)
    return Timeline(svg)


def report(recording: Any, *, console: Any = None) -> None:
    """Print the report ``trace summary`` prints of ``recording`` (a ``Recording``, a
    ``Recorder`` or the path of a recording) on ``console`` (a ``rich.console.Console``; None:
    rich's own, which a notebook shows as HTML)."""
    from tracer.recording import load
    from tracer.report import print_report
    from tracer.summary import summarize

    source = _source(recording)
    loaded = load(source.path) if isinstance(source, RecordingFile) else source
    print_report(loaded, summarize(loaded), console=console)


def _source(recording: Any) -> Recording | RecordingFile:
    """What ``show`` was given as something the figure can draw."""
    if isinstance(recording, Recording | RecordingFile):
        return recording
    if isinstance(recording, str | os.PathLike):
        return RecordingFile(recording)
    made = getattr(recording, "recording", None)
    if callable(made):  # a Recorder: the events it kept so far
        found = made()
        if isinstance(found, Recording):
            return found
    raise UsageError(
        "show takes a Recording (tracer.load), a Recorder or the path of a recording, not "
        f"{type(recording).__name__}."
    )
