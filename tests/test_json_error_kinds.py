"""``--json`` says what the errors were: ``error_types`` (the failed requests by the exception
the app raised, or by how they failed otherwise) and ``timeouts`` (those the client gave up
on), each only when there are any, so that ``errors`` is ``timeouts`` plus the counts of
``error_types``.

The summary JSON had ``errors`` alone: a script grading runs could not tell an app that raised
from a client that timed out, nor which exception, which the report printed. The summary dict
of ``tracer.summarize`` itself is unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import trace_cli

from tracer import events as K
from tracer.digest import Digest
from tracer.recorder import Recorder
from tracer.summary import summarize

pytestmark = pytest.mark.timeout(120)

APP = '''\
"""Raises ZeroDivisionError on /zero, KeyError on /key, answers late on /slow."""
import time


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/zero":
        return [str(1 / 0).encode()]
    if path == "/key":
        return [{}["missing"]]
    if path == "/slow":
        time.sleep(0.5)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
'''

EXTRA_KEYS = ("error_types", "timeouts")


def _run_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str
) -> tuple[dict[str, Any], Path]:
    """``trace run`` of the app above with ``argv`` and ``--json``: the JSON and the
    recording."""
    (tmp_path / "erring.py").write_text(APP)
    record = tmp_path / "run.jsonl"
    code, out, err = trace_cli(
        capsys,
        "run",
        "erring:app",
        "--app-dir",
        str(tmp_path),
        *argv,
        "--json",
        "--record",
        str(record),
    )
    assert code == 0, err
    return json.loads(out), record


def _summary_json(capsys: pytest.CaptureFixture[str], record: Path) -> dict[str, Any]:
    code, out, err = trace_cli(capsys, "summary", str(record), "--json")
    assert code == 0, err
    return json.loads(out)


def _without_extras(said: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in said.items() if key not in EXTRA_KEYS}


def test_run_json_counts_the_exceptions_by_type(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Four requests to /zero, two to /key, two to /ok (round robin): the types the app
    raised, most first, and no ``timeouts``; ``trace summary --json`` of the recording says
    the same, and without the two keys it is ``tracer.summarize``'s dict."""
    paths = ("--path", "/zero", "--path", "/key", "--path", "/zero", "--path", "/ok")
    said, record = _run_json(capsys, tmp_path, *paths, "-n", "8", "-c", "2")
    assert said["errors"] == 6 and said["status"] == {"200": 2, "500": 6}
    assert list(said["error_types"].items()) == [("ZeroDivisionError", 4), ("KeyError", 2)]
    assert "timeouts" not in said
    assert _summary_json(capsys, record) == said
    assert _without_extras(said) == summarize(record)


def test_run_json_counts_timeouts_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 100 ms client timeout on /slow (0.5 s): one timeout, apart from the one
    ZeroDivisionError; ``errors`` is their sum."""
    paths = ("--path", "/slow", "--path", "/zero", "--path", "/ok")
    said, record = _run_json(capsys, tmp_path, *paths, "-n", "3", "-c", "3", "--timeout", "100ms")
    assert said["errors"] == 2
    assert said["timeouts"] == 1
    assert said["error_types"] == {"ZeroDivisionError": 1}
    assert _summary_json(capsys, record) == said


def test_a_run_without_errors_has_neither_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    said, record = _run_json(capsys, tmp_path, "--path", "/ok", "-n", "3")
    assert said["errors"] == 0
    assert not set(EXTRA_KEYS) & set(said)
    assert not set(EXTRA_KEYS) & set(_summary_json(capsys, record))


START = {"method": "GET", "path": "/", "query": "", "scope_type": "http"}
MS = 1_000_000


def _recorder() -> Recorder:
    """Nine requests, one a millisecond, and an error of no request:

    1. raised ValueError (500);  2. raised ValueError, then KeyError (500);
    3. timed out (the end says ``timeout``), the app raising ZeroDivisionError after that;
    4. a 503 the app never raised for;  5. the network client's TimeoutError on a 200;
    6. 200;  7, 8. raised KeyError (500);  9. ended with no response at all."""
    recorder = Recorder(app="app:app", interface="asgi")
    where: dict[str, Any] = {"pid": 7, "tid": 1, "thread": "event-loop"}
    ends: dict[int, dict[str, Any]] = {
        3: {"status": None, "error": "timeout"},
        4: {"status": 503},
        5: {"status": 200},
        6: {"status": 200},
        9: {},
    }
    raised = {1: ["ValueError"], 2: ["ValueError", "KeyError"], 7: ["KeyError"], 8: ["KeyError"]}
    for req in range(1, 10):
        t = req * MS
        recorder.emit(K.REQUEST_QUEUED, req, {"method": "GET", "path": "/"}, t=t, **where)
        recorder.emit(K.REQUEST_START, req, START, t=t, **where)
        for kind in raised.get(req, ()):
            recorder.emit(K.ERROR, req, {"type": kind, "message": "x"}, t=t, **where)
        recorder.emit(K.REQUEST_END, req, ends.get(req, {"status": 500}), t=t + MS // 2, **where)
    late = {"type": "ZeroDivisionError", "message": "after the client left"}
    recorder.emit(K.ERROR, 3, late, t=20 * MS, **where)
    recorder.emit(K.CLIENT_RESPONSE, 5, {"status": 200, "error": "TimeoutError"}, t=21 * MS)
    recorder.emit(K.ERROR, None, {"type": "OSError", "message": "no request's"}, t=22 * MS)
    return recorder


def test_each_failed_request_counts_once_and_the_counts_add_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A request counts under its first exception's type, or how it failed otherwise (the
    report's words: ``HTTP 503``, ``no response``); a timeout under ``timeouts`` alone, though
    the app raised too; an error of no request under neither (it is no request of
    ``errors``). Equal counts in the order of their names."""
    recorder = _recorder()
    path = recorder.save(tmp_path / "run.jsonl")
    said = _summary_json(capsys, Path(path))
    assert list(said["error_types"].items()) == [
        ("KeyError", 2),
        ("ValueError", 2),
        ("HTTP 503", 1),
        ("no response", 1),
    ]
    assert said["timeouts"] == 2
    assert said["errors"] == 8 == said["timeouts"] + sum(said["error_types"].values())
    assert _without_extras(said) == summarize(recorder.recording())
    code, out, err = trace_cli(capsys, "summary", path)
    assert code == 0, err
    assert "8 (2 timeouts)" in out  # the report's errors line says the same


def test_the_digest_fed_in_batches_says_the_same(tmp_path: Path) -> None:
    """Fed one event at a time (each request's record packed as it ends, unpacked at a later
    event), the digest gives the file's figures."""
    recorder = _recorder()
    digest = Digest()
    for event in recorder.recording().events:
        digest.feed([event])
    said = digest.for_json(digest.summary())
    assert said["timeouts"] == 2
    assert said["error_types"] == {"KeyError": 2, "ValueError": 2, "HTTP 503": 1, "no response": 1}
