"""gunicorn, whose worker's app calls ``os._exit(3)`` mid-run: gunicorn reads exit code 3 as
"Worker failed to boot" and exits 3; ``trace`` says what happened instead (the app's
``os._exit(3)`` in that worker, after it served), and quotes none of gunicorn's reading."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracer.cli.run_end import say_how_it_ended
from tracer.client import ClientConfig
from tracer.recorder import Recorder
from tracer.run import RunConfig
from tracer.servers import ServerConfig, server_model
from tracer.servers.real.server import RealServer

pytestmark = pytest.mark.timeout(90)

APP = """import os

count = [0]


def app(environ, start_response):
    count[0] += 1
    if count[0] == 3:
        os._exit(3)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


def test_gunicorn_whose_app_calls_os_exit_3_is_not_said_to_fail_to_boot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "exit3_app.py").write_text(APP)
    config = ServerConfig(app_spec="exit3_app:app", app_dir=str(tmp_path))
    server = server_model("gunicorn")(config, Recorder())
    assert isinstance(server, RealServer)
    try:
        server.start()
        server.run_load(ClientConfig(requests=4, concurrency=1, timeout=5))
        assert server.check_exit(grace=15.0)
    finally:
        server.stop()
    assert server.exit_code == 3
    words = server.exit_words or ""
    assert words.startswith("the app called os._exit(3) in a worker process of gunicorn (pid ")
    assert words.endswith(") during the run")
    say_how_it_ended(server, RunConfig(), 2, stopped=True)
    said = capsys.readouterr().err
    assert said.startswith(f"trace: {words}; ")
    assert "Worker failed to boot" not in said and "last words" not in said
