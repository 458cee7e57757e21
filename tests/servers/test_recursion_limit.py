"""An app that lowers the recursion limit at import: its worker processes load it and serve,
and each request fails in the app's own code (as under gunicorn without the tool), not in
the worker's steps after the import; a failure that does come after it says so."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from cli_helpers import app_file, trace_process

from tracer import events as K
from tracer.servers.failures import describe_failure

pytestmark = pytest.mark.timeout(90)

LOWERED = """
import sys

sys.setrecursionlimit(60)

def down(n):
    return down(n + 1)

def app(environ, start_response):
    down(0)
"""


@pytest.mark.parametrize("server", ["processes", "gunicorn"])
def test_an_app_that_lowered_the_recursion_limit_is_served(tmp_path: Path, server: str) -> None:
    """``sys.setrecursionlimit(60)`` at import: every worker serves; each request ends 500
    with the app's ``RecursionError``, raised in the app's file; exit 0, no traceback."""
    if server != "processes":
        pytest.importorskip(server)
    spec = app_file(tmp_path, "lowered", LOWERED)
    record = tmp_path / "run.jsonl"
    code, _, err = trace_process(
        tmp_path, "run", spec, "--server", server, "--headless",
        "-c", "2", "-n", "4", "--timeout", "10s", "--record", str(record),
    )  # fmt: skip
    assert code == 0, err
    assert "Traceback" not in err and "could not load" not in err
    events = [json.loads(line) for line in record.read_text().splitlines()[1:]]
    ends = [e["data"] for e in events if e["kind"] == K.REQUEST_END and e["data"]["status"]]
    assert [(end["status"], end["error"]) for end in ends] == [(500, "RecursionError")] * 4
    raised = [e["data"] for e in events if e["kind"] == K.ERROR]
    assert {(error["type"], error["where"]) for error in raised} == {
        ("RecursionError", "lowered.py:7")
    }


def _recurse(depth: int) -> int:
    return _recurse(depth + 1)


def test_a_recursion_error_after_a_lowered_limit_says_the_app_lowered_it() -> None:
    """The line names the limit before the app's import and now, the exception, and the file
    and line it was raised at; a limit the app left alone is not mentioned."""
    try:
        _recurse(0)
    except RecursionError as exc:
        caught = exc
    now = sys.getrecursionlimit()
    line = _recurse.__code__.co_firstlineno + 1
    said = describe_failure(caught, recursion_limit=now + 940)
    assert said == (
        f"the app lowered the recursion limit from {now + 940} to {now} (sys.setrecursionlimit) "
        f"and the worker then failed with RecursionError: maximum recursion depth exceeded "
        f"(at {__file__}:{line})"
    )
    assert describe_failure(caught, recursion_limit=now) == (
        f"RecursionError: maximum recursion depth exceeded (at {__file__}:{line})"
    )
