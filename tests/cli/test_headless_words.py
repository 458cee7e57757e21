"""The headless progress bar's words mean what the report's mean.

``in flight`` in the report (``max in flight``) and on the dashboard counts requests in the
app; the progress bar counts what the clients have sent and not had answered (queued too), so
it says ``unanswered``, never ``in flight``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import app_file, trace_cli

SLOW = """
import time

def app(environ, start_response):
    time.sleep(0.01)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


def test_the_bar_says_unanswered_and_the_report_in_flight(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """2 threads, 10 clients: the bar on stderr counts ``unanswered``; ``in flight`` is only
    the report's (``max in flight 2``)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = app_file(tmp_path, "slowwsgi", SLOW)
    argv = ["run", spec, "--headless", "--threads", "2", "-c", "10", "-n", "30"]
    code, out, err = trace_cli(capsys, *argv, "--record", str(tmp_path / "r.jsonl"))
    assert code == 0, err
    assert "unanswered" in err and "in flight" not in err
    assert [line.split()[-1] for line in out.splitlines() if "max in flight" in line] == ["2"]
