"""docs/recording-format.md's "Header" section names every header field a recording is written
with: the top-level fields in its table, and each field of ``server``, ``load``, ``clock``,
``host`` and ``demo`` as ``parent.key``.

The headers are those real producers write: ``trace run`` on the in-process models and
``trace sim`` (their files' line 1), the header ``trace run`` fills in for each real server
(``open_server`` builds the server model and writes its part, starting nothing), a run stopped
before its load began, and a demo side's, so a field added to any of them without its line in
the document fails here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tracer.recorder import Recorder
from tracer.recording import load
from tracer.run import RunConfig, open_server, stopped_before_load

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "recording-format.md"
NESTED = ("server", "load", "clock", "host", "demo")
"""Header fields whose own fields the document names one by one."""


def header_section() -> str:
    """The document's "## Header" section, up to the next section."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index("\n## Header\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def documented() -> tuple[set[str], set[str]]:
    """(top-level fields named in the table's first column, ``parent.key`` names in the section)."""
    section = header_section()
    top: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            top.update(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    parents = "|".join(NESTED)
    nested = set(re.findall(rf"`((?:{parents})\.[a-z_0-9]+)`", section))
    return top, nested


def fields(header: dict[str, Any]) -> Iterator[str]:
    """Every field of ``header``: its own, and ``parent.key`` for those of its objects."""
    for name, value in header.items():
        yield name
        if name in NESTED and isinstance(value, dict):
            yield from (f"{name}.{key}" for key in value)


def assert_documented(header: dict[str, Any]) -> None:
    top, nested = documented()
    missing = [name for name in fields(header) if name not in (nested if "." in name else top)]
    assert not missing, f"header fields not in {DOC.name}'s Header section: {missing}"


def trace(cwd: Path, *argv: str) -> None:
    """``python -m tracer ARGV``, bounded; it must succeed."""
    done = subprocess.run(
        [sys.executable, "-m", "tracer", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert done.returncode == 0, done.stderr


def first_line(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as file:
        header: dict[str, Any] = json.loads(file.readline())
    return header


def test_the_documents_example_is_a_header_of_documented_fields() -> None:
    """The example parses, is a valid header, ends with ``writer`` as the table says, and
    names nothing the table does not."""
    example = re.search(r"```json\n(.*?)```", header_section(), re.S)
    assert example is not None
    header = json.loads(example.group(1))
    assert list(header)[-1] == "writer"
    assert_documented(header)


@pytest.mark.parametrize(
    "argv",
    [
        ("sample_apps.hello:asgi_app", "-c", "2", "-n", "4"),
        ("sample_apps.echo:wsgi_app", "--rate", "50", "-z", "100ms", "-d", "hi", "--seed", "1"),
        ("sample_apps.hello:wsgi_app", "--server", "processes", "--workers", "1", "-n", "2"),
    ],
    ids=["loop", "threads-open-loop", "processes"],
)
def test_trace_run_headers_are_documented(tmp_path: Path, argv: tuple[str, ...]) -> None:
    path = tmp_path / "run.jsonl"
    trace(ROOT, "run", *argv, "--headless", "--record", str(path))
    header = first_line(path)
    assert header["server"] and header["load"]
    assert_documented(header)


@pytest.mark.parametrize(
    "argv",
    [
        ("--model", "loop", "--cpus", "2", "-c", "5", "-n", "10"),
        ("--model", "threads", "--rate", "100", "-z", "200ms"),
        ("--model", "processes", "--workers", "2", "-c", "4", "-n", "8"),
    ],
    ids=["loop", "threads", "processes"],
)
def test_trace_sim_headers_are_documented(tmp_path: Path, argv: tuple[str, ...]) -> None:
    path = tmp_path / "sim.jsonl"
    trace(tmp_path, "sim", *argv, "--headless", "--record", str(path))
    assert_documented(first_line(path))


REAL = [
    ("uvicorn", "sample_apps.hello:asgi_app", {"loop": "asyncio", "http": "h11"}, None),
    ("uvicorn", "sample_apps.hello:asgi_app", {"limit_concurrency": 10, "port": 8123}, None),
    ("hypercorn", "sample_apps.hello:asgi_app", {"http2": True}, None),
    ("gunicorn", "sample_apps.hello:wsgi_app", {"worker_class": "sync"}, 2),
    ("gunicorn", "sample_apps.hello:asgi_app", {}, None),
    ("waitress", "sample_apps.hello:wsgi_app", {}, None),
    ("granian", "sample_apps.hello:wsgi_app", {"loop": "asyncio"}, 2),
    ("daphne", "sample_apps.hello:asgi_app", {}, None),
]


@pytest.mark.parametrize(("server", "app", "options", "threads"), REAL)
def test_real_server_headers_are_documented(
    server: str, app: str, options: dict[str, Any], threads: int | None
) -> None:
    """What ``trace run --server NAME`` writes in the header before the server starts."""
    pytest.importorskip(server)
    options = dict(options)  # (the parameter's own dict is shared by reruns)
    http2 = bool(options.pop("http2", False))
    if http2:
        pytest.importorskip("h2")
    config = RunConfig(
        app=app,
        server=server,
        threads=threads,
        concurrency=2,
        requests=2,
        http2=http2,
        server_options=options,
    )
    recorder = Recorder()
    open_server(config, recorder)  # builds the model and fills in the header; starts nothing
    assert recorder.header["server"]["real"] is True
    assert_documented(recorder.header)


def test_a_run_stopped_before_the_load_is_documented(tmp_path: Path) -> None:
    """Stopped while its app was imported: no interface and no server, as the table says."""
    path = tmp_path / "stopped.jsonl"
    recorder = Recorder(path)
    stopped_before_load(RunConfig(app="sample_apps.hello:asgi_app"), recorder)
    recorder.close()
    header = load(path).header
    assert header["interface"] is None and header["server"] == {}
    assert_documented(header)
    rows = {
        line.split("|")[1].strip(): line
        for line in header_section().splitlines()
        if line.startswith("| `")
    }
    assert "null" in rows["`interface`"]
    assert "`{}`" in rows["`server`"]


def test_a_demo_sides_header_is_documented() -> None:
    """A demo side's header: its ``label`` and every field of ``demo``, as the replay
    rewrites them in a language."""
    from tracer.demos import SCENARIOS
    from tracer.demos.language import in_language
    from tracer.recording import Recording, make_header

    name = next(iter(SCENARIOS))
    header = make_header(source="simulated", demo={"name": name, "side": 1})
    demo = in_language(Recording(header=header, events=[]), "en")
    assert demo.header["demo"]["lang"] == "en" and "label" in demo.header
    assert_documented(demo.header)
