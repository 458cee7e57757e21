"""What an app logs while it is imported, under a real server: once on the terminal, from
``trace``'s own import of it (to learn its interface), and once per server process in the
server's saved output (docs/run.md, docs/real-servers.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_helpers import app_file, trace_process

pytestmark = pytest.mark.timeout(90)

LOGS_AT_IMPORT = """
import logging

logging.basicConfig(level=logging.INFO, format="app-log %(process)d %(message)s")
logging.getLogger("app").info("imported")

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""

_LINE = re.compile(r"^app-log (\d+) imported$", re.MULTILINE)


def test_an_import_time_log_line_is_on_the_terminal_once_and_in_the_server_log(
    tmp_path: Path,
) -> None:
    """uvicorn, one process: the line is on stderr once (``trace``'s process) and in
    ``run.server.log`` once (the server's), from two different processes."""
    pytest.importorskip("uvicorn")
    spec = app_file(tmp_path, "logs_at_import", LOGS_AT_IMPORT)
    record = tmp_path / "run.jsonl"
    code, _, err = trace_process(
        tmp_path, "run", spec, "--server", "uvicorn", "--headless",
        "-c", "1", "-n", "2", "--record", str(record),
    )  # fmt: skip
    assert code == 0, err
    in_trace = _LINE.findall(err)
    in_server = _LINE.findall((tmp_path / "run.server.log").read_text())
    assert len(in_trace) == 1 and len(in_server) == 1
    assert in_trace != in_server
