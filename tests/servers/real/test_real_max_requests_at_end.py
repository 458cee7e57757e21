"""gunicorn ``--max-requests``: a worker that reaches its limit as the run ends, with no new
worker started before the stop, is said to have reached it, not to have been replaced; and the
worker started in place of one that died is said to be that, not a recycled one."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from real_helpers import run_real

from tracer.client import ClientConfig

pytestmark = pytest.mark.timeout(120)

_APP = """\
import os, signal, time

# Each import takes a number (this test's own import is the first): the fourth one, the
# worker gunicorn would start after the second worker reached its limit, is held past the
# run's end (however slow a loaded machine makes the stop: SIGTERM ends a worker still
# importing), so that no new worker loads the app before the stop.
_FOLDER = {folder!r}
_number = 1
while True:
    try:
        os.close(os.open(os.path.join(_FOLDER, f"import-{{_number}}"), os.O_CREAT | os.O_EXCL))
        break
    except FileExistsError:
        _number += 1
if _number >= 4:
    time.sleep(60)


def app(environ, start_response):
    if environ["PATH_INFO"] == "/kill":
        os.kill(os.getpid(), signal.SIGKILL)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


@pytest.fixture
def numbered_app(tmp_path: Path) -> Iterator[str]:
    """The app's folder; this process's import of it is forgotten afterwards."""
    (tmp_path / "numbered_imports.py").write_text(_APP.format(folder=str(tmp_path)))
    try:
        yield str(tmp_path)
    finally:
        sys.modules.pop("numbered_imports", None)


def test_a_worker_at_its_limit_as_the_run_ends_is_not_said_replaced(
    numbered_app: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first worker is killed on the first request; gunicorn starts a second one, which
    serves the other two and ends at its --max-requests 2 as the run ends; the third worker's
    import is held past the stop. One worker was restarted after dying, and one reached its
    limit: none was recycled (the note said the one restart was a recycling)."""
    pytest.importorskip("gunicorn")
    from tracer.servers.real import gunicorn

    # The held import outlasts the stop: gunicorn kills that worker at its graceful timeout,
    # 1 s here rather than 5 (which worker ended how does not depend on it).
    monkeypatch.setattr(gunicorn, "GRACEFUL_TIMEOUT", 1)
    run = run_real(
        "gunicorn", "numbered_imports:app",
        ClientConfig(concurrency=1, requests=3, paths=("/kill", "/", "/")),
        app_dir=numbered_app, max_requests=2,
    )  # fmt: skip
    assert run.stats.errors == 1 and run.stats.status == {200: 2}
    server = run.server
    assert (server.replaced_workers, server.recycled_workers, server.reached_workers) == (1, 0, 1)
    assert server.restart_note == (
        "gunicorn restarted 1 worker process that died during the run, and ended 1 worker "
        "process at its --max-requests 2 as the run ended (none started in its place before the "
        "stop)"
    )
