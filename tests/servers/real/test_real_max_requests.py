"""``trace run --max-requests N``: gunicorn's ``--max-requests`` and uvicorn's
``--limit-max-requests``. A worker the server recycles after N requests is said to be recycled,
not dead; one that died beside them still is; a lone uvicorn that stops at N is said to have
stopped by itself, with the requests that then got no answer."""

from __future__ import annotations

import collections
import re
import subprocess
import sys
from pathlib import Path

import pytest
from real_helpers import ROOT, run_real

from tracer import events as K
from tracer.client import ClientConfig
from tracer.events import Event
from tracer.recording import load

pytestmark = pytest.mark.timeout(120)

LIMIT = 3

_DIES_ONCE = """
import os

FLAG = {flag!r}
served = [0]


def app(environ, start_response):
    served[0] += 1
    if served[0] == 2 and not os.path.exists(FLAG):
        open(FLAG, "w").close()
        os._exit(1)  # once in the run: the first worker dies on its second request
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
"""


def _served(events: list[Event]) -> dict[int, int]:
    """The client's requests each server process started the app on, by pid."""
    starts = (e for e in events if e.kind == K.REQUEST_START and e.data.get("headers"))
    return dict(collections.Counter(e.pid for e in starts if e.pid is not None))


def test_gunicorn_workers_recycled_after_max_requests_are_not_said_to_have_died() -> None:
    """gunicorn --workers 1 --max-requests 3 serves 10 requests in 4 workers, each but the
    last ending after exactly 3: recycled, as asked (the note said they had died)."""
    pytest.importorskip("gunicorn")
    run = run_real(
        "gunicorn", "sample_apps.hello:wsgi_app", ClientConfig(concurrency=1, requests=10),
        max_requests=LIMIT,
    )  # fmt: skip
    assert run.stats.errors == 0
    served = sorted(_served(run.events).values())
    assert served == [1, 3, 3, 3]
    assert run.server.describe()["max_requests"] == LIMIT
    assert (run.server.replaced_workers, run.server.recycled_workers) == (3, 3)
    assert run.server.restart_note == (
        "gunicorn replaced 3 worker processes that had served their --max-requests 3"
    )


def test_a_worker_that_died_beside_recycled_ones_is_still_said_to_have_died(
    tmp_path: Path,
) -> None:
    """The first worker calls os._exit on its second request; the next ones are recycled
    after 3: one died, the others were recycled, and the note says each."""
    pytest.importorskip("gunicorn")
    (tmp_path / "dies_once.py").write_text(_DIES_ONCE.format(flag=str(tmp_path / "died")))
    run = run_real(
        "gunicorn", "dies_once:app", ClientConfig(concurrency=1, requests=9),
        app_dir=str(tmp_path), max_requests=LIMIT,
    )  # fmt: skip
    # 1 ok + 1 lost with the first worker, then 3 and 3 in two recycled workers, 1 in the last.
    assert sorted(_served(run.events).values()) == [1, 2, 3, 3]
    assert (run.server.replaced_workers, run.server.recycled_workers) == (3, 2)
    assert run.server.restart_note == (
        "gunicorn replaced 2 worker processes that had served their --max-requests 3, "
        "and restarted 1 worker process that died during the run"
    )


_STOPPED = re.compile(
    r"trace: uvicorn stopped by itself after serving (\d+) requests, as --max-requests 3 "
    r"asks of its one process; (?:(\d+) requests? sent then got no answer \(refused, or the "
    r"connection closed: counted as errors\), and )?the load was stopped there\."
)


def test_a_lone_uvicorn_that_stops_at_max_requests_is_said_to_have_done_so(
    tmp_path: Path,
) -> None:
    """uvicorn --limit-max-requests 3 shuts its one process down (it checks its count every
    0.1 s, so it may serve a few more): the run says so, with the requests it served and
    those that then found it gone, instead of a bare exit code and refused requests."""
    pytest.importorskip("uvicorn")
    record = tmp_path / "run.jsonl"
    argv = [sys.executable, "-m", "tracer", "run", "sample_apps.io_bound:asgi_app"]
    argv += ["--server", "uvicorn", "--max-requests", str(LIMIT), "--path", "/?ms=30"]
    argv += ["-c", "1", "-n", "60", "--headless", "--json", "--record", str(record)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=100, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if line.startswith("trace: uvicorn")]
    assert len(said) == 1, done.stderr
    match = _STOPPED.fullmatch(said[0])
    assert match is not None, said[0]
    recording = load(record)
    assert recording.header["server"]["max_requests"] == LIMIT
    responses = [e for e in recording.events if e.kind == K.CLIENT_RESPONSE]
    answered = [e for e in responses if e.data.get("status") == 200]
    failed = [e for e in responses if e.data.get("status") is None]
    assert int(match.group(1)) == len(answered) >= LIMIT
    assert int(match.group(2) or 0) == len(failed)
    assert len(responses) < 60  # the load stopped there, not after 60 refusals


@pytest.mark.parametrize("server", ["hypercorn", "waitress", "loop"])
def test_max_requests_is_refused_where_it_would_not_apply(tmp_path: Path, server: str) -> None:
    """Only gunicorn and uvicorn take it: elsewhere it is one line and exit 2."""
    app = "sample_apps.hello:" + ("wsgi_app" if server == "waitress" else "asgi_app")
    argv = [sys.executable, "-m", "tracer", "run", app, "--server", server]
    argv += ["--max-requests", "5", "-n", "1", "--headless"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("trace: error: --max-requests ")
