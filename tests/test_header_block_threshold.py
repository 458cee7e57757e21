"""The header says which block threshold a recording was made with (``block_threshold_ns``),
and ``trace replay --block-threshold-ms`` below it warns that the shorter blocks are missing."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import tracer
from tracer.cli import main
from tracer.errors import UsageError
from tracer.recorder import Recorder
from tracer.recording import load

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parent.parent


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """One plain response."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """One plain response."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def _asgi_request(app: Any) -> None:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": [],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    asyncio.run(app(scope, receive, send))


def test_an_asgi_recording_says_its_threshold(tmp_path: Path) -> None:
    """``instrument(block_threshold_ms=2.5)`` writes 2,500,000 ns in the file's header."""
    path = tmp_path / "run.jsonl"
    recorder = Recorder(path)
    _asgi_request(tracer.instrument(asgi_app, recorder=recorder, block_threshold_ms=2.5))
    recorder.close()
    recording = load(path)
    assert recording.header["block_threshold_ns"] == 2_500_000
    assert [e.kind for e in recording.events][0] == "request.start"


def test_the_default_threshold_is_written_in_memory_too() -> None:
    """An app's own recorder (no ``recorder=``) says the default, 10 ms."""
    traced = tracer.instrument(asgi_app)
    assert traced.recorder.header["block_threshold_ns"] == 10_000_000
    assert traced.recorder.recording().header["block_threshold_ns"] == 10_000_000


def test_a_wsgi_recording_says_none() -> None:
    """A WSGI app blocks no loop: no threshold in its recording's header."""
    recorder = Recorder()
    traced = tracer.instrument(wsgi_app, recorder=recorder, block_threshold_ms=3)
    environ: dict[str, Any] = {"REQUEST_METHOD": "GET", "PATH_INFO": "/"}
    environ["wsgi.input"] = io.BytesIO()
    assert list(traced(environ, lambda *args: None)) == [b"ok"]
    assert "block_threshold_ns" not in recorder.recording().header


@pytest.mark.parametrize("order", [(5, 20), (20, 5)])
def test_apps_sharing_a_recorder_leave_the_highest(order: tuple[int, int]) -> None:
    """Blocks shorter than the highest threshold may be missing, whichever app came first."""
    recorder = Recorder()
    for ms in order:
        tracer.instrument(asgi_app, recorder=recorder, block_threshold_ms=ms)
    assert recorder.header["block_threshold_ns"] == 20_000_000


def test_trace_run_on_the_loop_model_says_its_threshold(tmp_path: Path) -> None:
    """``trace run --block-threshold-ms 4`` on the in-process loop: its file says 4 ms."""
    path = tmp_path / "run.jsonl"
    argv = ["run", "sample_apps.hello:asgi_app", "-c", "1", "-n", "2", "--block-threshold-ms"]
    done = subprocess.run(
        [sys.executable, "-m", "tracer", *argv, "4", "--headless", "--record", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=50,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert done.returncode == 0, done.stderr
    header = load(path).header
    assert header["server"]["model"] == "loop"
    assert header["block_threshold_ns"] == 4_000_000


def test_the_field_must_be_an_integer(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The readers use it, so it has its type: a recorder refuses another, and a file with
    another reads without it, saying so."""
    with pytest.raises(UsageError, match='"block_threshold_ns" is a string, not an integer'):
        Recorder(block_threshold_ns="10")
    path = tmp_path / "odd.jsonl"
    header = {"format": "gateway-trace", "version": 1, "block_threshold_ns": 1.5}
    path.write_text(json.dumps(header) + "\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="tracer.recording"):
        assert "block_threshold_ns" not in load(path).header
    assert '"block_threshold_ns" is a number, not an integer' in caplog.text


def _recorded_at(path: Path, threshold_ns: int | None) -> Path:
    """A recording of one ASGI request, its header saying ``threshold_ns`` (None: an older
    file, without the field)."""
    recorder = Recorder()
    _asgi_request(tracer.instrument(asgi_app, recorder=recorder))
    recording = recorder.recording()
    recording.header.pop("block_threshold_ns", None)
    if threshold_ns is not None:
        recording.header["block_threshold_ns"] = threshold_ns
    lines = [json.dumps(recording.header)] + [json.dumps(e.to_dict()) for e in recording.events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_replay_below_the_recorded_threshold_warns_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--block-threshold-ms 5`` on a file recorded at 10 ms: one warning line naming the
    file and both thresholds, and the screenshot is still rendered."""
    path = _recorded_at(tmp_path / "run.jsonl", 10_000_000)
    out = tmp_path / "shot.svg"
    argv = ["replay", str(path), "--block-threshold-ms", "5", "--screenshot", str(out)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert err == (
        f"trace: warning: {path} was recorded with a block threshold of 10 ms: blocks shorter "
        "than 10 ms were not recorded; the steps longer than 5 ms are drawn as blocking, "
        "without where they held the loop or whom they delayed.\n"
    )
    assert out.read_text(encoding="utf-8").startswith("<svg")


def test_replay_compares_each_file_with_its_own_threshold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Of two files, only the one recorded above the threshold asked for gets the line."""
    low = _recorded_at(tmp_path / "low.jsonl", 2_000_000)
    high = _recorded_at(tmp_path / "high.jsonl", 20_000_000)
    out = tmp_path / "shot.svg"
    argv = ["replay", str(low), str(high), "--block-threshold-ms", "5", "--screenshot", str(out)]
    assert main(argv) == 0
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and f" {high} " in lines[0] and "of 20 ms" in lines[0]


@pytest.mark.parametrize(
    "recorded,asked",
    [(10_000_000, 10_000_000), (10_000_000, 15_000_000), (None, 1_000_000)],
    ids=["same", "higher", "older-file"],
)
def test_no_warning_at_or_above_it_or_without_it(
    tmp_path: Path, recorded: int | None, asked: int
) -> None:
    """At or above the recorded threshold nothing is missing; a file that does not say its
    threshold (an older one) is not warned about."""
    from tracer.cli.replay import lower_threshold_warning

    path = _recorded_at(tmp_path / "run.jsonl", recorded)
    assert lower_threshold_warning(load(path), str(path), asked) is None


@pytest.mark.parametrize(("model", "expected"), [("loop", 7_000_000), ("threads", None)])
def test_trace_sim_says_its_threshold_where_blocks_are_recorded(
    tmp_path: Path, model: str, expected: int | None
) -> None:
    """``trace sim --model loop --block-threshold-ms 7``: its file says 7 ms; a model that
    records no block (threads) says none."""
    path = tmp_path / "sim.jsonl"
    argv = ["sim", "--model", model, "-c", "2", "-n", "4"]
    threshold = ["--block-threshold-ms", "7"] if model == "loop" else []  # the loop's option
    assert main([*argv, *threshold, "--headless", "--record", str(path)]) == 0
    assert load(path).header.get("block_threshold_ns") == expected
