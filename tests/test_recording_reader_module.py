"""The event reader lives in ``tracer.reading``; ``tracer.recording`` still offers its names.

The code base and its users import the reader from ``tracer.recording`` (``parse_event``,
``EventLines``, ``open_text``...): those names are the reader's own objects, and the module's
``__all__`` is what it was before the reader moved.
"""

from __future__ import annotations

import subprocess
import sys

import tracer.reading
import tracer.recording

# What tracer.recording offered before the reader moved out of it.
_READER_NAMES = (
    "EventLines",
    "parse_event",
    "parse_line",
    "event_problem",
    "open_text",
    "lines_until_eof",
    "UNREADABLE",
    "unreadable",
)
_RECORDING_NAMES = (
    "FORMAT",
    "VERSION",
    "Recording",
    "RecordingWriter",
    "RecordingBusy",
    "make_header",
    "header_problem",
    "path_argument",
    "usable_cpus",
    "load",
    "loads",
    "view_start",
    "LATE_START",
    "SIMULATED",
)


def test_the_readers_names_are_its_own_objects_in_tracer_recording() -> None:
    """``from tracer.recording import parse_event`` gives ``tracer.reading.parse_event``."""
    for name in _READER_NAMES:
        assert getattr(tracer.recording, name) is getattr(tracer.reading, name), name
        assert name in tracer.reading.__all__, name


def test_tracer_recording_keeps_its_names_and_its_all() -> None:
    """Nothing that could be imported from ``tracer.recording`` before is gone, and
    ``from tracer.recording import *`` gives the same names as before (and ``header_problem``
    ``path_argument``, the rules ``Recorder`` shares with ``load``, and ``recording_file``, the
    checks ``load`` shares with the streaming exports)."""
    for name in _RECORDING_NAMES:
        assert hasattr(tracer.recording, name), name
    assert tracer.recording.__all__ == [
        "FORMAT",
        "VERSION",
        "Recording",
        "EventLines",
        "RecordingWriter",
        "RecordingBusy",
        "make_header",
        "header_problem",
        "path_argument",
        "recording_file",
        "usable_cpus",
        "load",
        "parse_event",
        "parse_line",
        "open_text",
        "view_start",
        "LATE_START",
    ]


def test_the_reader_loads_without_the_recording_module() -> None:
    """A streaming reader can take ``tracer.reading`` alone: it does not import
    ``tracer.recording`` (which imports it), the writer or the garbage-collector pause."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, tracer.reading\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('tracer'))))\n",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # ``tracer`` itself loads its version and errors.
    loaded = done.stdout.split()
    assert loaded == [
        "tracer",
        "tracer._version",
        "tracer.errors",
        "tracer.events",
        "tracer.reading",
    ]


def test_a_line_read_through_either_module_is_the_same_event() -> None:
    """One line, parsed through both import paths: the same event, the same verdict on a
    line that is no event."""
    line = (
        '{"seq":3,"t":10,"kind":"request.start","req":1,"pid":7,"tid":8,"thread":"w",'
        '"task":null,"dur":null,"data":{}}'
    )
    assert tracer.recording.parse_line(line) == tracer.reading.parse_line(line)
    try:
        tracer.reading.parse_line('{"seq":3,"t":true,"kind":"x"}')
    except ValueError as exc:
        assert tracer.recording.event_problem(exc) == '"t" is a boolean, not an integer'
    else:
        raise AssertionError("a boolean t was taken")
