"""The headless report of a hostile recording: its strings shown as text, never obeyed.

A recording holds what apps and clients sent. Escape sequences in a thread name or an error
type must not reach the terminal, and brackets or ``:name:`` in a path or a route are text,
not rich markup or emoji codes (``[/]`` once crashed ``trace summary`` with a MarkupError).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from cli_helpers import trace_cli
from rich.console import Console

from tracer import events as K
from tracer.events import Event
from tracer.recording import Recording
from tracer.report import print_report
from tracer.summary import summarize

MS = 1_000_000

ESC = "\x1b]0;PWNED\x07\x1b[31mRED\x1b[0m\x9b31m\u202e"
"""An OSC retitle, a CSI colour, a C1 CSI and a bidi override."""


def _events(text: str, status: object = 500) -> list[Event]:
    """One request on a loop whose every shown string (thread, blocking place, error type,
    rule id, status) carries ``text``."""
    thread = f"loop{text}"
    return [
        Event(0, 0, K.REQUEST_QUEUED, 1, data={"method": "GET", "path": "/"}),
        Event(1, 1 * MS, K.REQUEST_START, 1, pid=5, tid=9, thread=thread, data={}),
        Event(2, 1 * MS, K.SCHED_STEP, 1, pid=5, tid=9, thread=thread, dur=30 * MS, data={}),
        Event(
            3,
            1 * MS,
            K.LOOP_BLOCKED,
            1,
            pid=5,
            tid=9,
            dur=30 * MS,
            data={"location": f"pages/[slug]/{text}.py:5", "delayed": []},
        ),
        Event(4, 31 * MS, K.VIOLATION, 1, data={"rule": f"RULE{text}", "message": "x"}),
        Event(5, 32 * MS, K.ERROR, 1, data={"type": f"Err{text}"}),
        Event(6, 33 * MS, K.REQUEST_END, 1, data={"status": status, "error": "Err"}),
    ]


def _report(text: str, status: object = 500, width: int = 300) -> str:
    """The report of ``_events(text, status)`` from an app and label named with ``text``, on
    a console like the CLI's (markup and emoji codes on)."""
    events = _events(text, status)
    header = {"app": f"app{text}", "label": f"label{text}", "server": {"model": "loop"}}
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, markup=True, emoji=True)
    print_report(Recording(header, events), summarize(events), console=console)
    return out.getvalue()


def test_escape_sequences_in_a_recording_are_shown_as_text() -> None:
    """Title, blocking place, worker, error type and rule id: ESC, C1 and bidi characters
    come out as visible escapes (``\\x1b``), none of them raw."""
    text = _report(ESC)
    for raw in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert raw not in text, repr(raw)
    escaped = "\\x1b]0;PWNED\\x07\\x1b[31mRED\\x1b[0m\\x9b31m\\u202e"
    for shown in (f"label{escaped}: app{escaped}", f"{escaped}.py:5", f"Err{escaped}"):
        assert shown in text, shown
    assert f"RULE{escaped}" in text and f"loop{escaped}" in text


def test_a_narrow_worker_column_cuts_plain_text_not_an_escape() -> None:
    """A long thread name is cut with an ellipsis: what is cut is the escape's visible text,
    so no half of an escape sequence reaches the terminal."""
    text = _report(ESC * 20, width=80)
    assert "\x1b" not in text and "…" in text


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("[slug]", "pages/[slug]/[slug].py:5"),  # a style tag to rich: it vanished
        ("[/]", "pages/[slug]/[/].py:5"),  # a closing tag with nothing open: MarkupError
        (":key:", "pages/[slug]/:key:.py:5"),  # an emoji code: it became 🔑
        ("[bold red]X[/bold red]", "[bold red]X[/bold red]"),
    ],
)
def test_brackets_and_emoji_codes_are_shown_literally(given: str, shown: str) -> None:
    """Paths, thread names, error types and rule ids print as they are: neither markup nor
    emoji codes."""
    text = _report(given)
    assert shown in text
    for where in ("loop", "Err", "RULE", "label", "app"):
        assert f"{where}{given}" in text, where
    assert "🔑" not in text


def test_a_status_that_is_markup_is_shown_literally() -> None:
    """A ``request.end`` status that is the string ``[/]`` (or a colour tag) is a code in the
    status row, not markup: the report prints instead of raising MarkupError."""
    assert "[/]: 1" in _report("x", status="[/]")
    assert "[red]: 1" in _report("x", status="[red]")
    assert "\\x1b[2J: 1" in _report("x", status="\x1b[2J")


def test_trace_summary_of_a_hostile_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``trace summary FILE`` of a recording whose strings hold markup, emoji codes and
    escapes: exit 0, every string as text."""
    text = f"[/]:key:[slug]{ESC}"
    events = _events(text, status="[/]")
    header = {
        "format": "gateway-trace",
        "version": 1,
        "source": "traced",
        "app": f"app{text}",
        "interface": "asgi",
        "server": {"model": "loop"},
    }
    path = tmp_path / "hostile.jsonl"
    lines = [json.dumps(header)]
    lines += [json.dumps(event._asdict()) for event in events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = trace_cli(capsys, "summary", str(path))
    assert code == 0, err
    assert "\x1b" not in out and "\x07" not in out and "🔑" not in out
    assert "[/]:key:[slug]\\x1b]0;PWNED\\x07" in out and "[/]: 1" in out
