"""Events: the one module of kinds, and the round trip through JSON."""

from __future__ import annotations

import ast
from pathlib import Path

from tracer import events
from tracer.events import KINDS, Event

ROOT = Path(__file__).resolve().parent.parent


def test_round_trip_through_dict() -> None:
    """An event survives to_dict/from_dict unchanged."""
    event = Event(
        3,
        1500,
        events.ASGI_SEND,
        7,
        10,
        11,
        "MainThread",
        "Task-2",
        40,
        {"type": "http.response.start", "status": 200},
    )
    assert Event.from_dict(event.to_dict()) == event
    assert event.end == 1540


def test_kind_strings_are_spelled_only_in_events_module() -> None:
    """No other module writes an event kind as a string literal (use tracer.events)."""
    offenders = []
    for package in ("tracer", "sim"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "events.py" and path.parent.name == "tracer":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if node.value in KINDS and "." in node.value:
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert not offenders, "kinds spelled outside tracer/events.py:\n" + "\n".join(offenders)


def test_packed_rows_with_copied_keys_decode_like_the_original() -> None:
    """Packed rows whose keys tuple is an equal copy (as read back from another process)
    decode to the same data as rows carrying the producer's own tuple, in any order."""
    keys = ("cpu_ns", "awaiting")
    copy = tuple(list(keys))
    assert copy is not keys
    rows = [
        (0, 1, events.SCHED_STEP, 7, 1, 2, "", "t", 3, copy, 4, "sleep"),
        (1, 2, events.SCHED_STEP, 7, 1, 2, "", "t", 3, keys, 5, "yield"),
        (2, 3, events.SCHED_STEP, 7, 1, 2, "", "t", 3, tuple(list(keys)), 6, None),
    ]
    got = events.from_rows(rows)
    assert [e.data for e in got] == [
        {"cpu_ns": 4, "awaiting": "sleep"},
        {"cpu_ns": 5, "awaiting": "yield"},
        {"cpu_ns": 6, "awaiting": None},
    ]
    assert Event.from_tuple(rows[2]) == got[2]


def test_a_server_error_is_a_5xx_given_as_an_int() -> None:
    """``is_server_error``: 500 up is a failure; anything short of that, a status that is no
    int (``"500"``, ``500.0``, ``True``) or no status at all is not, by itself."""
    failed = [500, 503, 599, 600]
    not_failed = [None, 0, 200, 404, 499, "500", 500.0, True, [500]]
    assert [events.is_server_error(s) for s in failed] == [True] * len(failed)
    assert [events.is_server_error(s) for s in not_failed] == [False] * len(not_failed)
