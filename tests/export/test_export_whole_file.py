"""``trace export ... -o FILE`` writes FILE whole or not at all: an export that fails part-way
(no room left, ``ulimit -f``, Ctrl-C) leaves an earlier export at that path as it was and no
temporary file beside it; one that completes replaces it. A new file gets the mode the umask
gives, a replaced one keeps its own; stdout, a FIFO and a symbolic link's target are written as
they are."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tracer.cli import main
from tracer.export import writing

pytestmark = pytest.mark.timeout(60)

TARGETS = ("perfetto", "html", "otlp-json")
"""A target of each way of writing: trace events streamed in batches, a page written at once
(as svg's figure is), spans a batch at a time (as console's)."""

LIMIT = 1024
"""Bytes a file may grow to in the failing export: fewer than any target's export holds."""


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small recording (20 requests on two threads)."""
    from tracer.tui.examples import threads_example

    made = threads_example(20, 2)
    path = tmp_path_factory.mktemp("whole") / "run.jsonl"
    lines = [json.dumps(made.header)] + [json.dumps(e.to_dict()) for e in made.events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _export(recording: str, target: str, out: Path | str) -> int:
    return main(["export", recording, "--to", target, "-o", str(out)])


def test_an_export_cut_short_keeps_the_earlier_one(
    recording: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each of ``TARGETS`` exported once, then again in a process whose files may not grow past
    ``LIMIT`` bytes (``ulimit -f``: Python ignores SIGXFSZ, so the write fails with EFBIG after
    the first bytes): one line and exit code 2 for each, every earlier file byte for byte as it
    was, and nothing else in the folder."""
    outs = {target: tmp_path / f"out.{target}" for target in TARGETS}
    for target, out in outs.items():
        assert _export(recording, target, out) == 0
    earlier = {target: out.read_bytes() for target, out in outs.items()}
    assert all(len(data) > LIMIT for data in earlier.values())
    capsys.readouterr()
    script = (
        "import json, resource, sys\n"
        "from tracer.cli import main\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({LIMIT}, resource.RLIM_INFINITY))\n"
        "codes = [main(['export', sys.argv[1], '--to', target, '-o', out])\n"
        "         for target, out in json.loads(sys.argv[2])]\n"
        "print(json.dumps(codes))\n"
    )
    pairs = json.dumps([[target, str(out)] for target, out in outs.items()])
    done = subprocess.run(
        [sys.executable, "-c", script, recording, pairs],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(done.stdout) == [2] * len(TARGETS), done.stderr
    assert done.stderr.splitlines() == [
        f'trace: error: Cannot write "{out}": File too large.' for out in outs.values()
    ]
    assert {target: out.read_bytes() for target, out in outs.items()} == earlier
    assert sorted(os.listdir(tmp_path)) == sorted(out.name for out in outs.values())


def test_an_export_that_completes_replaces_the_earlier_one(
    recording: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The file holds the new export, whole, and no temporary file is left beside it."""
    out = tmp_path / "run.perfetto.json"
    out.write_text("an earlier export\n", encoding="utf-8")
    assert _export(recording, "perfetto", out) == 0
    assert _export(recording, "perfetto", tmp_path / "fresh.json") == 0
    assert out.read_bytes() == (tmp_path / "fresh.json").read_bytes()
    assert sorted(os.listdir(tmp_path)) == ["fresh.json", "run.perfetto.json"]
    assert capsys.readouterr().err.count("trace: wrote ") == 2


def test_ctrl_c_while_writing_keeps_the_earlier_file(tmp_path: Path) -> None:
    """A ``KeyboardInterrupt`` halfway through the writing goes on up; the earlier file is
    whole and the part written is gone."""
    out = tmp_path / "figure.svg"
    out.write_text("<svg>an earlier figure</svg>\n", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt), writing(str(out), sys.stdout) as handle:
        handle.write("<svg>half a fig")
        raise KeyboardInterrupt
    assert out.read_text(encoding="utf-8") == "<svg>an earlier figure</svg>\n"
    assert os.listdir(tmp_path) == ["figure.svg"]


def test_a_new_file_gets_the_umask_mode_and_a_replaced_one_keeps_its_own(
    recording: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As ``open(path, "w")`` does: a new file is ``0o666`` less the umask (not a temporary
    file's ``0o600``); a file replaced keeps the mode it had."""
    fresh = tmp_path / "fresh.html"
    kept = tmp_path / "kept.html"
    kept.write_text("earlier", encoding="utf-8")
    kept.chmod(0o640)
    umask = os.umask(0o022)
    try:
        assert _export(recording, "html", fresh) == 0
        assert _export(recording, "html", kept) == 0
    finally:
        os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    assert kept.read_bytes() == fresh.read_bytes()


def test_a_link_is_kept_and_its_target_replaced(
    recording: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``-o link.svg`` pointing at ``figures/real.svg``: the figure is written to the target,
    the link stays a link (replacing the link itself would cut it)."""
    (tmp_path / "figures").mkdir()
    real = tmp_path / "figures" / "real.svg"
    real.write_text("earlier", encoding="utf-8")
    link = tmp_path / "link.svg"
    link.symlink_to(Path("figures") / "real.svg")
    assert _export(recording, "svg", link) == 0
    assert link.is_symlink() and real.read_text(encoding="utf-8").startswith("<svg")
    assert sorted(os.listdir(tmp_path / "figures")) == ["real.svg"]


def test_a_hard_linked_file_is_written_through_and_every_name_sees_it(
    recording: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``-o figure.svg`` where ``figure.svg`` has a second name (``ln``): put in its place, the
    new export left the other name with the earlier one. It is copied into the same file once
    complete (as editors write such files); an export that fails first leaves both names with
    the earlier figure and no temporary file."""
    out = tmp_path / "figure.svg"
    out.write_text("earlier", encoding="utf-8")
    other = tmp_path / "lecture-figure.svg"
    os.link(out, other)
    inode = out.stat().st_ino
    assert _export(recording, "svg", out) == 0
    assert out.stat().st_ino == inode and out.stat().st_nlink == 2
    assert other.read_text(encoding="utf-8").startswith("<svg")
    assert sorted(os.listdir(tmp_path)) == ["figure.svg", "lecture-figure.svg"]
    figure = out.read_bytes()
    with pytest.raises(KeyboardInterrupt), writing(str(out), sys.stdout) as handle:
        handle.write("<svg>half a fig")
        raise KeyboardInterrupt
    assert other.read_bytes() == figure
    assert sorted(os.listdir(tmp_path)) == ["figure.svg", "lecture-figure.svg"]


def test_a_fifo_is_written_as_it_is(
    recording: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A named pipe is no file to replace: its reader gets the export."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    read: list[bytes] = []
    reader = threading.Thread(target=lambda: read.append(fifo.read_bytes()), daemon=True)
    reader.start()
    assert _export(recording, "otlp-json", fifo) == 0
    reader.join(30)
    assert read and read[0].startswith(b'{"resourceSpans"')
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["pipe"]


def test_dev_stdout_redirected_to_a_file_is_written_as_it_is(
    recording: str, tmp_path: Path
) -> None:
    """``trace export ... -o /dev/stdout >> log``: /dev/stdout leads to a regular file, yet
    it is the process's stdout, appended to; nothing is put in its place."""
    log = tmp_path / "log"
    log.write_text("before\n", encoding="utf-8")
    with open(log, "a", encoding="utf-8") as appended:
        done = subprocess.run(
            [sys.executable, "-m", "tracer", "export", recording, "--to", "perfetto",
             "-o", "/dev/stdout"],
            stdout=appended,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "before"
    assert json.loads("\n".join(lines[1:]))["traceEvents"]
    assert sorted(os.listdir(tmp_path)) == ["log"]
