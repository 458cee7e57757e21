"""``trace run`` and ``trace sim`` in a folder where the default recording path
(``traces/<app>-<time>.jsonl``) cannot be written (a read-only lab folder; here, as root may
write anywhere, a file named ``traces``): the one line says how to go on, ``--record``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.cli_helpers import trace_cli

HELLO = str(Path(__file__).resolve().parents[2] / "sample_apps" / "hello.py") + ":asgi_app"


@pytest.mark.parametrize(
    "argv", [["sim", "-n", "5", "--headless"], ["run", HELLO, "-n", "5", "--headless"]],
    ids=["sim", "run"],
)  # fmt: skip
def test_an_unwritable_default_path_points_to_record(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    argv: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "traces").write_text("not a folder", encoding="utf-8")
    code, out, err = trace_cli(capsys, *argv)
    assert code == 2 and out == ""
    [line] = err.strip().splitlines()
    assert line.startswith('trace: error: Cannot write the recording "traces/'), line
    assert line.endswith("Pass --record FILE somewhere you can write."), line
