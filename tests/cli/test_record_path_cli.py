"""``trace run`` / ``trace sim`` ``--record``: an unwritable path is one line and exit 2 before
the load starts; a write failure during the load too; default names never overwrite a file;
a bad ``--app-dir`` is one line."""

from __future__ import annotations

import errno
import functools
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import trace_cli

import tracer.cli.sim as sim_cli
import tracer.run
from tracer import events as K
from tracer.cli.paths import claim_recording, discard, numbered, watch_writer
from tracer.errors import UsageError
from tracer.recorder import Recorder
from tracer.recording import RecordingWriter, load

pytestmark = pytest.mark.timeout(120)

SAME_SECOND = time.mktime((2026, 11, 26, 5, 55, 49, 0, 0, -1))


def _one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("trace: error: Cannot write the recording "), err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, err)


@pytest.fixture
def no_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the app is loaded or the load (or the simulation) starts."""

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the load started before the recording path was checked")

    import sim

    monkeypatch.setattr(tracer.run, "open_server", never)
    monkeypatch.setattr(tracer.run, "run", never)
    monkeypatch.setattr(sim, "simulate", never)


def _unwritable(kind: str, tmp_path: Path) -> tuple[str, str]:
    """An unwritable --record path of this kind and the reason the error line gives."""
    if kind == "directory":
        return str(tmp_path), "Is a directory"
    if kind == "root":
        return "/", "Is a directory"
    if kind == "under-a-file":
        (tmp_path / "r.jsonl").write_text("a file\n")
        return str(tmp_path / "r.jsonl" / "x.jsonl"), "Not a directory"
    if kind == "under-a-file-deeper":
        (tmp_path / "r.jsonl").write_text("a file\n")
        return str(tmp_path / "r.jsonl" / "sub" / "x.jsonl"), "Not a directory"
    assert kind == "no-permission"
    if os.geteuid() == 0:
        pytest.skip("root may write anywhere")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    return str(locked / "x.jsonl"), "Permission denied"


UNWRITABLE = ["directory", "root", "under-a-file", "under-a-file-deeper", "no-permission"]


@pytest.mark.usefixtures("no_load")
@pytest.mark.parametrize("kind", UNWRITABLE)
def test_run_unwritable_record_fails_before_the_load(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """trace run --record UNWRITABLE: one line naming the path, exit 2, nothing run."""
    path, reason = _unwritable(kind, tmp_path)
    code, out, err = trace_cli(capsys, "run", "--headless", "-n", "5", "--record", path)
    _one_line_error(code, err, f'"{path}"', reason)
    assert out == ""


@pytest.mark.usefixtures("no_load")
@pytest.mark.parametrize("kind", UNWRITABLE)
def test_sim_unwritable_record_fails_before_the_simulation(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """trace sim --record UNWRITABLE: the same line, exit 2, no simulation."""
    path, reason = _unwritable(kind, tmp_path)
    code, out, err = trace_cli(capsys, "sim", "--headless", "-n", "5", "--record", path)
    _one_line_error(code, err, f'"{path}"', reason)
    assert out == ""


@pytest.mark.usefixtures("no_load")
@pytest.mark.parametrize("command", ["run", "sim"])
def test_an_empty_record_path_is_refused_not_taken_for_the_default(
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--record "" (a script's unset variable) wrote to the default path: now one line, exit 2,
    nothing run and nothing written."""
    monkeypatch.chdir(tmp_path)
    code, out, err = trace_cli(capsys, command, "--headless", "-n", "5", "--record", "")
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.strip().splitlines() == [
        "trace: error: --record needs a file name, not an empty string; leave --record out for "
        f"the default traces/{'sim-<model>' if command == 'sim' else '<app>'}-<time>.jsonl."
    ]
    assert list(tmp_path.iterdir()) == []


def _read_only_sys() -> bool:
    try:
        with open("/sys/x.jsonl", "a"):
            pass
    except OSError:
        return os.path.isdir("/sys")
    os.unlink("/sys/x.jsonl")
    return False


@pytest.mark.usefixtures("no_load")
@pytest.mark.skipif(not _read_only_sys(), reason="needs a /sys where files cannot be made")
@pytest.mark.parametrize("command", ["run", "sim"])
def test_the_reported_sys_path(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The user's case, as root too: /sys/x.jsonl cannot be created."""
    code, _, err = trace_cli(capsys, command, "--headless", "-n", "5", "--record", "/sys/x.jsonl")
    _one_line_error(code, err, '"/sys/x.jsonl"')


def test_a_missing_directory_is_made(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--record new/dir/r.jsonl: the directories are made (docs/run.md), the run records."""
    record = tmp_path / "new" / "dir" / "r.jsonl"
    code, _, err = trace_cli(capsys, "run", "--json", "-n", "5", "-c", "2", "--record", str(record))
    assert code == 0, err
    assert len(load(record).events) > 0


def test_a_bad_app_keeps_an_existing_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--record on an existing file and an APP that does not import: the file is untouched."""
    record = tmp_path / "earlier.jsonl"
    record.write_text("what an earlier run recorded\n")
    code, _, err = trace_cli(
        capsys, "run", "not_a_module_here:app", "-n", "5", "--record", str(record)
    )
    assert code == 2 and "not_a_module_here" in err and "Traceback" not in err
    assert record.read_text() == "what an earlier run recorded\n"


def test_a_bad_app_leaves_nothing_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A new --record path and an APP that does not import: no file, no new directory."""
    record = tmp_path / "made" / "here" / "r.jsonl"
    code, _, err = trace_cli(
        capsys, "run", "not_a_module_here:app", "-n", "5", "--record", str(record)
    )
    assert code == 2 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


# -- a failure while the load runs ----------------------------------------------------------------


@pytest.fixture
def disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every write of events fails as on a full disk (the header is written)."""

    def write(self: RecordingWriter, events: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self.path)

    # Events come as Event objects or rows (``write``) or as their lines' objects made
    # already (``write_lines``, a recorder whose events are read too): both fail.
    monkeypatch.setattr(RecordingWriter, "write", write)
    monkeypatch.setattr(RecordingWriter, "write_lines", write)


@pytest.mark.usefixtures("disk_full")
@pytest.mark.parametrize("live", [False, True])
def test_run_write_failure_during_the_load(
    live: bool,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The disk fills up mid-run: the load stops early, then one line and exit 2 (the
    recording is incomplete), with no traceback from the writer thread."""
    import tracer.cli.run as run_cli

    if live:

        def fake_live(
            recorder: object, work: Callable[[threading.Event], Any], **_: object
        ) -> None:
            work(threading.Event())

        monkeypatch.setattr(run_cli, "_live_runner", lambda: fake_live)
        monkeypatch.setattr(run_cli, "on_terminal", lambda: True)
    record = tmp_path / "r.jsonl"
    argv = ["run", "-z", "60s", "-c", "2", "--record", str(record)]
    started = time.monotonic()
    code, _, err = trace_cli(capsys, *argv, *([] if live else ["--headless"]))
    assert time.monotonic() - started < 30  # stopped, not run to the end of -z 60s
    assert code == 2 and "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert last == f'trace: error: Cannot write the recording "{record}": No space left on device.'


@pytest.mark.usefixtures("disk_full")
def test_sim_write_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """trace sim: a write that fails is one line and exit 2, not a traceback."""
    record = tmp_path / "s.jsonl"
    code, out, err = trace_cli(capsys, "sim", "--headless", "-n", "5", "--record", str(record))
    _one_line_error(code, err, f'"{record}"', "No space left on device")
    assert out == ""


@pytest.mark.usefixtures("disk_full")
def test_a_failing_file_keeps_the_events_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The recorder's file failing: the failure is kept and the stop callback called (nothing
    logged), the events still reach memory and subscribers (the run's report), and close()
    raises the failure again."""
    stopped = threading.Event()
    recorder = Recorder(tmp_path / "w.jsonl", flush_interval=0.01, keep=True)
    seen: list[object] = []
    recorder.subscribe(seen.extend)
    failures = watch_writer(recorder, stopped.set)
    recorder.emit("request.start", 1)
    assert stopped.wait(10)
    recorder.emit("request.end", 1)
    with pytest.raises(OSError) as raised:
        recorder.close()
    assert raised.value.errno == errno.ENOSPC
    assert [exc.errno for exc in failures] == [errno.ENOSPC]
    assert recorder.write_error is failures[0]
    assert (
        [e.kind for e in recorder.events]
        == ["request.start", "request.end"]
        == [
            e.kind  # type: ignore[attr-defined]
            for e in seen
        ]
    )
    assert "failed" not in caplog.text


# -- default names ------------------------------------------------------------------------------


def test_two_runs_in_one_second_keep_both_recordings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Default names within the same second: -2, -3 before the extension, nothing overwritten."""
    monkeypatch.chdir(tmp_path)
    fixed = functools.partial(tracer.run.default_record_path, now=SAME_SECOND)
    monkeypatch.setattr(tracer.run, "default_record_path", fixed)
    printed = []
    for _ in range(3):
        code, _, err = trace_cli(capsys, "run", "--json", "-n", "5", "-c", "2")
        assert code == 0, err
        printed.append(err.strip().splitlines()[-1].removeprefix("recording: "))
    base = os.path.join("traces", "hello-asgi_app-20261126-055549")
    assert printed == [f"{base}.jsonl", f"{base}-2.jsonl", f"{base}-3.jsonl"]
    for path in printed:
        assert sum(e.kind == K.REQUEST_QUEUED for e in load(path).events) == 5


def test_two_sims_in_one_second_keep_both_recordings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """trace sim's default name is made unique the same way."""
    monkeypatch.chdir(tmp_path)
    fixed = functools.partial(sim_cli.default_record_path, now=SAME_SECOND)
    monkeypatch.setattr(sim_cli, "default_record_path", fixed)
    for _ in range(2):
        code, _, err = trace_cli(capsys, "sim", "--json", "-n", "5")
        assert code == 0, err
    names = sorted(p.name for p in (tmp_path / "traces").iterdir())
    assert names == ["sim-threads-20261126-055549-2.jsonl", "sim-threads-20261126-055549.jsonl"]
    for name in names:
        assert load(tmp_path / "traces" / name).events


def test_claim_recording_is_exclusive(tmp_path: Path) -> None:
    """A default name is created with mode "x": an existing one (another process's) is skipped;
    an explicit path is opened without truncating it."""
    base = tmp_path / "traces" / "a-20261126-055549.jsonl"
    first = claim_recording(str(base), default=True)
    assert first.path == str(base) and first.created and first.made == str(tmp_path / "traces")
    base.write_text("the first run's\n")
    second = claim_recording(str(base), default=True)
    assert second.path == str(tmp_path / "traces" / "a-20261126-055549-2.jsonl")
    assert base.read_text() == "the first run's\n"
    explicit = claim_recording(str(base))
    assert not explicit.created and base.read_text() == "the first run's\n"
    discard(explicit)  # not created by the check: kept
    assert base.exists()
    discard(second)
    assert not os.path.exists(second.path) and base.exists()


def test_claim_recording_error_wording(tmp_path: Path) -> None:
    """The wording of trace replay --screenshot: Cannot write the ... "PATH": reason."""
    with pytest.raises(UsageError) as info:
        claim_recording(str(tmp_path))
    assert str(info.value) == f'Cannot write the recording "{tmp_path}": Is a directory.'


@pytest.mark.parametrize(
    "path,expected",
    [
        ("traces/a-1.jsonl", "traces/a-1-2.jsonl"),
        ("out/r.jsonl.gz", "out/r-2.jsonl.gz"),
        ("run.json", "run-2.json"),
        ("run", "run-2"),
    ],
)
def test_numbered(path: str, expected: str) -> None:
    assert numbered(path, 1) == path
    assert numbered(path, 2) == expected


# -- --app-dir ----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "check"])
def test_missing_app_dir_is_one_line(
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--app-dir that does not exist: one line saying so, exit 2, no recording left."""
    monkeypatch.chdir(tmp_path)
    missing = str(tmp_path / "nope")
    app = "sample_apps.hello:asgi_app"
    argv = [command, app, "--app-dir", missing, *(["-n", "5"] if command == "run" else [])]
    code, out, err = trace_cli(capsys, *argv)
    assert code == 2 and "Traceback" not in err and out == ""
    assert err.strip() == (
        f'trace: error: --app-dir "{missing}" does not exist. '
        "Pass the directory that holds the app's module."
    )
    assert list(tmp_path.iterdir()) == []
