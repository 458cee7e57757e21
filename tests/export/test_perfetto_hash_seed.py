"""A Perfetto export is the same bytes whatever the hash seed of the process that made it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _sim(path: Path) -> None:
    # Four WSGI threads under 8 clients: several threads' slices start at the same instant,
    # where a hash-ordered set used to pick the order they were written in.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tracer",
            "sim",
            "--model",
            "threads",
            "--threads",
            "4",
            "-c",
            "8",
            "-n",
            "16",
            "--io",
            "100ms",
            "--record",
            str(path),
            "--headless",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def _export(recording: Path, out: Path, seed: str) -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tracer",
            "export",
            str(recording),
            "--to",
            "perfetto",
            "-o",
            str(out),
        ],
        check=True,
        capture_output=True,
        env=env,
        timeout=120,
    )
    return out.read_bytes()


def test_perfetto_export_is_byte_identical_across_hash_seeds(tmp_path: Path) -> None:
    recording = tmp_path / "run.jsonl"
    _sim(recording)
    exports = {seed: _export(recording, tmp_path / f"{seed}.json", seed) for seed in "0123"}
    assert exports["0"]  # something was written
    assert len(set(exports.values())) == 1, "exports differ between hash seeds"
