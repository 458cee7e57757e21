"""Running a scenario: its recordings, with bookmarks added as ``mark`` events, saved or shown.

``run_demo(scenario, simulated=..., quick=..., lang=...)`` makes every side's recording (a real
in-process run, or the simulation; a side with no real run is always simulated), finds the
scenario's key moments and adds them as ``K.MARK`` events (label and caption in ``lang``).
``save_demo`` writes the recordings as ``NAME-1.jsonl``, ``NAME-2.jsonl``. Imports the
spine, ``tracer.run`` and ``sim``; never the UI.
"""

from __future__ import annotations

import errno
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

from sim import simulate
from tracer import events as K
from tracer.demos.scenario import Scenario
from tracer.errors import AppImportFailed, UsageError
from tracer.events import Event
from tracer.recorder import Recorder
from tracer.recording import Recording, RecordingWriter
from tracer.run import run

__all__ = [
    "check_record_folder",
    "DemoRun",
    "recording_names",
    "run_demo",
    "run_side",
    "with_marks",
    "save_demo",
]


@dataclass(slots=True)
class DemoRun:
    """A scenario's recordings, bookmarked, in one language."""

    scenario: Scenario
    """What was run."""
    recordings: list[Recording]
    """One per side, top first, with ``mark`` events."""
    lang: str = "en"
    """Language of the marks' labels and of ``caption``."""
    simulated: bool = False
    """True for ``--sim``."""
    figures: dict[str, float] = field(default_factory=dict)
    """The numbers that make the point."""

    @property
    def caption(self) -> str:
        """The caption pane's text."""
        return self.scenario.caption(self.lang)

    def problems(self) -> list[str]:
        """What is wrong with the shape (empty: the demonstration shows its point)."""
        return self.scenario.check(self.recordings)

    def notes(self) -> list[str]:
        """What this run could not show, the shape being right (``Scenario.notes``)."""
        notes = self.scenario.notes
        return notes(self.recordings, self.lang) if notes is not None else []


def run_side(
    scenario: Scenario, index: int, *, simulated: bool, quick: bool, lang: str = "en"
) -> Recording:
    """Record one side of ``scenario``: real when asked and possible, else simulated (a real
    side's notes on stderr, such as the loader's, said in ``lang``)."""
    side = scenario.sides[index]
    config = side.config(quick=quick)
    recorder = Recorder()
    if simulated or config is None:
        simulate(side.sim, recorder=recorder)
    else:
        # Imported here, as tracer.run imports the servers: a replay's import of the demos
        # (tracer.demos.language) stays clear of them.
        from tracer.servers.job import notes_in

        try:
            with notes_in(lang):
                run(config, recorder)
        except AppImportFailed as exc:
            if not isinstance(exc.__cause__, ModuleNotFoundError):
                raise
            # A bundled app whose extra is not installed (the message names it): the traceback
            # would show the package's own code, not the user's, so only the line is kept.
            raise UsageError(str(exc)) from None
    recorder.header["demo"] = {"name": scenario.name, "side": index + 1}
    if scenario.source is not None:
        # Not a built-in scenario, whatever its name: a replay keeps the texts it recorded.
        # The file's name only, so the same file gives the same bytes from any folder.
        recorder.header["demo"]["file"] = os.path.basename(scenario.source)
    recording = recorder.recording()
    recorder.close()
    return recording


def with_marks(recording: Recording, marks: list[tuple[int, dict[str, Any]]]) -> Recording:
    """A copy of ``recording`` with ``mark`` events ``(t, data)`` added in time order."""
    seq = max((e.seq for e in recording.events), default=0)
    added = [
        Event(seq=seq + i + 1, t=t, kind=K.MARK, thread="demo", data=data)
        for i, (t, data) in enumerate(marks)
    ]
    copy = Recording(
        header=dict(recording.header),
        events=recording.events + added,
        truncated=recording.truncated,
        path=recording.path,
    )
    copy.sort()
    return copy


def run_demo(
    scenario: Scenario, *, simulated: bool = False, quick: bool = False, lang: str = "en"
) -> DemoRun:
    """Make the scenario's recordings (``quick``: the reduced real runs) and bookmark them."""
    recordings = [
        run_side(scenario, index, simulated=simulated, quick=quick, lang=lang)
        for index in range(len(scenario.sides))
    ]
    found: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    taken: set[int] = set()
    for side, t, key, req in sorted(scenario.marks(recordings), key=lambda m: m[1]):
        # The cursor starts at 0 and ``m`` jumps to the next later mark, and the compare view
        # merges both sides' marks: each needs a time of its own, after 0.
        t = max(t, 1)
        while t in taken:
            t += 1
        taken.add(t)
        data: dict[str, Any] = {
            "label": scenario.text(lang, key),
            "caption": scenario.text(lang, f"{key}:caption"),
            "key": key,
        }
        if req is not None:
            data["req"] = req  # the request "this request" means: a figure keeps its lane
        found.setdefault(side, []).append((t, data))
    for index, recording in enumerate(recordings):
        recording.header["label"] = scenario.text(lang, f"side{index}")
        # So a slide made later from the saved file says what the class is looking at.
        recording.header["demo"].update(
            lang=lang, caption=scenario.caption(lang), title=scenario.title(lang)
        )
    marked = [with_marks(rec, found.get(i, [])) for i, rec in enumerate(recordings)]
    return DemoRun(
        scenario=scenario,
        recordings=marked,
        lang=lang,
        simulated=simulated,
        figures=scenario.figures(marked),
    )


def recording_names(scenario: Scenario) -> list[str]:
    """The files ``save_demo`` writes for ``scenario``: ``NAME-1.jsonl``, ``NAME-2.jsonl``."""
    return [f"{scenario.name}-{index + 1}.jsonl" for index in range(len(scenario.sides))]


def check_record_folder(folder: str, scenario: Scenario | None = None) -> None:
    """Check that ``folder`` can be made and written in (before a demo runs), leaving it as it
    was: ``save_demo`` makes it, so a run that fails leaves no empty folder behind.

    A file there is the likeliest slip (``--record out.jsonl``, as ``trace sim`` takes one):
    the message says a folder is wanted, and what will be written into it."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        files = ", ".join(recording_names(scenario)) if scenario else "NAME-1.jsonl, NAME-2.jsonl"
        raise UsageError(
            f'--record "{folder}" is a file: --record takes a folder to write the recordings '
            f"into (as {files}); give a folder."
        )
    try:
        if os.path.isdir(folder):
            with tempfile.TemporaryFile(dir=folder):
                pass
        else:
            # Tried, not judged by permissions (root passes os.access): a folder is made in
            # the nearest one that exists and removed again.
            base = _nearest_existing(folder)
            if not os.path.isdir(base):
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), base)
            os.rmdir(tempfile.mkdtemp(dir=base))
    except OSError as exc:
        raise UsageError(
            f'Cannot write into the --record folder "{folder}" ({exc.strerror or exc}); '
            "give a folder you can write to."
        ) from None


def _nearest_existing(folder: str) -> str:
    """``folder`` or the closest of its parents that exists (as a file or a folder)."""
    path = os.path.abspath(folder)
    while not os.path.lexists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


def save_demo(demo: DemoRun, folder: str) -> list[str]:
    """Write each recording to ``folder/NAME-<side>.jsonl`` (replacing an earlier run's, as
    ``--help`` says), making the folder; return the paths."""
    check_record_folder(folder, demo.scenario)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f'Cannot write into the --record folder "{folder}" ({exc.strerror or exc}); '
            "give a folder you can write to."
        ) from None
    paths = []
    for name, recording in zip(recording_names(demo.scenario), demo.recordings, strict=True):
        path = os.path.join(folder, name)
        try:
            writer = RecordingWriter(path, recording.header)
            try:
                writer.write(recording.events)
            finally:
                writer.close()
        except OSError as exc:
            raise UsageError(
                f'Cannot write "{path}" ({exc.strerror or exc}); give a folder you can write to.'
            ) from None
        paths.append(path)
    return paths
