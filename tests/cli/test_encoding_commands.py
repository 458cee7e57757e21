"""The report commands on standard output whose encoding is not UTF-8 (``LC_ALL=C``,
``PYTHONIOENCODING=ascii`` or ``latin-1``): a readable report with ASCII stand-ins and the
exit code they have under UTF-8, never a ``UnicodeEncodeError`` traceback."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracer.cli import main

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]


def _trace(env: dict[str, str], *argv: str) -> tuple[int, str, str]:
    """``python -m tracer ARGV`` with ``env`` over a clean locale; exit code, stdout, stderr
    (decoded as latin-1: any byte reads, so a stray UTF-8 one would show)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "PYTHONIO"))}
    base.update({"PYTHONUTF8": "0", "LANG": "C", "COLUMNS": "100"}, **env)
    base["PYTHONPATH"] = os.pathsep.join(sys.path)
    proc = subprocess.run(
        [sys.executable, "-m", "tracer", *argv],
        cwd=ROOT,
        env=base,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=50,
    )
    return proc.returncode, proc.stdout.decode("latin-1"), proc.stderr.decode("latin-1")


def _no_traceback(out: str, err: str) -> None:
    assert "Traceback" not in err and "UnicodeEncodeError" not in err, err
    assert "Traceback" not in out


def test_summary_in_process_on_an_ascii_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``trace summary`` writes its report to whatever ``sys.stdout`` is, fitted as it starts."""
    record = tmp_path / "s.jsonl"
    assert main(["sim", "-n", "20", "--headless", "--record", str(record)]) == 0
    capsys.readouterr()
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    err = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="backslashreplace")
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["summary", str(record)]) == 0
    out.flush()
    buffer = out.buffer
    assert isinstance(buffer, io.BytesIO)
    text = buffer.getvalue().decode("ascii")
    first = text.splitlines()[0]
    assert first.startswith("sim:") and " . " in first  # "sim:io · threads", the · a "."
    assert "20 (20 completed)" in text
    assert "+---" in text  # rich's ASCII boxes


def test_run_report_under_the_c_locale(tmp_path: Path) -> None:
    code, out, err = _trace(
        {"LC_ALL": "C"},
        "run", "sample_apps.hello:asgi_app", "-n", "20", "-c", "2",
        "--record", str(tmp_path / "r.jsonl"),
    )  # fmt: skip
    _no_traceback(out, err)
    assert code == 0, err
    assert out.isascii()
    assert "20 (20 completed)" in out
    assert "\nLatency (ms)" in out and "|--" in out


def test_sim_sweep_under_pythonioencoding_ascii() -> None:
    code, out, err = _trace(
        {"PYTHONIOENCODING": "ascii"},
        "sim", "-n", "20", "--no-record", "--sweep", "threads=1,2",
    )  # fmt: skip
    _no_traceback(out, err)
    assert code == 0, err
    assert out.isascii() and " . " in out


def test_chinese_demo_under_ascii_and_its_summary_under_latin1(tmp_path: Path) -> None:
    """What has no stand-in (Chinese) is escaped; full-width punctuation is ASCII."""
    code, out, err = _trace(
        {"PYTHONIOENCODING": "ascii"},
        "demo", "sync-vs-async", "--sim", "--lang", "zh", "--headless",
    )  # fmt: skip
    _no_traceback(out, err)
    assert code == 0, err
    assert out.isascii()
    assert out.startswith("sync-vs-async: \\u540c\\u6b65")  # 同步
    assert "WSGI, 4 \\u4e2a" in out  # "WSGI，4 个": the full-width comma a ", "
    code, _, err = _trace(
        {"PYTHONIOENCODING": "utf-8"},
        "demo", "sync-vs-async", "--sim", "--lang", "zh", "--record", str(tmp_path),
    )  # fmt: skip
    assert code == 0, err
    code, out, err = _trace(
        {"PYTHONIOENCODING": "latin-1"}, "summary", str(tmp_path / "sync-vs-async-1.jsonl")
    )
    _no_traceback(out, err)
    assert code == 0, err
    assert out.startswith("WSGI, 4 \\u4e2a")
    assert "sim:io · WSGI threads" in out  # latin-1 has its own "·"
